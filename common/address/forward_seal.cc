// forward_seal.cc - see forward_seal.h
#include "common/address/forward_seal.h"

#include <openssl/crypto.h>

#include <charconv>
#include <optional>

#include "common/sys/ascii.h"

namespace address {
namespace {

constexpr std::string_view kLabel = "sendguard-forward-1";
constexpr std::size_t kMacHex = 64;

std::string hex(std::string_view bytes) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (unsigned char c : bytes) {
        out += kHex[c >> 4];
        out += kHex[c & 15];
    }
    return out;
}

// The recipient as the MAC covers it: normalised when it is an address,
// else lower-cased as given (it then matches nothing the milter sees).
std::string canonical_recipient(std::string_view r) {
    if (auto a = parse_path(r); a && !a->is_null()) return a->normalised();
    return sys::to_lower_ascii(r);
}

std::string mac_hex(const VerpKeys& keys, std::size_t k, std::string_view t, std::string_view recipient,
                    std::string_view from) {
    std::string msg;
    msg.append(kLabel).append(1, '\0').append(t).append(1, '\0');
    msg.append(canonical_recipient(recipient)).append(1, '\0').append(canonical_from(from));
    return hex(keys.hmac_sha256(k, msg));
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

struct Parsed {
    std::string t;
    long long time = 0;
    std::string mac;
};

// "v=1; t=DIGITS; s=HEX64" in this order, spaces around the parts allowed.
std::optional<Parsed> parse(std::string_view value) {
    if (value.size() > kForwardSealMaxValue) return std::nullopt;
    const std::string canon = canonical_from(value);  // unfolded, spaces squeezed
    std::string_view v = canon;
    std::string_view parts[3];
    for (int i = 0; i < 3; ++i) {
        const auto semi = v.find(';');
        if (i < 2 && semi == std::string_view::npos) return std::nullopt;
        parts[i] = trim(v.substr(0, semi));
        v = semi == std::string_view::npos ? std::string_view{} : v.substr(semi + 1);
    }
    if (!trim(v).empty()) return std::nullopt;
    if (parts[0] != "v=1" || !parts[1].starts_with("t=") || !parts[2].starts_with("s=")) return std::nullopt;
    Parsed p;
    p.t = std::string(parts[1].substr(2));
    p.mac = std::string(parts[2].substr(2));
    if (p.t.empty() || p.t.size() > 18) return std::nullopt;
    for (char c : p.t)
        if (c < '0' || c > '9') return std::nullopt;
    std::from_chars(p.t.data(), p.t.data() + p.t.size(), p.time);
    if (p.mac.size() != kMacHex) return std::nullopt;
    for (char c : p.mac)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return std::nullopt;
    return p;
}

}  // namespace

std::string_view to_string(SealStatus s) noexcept {
    switch (s) {
    case SealStatus::Ok: return "ok";
    case SealStatus::Malformed: return "malformed";
    case SealStatus::BadMac: return "bad_mac";
    case SealStatus::Expired: return "expired";
    }
    return "unknown";
}

std::string canonical_from(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    bool space = false;
    for (char c : value) {
        if (c == '\r' || c == '\n') continue;  // unfolding (RFC 5322 2.2.3)
        if (c == ' ' || c == '\t') {
            space = true;
            continue;
        }
        if (space && !out.empty()) out += ' ';
        space = false;
        out += c;
    }
    return out;
}

std::string seal_forward(const VerpKeys& keys, std::string_view recipient, std::string_view from,
                         std::chrono::sys_seconds now) {
    const std::string t = std::to_string(now.time_since_epoch().count());
    return "v=1; t=" + t + "; s=" + mac_hex(keys, 0, t, recipient, from);
}

SealStatus verify_forward_seal(const VerpKeys& keys, std::string_view value, std::string_view recipient,
                               std::string_view from, std::chrono::sys_seconds now) {
    const auto p = parse(value);
    if (!p) return SealStatus::Malformed;
    bool good = false;
    for (std::size_t k = 0; k < keys.size() && !good; ++k) {
        const std::string want = mac_hex(keys, k, p->t, recipient, from);
        good = CRYPTO_memcmp(want.data(), p->mac.data(), kMacHex) == 0;
    }
    if (!good) return SealStatus::BadMac;
    const long long age = now.time_since_epoch().count() - p->time;
    if (age > kForwardSealMaxAge.count() || age < -kForwardSealSkew.count()) return SealStatus::Expired;
    return SealStatus::Ok;
}

}  // namespace address
