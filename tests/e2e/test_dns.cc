// test_dns.cc - the real resolver (common/dns) against real servers
//
// Without a namespace: misbehaving servers on the host's loopback
// (dns_stub.h): one that never answers, one that answers SERVFAIL. The
// check must come back within its budget (plus a margin for scheduling)
// and say why.
//
// Label dnsmasq: dnsmasq in a network namespace (dns_harness.h) serving the
// cases of "can this domain receive mail": MX, only A, only AAAA, null MX,
// NXDOMAIN, NODATA; and the cache keeping an answer for its TTL. The
// resolver runs on a thread inside the namespace (NetNs::run_in), which
// still reads the host's /etc/resolv.conf, so the server is named
// explicitly.
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/address/address.h"
#include "common/dns/lookup.h"
#include "common/dns/reachability.h"
#include "common/dns/resolver.h"
#include "tests/support/dns_harness.h"
#include "tests/support/dns_stub.h"
#include "tests/support/netns.h"

namespace {

namespace h = harness;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// What the kernel and a loaded 2-core machine may add to a budget.
constexpr auto kMargin = 700ms;

address::Domain domain(const char* text) {
    auto d = address::normalise_domain(text);
    BOOST_REQUIRE(d.ok());
    return *d;
}

std::string outcome(const dns::Reachability& r) {
    std::string s(dns::to_string(r.outcome));
    if (r.outcome == dns::Reach::Reachable) s += "/" + std::string(dns::to_string(r.via));
    if (r.outcome == dns::Reach::TempFail) s += "/" + std::string(dns::to_string(r.failure));
    return s;
}

dns::ResolverOptions servers(std::vector<uint16_t> ports) {
    dns::ResolverOptions o;
    for (uint16_t p : ports) o.servers.push_back({"127.0.0.1", p});
    return o;
}

struct Timed {
    dns::Reachability result;
    Clock::duration took;
};

Timed timed_check(const dns::Querier& q, const char* name, std::chrono::seconds budget) {
    const auto t0 = Clock::now();
    dns::Reachability r = dns::mail_reachability(q, domain(name), budget);
    return {r, Clock::now() - t0};
}

long long ms(Clock::duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); }

dns::CacheLimits cache_limits() {
    dns::CacheLimits l;
    l.max_entries = 1000;
    l.min_ttl = 0s;
    l.max_ttl = 3600s;
    l.failure_ttl = 5s;
    return l;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(dns_bounded)

// A server that never answers: the check gives up within its budget, for
// one server and for glibc's most (three), where its default schedule
// would wait 3 x 5 s x 2 rounds.
BOOST_AUTO_TEST_CASE(silent_servers_time_out_within_the_budget) {
    struct Row {
        int servers;
        std::chrono::seconds budget;
    };
    for (const Row& row : {Row{1, 1s}, Row{1, 3s}, Row{3, 2s}, Row{3, 5s}}) {
        BOOST_TEST_CONTEXT(row.servers << " silent servers, budget " << row.budget.count() << "s") {
            std::vector<std::unique_ptr<h::DnsStub>> dead;
            std::vector<uint16_t> ports;
            for (int i = 0; i < row.servers; ++i) {
                dead.push_back(std::make_unique<h::DnsStub>(h::DnsStub::Mode::Silent));
                ports.push_back(dead.back()->port());
            }
            const dns::Resolver resolver(servers(ports));
            const Timed t = timed_check(resolver, "example.com", row.budget);
            BOOST_TEST(outcome(t.result) == "tempfail/timeout");
            BOOST_TEST(ms(t.took) <= ms(row.budget + kMargin), "took " << ms(t.took) << " ms");
            BOOST_TEST_MESSAGE("silent x" << row.servers << ", budget " << row.budget.count() << "s: took "
                                          << ms(t.took) << " ms, " << dead[0]->queries() << " queries to the first");
            BOOST_TEST(dead[0]->queries() >= 1);
        }
    }
}

// SERVFAIL is told from a time-out, and comes back at once: the resolver
// does not wait out the budget on the other servers.
BOOST_AUTO_TEST_CASE(servfail_is_a_prompt_temporary_failure) {
    h::DnsStub failing(h::DnsStub::Mode::Rcode, 2);
    h::DnsStub dead(h::DnsStub::Mode::Silent);
    const dns::Resolver resolver(servers({failing.port(), dead.port()}));
    const Timed t = timed_check(resolver, "example.com", 5s);
    BOOST_TEST(outcome(t.result) == "tempfail/servfail");
    BOOST_TEST(ms(t.took) < 1000, "took " << ms(t.took) << " ms");
    BOOST_TEST(dns::describe(t.result, domain("example.com")) ==
               "cannot check domain example.com: DNS server failure (SERVFAIL)");

    h::DnsStub refusing(h::DnsStub::Mode::Rcode, 5);
    const dns::Resolver r2(servers({refusing.port()}));
    BOOST_TEST(outcome(timed_check(r2, "example.com", 2s).result) == "tempfail/error");
}

// A server that does not know EDNS0 answers FORMERR: it is asked once more
// without the OPT record (its second FORMERR is then an error).
BOOST_AUTO_TEST_CASE(formerr_is_asked_again_without_edns0) {
    h::DnsStub old_server(h::DnsStub::Mode::Rcode, 1);
    const dns::Resolver resolver(servers({old_server.port()}));
    const dns::Answer a = resolver.query("example.com", dns::Type::TXT, 2s);
    BOOST_TEST(dns::to_string(a.status) == "error");
    BOOST_TEST(old_server.queries() == 2);
}

// Nothing listens: no time-out to wait for either.
BOOST_AUTO_TEST_CASE(no_server_listening_fails_fast) {
    uint16_t port;
    { port = h::DnsStub(h::DnsStub::Mode::Silent).port(); }  // closed again
    const dns::Resolver resolver(servers({port}));
    const Timed t = timed_check(resolver, "example.com", 3s);
    BOOST_TEST(dns::to_string(t.result.outcome) == "tempfail");
    BOOST_TEST(ms(t.took) <= ms(3s + kMargin), "took " << ms(t.took) << " ms");
}

// A failure is cached briefly: the second check in a row does not wait.
BOOST_AUTO_TEST_CASE(cached_failure_does_not_wait_again) {
    h::DnsStub dead(h::DnsStub::Mode::Silent);
    const dns::Lookup lookup(std::make_unique<dns::Resolver>(servers({dead.port()})), cache_limits(), 1s);
    (void)lookup.mail_reachability(domain("example.com"));
    const auto t0 = Clock::now();
    BOOST_TEST(outcome(lookup.mail_reachability(domain("example.com"))) == "tempfail/timeout");
    BOOST_TEST(ms(Clock::now() - t0) < 100);
}

BOOST_AUTO_TEST_SUITE_END()

// Last: a skip (exit 77) ends the process.
BOOST_AUTO_TEST_SUITE(dns_dnsmasq)

BOOST_AUTO_TEST_CASE(reachability_against_a_real_server, *boost::unit_test::label("dnsmasq")) {
    h::skip_if(h::DnsServer::unavailable());
    auto ns = h::make_netns_or_skip();
    h::DnsServer server(*ns);
    server.records()
        .ttl(300)
        .mx("mx.test", "mail.mx.test", 10)
        .a("mail.mx.test", "127.0.0.2")
        .a("aonly.test", "127.0.0.3")
        .aaaa("aaaaonly.test", "fd00::4")
        .null_mx("null.test")
        .txt("nodata.test", "v=spf1 -all")
        .cname("alias.test", "aonly.test")  // dnsmasq: the target needs an address
        .txt("s1._domainkey.mx.test", "v=DKIM1; k=rsa; p=" + std::string(682, 'A'))
        .txt("twospf.test", "v=spf1 -all")
        .txt("twospf.test", "v=spf1 +all")
        .ptr("7.0.0.127.in-addr.arpa", "relay.mx.test");
    server.start();
    const dns::Resolver resolver(servers({53}));

    struct Row {
        const char* domain;
        const char* want;
        const char* want_text;
    };
    const Row rows[] = {
        {"mx.test", "reachable/mx", "domain mx.test receives mail (MX)"},
        {"aonly.test", "reachable/address", "domain aonly.test receives mail (no MX, an address record)"},
        {"aaaaonly.test", "reachable/address", "domain aaaaonly.test receives mail (no MX, an address record)"},
        {"null.test", "null_mx", "domain null.test publishes a null MX: it accepts no mail (RFC 7505)"},
        {"nosuch.test", "nxdomain", "domain nosuch.test does not exist (NXDOMAIN)"},
        {"nodata.test", "no_mail_host", "domain nodata.test has no MX and no address record"},
        {"alias.test", "reachable/address", "domain alias.test receives mail (no MX, an address record)"},
    };
    for (const Row& r : rows) {
        BOOST_TEST_CONTEXT(r.domain) {
            const dns::Reachability got =
                ns->run_in([&] { return dns::mail_reachability(resolver, domain(r.domain), 5s); });
            BOOST_TEST(outcome(got) == r.want, server.log());
            BOOST_TEST(dns::describe(got, domain(r.domain)) == r.want_text);
        }
    }

    // The answers themselves: records, NODATA, and the TTL.
    const dns::Answer mx = ns->run_in([&] { return resolver.query("mx.test", dns::Type::MX, 5s); });
    BOOST_TEST(dns::to_string(mx.status) == "ok");
    BOOST_REQUIRE(mx.records.size() == 1u);
    BOOST_TEST(mx.records[0].preference == 10);
    BOOST_TEST(mx.records[0].value == "mail.mx.test");
    BOOST_TEST(mx.ttl.count() == 300);
    const dns::Answer nodata = ns->run_in([&] { return resolver.query("nodata.test", dns::Type::MX, 5s); });
    BOOST_TEST(dns::to_string(nodata.status) == "nodata");
    const dns::Answer nx = ns->run_in([&] { return resolver.query("nosuch.test", dns::Type::A, 5s); });
    BOOST_TEST(dns::to_string(nx.status) == "nxdomain");
    const dns::Answer aaaa = ns->run_in([&] { return resolver.query("aaaaonly.test", dns::Type::AAAA, 5s); });
    BOOST_REQUIRE(aaaa.records.size() == 1u);
    BOOST_TEST(aaaa.records[0].value == "fd00::4");

    // TXT and PTR, as SPF, DKIM and FCrDNS checks ask them. The long record
    // (a 2048-bit DKIM key is about 400 octets; this one is 700) only fits
    // a UDP answer with EDNS0: without it the answer is truncated, an error.
    const std::string long_txt = "v=DKIM1; k=rsa; p=" + std::string(682, 'A');
    const dns::Answer txt = ns->run_in([&] { return resolver.query("s1._domainkey.mx.test", dns::Type::TXT, 5s); });
    BOOST_TEST(dns::to_string(txt.status) == "ok", server.log());
    BOOST_REQUIRE(txt.records.size() == 1u);
    BOOST_TEST(txt.records[0].value == long_txt);
    const dns::Answer two = ns->run_in([&] { return resolver.query("twospf.test", dns::Type::TXT, 5s); });
    BOOST_TEST(two.records.size() == 2u);
    const dns::Answer ptr = ns->run_in([&] { return resolver.query("7.0.0.127.in-addr.arpa", dns::Type::PTR, 5s); });
    BOOST_REQUIRE(ptr.records.size() == 1u);
    BOOST_TEST(ptr.records[0].value == "relay.mx.test");

    // Many threads at once, as libmilter runs its callbacks.
    std::atomic<int> wrong{0};
    ns->run_in([&] {
        std::vector<std::thread> threads;
        for (int t = 0; t < 8; ++t)
            threads.emplace_back([&, t] {
                for (int i = 0; i < 20; ++i) {
                    const Row& r = rows[(t + i) % std::size(rows)];
                    if (outcome(dns::mail_reachability(resolver, domain(r.domain), 5s)) != r.want) ++wrong;
                }
            });
        for (auto& th : threads) th.join();
    });
    BOOST_TEST(wrong.load() == 0);
}

// The cache keeps an answer as long as its TTL says, and no longer: the
// records change on the server, the old answer holds until it expires.
BOOST_AUTO_TEST_CASE(cache_follows_the_ttl, *boost::unit_test::label("dnsmasq")) {
    h::skip_if(h::DnsServer::unavailable());
    auto ns = h::make_netns_or_skip();
    h::DnsServer server(*ns);
    server.records().ttl(120).mx("moving.test", "mail.moving.test", 10);
    server.start();
    Clock::time_point now = Clock::now();
    const dns::Lookup lookup(std::make_unique<dns::Resolver>(servers({53})), cache_limits(), 5s, [&] { return now; });
    const auto check = [&] { return outcome(ns->run_in([&] { return lookup.mail_reachability(domain("moving.test")); })); };

    BOOST_TEST(check() == "reachable/mx");
    server.records().clear();
    server.records().ttl(120).null_mx("moving.test");
    server.restart();
    now += 119s;
    BOOST_TEST(check() == "reachable/mx");  // still the cached answer
    now += 1s;
    BOOST_TEST(check() == "null_mx");       // expired: asked again
}

BOOST_AUTO_TEST_SUITE_END()
