// ascii.h - ASCII character classes and case-insensitive string helpers
//
// Mail syntax is ASCII (RFC 5322 §2, RFC 5321 §2.4): header names, keywords,
// status codes and domains compare without regard to ASCII case, and bytes
// >= 0x80 (UTF-8 in RFC 6532 text) are never letters here, whatever the
// locale says. These replace <cctype>, whose answers depend on the locale
// and are undefined for negative char values.
//
//   ascii_lower(c), is_digit(c), is_alpha(c), is_alnum(c), is_space(c)
//   iequals(a, b), istarts_with(s, p), ifind(hay, needle, from), icontains
//   trim(s)            drops ASCII white space (SP, HT, CR, LF, FF, VT)
//   to_lower_ascii(s)  a copy with A-Z lowered, other bytes unchanged
//
// Pure functions; only to_lower_ascii() allocates.
#pragma once

#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>

namespace sys {

constexpr char ascii_lower(char c) noexcept {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}
constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
constexpr bool is_alpha(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
constexpr bool is_alnum(char c) noexcept { return is_digit(c) || is_alpha(c); }
constexpr bool is_space(char c) noexcept {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
    return true;
}

constexpr bool istarts_with(std::string_view s, std::string_view prefix) noexcept {
    return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

// Position of needle in hay at or after from, ignoring ASCII case; npos
// when absent. memchr skips to the candidates for the first character, one
// search per case; each search's hit is kept until the scan passes it (a
// letter missing in one case would otherwise be searched for to the end of
// hay at every candidate of the other).
inline size_t ifind(std::string_view hay, std::string_view needle, size_t from = 0) noexcept {
    if (needle.empty()) return from <= hay.size() ? from : std::string_view::npos;
    if (hay.size() < needle.size()) return std::string_view::npos;
    const char f0 = ascii_lower(needle[0]);
    const char f1 = is_alpha(f0) ? static_cast<char>(f0 - 'a' + 'A') : f0;
    const size_t last = hay.size() - needle.size();
    if (from > last) return std::string_view::npos;
    const char* const begin = hay.data();
    const char* const end = begin + last + 1;  // candidates lie before end
    auto next = [&](char c, const char* at) {
        const char* p = static_cast<const char*>(std::memchr(at, c, static_cast<size_t>(end - at)));
        return p ? p : end;
    };
    const char* lo = next(f0, begin + from);
    const char* up = f1 != f0 ? next(f1, begin + from) : end;
    while (lo != end || up != end) {
        const char* p = lo < up ? lo : up;
        size_t k = 1;
        while (k < needle.size() && ascii_lower(p[k]) == ascii_lower(needle[k])) ++k;
        if (k == needle.size()) return static_cast<size_t>(p - begin);
        if (p == lo) lo = next(f0, p + 1);
        else up = next(f1, p + 1);
    }
    return std::string_view::npos;
}

inline bool icontains(std::string_view hay, std::string_view needle) noexcept {
    return ifind(hay, needle) != std::string_view::npos;
}

constexpr std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
    return s;
}

inline std::string to_lower_ascii(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = ascii_lower(c);
    return out;
}

}  // namespace sys
