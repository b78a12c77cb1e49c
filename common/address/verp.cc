// verp.cc - VERP tag encoding, signing and verification (see verp.h)
#include "common/address/verp.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "common/address/chars.h"

namespace address {
namespace {

constexpr std::string_view kB32 = "abcdefghijklmnopqrstuvwxyz234567";
constexpr std::string_view kMacLabel = "sendguard-verp-1";
constexpr std::size_t kStampLen = 1 + 2 + 8;  // form, time, mac
constexpr int kTimeWrap = 1024;
constexpr int kSkewDays = 1;

int b32_value(char c) {
    if (c >= 'a' && c <= 'z') return c - 'a';
    if (c >= '2' && c <= '7') return c - '2' + 26;
    return -1;
}

int day_mod(std::chrono::sys_days today) {
    const long long d = today.time_since_epoch().count();
    return static_cast<int>(((d % kTimeWrap) + kTimeWrap) % kTimeWrap);
}

std::string time_field(std::chrono::sys_days today) {
    const int w = day_mod(today);
    return {kB32[static_cast<std::size_t>(w >> 5)], kB32[static_cast<std::size_t>(w & 31)]};
}

// esc() from the FORMAT in verp.h.
std::string escape(std::string_view s) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    char prev = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char ch = s[i];
        const auto c = static_cast<unsigned char>(ch);
        // A '.' may neither double nor end the field (the token ends the
        // local part, which must stay an RFC 5321 Dot-string).
        const bool safe = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                          (c == '.' && prev != '.' && i + 1 < s.size());
        if (safe) {
            out += ch;
        } else {
            out += '_';
            out += kHex[c >> 4];
            out += kHex[c & 15];
        }
        prev = ch;
    }
    return out;
}

enum class Unescape { Ok, Bad, Short };

// Reverses escape(); Short when an escape is cut off at the end of s.
Unescape unescape(std::string_view s, std::string& out) {
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (c != '_') {
            const auto u = static_cast<unsigned char>(c);
            if (!detail::is_atext(u) && c != '.') return Unescape::Bad;
            out += c;
            continue;
        }
        if (s.size() - i < 3) return Unescape::Short;
        int v = 0;
        for (std::size_t k = i + 1; k < i + 3; ++k) {
            const char h = s[k];
            if (h >= '0' && h <= '9') v = v * 16 + (h - '0');
            else if (h >= 'a' && h <= 'f') v = v * 16 + (h - 'a' + 10);
            else return Unescape::Bad;
        }
        out += static_cast<char>(v);
        i += 2;
    }
    return Unescape::Ok;
}

bool valid_token(std::string_view t) {
    if (t.empty() || t.size() > kVerpMaxToken) return false;
    for (unsigned char c : t)
        if (c < 0x21 || c > 0x7e) return false;
    return true;
}

Domain checked_domain(const VerpConfig& c) {
    auto d = normalise_domain(c.bounce_domain);
    if (!d) throw std::invalid_argument("invalid VERP bounce domain: " + std::string(to_string(d.error())));
    if (d->is_literal()) throw std::invalid_argument("VERP bounce domain must be a domain name");
    return *std::move(d);
}

std::string checked_head(const VerpConfig& c) {
    const auto d = static_cast<unsigned char>(c.delimiter);
    if (!detail::is_atext(d) || detail::is_alpha(d) || detail::is_digit(d) || d == '=' || d == '_')
        throw std::invalid_argument("invalid VERP delimiter");
    if (c.prefix.empty() || c.prefix.size() > kVerpMaxPrefix)
        throw std::invalid_argument("VERP prefix must have 1 to 32 characters");
    if (!is_dot_string(c.prefix) || c.prefix.back() == '.')
        throw std::invalid_argument("invalid VERP prefix");
    for (unsigned char p : c.prefix)
        if (p >= 0x80 || p == d) throw std::invalid_argument("invalid VERP prefix");
    return sys::to_lower_ascii(c.prefix) + static_cast<char>(d);
}

}  // namespace

std::string_view to_string(VerpStatus s) noexcept {
    switch (s) {
    case VerpStatus::Ok: return "ok";
    case VerpStatus::NotVerp: return "not_verp";
    case VerpStatus::Malformed: return "malformed";
    case VerpStatus::BadMac: return "bad_mac";
    case VerpStatus::Expired: return "expired";
    case VerpStatus::Truncated: return "truncated";
    }
    return "unknown";
}

VerpCodec::VerpCodec(const VerpConfig& config, VerpKeys keys)
    : head_(checked_head(config)),
      domain_(checked_domain(config)),
      max_age_(static_cast<int>(config.max_age.count())),
      keys_(std::move(keys)) {
    if (config.max_age.count() < 1 || config.max_age.count() > kVerpMaxAgeDays)
        throw std::invalid_argument("VERP max age must be 1 to 1000 days");
    if (keys_.keys_.empty()) throw std::invalid_argument("no VERP keys");
    // Any local part up to 64 octets must fit with the domain (RFC 5321
    // 4.5.3.1.3); a prefix of at most 32 leaves room for a 16-char token.
    if (kMaxLocalPart + 1 + domain_.str().size() > kMaxMailbox)
        throw std::invalid_argument("VERP bounce domain too long (max 189 octets)");
}

// The 8 base32 characters of the truncated MAC made with key number k.
std::string VerpCodec::mac(char form, std::string_view time, std::string_view f1,
                           std::string_view f2, std::size_t k) const {
    std::string msg;
    msg.reserve(kMacLabel.size() + 8 + domain_.str().size() + f1.size() + f2.size());
    msg.append(kMacLabel).append(1, '\0').append(1, form).append(1, '\0');
    msg.append(time).append(1, '\0').append(domain_.str()).append(1, '\0').append(f1);
    if (form == 'r') msg.append(1, '\0').append(f2);

    const std::string& key = keys_.keys_[k];
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
              reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), md, &len) ||
        len < 5)
        throw std::runtime_error("VERP: HMAC-SHA256 failed");
    // 40 bits -> 8 base32 digits.
    unsigned long long bits = 0;
    for (int i = 0; i < 5; ++i) bits = (bits << 8) | md[i];
    std::string out(8, ' ');
    for (int i = 7; i >= 0; --i, bits >>= 5) out[static_cast<std::size_t>(i)] = kB32[bits & 31];
    OPENSSL_cleanse(md, sizeof md);
    return out;
}

std::optional<Encoded> VerpCodec::fit(char form, std::string_view time, std::string_view f1,
                                      std::string_view f2, std::string payload) const {
    std::string local = head_;
    local += form;
    local.append(time).append(mac(form, time, f1, f2, 0)).append(1, '-').append(payload);
    if (local.size() > kMaxLocalPart || local.size() + 1 + domain_.str().size() > kMaxMailbox)
        return std::nullopt;
    Encoded e;
    e.address = local + "@" + domain_.str();
    return e;
}

std::optional<Encoded> VerpCodec::encode(const Address& rcpt, const TokenSource& make_token,
                                         std::chrono::sys_days today) const {
    if (rcpt.is_null()) return std::nullopt;
    const std::string time = time_field(today);
    const std::string local = sys::to_lower_ascii(rcpt.local());
    const std::string& domain = rcpt.domain().str();
    if (auto e = fit('r', time, local, domain, escape(local) + "=" + escape(domain))) return e;

    if (!make_token) return std::nullopt;
    std::string token = make_token();
    if (!valid_token(token)) return std::nullopt;
    auto e = fit('t', time, token, {}, escape(token));
    if (!e) return std::nullopt;
    e->is_token = true;
    e->token = std::move(token);
    return e;
}

std::optional<Encoded> VerpCodec::encode_token(std::string token, std::chrono::sys_days today) const {
    if (!valid_token(token)) return std::nullopt;
    auto e = fit('t', time_field(today), token, {}, escape(token));
    if (!e) return std::nullopt;
    e->is_token = true;
    e->token = std::move(token);
    return e;
}

std::optional<Encoded> VerpCodec::encode(const Address& rcpt, const TokenSource& make_token) const {
    return encode(rcpt, make_token,
                  std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now()));
}

Decoded VerpCodec::decode(std::string_view text, std::chrono::sys_days today) const {
    Decoded out;
    auto a = parse_path(text);
    if (!a || a->is_null() || a->domain() != domain_) return out;  // NotVerp
    const std::string local = sys::to_lower_ascii(a->local());
    if (local.size() <= head_.size() || local.compare(0, head_.size(), head_) != 0) {
        // "bounce+" with nothing after it is ours, cut short.
        if (local == head_) out.status = VerpStatus::Truncated;
        return out;
    }
    const std::string_view tag = std::string_view(local).substr(head_.size());

    out.status = VerpStatus::Malformed;
    const char form = tag[0];
    if (form != 'r' && form != 't') return out;
    for (std::size_t i = 1; i < kStampLen && i < tag.size(); ++i)
        if (b32_value(tag[i]) < 0) return out;
    if (tag.size() <= kStampLen + 1) {
        // Stamp cut short, or the payload missing entirely.
        out.status = tag.size() > kStampLen && tag[kStampLen] != '-' ? VerpStatus::Malformed
                                                                     : VerpStatus::Truncated;
        return out;
    }
    if (tag[kStampLen] != '-') return out;
    const std::string_view time = tag.substr(1, 2);
    const std::string_view got_mac = tag.substr(3, 8);
    const std::string_view payload = tag.substr(kStampLen + 1);

    std::string f1, f2;
    if (form == 'r') {
        const auto eq = payload.find('=');
        if (eq == std::string_view::npos) {
            // Cut before the domain (a cut inside an escape counts the same).
            out.status = unescape(payload, f1) == Unescape::Bad ? VerpStatus::Malformed
                                                                : VerpStatus::Truncated;
            return out;
        }
        if (payload.find('=', eq + 1) != std::string_view::npos || eq == 0) return out;
        if (unescape(payload.substr(0, eq), f1) != Unescape::Ok) return out;
        const auto u = unescape(payload.substr(eq + 1), f2);
        if (u == Unescape::Short || eq + 1 == payload.size()) out.status = VerpStatus::Truncated;
        if (u != Unescape::Ok || f2.empty()) return out;
    } else {
        const auto u = unescape(payload, f1);
        if (u == Unescape::Short) out.status = VerpStatus::Truncated;
        if (u != Unescape::Ok || !valid_token(f1)) return out;
    }

    bool good = false;
    for (std::size_t k = 0; k < keys_.keys_.size() && !good; ++k) {
        const std::string want = mac(form, time, f1, f2, k);
        good = CRYPTO_memcmp(want.data(), got_mac.data(), want.size()) == 0;
    }
    if (!good) {
        out.status = VerpStatus::BadMac;
        return out;
    }

    if (form == 'r') {
        auto rcpt = make_address(f1, f2);
        if (!rcpt) return out;  // Malformed: signed by us, yet no address
        out.recipient = *std::move(rcpt);
    } else {
        out.is_token = true;
        out.token = std::move(f1);
    }
    const int stamp = b32_value(time[0]) * 32 + b32_value(time[1]);
    const int now = day_mod(today);
    const int ahead = ((stamp - now) % kTimeWrap + kTimeWrap) % kTimeWrap;
    out.age_days = ahead <= kSkewDays ? 0 : ((now - stamp) % kTimeWrap + kTimeWrap) % kTimeWrap;
    out.status = out.age_days > max_age_ ? VerpStatus::Expired : VerpStatus::Ok;
    return out;
}

Decoded VerpCodec::decode(std::string_view text) const {
    return decode(text, std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now()));
}

std::string make_random_token() {
    unsigned char raw[10];
    if (RAND_bytes(raw, sizeof raw) != 1) throw std::runtime_error("VERP: RAND_bytes failed");
    std::string out;
    for (int half = 0; half < 2; ++half) {
        unsigned long long bits = 0;
        for (int i = 0; i < 5; ++i) bits = (bits << 8) | raw[half * 5 + i];
        for (int i = 7; i >= 0; --i) out += kB32[(bits >> (5 * i)) & 31];
    }
    return out;
}

}  // namespace address
