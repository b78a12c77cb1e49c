// utf8.h - well-formed UTF-8 (RFC 3629 §4)
//
// utf8_sequence(s, i): the length (2-4) of the well-formed multi-byte
// sequence starting at s[i], or 0 when there is none (ASCII, a stray
// continuation byte, an overlong form, a surrogate, past U+10FFFF, or cut
// off by the end of s). valid_utf8(s): every byte is in a well-formed
// sequence. utf8_complete(s): the length of s without a multi-byte sequence
// that a cut left incomplete at its end, for truncating text at a limit.
// Pure functions, no allocation.
#pragma once

#include <cstddef>
#include <string_view>

namespace sys {

constexpr size_t utf8_sequence(std::string_view s, size_t i) noexcept {
    auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
    unsigned char c = b(i);
    size_t n = c < 0xC2 ? 0 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : c < 0xF5 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return 0;
    for (size_t k = 1; k < n; ++k)
        if ((b(i + k) & 0xC0) != 0x80) return 0;
    if (c == 0xE0 && b(i + 1) < 0xA0) return 0;  // overlong
    if (c == 0xED && b(i + 1) > 0x9F) return 0;  // surrogates
    if (c == 0xF0 && b(i + 1) < 0x90) return 0;  // overlong
    if (c == 0xF4 && b(i + 1) > 0x8F) return 0;  // > U+10FFFF
    return n;
}

constexpr bool valid_utf8(std::string_view s) noexcept {
    for (size_t i = 0; i < s.size();) {
        if (static_cast<unsigned char>(s[i]) < 0x80) {
            ++i;
            continue;
        }
        size_t n = utf8_sequence(s, i);
        if (n == 0) return false;
        i += n;
    }
    return true;
}

constexpr size_t utf8_complete(std::string_view s) noexcept {
    size_t k = s.size();
    while (k > 0 && (static_cast<unsigned char>(s[k - 1]) & 0xC0) == 0x80 && s.size() - k < 3) --k;
    if (k == 0 || static_cast<unsigned char>(s[k - 1]) < 0xC0) return s.size();
    unsigned char lead = static_cast<unsigned char>(s[k - 1]);
    size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
    return s.size() - (k - 1) < need ? k - 1 : s.size();
}

}  // namespace sys
