// mime.cc - flattens a message: structure by mime_scan, content by decode
// (see mime.h)
#include "common/dsn/mime.h"

#include <optional>

#include "common/dsn/mime_scan.h"
#include "common/dsn/text.h"

namespace dsn {

namespace {

constexpr int kMaxDepth = 16;       // multipart nesting read (RFC 2046 sets none)
constexpr size_t kMaxHeaders = 500;  // wanted top-level fields kept
constexpr size_t kMaxHeaderValue = 4096;

// The only headers the parser reads; decoding the others would cost time.
constexpr std::string_view kWanted[] = {
    "Subject", "From", "To", "Cc", "Sender", "Return-Path", "Message-ID", "X-Failed-Recipients",
    "Auto-Submitted", "Precedence", "X-Autoreply", "X-Autorespond", "X-Autoresponder",
    "X-Mail-Autoreply", "X-Vacation", "X-Autoreply-From", "X-HmXmrOriginalRecipient", "List-Id",
    "List-Post", "List-Unsubscribe",
};

bool wanted_header(std::string_view name) {
    for (auto w : kWanted)
        if (text::iequals(name, w)) return true;
    return false;
}

// The wanted fields of an entity's header block. Only the subject is shown
// to people; the other headers are read for addresses and keywords, which
// RFC 2047 decoding cannot improve.
Headers copy_headers(std::string_view entity, size_t max) {
    Headers out;
    scan::FieldReader r(entity);
    scan::Field f;
    while (out.size() < max && r.next(f)) {
        if (!wanted_header(f.name)) continue;
        std::string value = text::iequals(f.name, "Subject")
            ? std::string(text::trim(decode::header_text(scan::unfold(f.value))))
            : text::squeeze(f.value, kMaxHeaderValue);  // unfolds
        out.push_back(Header{std::string(f.name), std::move(value)});
    }
    return out;
}

// What the MIME fields of one entity say about its body.
struct Entity {
    scan::ContentType ct;
    std::string type;  // "type/subtype", lower case, defaults applied
    decode::Cte cte = decode::Cte::Identity;
    std::string_view body;
};

// RFC 2045 §5.2 defaults: no (readable) Content-Type is text/plain, or
// message/rfc822 inside a multipart/digest (RFC 2046 §5.1.5).
std::string type_of(const scan::ContentType& ct, bool in_digest) {
    if (ct.type.empty()) return in_digest ? "message/rfc822" : "text/plain";
    std::string out = text::to_lower(ct.type);
    out += '/';
    if (!ct.subtype.empty()) out += text::to_lower(ct.subtype);
    else if (out == "text/") out += "plain";
    else if (out == "multipart/") out += "mixed";
    else out = "application/octet-stream";
    return out;
}

Entity read_entity(std::string_view entity, bool in_digest) {
    Entity e;
    std::string_view ctype, cte;
    bool have_ct = false;
    scan::FieldReader r(entity);
    scan::Field f;
    while (r.next(f)) {
        if (text::iequals(f.name, "Content-Type")) {
            ctype = f.value;
            have_ct = true;
        } else if (text::iequals(f.name, "Content-Transfer-Encoding")) {
            cte = f.value;
        }
    }
    e.body = r.body();
    if (have_ct) e.ct = scan::parse_content_type(ctype);
    e.type = type_of(e.ct, in_digest);
    e.cte = decode::cte_from(cte);
    return e;
}

bool is_message(std::string_view type) {
    return type == "message/rfc822" || type == "message/global" || type == "message/news";
}

bool wanted_leaf(std::string_view type) {
    return text::istarts_with(type, "text/") || type == "message/delivery-status"
        || type == "message/global-delivery-status" || type == "message/feedback-report"
        || type == "message/global-headers" || type == "message/disposition-notification";
}

bool is_report_part(const MimePart& p) {
    return p.type == "message/delivery-status" || p.type == "message/feedback-report"
        || p.type == "message/global-delivery-status";
}

void walk(const Entity& e, Mail& mail, int depth);

void walk_multipart(const Entity& e, Mail& mail, int depth) {
    std::optional<std::string> boundary = scan::param(e.ct.params, "boundary");
    if (!boundary) return;
    std::vector<std::string_view> pieces;
    scan::split_multipart(e.body, *boundary, pieces, kMaxParts);
    const bool digest = e.type == "multipart/digest";
    const size_t first = mail.parts.size();
    for (std::string_view piece : pieces) {
        if (mail.parts.size() >= kMaxParts) break;
        walk(read_entity(piece, digest), mail, depth + 1);
    }
    if (e.type == "multipart/alternative")
        for (size_t i = first; i < mail.parts.size(); ++i) mail.parts[i].alternative = true;
}

// message/rfc822 (RFC 2046 §5.2.1) and message/global (RFC 6532 §3.7).
void walk_message(const Entity& e, Mail& mail, int depth) {
    // A report returned inside a report (a bounce of a bounce, or a
    // gateway's wrapper) is read as if it were ours.
    bool have_report = false;
    for (const auto& p : mail.parts) have_report |= is_report_part(p);
    if (!have_report && !mail.has_original && mail.nested < 2) {
        Entity inner = read_entity(e.body, false);
        if (inner.type == "multipart/report") {
            ++mail.nested;
            walk(inner, mail, depth + 1);
            return;
        }
    }
    // An empty attachment is no message (GMime makes none of it).
    if (!mail.has_original && !text::trim(e.body.substr(0, 256)).empty()) {
        mail.original = copy_headers(e.body, 200);
        mail.has_original = true;
        mail.original_raw = e.body;
    }
    // A marker keeps the position of the attached message in part order.
    mail.parts.emplace_back("message/rfc822", depth);
}

void walk(const Entity& e, Mail& mail, int depth) {
    if (depth > kMaxDepth || mail.parts.size() >= kMaxParts) return;
    if (e.type.starts_with("multipart/")) return walk_multipart(e, mail, depth);
    if (is_message(e.type)) return walk_message(e, mail, depth);
    if (!wanted_leaf(e.type)) {
        mail.parts.emplace_back(e.type, depth);
        return;
    }
    std::string charset;
    if (e.type.starts_with("text/")) {
        std::optional<std::string> c = scan::param(e.ct.params, "charset");
        if (c && decode::needs_conversion(*c)) charset = std::move(*c);
    }
    MimePart p(e.type, depth, e.body, e.cte, std::move(charset), mail.part_limit);
    if ((p.type == "message/global-headers" || p.type == "text/rfc822-headers") && !mail.has_original) {
        mail.original = parse_header_block(p.text());
        mail.has_original = !mail.original.empty();
    }
    mail.parts.push_back(std::move(p));
}

// The body as one text part, for a message whose structure gave no text.
MimePart raw_body(std::string_view message, size_t limit) {
    size_t body = message.find("\n\n");
    size_t crlf = message.find("\r\n\r\n");
    if (crlf != std::string_view::npos && (body == std::string_view::npos || crlf < body))
        body = crlf + 4;
    else if (body != std::string_view::npos)
        body += 2;
    std::string_view b = body == std::string_view::npos ? std::string_view{} : message.substr(body);
    return MimePart("text/plain", 0, b, decode::Cte::Identity, {}, limit);
}

}  // namespace

std::string_view MimePart::text() const {
    if (!readable_) return {};
    if (!decoded_) {
        decoded_ = true;
        cut_ = raw_.size() > limit_;
        if (cte_ != decode::Cte::Identity) {
            // transfer() reads at most 2 * limit_ raw bytes.
            own_ = decode::transfer(raw_, cte_, limit_);
            owned_ = true;
            cut_ = own_.size() >= limit_ || raw_.size() > 2 * limit_;
        }
        std::string_view bytes = owned_ ? std::string_view(own_) : raw_.substr(0, limit_);
        // Pure ASCII reads the same in every charset met in mail (except
        // the ISO-2022 family, whose escapes plain_ascii() rejects).
        if (!charset_.empty() && !decode::plain_ascii(bytes)) {
            std::string utf8 = decode::to_utf8(bytes, charset_, limit_);
            // A UTF-8 sequence is at most 4 bytes: closer than that to the
            // limit, the conversion may have stopped early.
            cut_ |= utf8.size() + 4 > limit_;
            own_ = std::move(utf8);
            owned_ = true;
        }
    }
    return owned_ ? std::string_view(own_) : raw_.substr(0, limit_);
}

bool MimePart::cut() const {
    (void)text();
    return cut_;
}

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

Mail read_mail(std::string_view message, size_t part_limit) {
    // An mbox "From " separator is not a header.
    if (message.starts_with("From ")) {
        size_t nl = message.find('\n');
        message.remove_prefix(nl == std::string_view::npos ? message.size() : nl + 1);
    }
    Mail mail;
    mail.part_limit = part_limit;
    mail.headers = copy_headers(message, kMaxHeaders);
    const Entity top = read_entity(message, false);
    mail.top_type = top.type;
    if (top.type == "multipart/report")
        if (auto rt = scan::param(top.ct.params, "report-type")) mail.report_type = text::to_lower(*rt);
    walk(top, mail, 0);
    bool any_text = false;
    for (const auto& p : mail.parts)
        if (!p.text().empty()) {
            any_text = true;
            break;
        }
    // Broken MIME (a boundary that never occurs, a parameter that cannot be
    // read): the raw body is all we have.
    if (!any_text) mail.parts.push_back(raw_body(message, part_limit));
    return mail;
}

}  // namespace dsn
