// test_dkim_support.h - DKIM test keys and a fake DNS for key records
//
//   dkim_test::pem(dkim_test::KeyKind::Rsa2048)  a PEM private key, made
//                                                once per run (OpenSSL keygen)
//   dkim_test::Keys k;                           a temp dir of key files:
//   k.file("a.rsa", KeyKind::Rsa2048)            writes one (mode 0600)
//   dkim_test::FakeTxt dns; dns.set("s._domainkey.d", {"v=DKIM1; ..."});
//
// No private key is ever committed: each run makes its own.
#pragma once

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <chrono>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/dns/resolver.h"
#include "tests/support/temp_dir.h"

namespace dkim_test {

enum class KeyKind { Rsa2048, Rsa1024, Rsa512, Ed25519, EcP256, Dsa };

inline std::string make_pem(KeyKind kind) {
    EVP_PKEY* pkey = nullptr;
    switch (kind) {
        case KeyKind::Rsa2048: pkey = EVP_RSA_gen(2048); break;
        case KeyKind::Rsa1024: pkey = EVP_RSA_gen(1024); break;
        case KeyKind::Rsa512: pkey = EVP_RSA_gen(512); break;
        case KeyKind::Ed25519: pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"); break;
        case KeyKind::EcP256: pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"); break;
        case KeyKind::Dsa: {
            EVP_PKEY_CTX* pctx = EVP_PKEY_CTX_new_from_name(nullptr, "DSA", nullptr);
            EVP_PKEY* params = nullptr;
            if (!pctx || EVP_PKEY_paramgen_init(pctx) <= 0 || EVP_PKEY_CTX_set_dsa_paramgen_bits(pctx, 1024) <= 0 ||
                EVP_PKEY_paramgen(pctx, &params) <= 0)
                throw std::runtime_error("DSA paramgen failed");
            EVP_PKEY_CTX_free(pctx);
            EVP_PKEY_CTX* kctx = EVP_PKEY_CTX_new(params, nullptr);
            if (!kctx || EVP_PKEY_keygen_init(kctx) <= 0 || EVP_PKEY_keygen(kctx, &pkey) <= 0)
                throw std::runtime_error("DSA keygen failed");
            EVP_PKEY_CTX_free(kctx);
            EVP_PKEY_free(params);
            break;
        }
    }
    if (!pkey) throw std::runtime_error("keygen failed");
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(bio, pkey, nullptr, nullptr, 0, nullptr, nullptr);
    char* p = nullptr;
    const long n = BIO_get_mem_data(bio, &p);
    std::string out(p, static_cast<std::size_t>(n));
    BIO_free(bio);
    EVP_PKEY_free(pkey);
    return out;
}

// One key of each kind per run (RSA generation is slow); index picks others.
inline const std::string& pem(KeyKind kind, int index = 0) {
    static std::mutex mu;
    static std::map<std::pair<KeyKind, int>, std::string> made;
    std::lock_guard lock(mu);
    auto& s = made[{kind, index}];
    if (s.empty()) s = make_pem(kind);
    return s;
}

// The traditional ("BEGIN RSA PRIVATE KEY") form of an RSA PEM.
inline std::string traditional_rsa(const std::string& pkcs8) {
    BIO* in = BIO_new_mem_buf(pkcs8.data(), static_cast<int>(pkcs8.size()));
    EVP_PKEY* k = PEM_read_bio_PrivateKey(in, nullptr, nullptr, nullptr);
    BIO_free(in);
    BIO* out = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey_traditional(out, k, nullptr, nullptr, 0, nullptr, nullptr);
    char* p = nullptr;
    const long n = BIO_get_mem_data(out, &p);
    std::string s(p, static_cast<std::size_t>(n));
    BIO_free(out);
    EVP_PKEY_free(k);
    return s;
}

struct Keys {
    harness::TempDir dir{"sg-dkim-"};
    std::string file(const std::string& name, KeyKind kind, int index = 0, mode_t mode = 0600) const {
        return write(name, pem(kind, index), mode);
    }
    std::string write(const std::string& name, const std::string& text, mode_t mode = 0600) const {
        const std::string path = dir.sub(name);
        harness::write_file(path, text, mode);
        return path;
    }
};

// TXT answers by name; a name not set is NXDOMAIN. queries counts asks.
class FakeTxt final : public dns::Querier {
public:
    void set(const std::string& name, std::vector<std::string> txt, dns::Status st = dns::Status::Ok) {
        std::lock_guard lock(mu_);
        dns::Answer a;
        a.status = st;
        for (auto& t : txt) a.records.push_back({0, std::move(t)});
        answers_[name] = std::move(a);
    }
    void fail(const std::string& name, dns::Status st) { set(name, {}, st); }
    dns::Answer query(std::string_view name, dns::Type type, std::chrono::seconds) const override {
        std::lock_guard lock(mu_);
        ++queries;
        if (type != dns::Type::TXT) return {dns::Status::NoData};
        auto it = answers_.find(std::string(name));
        if (it == answers_.end()) return {dns::Status::NxDomain};
        return it->second;
    }
    mutable int queries = 0;

private:
    mutable std::mutex mu_;
    std::map<std::string, dns::Answer> answers_;
};

}  // namespace dkim_test
