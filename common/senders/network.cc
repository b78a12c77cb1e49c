// network.cc - see network.h
#include "common/senders/network.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

#include "common/sys/ascii.h"

namespace senders {
namespace {

// Longer text is no address: INET6_ADDRSTRLEN (46) plus "IPv6:" and "/128".
constexpr size_t kMaxText = 64;

uint64_t load_be64(const unsigned char* p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
    return v;
}

void store_be64(uint64_t v, unsigned char* p) {
    for (int i = 7; i >= 0; --i, v >>= 8) p[i] = static_cast<unsigned char>(v & 0xff);
}

// ::ffff:0:0/96 (RFC 4291 2.5.5.2).
bool is_mapped(const IpAddress& a) {
    return a.v6 && a.hi == 0 && (a.lo >> 32) == 0xffff;
}

IpAddress unmap(const IpAddress& a) {
    return IpAddress{false, (a.lo & 0xffffffffu) << 32, 0};
}

// Dotted quad or IPv6 text, mapped addresses kept in their IPv6 form.
std::optional<IpAddress> parse_as_written(std::string_view text) {
    if (text.size() > kMaxText) return std::nullopt;
    char z[kMaxText + 1];
    std::memcpy(z, text.data(), text.size());
    z[text.size()] = '\0';
    unsigned char raw[16] = {};
    if (::inet_pton(AF_INET, z, raw) == 1)
        return IpAddress{false, load_be64(raw), 0};  // raw[4..7] stay 0
    if (::inet_pton(AF_INET6, z, raw) == 1)
        return IpAddress{true, load_be64(raw), load_be64(raw + 8)};
    return std::nullopt;
}

}  // namespace

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
    if (text.size() > 5 && sys::iequals(text.substr(0, 5), "IPv6:")) text.remove_prefix(5);
    const std::optional<IpAddress> a = parse_as_written(text);
    if (a && is_mapped(*a)) return unmap(*a);
    return a;
}

std::string IpAddress::str() const {
    unsigned char raw[16];
    char out[INET6_ADDRSTRLEN];
    store_be64(hi, raw);
    store_be64(lo, raw + 8);
    if (!::inet_ntop(v6 ? AF_INET6 : AF_INET, raw, out, sizeof out)) return "?";
    return out;
}

IpAddress IpAddress::masked(unsigned len) const noexcept {
    const uint64_t all = ~uint64_t{0};
    const uint64_t hi_mask = len >= 64 ? all : len == 0 ? 0 : all << (64 - len);
    const uint64_t lo_mask = len <= 64 ? 0 : len >= 128 ? all : all << (128 - len);
    return IpAddress{v6, hi & hi_mask, lo & lo_mask};
}

std::optional<Network> Network::parse(std::string_view text, std::string& why) {
    const size_t slash = text.find('/');
    // The prefix length is read against the family as written, so mapped
    // networks are unmapped only at the end.
    const std::optional<IpAddress> base = parse_as_written(text.substr(0, slash));
    if (!base) {
        why = "expected an IPv4 or IPv6 address or network, like 192.0.2.0/24 or 2001:db8::/32";
        return std::nullopt;
    }
    const unsigned max = base->bits();
    unsigned len = max;
    if (slash != std::string_view::npos) {
        const std::string_view digits = text.substr(slash + 1);
        const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), len);
        if (digits.empty() || digits.size() > 3 || ec != std::errc() ||
            end != digits.data() + digits.size() || len > max) {
            why =
                "bad prefix length /" + std::string(digits) + " (0 to " + std::to_string(max) + ")";
            return std::nullopt;
        }
    }
    if (base->masked(len) != *base) {
        why = "address bits set past the /" + std::to_string(len) + " prefix (the network is " +
              Network{base->masked(len), len}.str() + ")";
        return std::nullopt;
    }
    if (is_mapped(*base) && len >= 96) return Network{unmap(*base), len - 96};
    return Network{*base, len};
}

}  // namespace senders
