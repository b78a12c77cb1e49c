// verp.h - signed VERP bounce addresses: encode and decode
//
// DESCRIPTION
//   A VERP (variable envelope return path) sender names the recipient a
//   message went to, so a bounce that comes back to it says whose mailbox
//   failed even when the DSN itself is useless. The tag is signed so that
//   nobody can make us suppress an address by mailing a forged bounce.
//
// FORMAT (version 1; everything the encoder writes is lower case)
//
//   verp-address = local "@" bounce-domain
//   local        = prefix delim tag          ; never more than 64 octets
//   tag          = form time mac "-" payload
//   form         = "r"                       ; payload is the recipient
//                / "t"                       ; payload is an opaque token
//   time         = 2b32                      ; days since 1970-01-01 mod 1024
//   mac          = 8b32                      ; first 40 bits of HMAC-SHA256
//   payload      = esc(rcpt-local) "=" esc(rcpt-domain)     ; form "r"
//                / esc(token)                               ; form "t"
//   b32          = %x61-7A / %x32-37         ; RFC 4648 base32, lower case
//   esc(s)       : a-z 0-9 "-" "." stand for themselves; every other octet,
//                  and a "." that follows a "." or ends s, is "_" 2HEXDIG
//                  (hex in lower case), so local is always a Dot-string
//
//   e.g. bounce+rbkqx4c7m2a-bob.o_27neil=example.net@bounces.example.org
//   for Bob.O'Neil@Example.NET
//
//   The recipient is encoded in its normalised form (Address::normalised():
//   local part lower-cased), so the tag has no upper-case letters and no
//   octet that is special to an MTA ('+', '=', '%', '@', '/', quotes,
//   non-ASCII, ...). Remote MTAs that upper- or lower-case the local part
//   do no harm: the decoder lower-cases the tag before anything else.
//
//   The MAC is HMAC-SHA256(key, "sendguard-verp-1" NUL form NUL time NUL
//   bounce-domain NUL field1 [NUL field2]) where the fields are the decoded
//   recipient local part and domain, or the token. It covers the time, so
//   an old tag cannot be refreshed, and the bounce domain, so a tag is only
//   good at the domain it was made for. 40 bits: a forger needs ~2^39
//   bounces per address on average.
//
//   When prefix+delim+tag for the recipient would pass 64 octets (RFC 5321
//   4.5.3.1.1) or the address 254, the encoder asks the caller for a token
//   (a short string of printable ASCII that the caller maps back to the
//   recipient, e.g. in its send log) and writes form "t" instead. The caller
//   persists token -> recipient after encode() says is_token.
//
//   time wraps every 1024 days; a tag is Expired when older than max_age
//   (at most kMaxAgeDays) and fresh when it claims to be up to one day in
//   the future (clock skew between the sending and the bouncing host).
//
// KEYS
//   VerpKeys holds one or more secrets. The first signs, all verify: to
//   rotate, put a new key on the first line and keep the old one below it
//   until max_age has passed. Key file: one key per line (its bytes, white
//   space around it trimmed; e.g. the output of `openssl rand -base64 32`),
//   "#" comment lines and blank lines ignored, each key >= 16 octets. A file
//   that others can read or write is refused. Keys are wiped on destruction
//   and never appear in messages.
//
// ERRORS
//   decode() results are values (Decoded::status); encode() returns nullopt
//   when no form fits. Bad configuration or key files throw at startup:
//   std::invalid_argument (VerpCodec, VerpKeys::from_strings) and
//   KeyFileError ("file:line: message"); a failing OpenSSL call throws
//   std::runtime_error.
//
// THREAD SAFETY
//   A VerpCodec is immutable after construction; encode() and decode() may
//   run on many threads at once (make_token as the caller makes it).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "common/address/address.h"

namespace address {

inline constexpr std::size_t kVerpMinKeyBytes = 16;
inline constexpr std::size_t kVerpMaxKeyBytes = 1024;
inline constexpr std::size_t kVerpMaxKeys = 32;
inline constexpr std::size_t kVerpMaxKeyFile = 65536;
inline constexpr std::size_t kVerpMaxPrefix = 32;
inline constexpr std::size_t kVerpMaxToken = 32;
inline constexpr int kVerpMaxAgeDays = 1000;

class KeyFileError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class VerpKeys {
public:
    // Throws std::invalid_argument when keys is empty, longer than
    // kVerpMaxKeys, or a key is shorter than kVerpMinKeyBytes (or longer
    // than kVerpMaxKeyBytes). keys[0] signs.
    static VerpKeys from_strings(std::vector<std::string> keys);
    // Throws KeyFileError: cannot open/read, not a regular file, readable or
    // writable by others, too large, bad key at file:line, no keys.
    static VerpKeys load_file(const std::string& path);

    VerpKeys(const VerpKeys&) = default;
    VerpKeys(VerpKeys&&) noexcept = default;
    VerpKeys& operator=(const VerpKeys&) = default;
    VerpKeys& operator=(VerpKeys&&) noexcept = default;
    ~VerpKeys();

    std::size_t size() const noexcept { return keys_.size(); }
    // HMAC-SHA256 of msg with key i (< size()), the raw 32 bytes: for other
    // MACs under the same secrets (forward_seal.h) without handing the key
    // out. Throws std::runtime_error when OpenSSL fails.
    std::string hmac_sha256(std::size_t i, std::string_view msg) const;

private:
    friend class VerpCodec;
    VerpKeys() = default;
    std::vector<std::string> keys_;
};

// No defaults of its own: the parameter table holds them (verp_local_part,
// verp_delimiter, verp_max_age). Fill it with address::verp_config(cfg, ...)
// (verp_setup.h) or explicit values; a field left unset is rejected by the
// VerpCodec constructor, never used.
struct VerpConfig {
    std::string prefix;             // atext, no delimiter; matched ignoring case
    char delimiter{};               // atext, not a letter or digit, not '.' '=' '_'
    std::string bounce_domain;      // normalised with normalise_domain
    std::chrono::days max_age{};    // 1 .. kVerpMaxAgeDays
};

struct Encoded {
    std::string address;  // local@bounce-domain, no angle brackets
    bool is_token = false;
    std::string token;    // the token used when is_token, else empty
};

enum class VerpStatus {
    Ok,
    NotVerp,    // not an address, wrong domain, or wrong prefix/delimiter
    Malformed,  // our prefix, but the tag breaks the format
    BadMac,     // well-formed, but no key made this MAC: forged or altered
    Expired,    // authentic, older than max_age
    Truncated,  // the tag ends early (e.g. shortened by a remote system)
};

std::string_view to_string(VerpStatus s) noexcept;

struct Decoded {
    VerpStatus status = VerpStatus::NotVerp;
    bool is_token = false;
    Address recipient;  // form "r", status Ok or Expired; else null
    std::string token;  // form "t", status Ok or Expired; else empty
    int age_days = 0;   // status Ok or Expired
};

class VerpCodec {
public:
    using TokenSource = std::function<std::string()>;

    // Throws std::invalid_argument for a bad prefix, delimiter, domain or
    // max_age, or a bounce domain over 189 octets (64 + "@" + 189 = 254).
    // A token of up to 16 characters [a-z0-9-] always fits.
    VerpCodec(const VerpConfig& config, VerpKeys keys);

    // nullopt when rcpt is the null path, or the recipient does not fit and
    // make_token is empty or returns a token that is empty, too long
    // (> kVerpMaxToken), not printable ASCII, or does not fit.
    std::optional<Encoded> encode(const Address& rcpt, const TokenSource& make_token,
                                  std::chrono::sys_days today) const;
    std::optional<Encoded> encode(const Address& rcpt, const TokenSource& make_token) const;

    // Form "t" for a token the caller chose (a message with several
    // recipients, whose send-log entry lists them); nullopt when the token
    // is invalid (as for make_token) or does not fit.
    std::optional<Encoded> encode_token(std::string token, std::chrono::sys_days today) const;

    // address: a path or mailbox as parse_path() takes it.
    Decoded decode(std::string_view address, std::chrono::sys_days today) const;
    Decoded decode(std::string_view address) const;

    const Domain& bounce_domain() const noexcept { return domain_; }
    // The keys it signs and verifies with (for forward_seal.h).
    const VerpKeys& keys() const noexcept { return keys_; }

private:
    std::string mac(char form, std::string_view time, std::string_view f1,
                    std::string_view f2, std::size_t key) const;
    std::optional<Encoded> fit(char form, std::string_view time, std::string_view f1,
                               std::string_view f2, std::string payload) const;

    std::string head_;  // prefix + delimiter, lower case
    Domain domain_;
    int max_age_;
    VerpKeys keys_;
};

// 16 random base32 characters (80 bits) from RAND_bytes: a token for
// VerpCodec::TokenSource. Throws std::runtime_error if RAND_bytes fails.
std::string make_random_token();

}  // namespace address
