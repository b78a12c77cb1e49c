// chars.h - character classes shared by the address parsers (internal)
//
// RFC 5322 3.2.3 atext, RFC 5321 4.1.2 qtextSMTP, and a strict UTF-8 check
// (sys::valid_utf8, RFC 3629) for RFC 6531/6532 non-ASCII text. Not part of the public API.
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/sys/ascii.h"
#include "common/sys/utf8.h"

namespace address::detail {

// The ASCII classes and case rules are common/sys's (one set for every
// parser); what is address syntax alone stays here.
using sys::iequals;
using sys::is_alpha;
using sys::is_digit;
using sys::valid_utf8;
inline bool is_wsp(unsigned char c) noexcept { return c == ' ' || c == '\t'; }
inline std::string_view trim_wsp(std::string_view s) noexcept {
    while (!s.empty() && is_wsp(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && is_wsp(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

// RFC 5322 3.2.3 atext (ASCII part).
inline bool is_atext(unsigned char c) noexcept {
    if (is_alpha(c) || is_digit(c)) return true;
    switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*':
    case '+': case '-': case '/': case '=': case '?': case '^': case '_':
    case '`': case '{': case '|': case '}': case '~':
        return true;
    default:
        return false;
    }
}

// RFC 5321 4.1.2 qtextSMTP (ASCII part): %d32-33 / %d35-91 / %d93-126.
inline bool is_qtext_smtp(unsigned char c) noexcept {
    return c >= 32 && c <= 126 && c != '"' && c != '\\';
}

// Appends code point cp as UTF-8; false for surrogates and > U+10FFFF.
bool append_utf8(std::string& out, unsigned long cp);

}  // namespace address::detail
