// test_dns_cache.cc - the answer cache: expiry, clamps, failures, bounds
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "common/dns/cache.h"

namespace {

using namespace std::chrono_literals;
using TimePoint = dns::Cache::TimePoint;

const TimePoint kT0 = TimePoint() + 1000h;

dns::CacheLimits limits(size_t entries = 100) {
    dns::CacheLimits l;
    l.max_entries = entries;
    l.min_ttl = 30s;
    l.max_ttl = 3600s;
    l.failure_ttl = 5s;
    return l;
}

dns::Answer answer(dns::Status s, std::chrono::seconds ttl, std::string value = "mx.example.com") {
    dns::Answer a;
    a.status = s;
    a.ttl = ttl;
    if (s == dns::Status::Ok) a.records.push_back({10, std::move(value)});
    return a;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(dns_cache)

// How long each kind of answer is kept: {status, ttl} -> lifetime.
BOOST_AUTO_TEST_CASE(lifetime_table) {
    struct Row {
        dns::Status status;
        std::chrono::seconds ttl, want;
    };
    const Row rows[] = {
        {dns::Status::Ok, 300s, 300s},          // as the TTL says
        {dns::Status::Ok, 0s, 30s},             // min_ttl
        {dns::Status::Ok, 86400s, 3600s},       // max_ttl
        {dns::Status::NxDomain, 900s, 900s},    // RFC 2308 negative TTL
        {dns::Status::NoData, 1s, 30s},
        {dns::Status::NoData, 604800s, 3600s},
        {dns::Status::ServFail, 3600s, 5s},     // failure_ttl whatever the TTL
        {dns::Status::Timeout, 0s, 5s},
        {dns::Status::Error, 0s, 5s},
    };
    const dns::Cache c(limits());
    for (const Row& r : rows)
        BOOST_TEST_CONTEXT(dns::to_string(r.status) << " ttl " << r.ttl.count() << "s") {
            BOOST_TEST(c.lifetime(answer(r.status, r.ttl)).count() == r.want.count());
        }
}

BOOST_AUTO_TEST_CASE(answer_expires_after_its_lifetime) {
    dns::Cache c(limits());
    c.store("example.com", dns::Type::MX, answer(dns::Status::Ok, 300s), kT0);
    auto hit = c.find("example.com", dns::Type::MX, kT0 + 299s);
    BOOST_REQUIRE(hit.has_value());
    BOOST_TEST(hit->records.at(0).value == "mx.example.com");
    BOOST_TEST(!c.find("example.com", dns::Type::MX, kT0 + 300s).has_value());
    BOOST_TEST(c.size() == 0u);  // dropped when met
}

BOOST_AUTO_TEST_CASE(failures_last_only_briefly) {
    dns::Cache c(limits());
    c.store("dead.example", dns::Type::MX, answer(dns::Status::Timeout, 0s), kT0);
    BOOST_TEST(c.find("dead.example", dns::Type::MX, kT0 + 4s).has_value());
    BOOST_TEST(!c.find("dead.example", dns::Type::MX, kT0 + 5s).has_value());
}

BOOST_AUTO_TEST_CASE(zero_lifetime_or_size_stores_nothing) {
    dns::CacheLimits l = limits();
    l.failure_ttl = 0s;
    dns::Cache c(l);
    c.store("dead.example", dns::Type::MX, answer(dns::Status::ServFail, 0s), kT0);
    BOOST_TEST(c.size() == 0u);
    dns::Cache none(limits(0));
    none.store("example.com", dns::Type::MX, answer(dns::Status::Ok, 300s), kT0);
    BOOST_TEST(!none.find("example.com", dns::Type::MX, kT0).has_value());
}

BOOST_AUTO_TEST_CASE(name_and_type_are_the_key) {
    dns::Cache c(limits());
    c.store("example.com", dns::Type::MX, answer(dns::Status::Ok, 300s), kT0);
    c.store("example.com", dns::Type::A, answer(dns::Status::NoData, 300s), kT0);
    BOOST_TEST(dns::to_string(c.find("example.com", dns::Type::MX, kT0)->status) == "ok");
    BOOST_TEST(dns::to_string(c.find("example.com", dns::Type::A, kT0)->status) == "nodata");
    BOOST_TEST(!c.find("example.com", dns::Type::AAAA, kT0).has_value());
    BOOST_TEST(!c.find("example.org", dns::Type::MX, kT0).has_value());
    // A newer answer replaces the older one.
    c.store("example.com", dns::Type::MX, answer(dns::Status::Ok, 300s, "mx2.example.com"), kT0 + 1s);
    BOOST_TEST(c.find("example.com", dns::Type::MX, kT0 + 1s)->records.at(0).value == "mx2.example.com");
    BOOST_TEST(c.size() == 2u);
}

BOOST_AUTO_TEST_CASE(full_cache_drops_the_least_recently_used) {
    dns::Cache c(limits(3));
    c.store("a.example", dns::Type::MX, answer(dns::Status::Ok, 300s), kT0);
    c.store("b.example", dns::Type::MX, answer(dns::Status::Ok, 300s), kT0);
    c.store("c.example", dns::Type::MX, answer(dns::Status::Ok, 300s), kT0);
    BOOST_TEST(c.find("a.example", dns::Type::MX, kT0).has_value());  // a is now the newest
    c.store("d.example", dns::Type::MX, answer(dns::Status::Ok, 300s), kT0);
    BOOST_TEST(c.size() == 3u);
    BOOST_TEST(!c.find("b.example", dns::Type::MX, kT0).has_value());
    BOOST_TEST(c.find("a.example", dns::Type::MX, kT0).has_value());
    BOOST_TEST(c.find("c.example", dns::Type::MX, kT0).has_value());
    BOOST_TEST(c.find("d.example", dns::Type::MX, kT0).has_value());
}

BOOST_AUTO_TEST_CASE(size_stays_bounded_under_many_threads) {
    dns::Cache c(limits(64));
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&c, t] {
            for (int i = 0; i < 5000; ++i) {
                const std::string name = "h" + std::to_string((i * 7 + t) % 500) + ".example";
                c.store(name, dns::Type::A, answer(dns::Status::Ok, 60s), kT0 + std::chrono::seconds(i % 100));
                (void)c.find(name, dns::Type::A, kT0 + std::chrono::seconds(i % 100));
            }
        });
    for (auto& th : threads) th.join();
    BOOST_TEST(c.size() <= 64u);
}

BOOST_AUTO_TEST_SUITE_END()
