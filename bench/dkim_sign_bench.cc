// dkim_sign_bench - CPU time of one DKIM signature with common/dkim's
// MessageSigner, against OpenSSL signing alone, in one process
//
// usage: bench_dkim_sign [messages] [rounds] [threads]   (default 2000 3 1)
//
// Makes an RSA-2048 and an Ed25519 key (OpenSSL keygen, files in a
// temporary directory, mode 0600), loads them through dkim::KeyTable and
// builds a dkim::Library with the default dkim_sign_headers and
// dkim_oversign_headers. Per key kind, per round, `messages` messages (the
// eight header fields and 512-byte body of bench/relay.h's messages) are
// signed by `threads` threads at once, each message with its own
// MessageSigner, as sendguard-milter signs them. The baseline, same run,
// same key: EVP_DigestSign over the same number of octets with a key
// decoded once, which is the signature alone (RSA-2048 or Ed25519 over
// SHA-256, RFC 6376 3.3, RFC 8463 3). A signature of each kind is checked
// with dkim::verify (key records from a file) before the timed rounds.
//
// Output: per kind the median CPU time per message (process CPU time,
// user + system, over the messages of a round) of the signer and of the
// baseline, and their difference: what libopendkim and the signer add;
// and the signer's signatures per CPU second (1 / its time).
// Exit status 0, 1 when a step fails or a signature does not verify,
// 2 for bad usage.
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "common/config/config.h"
#include "common/dkim/key_table.h"
#include "common/dkim/setup.h"
#include "common/dkim/signer.h"

namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

const Headers kHeaders = {
    {"Received", " from client.example (client.example [127.0.0.1])\n\tby relay.example (Postfix) with ESMTP id 4Qx1;\n"
                 "\tWed, 2 Dec 2026 06:00:00 +0000 (UTC)"},
    {"From", " Customer A <news@customer-a.example>"},
    {"To", " bob@example.net, carol@example.net"},
    {"Subject", " bench message 17"},
    {"Date", " Wed, 2 Dec 2026 06:00:00 +0000"},
    {"Message-ID", " <17.bench@customer-a.example>"},
    {"MIME-Version", " 1.0"},
    {"Content-Type", " text/plain; charset=us-ascii"},
};

std::string body() {
    std::string b;
    while (b.size() < 512) b += "The quick brown fox jumps over the lazy dog 0123456789.\r\n";
    return b;
}

double cpu_seconds() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    const auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
    return s(ru.ru_utime) + s(ru.ru_stime);
}

std::string pem_of(EVP_PKEY* pkey) {
    BIO* bio = BIO_new(BIO_s_mem());
    if (!bio || PEM_write_bio_PrivateKey(bio, pkey, nullptr, nullptr, 0, nullptr, nullptr) != 1)
        throw std::runtime_error("PEM_write_bio_PrivateKey failed");
    char* p = nullptr;
    const long n = BIO_get_mem_data(bio, &p);
    std::string out(p, static_cast<std::size_t>(n));
    BIO_free(bio);
    return out;
}

void write_file(const std::string& path, const std::string& text, std::filesystem::perms mode) {
    std::ofstream(path) << text;
    std::filesystem::permissions(path, mode);
}

// Runs fn(i) for i in [0, n) on `threads` threads; CPU seconds per call.
template <class Fn>
double per_call(int n, int threads, Fn fn) {
    const double start = cpu_seconds();
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t)
        ts.emplace_back([&, t] {
            for (int i = t; i < n; i += threads) fn(i);
        });
    for (auto& t : ts) t.join();
    return (cpu_seconds() - start) / n;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

struct Kind {
    const char* name;
    const char* selector;
    EVP_PKEY* pkey;
};

}  // namespace

int main(int argc, char** argv) try {
    const int messages = argc > 1 ? std::atoi(argv[1]) : 2000;
    const int rounds = argc > 2 ? std::atoi(argv[2]) : 3;
    const int threads = argc > 3 ? std::atoi(argv[3]) : 1;
    if (argc > 4 || messages < 1 || rounds < 1 || threads < 1) {
        std::fprintf(stderr, "usage: bench_dkim_sign [messages] [rounds] [threads]\n");
        return 2;
    }
    const Kind kinds[] = {{"RSA-2048", "s1", EVP_RSA_gen(2048)},
                          {"Ed25519", "e1", EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519")}};
    char tmpl[] = "/tmp/sg-bench-dkim-XXXXXX";
    if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
    const std::filesystem::path dir = tmpl;
    std::string table;
    for (const Kind& k : kinds) {
        if (!k.pkey) throw std::runtime_error(std::string("keygen failed: ") + k.name);
        const std::string file = (dir / k.selector).string();
        write_file(file, pem_of(k.pkey), std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
        table += std::string("customer-a.example ") + k.selector + " " + file + "\n";
    }
    const dkim::KeyTable keys = dkim::KeyTable::parse(table, "bench");
    std::string records;
    for (const auto& k : keys.keys()) records += k->dns_name() + " " + k->key.record() + "\n";
    write_file((dir / "records").string(), records, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);

    const dkim::HeaderLists lists = dkim::header_lists(config::Config::defaults());
    dkim::LibraryOptions lo;
    lo.sign_headers = lists.sign;
    lo.oversign_headers = lists.oversign;
    lo.query_file = (dir / "records").string();
    const dkim::Library lib(lo);
    const std::string text = body();
    std::size_t octets = text.size();
    for (const auto& [n, v] : kHeaders) octets += n.size() + 1 + v.size() + 2;

    int status = 0;
    std::printf("bench_dkim_sign: %d messages x %d rounds, %d thread(s), %zu octets each\n", messages, rounds, threads,
                octets);
    for (const Kind& kind : kinds) {
        const std::vector<std::shared_ptr<const dkim::Key>> key{keys.find("customer-a.example", kind.selector)};
        bool failed = false;
        const auto sign_one = [&](int i) {
            dkim::MessageSigner s(lib, key, "4Qx" + std::to_string(i));
            for (const auto& [n, v] : kHeaders) s.header(n, v);
            s.eoh();
            s.body(text);
            std::vector<dkim::Signature> sigs = s.finish();
            if (sigs.size() != 1 && !failed) {
                failed = true;
                std::fprintf(stderr, "  %s: %s\n", kind.name, s.error().c_str());
            }
            return sigs;
        };
        // The check: the message as a recipient sees it verifies.
        std::string message;
        for (const auto& sig : sign_one(0)) message += "DKIM-Signature: " + sig.value + "\r\n";
        for (const auto& [n, v] : kHeaders) message += n + ":" + v + "\r\n";
        std::string crlf;
        for (char c : message) {
            if (c == '\n' && (crlf.empty() || crlf.back() != '\r')) crlf += '\r';
            crlf += c;
        }
        const auto verified = dkim::verify(lib, crlf + "\r\n" + text);
        if (verified.size() != 1 || !verified[0].pass) {
            std::printf("  %s: the signature does not verify (%s)\n", kind.name,
                        verified.empty() ? "none" : verified[0].error.c_str());
            status = 1;
            continue;
        }
        // Baseline: the signature alone, the key decoded once.
        const std::string data(octets, 'x');
        const auto openssl_one = [&](int) {
            EVP_MD_CTX* ctx = EVP_MD_CTX_new();
            unsigned char sig[512];
            std::size_t len = sizeof sig;
            const EVP_MD* md = EVP_PKEY_get_base_id(kind.pkey) == EVP_PKEY_ED25519 ? nullptr : EVP_sha256();
            if (EVP_DigestSignInit(ctx, nullptr, md, nullptr, kind.pkey) != 1 ||
                EVP_DigestSign(ctx, sig, &len, reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1)
                failed = true;
            EVP_MD_CTX_free(ctx);
        };
        std::vector<double> signer, floor;
        for (int r = 0; r < rounds; ++r) {
            floor.push_back(per_call(messages, threads, openssl_one));
            signer.push_back(per_call(messages, threads, sign_one));
        }
        if (failed) {
            std::printf("  %s: a signature failed\n", kind.name);
            status = 1;
            continue;
        }
        const double s = median(signer) * 1e3, f = median(floor) * 1e3;
        std::printf("  %-8s  MessageSigner %.3f ms/message (%.0f signatures per CPU second), OpenSSL alone %.3f ms, "
                    "added %.3f ms (%.1fx)\n",
                    kind.name, s, 1e3 / s, f, s - f, s / f);
    }
    std::filesystem::remove_all(dir);
    for (const Kind& k : kinds) EVP_PKEY_free(k.pkey);
    return status;
} catch (const std::exception& e) {
    std::fprintf(stderr, "bench_dkim_sign: %s\n", e.what());
    return 1;
}
