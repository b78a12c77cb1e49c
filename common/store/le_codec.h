// le_codec.h - little-endian integers in stored values
//
// Every value the store writes (record.h, sendlog.h, the domain_hits rows of
// suppression.h) keeps its integers little-endian, whatever the host is, so
// a store file means the same on every machine.
//
//   put_le<uint32_t>(out, v);        // appends sizeof(T) bytes to out
//   uint64_t v = get_le<uint64_t>(p);   // reads sizeof(T) bytes at p
//   store::LeReader rd(value);        // bounds-checked reader over one value
//   rd.uint(4); rd.i64(); rd.str();   // str: uint16 length, then the bytes
//   if (!rd.ok()) ... truncated
//
// Errors: get_le trusts its caller to have checked the size; LeReader never
// reads past its input (ok() turns false and reads yield 0 / empty).
// Thread safety: pure functions and a value type.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

namespace store {

template <class T>
void put_le(std::string& out, T v) {
    static_assert(std::is_integral_v<T>);
    const auto u = static_cast<std::make_unsigned_t<T>>(v);
    for (size_t i = 0; i < sizeof(T); ++i)
        out += static_cast<char>((u >> (8 * i)) & 0xff);
}

// Reads sizeof(T) bytes at p (the caller checked there are that many).
template <class T>
T get_le(const char* p) noexcept {
    static_assert(std::is_integral_v<T>);
    std::make_unsigned_t<T> u = 0;
    for (size_t i = 0; i < sizeof(T); ++i)
        u |= static_cast<std::make_unsigned_t<T>>(static_cast<unsigned char>(p[i])) << (8 * i);
    return static_cast<T>(u);
}

// A uint16 length, then the bytes; the caller keeps s within 65535 bytes.
inline void put_le_str(std::string& out, std::string_view s) {
    put_le(out, static_cast<uint16_t>(s.size()));
    out.append(s);
}

class LeReader {
public:
    explicit LeReader(std::string_view in) noexcept : in_(in) {}
    bool ok() const noexcept { return ok_; }
    size_t pos() const noexcept { return pos_; }

    // An n-byte (n <= 8) unsigned integer.
    uint64_t uint(size_t n) noexcept {
        if (n > 8 || !need(n))
            return 0;
        uint64_t v = 0;
        for (size_t i = 0; i < n; ++i)
            v |= uint64_t{static_cast<unsigned char>(in_[pos_ + i])} << (8 * i);
        pos_ += n;
        return v;
    }
    int64_t i64() noexcept { return static_cast<int64_t>(uint(8)); }
    std::string_view str() noexcept {
        const size_t n = uint(2);
        if (!need(n))
            return {};
        std::string_view s = in_.substr(pos_, n);
        pos_ += n;
        return s;
    }

private:
    bool need(size_t n) noexcept {
        if (ok_ && in_.size() - pos_ >= n)
            return true;
        ok_ = false;
        return false;
    }

    std::string_view in_;
    size_t pos_ = 0;
    bool ok_ = true;
};

}  // namespace store
