// test_policyd_mx.cc - MX roll-up end to end: the MX cache (policyd/
// mx_cache.h) on a real event loop, its workers asking dnsmasq through the
// real resolver (common/dns), the answers rolled up by the built-in provider
// table (policyd/providers.h).
//
// Label dnsmasq: dnsmasq in a network namespace (dns_harness.h). The
// cache's worker threads are outside the namespace, so the Querier here
// runs each query on a thread inside it (NetNs::run_in) against the
// server named explicitly, as test_dns.cc does.
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/dns/resolver.h"
#include "common/net/event_loop.h"
#include "policyd/mx_cache.h"
#include "policyd/providers.h"
#include "tests/support/dns_harness.h"
#include "tests/support/dns_stub.h"
#include "tests/support/netns.h"
#include "tests/support/require.h"

namespace {

namespace h = harness;
using namespace std::chrono_literals;

// A Resolver whose queries run inside the namespace.
class NsQuerier final : public dns::Querier {
public:
    NsQuerier(const h::NetNs& ns, dns::ResolverOptions options)
        : ns_(ns), resolver_(std::move(options)) {}
    dns::Answer query(std::string_view name, dns::Type type,
                      std::chrono::seconds budget) const override {
        return ns_.run_in([&] { return resolver_.query(name, type, budget); });
    }

private:
    const h::NetNs& ns_;
    const dns::Resolver resolver_;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(policyd_mx_failures)

// A dead name server (on the host's loopback, no namespace needed): the
// loop is never stalled by the lookup under way, the failure lands within
// the budget and is remembered for failure_ttl as the implicit MX, so the
// domain is its own destination meanwhile.
BOOST_AUTO_TEST_CASE(dead_server_never_stalls_the_loop) {
    h::DnsStub dead(h::DnsStub::Mode::Silent);
    dns::ResolverOptions options;
    options.servers.push_back({"127.0.0.1", dead.port()});
    auto resolver = std::make_shared<dns::Resolver>(options);
    net::EventLoop loop;
    policyd::MxCacheOptions o;
    o.limits = {100, 30s, 3600s, 5s};
    o.budget = 1s;
    policyd::MxCache cache(loop, resolver, o);
    int landed = 0;
    cache.set_on_result([&](const std::string&) { ++landed; });

    const auto t0 = std::chrono::steady_clock::now();
    BOOST_TEST(!cache.hosts("dead.test").has_value());
    BOOST_TEST(!cache.hosts("dead.test").has_value());
    const auto asked = std::chrono::steady_clock::now() - t0;
    BOOST_TEST(asked < 100ms);  // far below the 1s the lookup takes
    const auto give_up = t0 + 10s;
    while (landed == 0 && std::chrono::steady_clock::now() < give_up) loop.run_once(50ms);
    const auto took = std::chrono::steady_clock::now() - t0;
    BOOST_REQUIRE_EQUAL(landed, 1);
    BOOST_TEST(took < 1s + 1500ms);  // the budget and a margin for a loaded machine
    BOOST_TEST(cache.counters().failures == 1u);
    BOOST_TEST(cache.counters().started == 1u);
    auto hosts = cache.hosts("dead.test");
    BOOST_REQUIRE(hosts.has_value());
    BOOST_TEST(*hosts == std::vector<std::string>{"dead.test"}, boost::test_tools::per_element());
    const auto d = policyd::ProviderTable::builtin().rollup("dead.test", *hosts);
    BOOST_TEST(d.provider == "default");
    BOOST_TEST(d.key == "dead.test");
    BOOST_TEST(dead.queries() >= 1);
}

BOOST_AUTO_TEST_SUITE_END()

// Last: a skip (exit 77) ends the process.
BOOST_AUTO_TEST_SUITE(policyd_mx_dnsmasq)

BOOST_AUTO_TEST_CASE(rollup_through_a_real_server, *boost::unit_test::label("dnsmasq")) {
    h::skip_if(h::DnsServer::unavailable());
    auto ns = h::make_netns_or_skip();
    h::DnsServer server(*ns);
    server.records()
        .ttl(300)
        .mx("workspace.test", "aspmx.l.google.com", 1)
        .mx("workspace.test", "alt1.aspmx.l.google.com", 5)
        .mx("workspace.test", "ALT2.aspmx.l.google.com", 5)
        .mx("webde.test", "mx-ha03.web.de", 100)
        .mx("webde.test", "mx00.emig.gmx.net", 10)
        .mx("m365.test", "m365-test.mail.protection.outlook.com", 0)
        .mx("mixed.test", "aspmx.l.google.com", 10)
        .mx("mixed.test", "mx00.emig.gmx.net", 20)
        .mx("partly.test", "aspmx.l.google.com", 10)
        .mx("partly.test", "backup.partly.test", 50)
        .mx("own.test", "mail.own.test", 10)
        .a("mail.own.test", "127.0.0.2")
        .null_mx("null.test")
        .txt("nodata.test", "v=spf1 -all");
    server.start();

    dns::ResolverOptions options;
    options.servers.push_back({"127.0.0.1", 53});
    auto querier = std::make_shared<NsQuerier>(*ns, options);
    net::EventLoop loop;
    policyd::MxCacheOptions o;
    o.limits = {100, 30s, 3600s, 5s};
    o.budget = 5s;
    o.workers = 2;
    policyd::MxCache cache(loop, querier, o);
    std::vector<std::string> landed;
    cache.set_on_result([&](const std::string& d) { landed.push_back(d); });
    const auto table = policyd::ProviderTable::builtin();

    struct Row {
        const char* domain;
        std::vector<std::string> hosts;
        policyd::Destination want;
    };
    const std::vector<Row> rows = {
        {"workspace.test",
         {"aspmx.l.google.com", "alt1.aspmx.l.google.com", "alt2.aspmx.l.google.com"},
         {"google", "google"}},
        {"WebDE.test.", {"mx00.emig.gmx.net", "mx-ha03.web.de"}, {"gmx", "gmx"}},
        {"m365.test", {"m365-test.mail.protection.outlook.com"}, {"microsoft365", "microsoft365"}},
        {"mixed.test", {"aspmx.l.google.com", "mx00.emig.gmx.net"}, {"default", "mixed.test"}},
        {"partly.test", {"aspmx.l.google.com", "backup.partly.test"}, {"default", "partly.test"}},
        {"own.test", {"mail.own.test"}, {"default", "own.test"}},
        {"null.test", {}, {"default", "null.test"}},
        {"nodata.test", {"nodata.test"}, {"default", "nodata.test"}},  // implicit MX
        {"nosuch.test", {"nosuch.test"}, {"default", "nosuch.test"}},  // NXDOMAIN
    };

    // First sight: nothing is cached, the caller goes on with the domain.
    for (const auto& r : rows) {
        BOOST_TEST_INFO(r.domain);
        BOOST_TEST(!cache.hosts(r.domain).has_value());
    }
    BOOST_TEST(cache.pending() == rows.size());
    const auto give_up = std::chrono::steady_clock::now() + 30s;
    while (landed.size() < rows.size() && std::chrono::steady_clock::now() < give_up)
        loop.run_once(100ms);
    BOOST_REQUIRE_EQUAL(landed.size(), rows.size());
    BOOST_TEST(cache.counters().answers == rows.size());  // no failure among them
    BOOST_TEST(cache.counters().failures == 0u);

    for (const auto& r : rows) {
        BOOST_TEST_INFO(r.domain);
        auto hosts = cache.hosts(r.domain);
        BOOST_REQUIRE(hosts.has_value());
        BOOST_TEST(*hosts == r.hosts, boost::test_tools::per_element());
        const auto got = table.rollup(r.domain, *hosts);
        BOOST_TEST(got.provider == r.want.provider);
        BOOST_TEST(got.key == r.want.key);
    }
    BOOST_TEST(cache.counters().started == rows.size());  // answered from the cache
    BOOST_TEST(cache.counters().hits == rows.size());

    // The delivery status filter maps a reply's host the same way.
    BOOST_TEST(table.provider_of_host("mx-ha03.web.de").value_or("") == "gmx");
}

BOOST_AUTO_TEST_SUITE_END()
