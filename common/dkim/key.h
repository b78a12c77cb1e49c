// key.h - DKIM private keys: loading, their algorithm, the record to publish
//
// DESCRIPTION
//   PrivateKey::load_file(path) reads a PEM private key (RFC 7468) from a
//   key file that others cannot read or write (sys::read_secret_file, the
//   check verp_key_file has too) and parses it with OpenSSL:
//     RSA, PKCS#8 ("BEGIN PRIVATE KEY") or traditional ("BEGIN RSA PRIVATE
//     KEY"), at least kMinRsaBits bits      -> rsa-sha256 (RFC 6376 3.3)
//     Ed25519, PKCS#8                        -> ed25519-sha256 (RFC 8463)
//   Anything else (DSA, EC P-256, RSA-PSS, an encrypted key, several keys
//   or garbage) is an error. The key is kept as PKCS#8 PEM, the form
//   libopendkim takes for both algorithms, and wiped when destroyed.
//
//   record() is the TXT record to publish at SELECTOR._domainkey.DOMAIN:
//     v=DKIM1; k=rsa; p=<base64 of the DER SubjectPublicKeyInfo>
//     v=DKIM1; k=ed25519; p=<base64 of the raw 32-byte public key>
//   matches(p) tells whether a published p= (base64 decoded) is this key's
//   public key: for RSA the SubjectPublicKeyInfo (RFC 6376 3.6.1) or, as
//   some generators publish it and verifiers accept, the bare RSAPublicKey
//   (RFC 8017 A.1.1); for Ed25519 the 32 raw octets (RFC 8463 4).
//
// ERRORS
//   KeyError, whose what() names the file and what is wrong; never the key.
//
// THREAD SAFETY
//   Immutable after construction.
#pragma once

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace dkim {

enum class Algorithm { RsaSha256, Ed25519Sha256 };

// "rsa-sha256", "ed25519-sha256" (the a= tag).
std::string_view to_string(Algorithm a) noexcept;
// "rsa", "ed25519" (the k= tag of the key record).
std::string_view key_type(Algorithm a) noexcept;

inline constexpr unsigned kMinRsaBits = 1024;    // RFC 8301 3.2
inline constexpr std::size_t kMaxKeyFile = 64 * 1024;

class KeyError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class PrivateKey {
public:
    // Throws KeyError "PATH: ...".
    static PrivateKey load_file(const std::string& path);
    // Throws KeyError with the problem, without a place (origin is put
    // in front: "PATH: ").
    static PrivateKey from_pem(std::string_view pem, std::string_view origin);

    PrivateKey(PrivateKey&&) noexcept = default;
    PrivateKey& operator=(PrivateKey&&) noexcept = default;
    PrivateKey(const PrivateKey&) = delete;
    PrivateKey& operator=(const PrivateKey&) = delete;
    ~PrivateKey();

    Algorithm algorithm() const noexcept { return alg_; }
    unsigned bits() const noexcept { return bits_; }
    const std::string& pem() const noexcept { return pem_; }  // PKCS#8
    // base64 of the public key as record() publishes it.
    const std::string& public_base64() const noexcept { return public_b64_; }
    std::string record() const;
    bool matches(std::string_view public_der) const noexcept;

private:
    PrivateKey() = default;
    Algorithm alg_ = Algorithm::RsaSha256;
    unsigned bits_ = 0;
    std::string pem_;
    std::string public_b64_;
    std::string public_der_;  // SPKI (RSA) or the raw key (Ed25519)
    std::string rsa_pkcs1_;   // RSAPublicKey DER (RSA only)
};

// RFC 4648 base64; white space (FWS in a key record) is skipped. nullopt
// for any other character or bad padding.
std::optional<std::string> base64_decode(std::string_view text);
std::string base64_encode(std::string_view bytes);

}  // namespace dkim
