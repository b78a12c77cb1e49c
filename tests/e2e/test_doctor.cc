// test_doctor.cc - `sendguard doctor` against real name servers
//
// Label dnsmasq: dnsmasq in a network namespace (dns_harness.h) on
// 127.0.0.1:53 answers only the zone below; the real sendguard runs inside
// the namespace (ip netns exec) with dns_servers = 127.0.0.1, so nothing
// reaches a real server. Without a namespace: a name server on the host's
// loopback that never answers (dns_stub.h).
//
// The zone:
//   relay.sendguard.test      A 192.0.2.10 (and its PTR): the relay
//   host66.provider.example   A 192.0.2.66 (and its PTR): an address of the
//                             relay whose PTR is not the HELO name
//   good.example              MX mx.good.example; SPF includes the relay
//   bounces.good.example      MX relay.sendguard.test; SPF includes the relay
//   broken.example            MX mx.broken.example; two SPF records
//   bounces.broken.example    MX mx.broken.example (not the relay)
//   _dmarc.good.example       p=reject; _dmarc.broken.example p=quarantine
//   s1._domainkey.good.example     the public half of an RSA-2048 key made
//                                  by openssl genpkey for the test
//   (s1._domainkey.broken.example  nothing: its Ed25519 key is unpublished)
#include <boost/property_tree/json_parser.hpp>
#include <boost/property_tree/ptree.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/dns_harness.h"
#include "tests/support/dns_stub.h"
#include "tests/support/netns.h"
#include "tests/support/paths.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace {

namespace pt = boost::property_tree;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// A private key made by openssl genpkey, mode 0600, and the p= of its
// DKIM key record (RFC 6376 3.6.1 for RSA, RFC 8463 4 for Ed25519).
std::string make_key(const harness::TempDir& dir, const std::string& name, bool rsa) {
    const std::string pem = dir.sub(name + ".pem");
    std::vector<std::string> gen{"openssl", "genpkey", "-out", pem};
    if (rsa) gen.insert(gen.end(), {"-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"});
    else gen.insert(gen.end(), {"-algorithm", "ed25519"});
    const harness::RunResult g = harness::run(gen);
    BOOST_REQUIRE_MESSAGE(g.ok(), g.describe());
    const std::string der = rsa ? "" : " | tail -c 32";
    const harness::RunResult p =
        harness::run({"sh", "-c", "openssl pkey -in " + pem + " -pubout -outform DER" + der + " | base64 -w0"});
    BOOST_REQUIRE_MESSAGE(p.ok() && !p.out.empty(), p.describe());
    return p.out;
}

harness::DnsRecords zone(const std::string& good_key) {
    harness::DnsRecords r;
    r.a("relay.sendguard.test", "192.0.2.10")
        .a("host66.provider.example", "192.0.2.66")
        .mx("good.example", "mx.good.example", 10)
        .a("mx.good.example", "192.0.2.25")
        .txt("good.example", "v=spf1 include:spf.relay.sendguard.test -all")
        .mx("bounces.good.example", "relay.sendguard.test", 10)
        .txt("bounces.good.example", "v=spf1 include:spf.relay.sendguard.test -all")
        .txt("spf.relay.sendguard.test", "v=spf1 ip4:192.0.2.10 ip4:192.0.2.66 -all")
        .mx("broken.example", "mx.broken.example", 10)
        .a("mx.broken.example", "198.51.100.25")
        .txt("broken.example", "v=spf1 mx -all")
        .txt("broken.example", "v=spf1 include:spf.relay.sendguard.test -all")
        .mx("bounces.broken.example", "mx.broken.example", 10)
        .txt("s1._domainkey.good.example", "v=DKIM1; k=rsa; p=" + good_key)
        .txt("_dmarc.good.example", "v=DMARC1; p=reject")
        .txt("_dmarc.broken.example", "v=DMARC1; p=quarantine")
        .ttl(60);
    return r;
}

// A configuration directory with a VERP key (bounce_domains: the default
// bounces.*) and the relay's identity.
struct Conf {
    harness::TempDir dir{"sg-e2e-doctor-"};
    std::string path = dir.sub("sendguard.conf");

    // keys: the directory holding good.pem (RSA) and broken.pem (Ed25519).
    Conf(const std::string& addresses, const std::string& dns, const harness::TempDir& keys) {
        dir.mkdir("lib", 0755);
        harness::write_file(dir.sub("verp.keys"), "0123456789abcdef0123456789abcdef\n", 0600);
        harness::write_file(dir.sub("dkim-keys"), "good.example s1 " + keys.sub("good.pem") + "\nbroken.example s1 " +
                                                      keys.sub("broken.pem") + "\n");
        harness::write_file(dir.sub("dkim-signing"), "good.example good.example\nbroken.example broken.example\n");
        harness::write_file(path,
                            "config_directory = " + dir.path() + "\nstate_directory = " + dir.sub("lib") +
                                "\nrelay_public_addresses = " + addresses +
                                "\nrelay_helo_name = relay.sendguard.test\n"
                                "relay_spf_include = spf.relay.sendguard.test\n"
                                "dkim_key_table = " + dir.sub("dkim-keys") + "\ndkim_signing_table = " +
                                dir.sub("dkim-signing") + "\n" + dns);
    }
    std::vector<std::string> argv(std::vector<std::string> args) const {
        std::vector<std::string> a{harness::sendguard_bin("sendguard"), "-c", path, "doctor"};
        a.insert(a.end(), args.begin(), args.end());
        return a;
    }
};

struct Row {
    std::string status, found, fix;
};

// The JSON report's checks by "check subject".
std::map<std::string, Row> checks_of(const std::string& json, pt::ptree& root) {
    std::istringstream in(json);
    pt::read_json(in, root);
    std::map<std::string, Row> out;
    for (const auto& [_, c] : root.get_child("checks"))
        out[c.get<std::string>("check") + " " + c.get<std::string>("subject")] = {
            c.get<std::string>("status"), c.get<std::string>("found"), c.get<std::string>("fix")};
    return out;
}

std::string dump(const std::map<std::string, Row>& m) {
    std::string s;
    for (const auto& [k, r] : m) s += k + ": " + r.status + " " + r.found + " -> " + r.fix + "\n";
    return s;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(e2e_doctor)

BOOST_AUTO_TEST_CASE(a_good_and_a_broken_domain, *boost::unit_test::label("dnsmasq")) {
    harness::skip_if(harness::DnsServer::unavailable());
    auto ns = harness::make_netns_or_skip();
    harness::TempDir keys("sg-e2e-doctor-keys-");
    const std::string good_key = make_key(keys, "good", true);
    (void)make_key(keys, "broken", false);
    harness::DnsServer dns(*ns);
    dns.records() = zone(good_key);
    dns.start();

    {
        const Conf good("192.0.2.10", "dns_servers = 127.0.0.1\n", keys);
        const harness::RunResult r = harness::run(ns->wrap(good.argv({"--json", "good.example"})));
        BOOST_TEST(r.status.code == 0, r.describe() << "\n" << r.out << dns.log());
        pt::ptree root;
        const auto checks = checks_of(r.out, root);
        BOOST_TEST(root.get<std::string>("domain") == "good.example");
        BOOST_TEST(root.get<std::string>("bounce_domain") == "bounces.good.example");
        BOOST_TEST(root.get<int>("exit_status") == 0);
        for (const char* want : {"ptr 192.0.2.10", "spf good.example", "spf bounces.good.example",
                                 "mx bounces.good.example", "dkim s1._domainkey.good.example", "dmarc good.example",
                                 "reply good.example"}) {
            BOOST_TEST_CONTEXT(want) {
                BOOST_REQUIRE_MESSAGE(checks.count(want) == 1, dump(checks));
                BOOST_TEST(checks.at(want).status == "pass", dump(checks));
                BOOST_TEST(checks.at(want).fix == "null", dump(checks));
            }
        }
        BOOST_TEST(checks.at("ptr 192.0.2.10").found ==
                   "PTR relay.sendguard.test, resolves back (FCrDNS), is relay_helo_name");
        BOOST_TEST(checks.at("dmarc good.example").found ==
                   "p=reject at _dmarc.good.example; DKIM aligns (adkim=r, d=good.example); SPF aligns (aspf=r, "
                   "envelope bounces.good.example)");
        BOOST_TEST(checks.size() == 7u, dump(checks));
    }
    {
        const Conf broken("192.0.2.10, 192.0.2.66", "dns_servers = 127.0.0.1\n", keys);
        const harness::RunResult r = harness::run(ns->wrap(broken.argv({"broken.example"})));
        BOOST_TEST(r.status.code == 1, r.describe() << "\n" << r.out);
        BOOST_TEST_MESSAGE(r.out);
        const std::string& out = r.out;
        const std::vector<std::string> want = {
            "PASS  ptr 192.0.2.10: PTR relay.sendguard.test, resolves back (FCrDNS), is relay_helo_name",
            "FAIL  ptr 192.0.2.66: PTR host66.provider.example (FCrDNS) is not relay_helo_name relay.sendguard.test, "
            "which does not resolve to 192.0.2.66  ->  set the PTR of 192.0.2.66 to relay.sendguard.test (your "
            "hosting provider's reverse DNS panel), and publish relay.sendguard.test. A 192.0.2.66",
            "FAIL  spf broken.example: 2 SPF records, a permerror (RFC 7208 4.5): \"v=spf1 "
            "include:spf.relay.sendguard.test -all\" and \"v=spf1 mx -all\"  ->  publish one: broken.example. TXT \"v=spf1 "
            "include:spf.relay.sendguard.test -all\" (merge the others into it)",
            "FAIL  spf bounces.broken.example: no SPF record (v=spf1)  ->  "
            "bounces.broken.example. TXT \"v=spf1 include:spf.relay.sendguard.test -all\"",
            "FAIL  mx bounces.broken.example: MX mx.broken.example (198.51.100.25) is not this relay: bounces go "
            "elsewhere  ->  bounces.broken.example. MX 10 relay.sendguard.test.",
            "FAIL  dkim s1._domainkey.broken.example: no DKIM key record (nxdomain); the key file is " +
                keys.sub("broken.pem") + " (not signing with it)  ->  s1._domainkey.broken.example. TXT \"v=DKIM1; "
                "k=ed25519; p=",
            "FAIL  dmarc broken.example: p=quarantine at _dmarc.broken.example; DKIM does not align (adkim=r: no "
            "published key signs); SPF would align (aspf=r, envelope bounces.broken.example) but does not pass  ->  "
            "DMARC for broken.example will fail: publish \"v=spf1 include:spf.relay.sendguard.test -all\" at "
            "bounces.broken.example, or publish DKIM selector s1 for broken.example",
            "PASS  reply broken.example: domain broken.example receives mail (MX)",
        };
        for (const std::string& line : want) {
            const bool whole = line.back() != '=';  // else the start of a line
            BOOST_TEST(out.find(whole ? line + "\n" : line) != std::string::npos, line << "\nin:\n" << out);
        }
    }
}

// A name server that never answers: every check is TEMP, exit 75, and each
// check took at most dns_lookup_timeout (plus a margin).
BOOST_AUTO_TEST_CASE(a_silent_name_server_is_temp_and_75) {
    harness::DnsStub silent(harness::DnsStub::Mode::Silent);
    harness::TempDir keys("sg-e2e-doctor-keys-");
    (void)make_key(keys, "good", true);
    (void)make_key(keys, "broken", false);
    const Conf c("192.0.2.10", "dns_servers = 127.0.0.1:" + std::to_string(silent.port()) + "\ndns_lookup_timeout = 1s\n",
                 keys);
    const auto start = Clock::now();
    const harness::RunResult r = harness::run(c.argv({"--json", "good.example"}));
    const auto took = Clock::now() - start;
    BOOST_TEST(r.status.code == 75, r.describe() << "\n" << r.out);
    pt::ptree root;
    const auto checks = checks_of(r.out, root);
    BOOST_TEST(checks.size() >= 3u, dump(checks));
    for (const auto& [name, row] : checks) BOOST_TEST(row.status == "temp", name << ": " << row.status << " " << row.found);
    BOOST_TEST(took < std::chrono::seconds(checks.size()) + 2s,
               std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms for " << checks.size()
                                                                                   << " checks");
}

// Usage errors exit 2 before any lookup; a relay address that is none is a
// configuration error (3) naming the parameter's file and line.
BOOST_AUTO_TEST_CASE(usage_and_configuration_errors) {
    harness::TempDir keys("sg-e2e-doctor-keys-");
    (void)make_key(keys, "good", true);
    (void)make_key(keys, "broken", false);
    const Conf c("192.0.2.10", "dns_servers = 127.0.0.1:9\n", keys);
    const std::pair<std::vector<std::string>, int> cases[] = {
        {{}, 2}, {{"a.example", "b.example"}, 2}, {{"[192.0.2.1]"}, 2}, {{"--yaml", "a.example"}, 2}};
    for (const auto& [args, want] : cases) {
        const harness::RunResult r = harness::run(c.argv(args));
        BOOST_TEST(r.status.code == want, r.describe());
        BOOST_TEST(r.out.empty(), r.out);
    }
    std::vector<std::string> bad = c.argv({"good.example"});
    bad.insert(bad.begin() + 3, {"-o", "relay_public_addresses=relay.example"});
    const harness::RunResult r = harness::run(bad);
    BOOST_TEST(r.status.code == 3, r.describe());
    BOOST_TEST(r.err.find("invalid relay_public_addresses: relay.example (not an IPv4 or IPv6 address)") !=
                   std::string::npos,
               r.err);
}

BOOST_AUTO_TEST_SUITE_END()
