// chars.h - character classes shared by the address parsers (internal)
//
// RFC 5322 3.2.3 atext, RFC 5321 4.1.2 qtextSMTP, and a strict UTF-8 check
// (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF) for
// RFC 6531/6532 non-ASCII text. Not part of the public API.
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace address::detail {

inline bool is_alpha(unsigned char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
inline bool is_digit(unsigned char c) noexcept { return c >= '0' && c <= '9'; }
inline bool is_wsp(unsigned char c) noexcept { return c == ' ' || c == '\t'; }
inline char to_lower(char c) noexcept {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}
inline std::string lower_ascii(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = to_lower(c);
    return out;
}
inline bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (to_lower(a[i]) != to_lower(b[i])) return false;
    return true;
}
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

// True when s is well-formed UTF-8 (ASCII included).
bool valid_utf8(std::string_view s) noexcept;

// Appends code point cp as UTF-8; false for surrogates and > U+10FFFF.
bool append_utf8(std::string& out, unsigned long cp);

}  // namespace address::detail
