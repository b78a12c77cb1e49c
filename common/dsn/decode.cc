// decode.cc - content decoding by GMime 3 (see decode.h)
#include "common/dsn/decode.h"

#include <gmime/gmime.h>

#include <mutex>

#include "common/dsn/text.h"
#include "common/sys/c_handle.h"

namespace dsn::decode {

namespace {

template <class T>
using GObj = sys::CHandle<T, g_object_unref>;
using GChars = sys::CHandle<char, g_free>;

void init_gmime() {
    static std::once_flag once;
    std::call_once(once, [] { g_mime_init(); });
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
    init_gmime();
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
    init_gmime();
    GObj<GMimeFilter> conv(g_mime_filter_charset_new(charset.c_str(), "UTF-8"));
    if (!conv) return std::string(bytes.substr(0, max));
    GObj<GMimeStream> mem(g_mime_stream_mem_new());
    GObj<GMimeStream> filtered(g_mime_stream_filter_new(mem.get()));
    g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered.get()), conv.get());
    g_mime_stream_write(filtered.get(), bytes.data(), bytes.size());
    g_mime_stream_flush(filtered.get());
    GByteArray* out = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem.get()));
    if (!out) return std::string(bytes.substr(0, max));
    size_t n = out->len < max ? out->len : max;
    return std::string(reinterpret_cast<const char*>(out->data), n);
}

std::string header_text(std::string_view value) {
    if (value.find("=?") == std::string_view::npos && plain_ascii(value)) return std::string(value);
    init_gmime();
    std::string z(value);  // GMime wants a C string; NULs end it early
    GChars d(g_mime_utils_header_decode_text(nullptr, z.c_str()));
    return d ? std::string(d.get()) : z;
}

}  // namespace dsn::decode
