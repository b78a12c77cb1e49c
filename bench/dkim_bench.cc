// bench_dkim - Postfix relay throughput with DKIM signing milters
//
// usage: bench_dkim BIN_DIR [messages] [rounds] [recipients]
// The relay of bench/relay.h (as bench_milter: messages, default 2000,
// over 10 sessions, 512 bytes of body, 2 recipients, rounds, default 5)
// with one listener per variant:
//   no milter                        the baseline
//   opendkim                         Debian's opendkim (/usr/sbin/opendkim
//                                    -f -x CONF): Mode s, Domain
//                                    customer-a.example, selector s1, an
//                                    RSA-2048 key, relaxed/relaxed
//   sendguard-milter                 checks + VERP, no signing
//   sendguard-milter + RSA-2048      checks + VERP + signing (dkim_key_table,
//                                    dkim_signing_table), selector s1
//   sendguard-milter + Ed25519       the same with an Ed25519 key, selector e1
// The keys are made at run time (openssl genpkey). sendguard-milter checks
// that a selector's key is published, so a dnsmasq on 127.0.0.1 (a free
// port; the milter's dns_servers) serves both selectors' TXT records and
// nothing else; opendkim looks nothing up when it signs. A build whose
// milter does not know dkim_key_table (asked, it names it as unknown)
// runs without the signing variants and says so.
//
// Before the timed runs one message goes through each signing listener to
// a sink that keeps it (Relay::sample): the DKIM-Signature it carries
// (a=, s=) is printed, and a variant that did not sign fails the run.
//
// Output: one line per run, then per variant its rate and ratio to no
// milter (medians of the rounds), and the targets of issue 8:
//   dkim: sendguard-milter + RSA-2048: ..., ratio R to opendkim (...; target >= 3.00: met)
//   dkim: sendguard-milter + Ed25519: ..., ratio R to no milter (...; target >= 0.85: met)
// and each milter's CPU time per message. Exit status 0 when every run
// delivered all its messages and every signing variant signed, 1
// otherwise, 77 without root, Postfix, opendkim, dnsmasq or openssl.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "bench/relay.h"

namespace {

using bench::lines;

constexpr const char* kOpendkim = "/usr/sbin/opendkim";
constexpr const char* kDnsmasq = "/usr/sbin/dnsmasq";
constexpr const char* kOpenssl = "/usr/bin/openssl";
constexpr const char* kDomain = "customer-a.example";

std::string base64(const std::string& in) {
    static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        const unsigned v = static_cast<unsigned char>(in[i]) << 16 | static_cast<unsigned char>(in[i + 1]) << 8 |
                           static_cast<unsigned char>(in[i + 2]);
        out += {t[v >> 18], t[(v >> 12) & 63], t[(v >> 6) & 63], t[v & 63]};
    }
    if (i + 1 == in.size()) {
        const unsigned v = static_cast<unsigned char>(in[i]) << 16;
        out += {t[v >> 18], t[(v >> 12) & 63], '=', '='};
    } else if (i + 2 == in.size()) {
        const unsigned v = static_cast<unsigned char>(in[i]) << 16 | static_cast<unsigned char>(in[i + 1]) << 8;
        out += {t[v >> 18], t[(v >> 12) & 63], t[(v >> 6) & 63], '='};
    }
    return out;
}

struct Key {
    std::string pem;  // path of the private key
    std::string txt;  // the selector's TXT record
};

// A private key (PEM) and its DKIM key record (RFC 6376 3.6.1; for
// Ed25519, RFC 8463: p= is the raw 32-byte public key, the last 32 bytes
// of the DER SubjectPublicKeyInfo).
Key make_key(const std::string& dir, const std::string& name, bool ed25519) {
    const std::string pem = dir + "/" + name + ".pem", der = dir + "/" + name + ".pub.der";
    const std::vector<std::string> gen =
        ed25519 ? std::vector<std::string>{kOpenssl, "genpkey", "-algorithm", "ed25519", "-out", pem}
                : std::vector<std::string>{kOpenssl, "genpkey", "-algorithm", "RSA", "-pkeyopt",
                                           "rsa_keygen_bits:2048", "-out", pem};
    if (bench::run(gen, dir + "/openssl.out") != 0 ||
        bench::run({kOpenssl, "pkey", "-in", pem, "-pubout", "-outform", "DER", "-out", der}, dir + "/openssl.out") != 0)
        bench::fail("openssl: " + bench::read_file(dir + "/openssl.out"));
    std::string pub = bench::read_file(der);
    if (ed25519) pub = pub.substr(pub.size() - 32);
    return {pem, std::string("v=DKIM1; k=") + (ed25519 ? "ed25519" : "rsa") + "; p=" + base64(pub)};
}

// dnsmasq answering the selectors' TXT records (each split into strings
// of at most 255 octets, RFC 1035 3.3.14) and refusing the rest.
pid_t start_dns(const std::string& dir, uint16_t port, const std::vector<std::pair<std::string, std::string>>& txt) {
    std::string conf;
    for (const auto& [name, text] : txt) {
        conf += "txt-record=" + name;
        for (size_t i = 0; i < text.size(); i += 255) conf += ",\"" + text.substr(i, 255) + "\"";
        conf += "\n";
    }
    bench::write_file(dir + "/dnsmasq.conf", conf);
    return bench::spawn({kDnsmasq, "--keep-in-foreground", "--log-facility=-", "--no-resolv", "--no-hosts",
                         "--no-poll", "--listen-address=127.0.0.1", "--bind-interfaces",
                         "--port=" + std::to_string(port), "--user=nobody", "--group=nogroup",
                         "--pid-file=" + dir + "/dnsmasq.pid", "--conf-file=" + dir + "/dnsmasq.conf"},
                        dir + "/dnsmasq.err");
}

// Debian's opendkim, signing everything from 127.0.0.1 (its default
// InternalHosts) with From: customer-a.example. It refuses a configuration
// file whose path other users may write to (/tmp), so its files are in a
// directory of their own under /run (od); its log is copied to the run
// directory when it stops.
pid_t start_opendkim(const std::string& od, const Key& key) {
    bench::write_file(od + "/rsa.pem", bench::read_file(key.pem), 0600);
    bench::write_file(od + "/opendkim.conf",
                      lines({"Mode s", "Domain " + std::string(kDomain), "Selector s1", "KeyFile " + od + "/rsa.pem",
                             "Canonicalization relaxed/relaxed", "Socket local:" + od + "/milter.sock",
                             "UMask 000", "PidFile " + od + "/opendkim.pid", "Syslog no", "UserID root"}));
    const pid_t pid = bench::spawn({kOpendkim, "-f", "-x", od + "/opendkim.conf"}, od + "/opendkim.err");
    if (!bench::wait_for_file(od + "/milter.sock", 10))
        bench::fail("opendkim did not listen: " + bench::read_file(od + "/opendkim.err"));
    return pid;
}

// One sendguard-milter as installed (as bench_milter's), in DIR/NAME; with
// a key, it signs From: customer-a.example with it.
pid_t start_sendguard(const std::string& bin, const std::string& dir, const std::string& name,
                      const bench::Users& u, uint16_t dns_port, const std::optional<std::pair<std::string, Key>>& key) {
    const std::string d = dir + "/" + name;
    bench::make_dir(d, 0755);
    bench::make_dir(d + "/run", 0755, u.sendguard_uid, u.sendguard_gid);
    bench::make_dir(d + "/lib", 0750, u.sendguard_uid, u.sendguard_gid);
    bench::write_file(d + "/verp.keys", "0123456789abcdef0123456789abcdef\n", 0640);
    bench::write_file(d + "/networks", lines({"# smtp-source connects from loopback", "127.0.0.0/8 " + std::string(kDomain)}));
    std::string signing;
    if (key) {
        const std::string pem = d + "/dkim.pem";
        bench::write_file(pem, bench::read_file(key->second.pem), 0640);
        bench::write_file(d + "/dkim.keys", lines({std::string(kDomain) + " " + key->first + " " + pem}));
        bench::write_file(d + "/dkim.signing", lines({std::string(kDomain) + " " + kDomain + ":" + key->first}));
        if (::chown(pem.c_str(), 0, u.sendguard_gid) != 0) bench::fail("chown " + pem);
        signing = lines({"dkim_key_table = " + d + "/dkim.keys", "dkim_signing_table = " + d + "/dkim.signing"});
    }
    if (::chown((d + "/verp.keys").c_str(), 0, u.sendguard_gid) != 0) bench::fail("chown verp.keys");
    bench::write_file(d + "/sendguard.conf",
                      lines({"config_directory = " + d, "state_directory = " + d + "/lib", "run_directory = " + d + "/run",
                             "bounce_domains = bounces.*", "milter_reply_check = no",
                             "milter_network_tables = " + d + "/networks",
                             "dns_servers = 127.0.0.1:" + std::to_string(dns_port)}) +
                          signing);
    const pid_t pid = bench::spawn({bin + "/sendguard-milter", "-f", "-c", d + "/sendguard.conf"}, d + "/milter.err");
    if (!bench::wait_for_file(d + "/run/milter.sock", 10))
        bench::fail("sendguard-milter (" + name + ") did not listen: " + bench::read_file(d + "/milter.err"));
    return pid;
}

// Whether this build's sendguard-milter knows dkim_key_table: asked with
// that parameter and an invalid milter_timeout, it refuses to start either
// way, naming the parameter only when it does not know it.
bool knows_dkim(const std::string& bin, const std::string& dir) {
    bench::write_file(dir + "/empty.conf", "");
    bench::run({bin + "/sendguard-milter", "-c", dir + "/empty.conf", "-o", "dkim_key_table=" + dir + "/none", "-o",
                "milter_timeout=0"},
               dir + "/params.out");
    return bench::read_file(dir + "/params.out").find("unknown parameter: dkim_key_table") == std::string::npos;
}

// "a=rsa-sha256, s=s1" of the message's DKIM-Signature, "" none.
std::string signature_of(const std::string& message) {
    const size_t h = message.find("DKIM-Signature:");
    if (h == std::string::npos) return "";
    const std::string sig = message.substr(h, message.find("\n", message.find("b=", h)) - h);
    const auto tag = [&](const char* t) {
        for (size_t p = sig.find(t); p != std::string::npos; p = sig.find(t, p + 1))
            if (p > 0 && (sig[p - 1] == ' ' || sig[p - 1] == ';' || sig[p - 1] == '\t'))
                return sig.substr(p, sig.find(';', p) - p);
        return std::string();
    };
    return tag("a=") + ", " + tag("s=");
}

int bench_dkim(const std::string& bin, const std::string& dir, const bench::Options& opt) {
    const bench::Users u = bench::users();
    std::vector<pid_t> processes;
    std::string od;  // opendkim's directory
    int status = 1;
    try {
        const bool dkim = knows_dkim(bin, dir);
        bench::make_dir(dir + "/keys", 0700);
        const Key rsa = make_key(dir + "/keys", "rsa", false);
        const Key ed = make_key(dir + "/keys", "ed25519", true);
        const uint16_t dns_port = bench::free_port("127.0.0.1");
        processes.push_back(start_dns(dir, dns_port,
                                      {{"s1._domainkey." + std::string(kDomain), rsa.txt},
                                       {"e1._domainkey." + std::string(kDomain), ed.txt}}));
        od = bench::make_run_dir("opendkim", "/run");
        const pid_t opendkim = start_opendkim(od, rsa);
        processes.push_back(opendkim);
        const pid_t plain = start_sendguard(bin, dir, "sendguard", u, dns_port, std::nullopt);
        processes.push_back(plain);
        std::vector<bench::Variant> variants = {
            {"no milter", "", -1},
            {"opendkim", "unix:" + od + "/milter.sock", opendkim},
            {"sendguard-milter", "unix:" + dir + "/sendguard/run/milter.sock", plain},
        };
        if (dkim) {
            const pid_t r = start_sendguard(bin, dir, "sendguard-rsa", u, dns_port, std::make_pair("s1", rsa));
            processes.push_back(r);
            const pid_t e = start_sendguard(bin, dir, "sendguard-ed25519", u, dns_port, std::make_pair("e1", ed));
            processes.push_back(e);
            variants.push_back({"sendguard-milter + RSA-2048", "unix:" + dir + "/sendguard-rsa/run/milter.sock", r});
            variants.push_back({"sendguard-milter + Ed25519", "unix:" + dir + "/sendguard-ed25519/run/milter.sock", e});
        } else {
            std::printf(
                "dkim: sendguard-milter + RSA-2048, + Ed25519: skipped: this build's sendguard-milter has no "
                "dkim_key_table (DKIM signing is not in it)\n");
        }
        bench::Relay relay(dir, u, variants, opt);
        bool signed_all = true;
        for (size_t v = 0; v < variants.size(); ++v) {
            if (v == 0 || v == 2) continue;
            const std::string sig = signature_of(relay.sample(v));
            std::printf("dkim: %s: sample message %s\n", variants[v].label.c_str(),
                        sig.empty() ? "NOT SIGNED" : ("signed: " + sig).c_str());
            signed_all = signed_all && !sig.empty();
        }
        std::fflush(stdout);
        const bench::Outcome o = relay.run();
        for (size_t v = 1; v < variants.size(); ++v) {
            bench::summary(variants, o, 0, v, v == 4 ? 0.85 : 0, opt);
            bench::cpu_summary(variants, o, v, opt);
        }
        if (dkim) {
            bench::summary(variants, o, 1, 3, 3.0, opt);
            bench::summary(variants, o, 2, 3, 0, opt);
            bench::summary(variants, o, 2, 4, 0, opt);
        }
        status = o.complete && signed_all ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "dkim: %s\n", e.what());
    }
    for (auto it = processes.rbegin(); it != processes.rend(); ++it) bench::stop(*it);
    if (!od.empty()) {
        bench::write_file(dir + "/opendkim.err", bench::read_file(od + "/opendkim.err"));
        std::filesystem::remove_all(od);
    }
    return status;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fputs("usage: bench_dkim BIN_DIR [messages] [rounds] [recipients]\n", stderr);
        return 2;
    }
    bench::Options opt;
    opt.tag = "dkim";
    opt.messages = argc > 2 ? std::atoi(argv[2]) : 2000;
    opt.rounds = argc > 3 ? std::atoi(argv[3]) : 5;
    opt.recipients = argc > 4 ? std::atoi(argv[4]) : 2;
    if (opt.messages < 1 || opt.rounds < 1 || opt.recipients < 1) {
        std::fputs("bench_dkim: messages, rounds and recipients must be at least 1\n", stderr);
        return 2;
    }
    if (!bench::can_run("dkim")) return 77;
    for (const char* p : {kOpendkim, kDnsmasq, kOpenssl})
        if (::access(p, X_OK) != 0) {
            std::fprintf(stderr, "dkim: skipped: needs %s (packages opendkim, dnsmasq-base, openssl)\n", p);
            return 77;
        }
    int status = 1;
    std::string dir;
    try {
        dir = bench::make_run_dir("dkim");
        status = bench_dkim(argv[1], dir, opt);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "dkim: %s\n", e.what());
    }
    if (!dir.empty()) bench::finish_run_dir("dkim", dir, status);
    return status;
}
