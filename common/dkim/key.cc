// key.cc - see key.h
#include "common/dkim/key.h"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>

#include "common/sys/c_handle.h"
#include "common/sys/secret_file.h"

namespace dkim {
namespace {

using Bio = sys::CHandle<BIO, BIO_free>;
using Pkey = sys::CHandle<EVP_PKEY, EVP_PKEY_free>;

void wipe(std::string& s) noexcept {
    if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
    s.clear();
}

// No passphrase: an encrypted key is an error, never a prompt on a terminal.
int no_passphrase(char*, int, int, void*) { return 0; }

std::string openssl_error() {
    const unsigned long e = ERR_get_error();
    ERR_clear_error();
    if (e == 0) return "not a PEM private key";
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    return buf;
}

template <class Fn>
std::string der(Fn&& i2d) {
    unsigned char* out = nullptr;
    const int n = i2d(&out);
    if (n <= 0) return {};
    std::string s(reinterpret_cast<const char*>(out), static_cast<std::size_t>(n));
    OPENSSL_free(out);
    return s;
}

}  // namespace

std::string_view to_string(Algorithm a) noexcept {
    return a == Algorithm::RsaSha256 ? "rsa-sha256" : "ed25519-sha256";
}

std::string_view key_type(Algorithm a) noexcept { return a == Algorithm::RsaSha256 ? "rsa" : "ed25519"; }

PrivateKey::~PrivateKey() { wipe(pem_); }

PrivateKey PrivateKey::load_file(const std::string& path) {
    std::string data;
    try {
        data = sys::read_secret_file(path, kMaxKeyFile);
    } catch (const sys::SecretFileError& e) {
        throw KeyError(e.what());
    }
    struct Wipe {
        std::string& s;
        ~Wipe() { wipe(s); }
    } wipe_data{data};
    return from_pem(data, path);
}

PrivateKey PrivateKey::from_pem(std::string_view pem, std::string_view origin) {
    const std::string where = std::string(origin) + ": ";
    ERR_clear_error();
    Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (!bio) throw KeyError(where + "out of memory");
    Pkey pkey(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr));
    if (!pkey) throw KeyError(where + "cannot read a PEM private key (" + openssl_error() + ")");
    // One key per file: a second PEM block would be ignored silently.
    if (Pkey extra{PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr)})
        throw KeyError(where + "more than one private key in the file");
    ERR_clear_error();

    PrivateKey k;
    const int id = EVP_PKEY_get_base_id(pkey.get());
    if (id == EVP_PKEY_RSA) {
        k.alg_ = Algorithm::RsaSha256;
        k.bits_ = static_cast<unsigned>(EVP_PKEY_get_bits(pkey.get()));
        if (k.bits_ < kMinRsaBits)
            throw KeyError(where + "RSA key of " + std::to_string(k.bits_) + " bits (minimum " +
                           std::to_string(kMinRsaBits) + ", RFC 8301)");
        k.public_der_ = der([&](unsigned char** o) { return i2d_PUBKEY(pkey.get(), o); });
        k.rsa_pkcs1_ = der([&](unsigned char** o) { return i2d_PublicKey(pkey.get(), o); });
    } else if (id == EVP_PKEY_ED25519) {
        k.alg_ = Algorithm::Ed25519Sha256;
        k.bits_ = 256;
        unsigned char raw[32];
        std::size_t len = sizeof raw;
        if (EVP_PKEY_get_raw_public_key(pkey.get(), raw, &len) != 1 || len != sizeof raw)
            throw KeyError(where + "cannot derive the Ed25519 public key");
        k.public_der_.assign(reinterpret_cast<const char*>(raw), len);
    } else {
        const char* name = EVP_PKEY_get0_type_name(pkey.get());
        throw KeyError(where + "unsupported key type " + (name ? name : "unknown") +
                       " (DKIM signs with RSA or Ed25519 keys)");
    }
    if (k.public_der_.empty()) throw KeyError(where + "cannot derive the public key");
    k.public_b64_ = base64_encode(k.public_der_);

    Bio out(BIO_new(BIO_s_mem()));
    if (!out || PEM_write_bio_PrivateKey(out.get(), pkey.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
        throw KeyError(where + "cannot re-encode the key (" + openssl_error() + ")");
    char* p = nullptr;
    const long n = BIO_get_mem_data(out.get(), &p);
    k.pem_.assign(p, static_cast<std::size_t>(n));
    OPENSSL_cleanse(p, static_cast<std::size_t>(n));
    return k;
}

std::string PrivateKey::record() const {
    return "v=DKIM1; k=" + std::string(key_type(alg_)) + "; p=" + public_b64_;
}

bool PrivateKey::matches(std::string_view public_der) const noexcept {
    return public_der == public_der_ || (!rsa_pkcs1_.empty() && public_der == rsa_pkcs1_);
}

namespace {
constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
int b64_value(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}
}  // namespace

std::string base64_encode(std::string_view bytes) {
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        const unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) |
                           (static_cast<unsigned char>(bytes[i + 1]) << 8) | static_cast<unsigned char>(bytes[i + 2]);
        for (int s = 18; s >= 0; s -= 6) out += kB64[(v >> s) & 63];
    }
    if (const std::size_t rest = bytes.size() - i; rest) {
        unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
        if (rest == 2) v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
        out += kB64[(v >> 18) & 63];
        out += kB64[(v >> 12) & 63];
        out += rest == 2 ? kB64[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
    std::string out;
    unsigned acc = 0;
    int bits = 0;
    int pad = 0;
    for (char c : text) {
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
        if (c == '=') {
            ++pad;
            continue;
        }
        const int v = b64_value(c);
        if (v < 0 || pad) return std::nullopt;  // a character after padding
        acc = (acc << 6) | static_cast<unsigned>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((acc >> bits) & 0xff);
        }
    }
    if (pad > 2 || bits >= 6 || (pad && (bits / 2) != pad)) return std::nullopt;
    return out;
}

}  // namespace dkim
