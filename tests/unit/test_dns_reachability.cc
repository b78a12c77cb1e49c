// test_dns_reachability.cc - can a domain receive mail: the decisions, the
// budget, the texts; the cached Lookup and its configuration
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/address/address.h"
#include "common/config/config.h"
#include "common/dns/lookup.h"
#include "common/dns/reachability.h"
#include "common/dns/setup.h"

namespace {

using namespace std::chrono_literals;
using TimePoint = std::chrono::steady_clock::time_point;

// A fake clock the fake querier moves.
struct FakeClock {
    TimePoint now = TimePoint() + 1000h;
    dns::Clock fn() {
        return [this] { return now; };
    }
};

// Answers from a table; each query costs `cost` on the fake clock and is
// logged as "TYPE name budget".
class TableQuerier final : public dns::Querier {
public:
    explicit TableQuerier(FakeClock* clock = nullptr, std::chrono::seconds cost = 0s) : clock_(clock), cost_(cost) {}
    TableQuerier& set(const std::string& name, dns::Type t, dns::Answer a) {
        table_[{name, t}] = std::move(a);
        return *this;
    }
    dns::Answer query(std::string_view name, dns::Type type, std::chrono::seconds budget) const override {
        log_.push_back(std::string(dns::to_string(type)) + " " + std::string(name) + " " +
                       std::to_string(budget.count()));
        if (clock_) clock_->now += cost_;
        auto it = table_.find({std::string(name), type});
        if (it == table_.end()) return {dns::Status::NxDomain};
        return it->second;
    }
    const std::vector<std::string>& log() const { return log_; }

private:
    FakeClock* clock_;
    std::chrono::seconds cost_;
    std::map<std::pair<std::string, dns::Type>, dns::Answer> table_;
    mutable std::vector<std::string> log_;
};

dns::Answer ok(std::vector<dns::Record> r, std::chrono::seconds ttl = 300s) { return {dns::Status::Ok, std::move(r), ttl}; }
dns::Answer status(dns::Status s, std::chrono::seconds ttl = 300s) { return {s, {}, ttl}; }

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

// Every domain of the decision table, as the resolver would answer.
TableQuerier world() {
    TableQuerier q;
    q.set("mx.example", dns::Type::MX, ok({{10, "mail.mx.example"}}))
        .set("null.example", dns::Type::MX, ok({{0, "."}}))
        .set("nullmany.example", dns::Type::MX, ok({{0, "."}, {10, "."}}))
        .set("nullmixed.example", dns::Type::MX, ok({{0, "."}, {10, "mail.nullmixed.example"}}))
        .set("aonly.example", dns::Type::MX, status(dns::Status::NoData))
        .set("aonly.example", dns::Type::A, ok({{0, "192.0.2.1"}}))
        .set("aaaaonly.example", dns::Type::MX, status(dns::Status::NoData))
        .set("aaaaonly.example", dns::Type::A, status(dns::Status::NoData))
        .set("aaaaonly.example", dns::Type::AAAA, ok({{0, "2001:db8::1"}}))
        .set("nohost.example", dns::Type::MX, status(dns::Status::NoData))
        .set("nohost.example", dns::Type::A, status(dns::Status::NoData))
        .set("nohost.example", dns::Type::AAAA, status(dns::Status::NoData))
        .set("slow.example", dns::Type::MX, status(dns::Status::Timeout))
        .set("broken.example", dns::Type::MX, status(dns::Status::ServFail))
        .set("refused.example", dns::Type::MX, status(dns::Status::Error))
        .set("slowa.example", dns::Type::MX, status(dns::Status::NoData))
        .set("slowa.example", dns::Type::A, status(dns::Status::Timeout))
        .set("slowa.example", dns::Type::AAAA, status(dns::Status::NoData))
        .set("slowa6.example", dns::Type::MX, status(dns::Status::NoData))
        .set("slowa6.example", dns::Type::A, status(dns::Status::ServFail))
        .set("slowa6.example", dns::Type::AAAA, ok({{0, "2001:db8::2"}}));
    return q;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(dns_reachability)

BOOST_AUTO_TEST_CASE(decision_table) {
    struct Row {
        const char* domain;
        const char* want;
        const char* want_queries;  // types asked, in order
    };
    const Row rows[] = {
        {"mx.example", "reachable/mx", "MX"},
        {"aonly.example", "reachable/address", "MX A"},
        {"aaaaonly.example", "reachable/address", "MX A AAAA"},
        {"null.example", "null_mx", "MX"},
        {"nullmany.example", "null_mx", "MX"},
        {"nullmixed.example", "reachable/mx", "MX"},  // the "." entry is no host; the other is
        {"nosuch.example", "nxdomain", "MX"},
        {"nohost.example", "no_mail_host", "MX A AAAA"},
        {"slow.example", "tempfail/timeout", "MX"},
        {"broken.example", "tempfail/servfail", "MX"},
        {"refused.example", "tempfail/error", "MX"},
        {"slowa.example", "tempfail/timeout", "MX A AAAA"},  // AAAA said nothing either
        {"slowa6.example", "reachable/address", "MX A AAAA"},  // one address is enough
        {"[192.0.2.1]", "reachable/literal", ""},
        {"[IPv6:2001:db8::1]", "reachable/literal", ""},
    };
    for (const Row& r : rows) {
        BOOST_TEST_CONTEXT(r.domain) {
            const TableQuerier q = world();
            const dns::Reachability got = dns::mail_reachability(q, domain(r.domain), 5s);
            BOOST_TEST(outcome(got) == r.want);
            std::string types;
            for (const std::string& line : q.log()) types += (types.empty() ? "" : " ") + line.substr(0, line.find(' '));
            BOOST_TEST(types == r.want_queries);
        }
    }
}

// The queries of one check share the budget: each gets what is left, and
// none is sent with less than a second left.
BOOST_AUTO_TEST_CASE(queries_share_the_budget) {
    FakeClock clock;
    TableQuerier q(&clock, 3s);
    q.set("nohost.example", dns::Type::MX, status(dns::Status::NoData))
        .set("nohost.example", dns::Type::A, status(dns::Status::NoData))
        .set("nohost.example", dns::Type::AAAA, status(dns::Status::NoData));
    const dns::Reachability got = dns::mail_reachability(q, domain("nohost.example"), 5s, clock.fn());
    BOOST_TEST(outcome(got) == "tempfail/timeout");
    const std::vector<std::string> want = {"MX nohost.example 5", "A nohost.example 2"};
    BOOST_TEST(q.log() == want, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(texts_per_outcome) {
    struct Row {
        dns::Reachability r;
        const char* domain;
        const char* want;
        const char* want_code;
    };
    const Row rows[] = {
        {{dns::Reach::NxDomain}, "nosuch.example", "domain nosuch.example does not exist (NXDOMAIN)", "5.1.8"},
        {{dns::Reach::NullMx}, "example.net", "domain example.net publishes a null MX: it accepts no mail (RFC 7505)",
         "5.7.27"},
        {{dns::Reach::NoMailHost}, "example.org", "domain example.org has no MX and no address record", "5.1.8"},
        {{dns::Reach::TempFail, dns::Via::None, dns::Status::Timeout}, "example.com",
         "cannot check domain example.com: the DNS lookup timed out", "4.4.3"},
        {{dns::Reach::TempFail, dns::Via::None, dns::Status::ServFail}, "example.com",
         "cannot check domain example.com: DNS server failure (SERVFAIL)", "4.4.3"},
        {{dns::Reach::TempFail, dns::Via::None, dns::Status::Error}, "example.com",
         "cannot check domain example.com: the DNS lookup failed", "4.4.3"},
        {{dns::Reach::Reachable, dns::Via::Mx}, "example.com", "domain example.com receives mail (MX)", "2.0.0"},
        {{dns::Reach::Reachable, dns::Via::Address}, "example.com",
         "domain example.com receives mail (no MX, an address record)", "2.0.0"},
        // IDN: the A-label the Domain holds.
        {{dns::Reach::NxDomain}, "bücher.example", "domain xn--bcher-kva.example does not exist (NXDOMAIN)", "5.1.8"},
    };
    for (const Row& r : rows) {
        BOOST_TEST(dns::describe(r.r, domain(r.domain)) == r.want);
        BOOST_TEST(dns::status_code(r.r) == r.want_code);
    }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(dns_lookup)

dns::CacheLimits test_limits() {
    dns::CacheLimits l;
    l.max_entries = 100;
    l.min_ttl = 10s;
    l.max_ttl = 600s;
    l.failure_ttl = 5s;
    return l;
}

BOOST_AUTO_TEST_CASE(answers_come_from_the_cache_until_they_expire) {
    FakeClock clock;
    auto upstream = std::make_unique<TableQuerier>();
    upstream->set("mx.example", dns::Type::MX, ok({{10, "mail.mx.example"}}, 120s));
    const TableQuerier& seen = *upstream;
    const dns::Lookup lookup(std::move(upstream), test_limits(), 5s, clock.fn());
    BOOST_TEST(outcome(lookup.mail_reachability(domain("mx.example"))) == "reachable/mx");
    clock.now += 119s;
    BOOST_TEST(outcome(lookup.mail_reachability(domain("mx.example"))) == "reachable/mx");
    BOOST_TEST(seen.log().size() == 1u);
    clock.now += 1s;
    BOOST_TEST(outcome(lookup.mail_reachability(domain("mx.example"))) == "reachable/mx");
    BOOST_TEST(seen.log().size() == 2u);
}

BOOST_AUTO_TEST_CASE(a_failure_is_retried_soon) {
    FakeClock clock;
    auto upstream = std::make_unique<TableQuerier>();
    upstream->set("slow.example", dns::Type::MX, status(dns::Status::Timeout));
    const TableQuerier& seen = *upstream;
    const dns::Lookup lookup(std::move(upstream), test_limits(), 5s, clock.fn());
    (void)lookup.mail_reachability(domain("slow.example"));
    clock.now += 4s;
    (void)lookup.mail_reachability(domain("slow.example"));
    BOOST_TEST(seen.log().size() == 1u);
    clock.now += 1s;
    BOOST_TEST(outcome(lookup.mail_reachability(domain("slow.example"))) == "tempfail/timeout");
    BOOST_TEST(seen.log().size() == 2u);
}

BOOST_AUTO_TEST_CASE(settings_come_from_the_table) {
    const config::Config cfg = config::Config::defaults();
    const dns::CacheLimits l = dns::cache_limits(cfg);
    BOOST_TEST(l.max_entries == 10000u);
    BOOST_TEST(l.min_ttl.count() == 30);
    BOOST_TEST(l.max_ttl.count() == 3600);
    BOOST_TEST(l.failure_ttl.count() == 5);
    const auto lookup = dns::lookup_from(cfg);
    BOOST_TEST(lookup->budget().count() == 5);
}

BOOST_AUTO_TEST_CASE(min_ttl_above_max_ttl_names_the_line) {
    const char* text = "dns_cache_max_ttl = 1m\ndns_cache_min_ttl = 2m\n";
    const config::Config cfg = config::Config::parse(text, "sendguard.conf");
    std::string got;
    try {
        (void)dns::cache_limits(cfg);
    } catch (const config::Error& e) {
        got = e.what();
    }
    BOOST_TEST(got == "sendguard.conf:2: invalid dns_cache_min_ttl: dns_cache_min_ttl (120s) is larger than "
                      "dns_cache_max_ttl (60s)");
}

BOOST_AUTO_TEST_SUITE_END()
