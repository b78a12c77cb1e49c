// mime.cc - flattens a message with GMime 3 (see mime.h)
#include "common/dsn/mime.h"

#include <gmime/gmime.h>

#include <mutex>

#include "common/dsn/text.h"
#include "common/sys/c_handle.h"

namespace dsn {

namespace {

template <class T>
using GObj = sys::CHandle<T, g_object_unref>;

void init_gmime() {
    static std::once_flag once;
    std::call_once(once, [] { g_mime_init(); });
}

std::string lower_type(GMimeObject* obj) {
    GMimeContentType* ct = g_mime_object_get_content_type(obj);
    if (!ct) return "text/plain";
    const char* t = g_mime_content_type_get_media_type(ct);
    const char* s = g_mime_content_type_get_media_subtype(ct);
    std::string out = text::to_lower(t ? t : "text");
    out += '/';
    out += text::to_lower(s ? s : "plain");
    return out;
}

// The only headers the parser reads; decoding the others would cost time.
constexpr std::string_view kWanted[] = {
    "Subject", "From", "To", "Cc", "Sender", "Return-Path", "Message-ID", "X-Failed-Recipients",
    "Auto-Submitted", "Precedence", "X-Autoreply", "X-Autorespond", "X-Autoresponder",
    "X-Mail-Autoreply", "X-Vacation", "X-Autoreply-From", "X-HmXmrOriginalRecipient",
};

bool wanted_header(const char* name) {
    if (!name) return false;
    std::string_view n(name);
    for (auto w : kWanted)
        if (text::iequals(n, w)) return true;
    return false;
}

Headers copy_headers(GMimeObject* obj, size_t max) {
    Headers out;
    GMimeHeaderList* list = g_mime_object_get_header_list(obj);
    if (!list) return out;
    int n = g_mime_header_list_get_count(list);
    for (int i = 0; i < n && out.size() < max; ++i) {
        GMimeHeader* h = g_mime_header_list_get_header_at(list, i);
        if (!h) continue;
        const char* name = g_mime_header_get_name(h);
        if (!wanted_header(name)) continue;
        // Only the subject is shown to people; the other headers are read
        // for addresses and keywords, which RFC 2047 decoding (and its
        // iconv_open) cannot improve.
        std::string value;
        if (text::iequals(name, "Subject")) {
            const char* v = g_mime_header_get_value(h);
            value = text::trim(v ? v : "");
        } else {
            const char* v = g_mime_header_get_raw_value(h);
            value = text::squeeze(v ? v : "", 4096);  // unfolds
        }
        out.push_back(Header{name, std::move(value)});
    }
    return out;
}

bool needs_conversion(const char* charset) {
    if (!charset || !*charset) return false;
    std::string_view c(charset);
    return !(text::iequals(c, "us-ascii") || text::iequals(c, "utf-8") || text::iequals(c, "utf8")
             || text::iequals(c, "ascii"));
}

// Writes bytes through a charset filter into a new string.
std::string convert(std::string_view bytes, const char* charset) {
    GObj<GMimeFilter> conv(g_mime_filter_charset_new(charset, "UTF-8"));
    if (!conv) return std::string(bytes);
    GObj<GMimeStream> mem(g_mime_stream_mem_new());
    GObj<GMimeStream> filtered(g_mime_stream_filter_new(mem.get()));
    g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered.get()), conv.get());
    g_mime_stream_write(filtered.get(), bytes.data(), bytes.size());
    g_mime_stream_flush(filtered.get());
    GByteArray* out = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem.get()));
    if (!out) return std::string(bytes);
    size_t n = out->len < kMaxPartText ? out->len : kMaxPartText;
    return std::string(reinterpret_cast<const char*>(out->data), n);
}

// Transfer-decodes a leaf part, converting text to UTF-8 where it can.
// Pure ASCII needs no conversion (and no iconv_open) in any charset we meet
// except the escape-based ISO-2022 family, hence the ESC check.
std::string decode_part(GMimePart* part, bool is_text) {
    GMimeDataWrapper* content = g_mime_part_get_content(part);
    if (!content) return {};
    GObj<GMimeStream> mem(g_mime_stream_mem_new());
    g_mime_data_wrapper_write_to_stream(content, mem.get());
    GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem.get()));
    if (!bytes) return {};
    size_t n = bytes->len < kMaxPartText ? bytes->len : kMaxPartText;
    std::string_view raw(reinterpret_cast<const char*>(bytes->data), n);
    const char* charset = g_mime_object_get_content_type_parameter(GMIME_OBJECT(part), "charset");
    if (is_text && needs_conversion(charset)) {
        bool plain = true;
        for (char c : raw) plain &= static_cast<unsigned char>(c) < 0x80 && c != 0x1b;
        if (!plain) return convert(raw, charset);
    }
    return std::string(raw);
}

bool wanted_leaf(std::string_view type) {
    return text::istarts_with(type, "text/") || type == "message/delivery-status"
        || type == "message/global-delivery-status" || type == "message/feedback-report"
        || type == "message/global-headers" || type == "message/rfc822"
        || type == "message/global" || type == "message/disposition-notification";
}

void walk(GMimeObject* obj, Mail& mail, int depth) {
    if (!obj || depth > 16 || mail.parts.size() >= kMaxParts) return;
    if (GMIME_IS_MULTIPART(obj)) {
        GMimeMultipart* mp = GMIME_MULTIPART(obj);
        int n = g_mime_multipart_get_count(mp);
        for (int i = 0; i < n && mail.parts.size() < kMaxParts; ++i)
            walk(g_mime_multipart_get_part(mp, i), mail, depth + 1);
        return;
    }
    if (GMIME_IS_MESSAGE_PART(obj)) {
        GMimeMessage* inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
        GMimeObject* inner_body = inner ? g_mime_message_get_mime_part(inner) : nullptr;
        // A report returned inside a report (a bounce of a bounce, or a
        // gateway's wrapper) is read as if it were ours.
        bool have_report = false;
        for (const auto& p : mail.parts)
            have_report |= p.type == "message/delivery-status" || p.type == "message/feedback-report"
                || p.type == "message/global-delivery-status";
        if (inner_body && !have_report && !mail.has_original && mail.nested < 2
            && lower_type(inner_body) == "multipart/report") {
            ++mail.nested;
            walk(inner_body, mail, depth + 1);
            return;
        }
        if (inner && !mail.has_original) {
            mail.original = copy_headers(GMIME_OBJECT(inner), 200);
            mail.has_original = true;
        }
        // A marker keeps the position of the attached message in part order.
        mail.parts.push_back(MimePart{"message/rfc822", {}, depth});
        return;
    }
    if (!GMIME_IS_PART(obj)) return;
    std::string type = lower_type(obj);
    if (!wanted_leaf(type)) {
        mail.parts.push_back(MimePart{std::move(type), {}, depth});
        return;
    }
    bool is_text = text::istarts_with(type, "text/");
    MimePart p{std::move(type), decode_part(GMIME_PART(obj), is_text), depth};
    if (p.type == "message/rfc822" || p.type == "message/global" || p.type == "message/global-headers"
        || p.type == "text/rfc822-headers") {
        if (!mail.has_original) {
            mail.original = parse_header_block(p.text);
            mail.has_original = !mail.original.empty();
        }
    }
    mail.parts.push_back(std::move(p));
}

// Without GMime's help: headers by our own scanner, the rest as one body.
Mail fallback(std::string_view message) {
    Mail mail;
    mail.headers = parse_header_block(message);
    size_t body = message.find("\n\n");
    size_t crlf = message.find("\r\n\r\n");
    if (crlf != std::string_view::npos && (body == std::string_view::npos || crlf < body))
        body = crlf + 4;
    else if (body != std::string_view::npos)
        body += 2;
    std::string_view b = body == std::string_view::npos ? std::string_view{} : message.substr(body);
    if (b.size() > kMaxPartText) b = b.substr(0, kMaxPartText);
    mail.top_type = "text/plain";
    mail.parts.push_back(MimePart{"text/plain", std::string(b), 0});
    return mail;
}

}  // namespace

std::string_view header_value(const Headers& h, std::string_view name) noexcept {
    for (const auto& x : h)
        if (text::iequals(x.name, name)) return x.value;
    return {};
}

Headers parse_header_block(std::string_view text, size_t max_headers) {
    Headers out;
    std::string_view rest = text, line;
    while (out.size() <= max_headers && text::next_line(rest, line)) {
        if (line.empty()) break;
        if ((line[0] == ' ' || line[0] == '\t')) {
            if (!out.empty() && out.back().value.size() < 4096) {
                out.back().value += ' ';
                out.back().value += text::trim(line);
            }
            continue;
        }
        size_t colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0 || colon > 76) {
            if (out.empty()) continue;  // leading junk such as an mbox "From " line
            break;
        }
        std::string_view name = line.substr(0, colon);
        bool ok = true;
        for (char c : name) ok &= c > 32 && c < 127;
        if (!ok) {
            if (out.empty()) continue;
            break;
        }
        if (out.size() == max_headers) break;
        out.push_back(Header{std::string(name), std::string(text::trim(line.substr(colon + 1)))});
    }
    return out;
}

Mail read_mail(std::string_view message) {
    init_gmime();
    // An mbox "From " separator is not a header; GMime would stop there.
    if (message.starts_with("From ")) {
        size_t nl = message.find('\n');
        message.remove_prefix(nl == std::string_view::npos ? message.size() : nl + 1);
    }
    GObj<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(message.data(), message.size()));
    GObj<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
    GObj<GMimeMessage> msg(g_mime_parser_construct_message(parser.get(), nullptr));
    if (!msg) return fallback(message);
    Mail mail;
    mail.headers = copy_headers(GMIME_OBJECT(msg.get()), 500);
    GMimeObject* body = g_mime_message_get_mime_part(msg.get());
    if (!body) return fallback(message);
    mail.top_type = lower_type(body);
    if (const char* rt = g_mime_object_get_content_type_parameter(body, "report-type"))
        mail.report_type = text::to_lower(rt);
    walk(body, mail, 0);
    bool text = false;
    for (const auto& p : mail.parts) text |= !p.text.empty();
    if (!text) {
        // Broken MIME (a boundary that never occurs, a parameter GMime could
        // not read): the raw body is all we have.
        Mail raw = fallback(message);
        mail.parts.push_back(std::move(raw.parts.front()));
    }
    return mail;
}

}  // namespace dsn
