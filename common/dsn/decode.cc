// decode.cc - content decoding with GMime 3's codecs and charset table (see decode.h)
#include "common/dsn/decode.h"

#include <gmime/gmime.h>
#include <iconv.h>

#include <algorithm>
#include <cerrno>
#include <mutex>
#include <optional>

#include "common/dsn/text.h"
#include "common/sys/utf8.h"

namespace dsn::decode {

namespace {

// Only GMime's stateless codecs and its charset-name table are used, never
// g_mime_init(): that call registers every GMime type, which links GIO and
// gpgme into sendguard-bounce and costs more start-up time than parsing and
// storing a report together (sendguard-bounce starts once per bounce).
void init_charset_map() {
    static std::once_flag once;
    std::call_once(once, [] { g_mime_charset_map_init(); });
}

// x-uuencode: the data starts after the "begin mode name" line, which the
// decoder state must be told it has seen.
std::string uudecode(std::string_view raw, size_t max) {
    std::string_view rest = raw, line;
    do {
        if (!text::next_line(rest, line)) return {};
    } while (!line.starts_with("begin "));
    raw = rest;
    GMimeEncoding state;
    g_mime_encoding_init_decode(&state, GMIME_CONTENT_ENCODING_UUENCODE);
    state.state |= GMIME_UUDECODE_STATE_BEGIN;
    std::string out(g_mime_encoding_outlen(&state, raw.size()), '\0');
    size_t n = g_mime_encoding_step(&state, raw.data(), raw.size(), out.data());
    out.resize(n < max ? n : max);
    return out;
}

// RFC 2047 §4: "B" is base64, "Q" is quoted-printable with "_" for space.
std::string word_bytes(char enc, std::string_view text) {
    GMimeEncoding state;
    std::string in(text);
    if (enc == 'Q' || enc == 'q') {
        for (char& c : in)
            if (c == '_') c = ' ';
        g_mime_encoding_init_decode(&state, GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
    } else {
        g_mime_encoding_init_decode(&state, GMIME_CONTENT_ENCODING_BASE64);
    }
    std::string out(g_mime_encoding_outlen(&state, in.size()), '\0');
    out.resize(g_mime_encoding_flush(&state, in.data(), in.size(), out.data()));
    return out;
}

struct Word {
    std::string_view charset;  // without an RFC 2231 "*language" suffix
    char enc = 0;
    std::string_view text;
    size_t end = 0;            // offset just past "?="
};

// An encoded-word starting at s[i] ("=?charset?B?text?="), RFC 2047 §2;
// nullopt when s[i] does not start a well-formed one.
std::optional<Word> encoded_word(std::string_view s, size_t i) {
    if (s.compare(i, 2, "=?") != 0) return std::nullopt;
    size_t q1 = s.find('?', i + 2);
    if (q1 == std::string_view::npos || q1 == i + 2 || q1 + 2 >= s.size() || s[q1 + 2] != '?')
        return std::nullopt;
    char enc = s[q1 + 1];
    if (enc != 'B' && enc != 'b' && enc != 'Q' && enc != 'q') return std::nullopt;
    size_t end = s.find("?=", q1 + 3);
    if (end == std::string_view::npos) return std::nullopt;
    std::string_view text = s.substr(q1 + 3, end - q1 - 3);
    if (text.find_first_of(" \t\r\n") != std::string_view::npos) return std::nullopt;
    Word w;
    w.charset = s.substr(i + 2, q1 - i - 2);
    if (size_t star = w.charset.find('*'); star != std::string_view::npos) w.charset = w.charset.substr(0, star);
    w.enc = enc;
    w.text = text;
    w.end = end + 2;
    return w;
}

}  // namespace

Cte cte_from(std::string_view value) noexcept {
    std::string_view v = text::trim(value);
    size_t cut = v.find_first_of(" \t\r\n;(");
    if (cut != std::string_view::npos) v = v.substr(0, cut);
    if (text::iequals(v, "base64")) return Cte::Base64;
    if (text::iequals(v, "quoted-printable")) return Cte::QuotedPrintable;
    if (text::iequals(v, "x-uuencode") || text::iequals(v, "uuencode") || text::iequals(v, "x-uue"))
        return Cte::UUEncode;
    return Cte::Identity;
}

std::string transfer(std::string_view raw, Cte cte, size_t max) {
    if (raw.size() / 2 > max) raw = raw.substr(0, 2 * max);
    if (cte == Cte::Identity) return std::string(raw.substr(0, max));
    if (cte == Cte::UUEncode) return uudecode(raw, max);
    GMimeEncoding state;
    g_mime_encoding_init_decode(&state, cte == Cte::Base64 ? GMIME_CONTENT_ENCODING_BASE64
                                                           : GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
    std::string out(g_mime_encoding_outlen(&state, raw.size()), '\0');
    size_t n = g_mime_encoding_flush(&state, raw.data(), raw.size(), out.data());
    out.resize(n < max ? n : max);
    return out;
}

bool needs_conversion(std::string_view c) noexcept {
    if (c.empty()) return false;
    return !(text::iequals(c, "us-ascii") || text::iequals(c, "utf-8") || text::iequals(c, "utf8")
             || text::iequals(c, "ascii"));
}

bool plain_ascii(std::string_view bytes) noexcept {
    for (char c : bytes)
        if (static_cast<unsigned char>(c) >= 0x80 || c == 0x1b) return false;
    return true;
}

std::string to_utf8(std::string_view bytes, const std::string& charset, size_t max) {
    if (!needs_conversion(charset) && sys::valid_utf8(bytes)) return std::string(bytes.substr(0, max));
    // GMime's table maps the names mail uses ("latin1", "ks_c_5601-1987",
    // "x-sjis", ...) to the names iconv knows.
    init_charset_map();
    const char* from = g_mime_charset_iconv_name(charset.c_str());
    iconv_t cd = ::iconv_open("UTF-8", from ? from : charset.c_str());
    if (cd == reinterpret_cast<iconv_t>(-1)) return std::string(bytes.substr(0, max));
    std::string out;
    out.reserve(std::min(max, bytes.size() * 2 + 16));
    char buf[4096];
    char* in = const_cast<char*>(bytes.data());
    size_t inleft = bytes.size();
    while (out.size() < max) {
        char* o = buf;
        size_t oleft = sizeof buf;
        size_t r = ::iconv(cd, inleft ? &in : nullptr, &inleft, &o, &oleft);
        out.append(buf, static_cast<size_t>(o - buf));
        if (r != static_cast<size_t>(-1)) {
            if (inleft == 0) {
                o = buf;
                oleft = sizeof buf;
                ::iconv(cd, nullptr, nullptr, &o, &oleft);  // flush a shift state
                out.append(buf, static_cast<size_t>(o - buf));
                break;
            }
            continue;
        }
        if (errno == E2BIG) continue;
        // EILSEQ: a byte the charset does not have; EINVAL: a sequence cut
        // off at the end. Mark it and go on, as mail readers do.
        out += "\xEF\xBF\xBD";
        if (errno == EINVAL || inleft == 0) break;
        ++in;
        --inleft;
    }
    ::iconv_close(cd);
    // Cut at a character boundary, never inside a sequence.
    if (out.size() > max) out.resize(sys::utf8_complete(std::string_view(out).substr(0, max)));
    return out;
}

std::string header_text(std::string_view value) {
    if (value.find("=?") == std::string_view::npos) {
        if (plain_ascii(value) || sys::valid_utf8(value)) return std::string(value);
        // Raw 8-bit text in a header (RFC 2047 violated): mail of this kind
        // is overwhelmingly in the Windows superset of Latin-1.
        return to_utf8(value, "windows-1252", value.size() * 3);
    }
    std::string out;
    out.reserve(value.size());
    size_t i = 0, pending_ws = 0;  // white space after the last encoded-word
    bool after_word = false;
    // Adjacent encoded-words in one charset are converted together: senders
    // split multi-byte and ISO-2022 (shift state) text across words.
    std::string run_charset, run_bytes;
    auto flush_run = [&] {
        if (!run_bytes.empty()) out += to_utf8(run_bytes, run_charset, run_bytes.size() * 4 + 16);
        run_bytes.clear();
    };
    while (i < value.size()) {
        if (auto w = encoded_word(value, i)) {
            // RFC 2047 §6.2: white space between adjacent encoded-words is dropped.
            if (!after_word) out.append(value.substr(i - pending_ws, pending_ws));
            if (!text::iequals(w->charset, run_charset)) {
                flush_run();
                run_charset = std::string(w->charset);
            }
            run_bytes += word_bytes(w->enc, w->text);
            i = w->end;
            after_word = true;
            pending_ws = 0;
            continue;
        }
        char c = value[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            ++pending_ws;
            ++i;
            continue;
        }
        // Ordinary text: flush the words and the white space before it.
        flush_run();
        out.append(value.substr(i - pending_ws, pending_ws));
        pending_ws = 0;
        after_word = false;
        size_t next = value.find_first_of(" \t\r\n=", i + 1);
        if (next == std::string_view::npos) next = value.size();
        std::string_view run = value.substr(i, next - i);
        if (plain_ascii(run) || sys::valid_utf8(run)) out.append(run);
        else out += to_utf8(run, "windows-1252", run.size() * 3);
        i = next;
    }
    flush_run();
    out.append(value.substr(value.size() - pending_ws, pending_ws));
    return out;
}

}  // namespace dsn::decode
