// test_policyd_mx_cache.cc - the asynchronous MX cache on a real event loop
// with a Querier that answers when the test says so: deduplication, the
// pending bound, TTL expiry and clamps, negative and failed answers, LRU,
// results delivered on the loop thread, known domains resolved while
// hundreds of lookups hang.
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/dns/answer.h"
#include "common/dns/resolver.h"
#include "common/log/log.h"
#include "common/net/event_loop.h"
#include "policyd/mx_cache.h"

namespace {

using namespace std::chrono_literals;
using TimePoint = std::chrono::steady_clock::time_point;
using Hosts = std::optional<std::vector<std::string>>;

dns::Answer mx(std::vector<std::pair<uint16_t, std::string>> records,
               std::chrono::seconds ttl = 300s) {
    dns::Answer a;
    a.status = dns::Status::Ok;
    a.ttl = ttl;
    for (auto& [pref, host] : records) a.records.push_back({pref, host});
    return a;
}

dns::Answer status(dns::Status s, std::chrono::seconds ttl = 300s) {
    dns::Answer a;
    a.status = s;
    a.ttl = ttl;
    return a;
}

// Answers a name only once the test released it (or released everything).
class HeldQuerier final : public dns::Querier {
public:
    dns::Answer query(std::string_view name, dns::Type type, std::chrono::seconds) const override {
        std::unique_lock lock(mu_);
        std::string n(name);
        ++calls_[n];
        types_.push_back(type);
        threads_.insert(std::this_thread::get_id());
        cv_.notify_all();
        cv_.wait(lock, [&] { return open_ || released_.count(n) > 0; });
        released_.erase(n);
        auto it = answers_.find(n);
        return it != answers_.end() ? it->second : status(dns::Status::NxDomain);
    }
    void answer(const std::string& name, dns::Answer a) {
        std::lock_guard lock(mu_);
        answers_[name] = std::move(a);
    }
    void release(const std::string& name) {
        std::lock_guard lock(mu_);
        released_.insert(name);
        cv_.notify_all();
    }
    void open() {
        std::lock_guard lock(mu_);
        open_ = true;
        cv_.notify_all();
    }
    int calls(const std::string& name) const {
        std::lock_guard lock(mu_);
        auto it = calls_.find(name);
        return it == calls_.end() ? 0 : it->second;
    }
    // Waits (bounded) until name was asked for n times.
    bool wait_calls(const std::string& name, int n) const {
        std::unique_lock lock(mu_);
        return cv_.wait_for(lock, 10s, [&] { return calls_[name] >= n; });
    }
    std::set<std::thread::id> threads() const {
        std::lock_guard lock(mu_);
        return threads_;
    }
    std::vector<dns::Type> types() const {
        std::lock_guard lock(mu_);
        return types_;
    }

private:
    mutable std::mutex mu_;
    mutable std::condition_variable cv_;
    mutable std::map<std::string, int> calls_;
    mutable std::vector<dns::Type> types_;
    mutable std::set<std::thread::id> threads_;
    mutable std::set<std::string> released_;
    std::map<std::string, dns::Answer> answers_;
    bool open_ = false;
};

struct Fixture {
    explicit Fixture(policyd::MxCacheOptions o = options()) {
        o.clock = [this] { return now; };
        cache = std::make_unique<policyd::MxCache>(loop, querier, o);
        cache->set_on_result([this](const std::string& d) {
            landed.push_back(d);
            on_loop_thread = on_loop_thread && std::this_thread::get_id() == test_thread;
        });
    }
    ~Fixture() {
        querier->open();  // no worker stays blocked in the destructor
        cache.reset();
    }
    static policyd::MxCacheOptions options() {
        policyd::MxCacheOptions o;
        o.limits = {100, 30s, 3600s, 5s};
        o.workers = 2;
        o.max_pending = 8;
        return o;
    }
    // Runs the loop until n results in all have landed (bounded).
    bool run_until_landed(std::size_t n) {
        const auto give_up = std::chrono::steady_clock::now() + 10s;
        while (landed.size() < n && std::chrono::steady_clock::now() < give_up) loop.run_once(50ms);
        return landed.size() >= n;
    }
    // Releases name and waits for its result on the loop.
    bool land(const std::string& name) {
        querier->release(name);
        return run_until_landed(landed.size() + 1);
    }

    TimePoint now = TimePoint() + 1000h;
    net::EventLoop loop;
    std::shared_ptr<HeldQuerier> querier = std::make_shared<HeldQuerier>();
    std::unique_ptr<policyd::MxCache> cache;
    std::vector<std::string> landed;
    const std::thread::id test_thread = std::this_thread::get_id();
    bool on_loop_thread = true;
};

std::string show(const Hosts& h) {
    if (!h) return "pending";
    std::string s = "{";
    for (const auto& x : *h) s += (s.size() > 1 ? " " : "") + x;
    return s + "}";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(policyd_mx_cache)

BOOST_AUTO_TEST_CASE(hosts_of_answers) {
    struct Row {
        const char* name;
        dns::Answer answer;
        std::string want;
    };
    const std::vector<Row> rows = {
        {"by preference, then name",
         mx({{20, "alt2.aspmx.l.google.com."},
             {10, "B.example."},
             {10, "a.example"},
             {5, "ASPMX.L.GOOGLE.COM"}}),
         "{aspmx.l.google.com a.example b.example alt2.aspmx.l.google.com}"},
        {"duplicates once", mx({{10, "mx.example"}, {20, "MX.example."}}), "{mx.example}"},
        {"null MX", mx({{0, "."}}), "{}"},
        {"no records", mx({}), "{}"},
        {"nxdomain", status(dns::Status::NxDomain), "{example.org}"},
        {"nodata", status(dns::Status::NoData), "{example.org}"},
        {"servfail", status(dns::Status::ServFail), "{example.org}"},
        {"timeout", status(dns::Status::Timeout), "{example.org}"},
        {"error", status(dns::Status::Error), "{example.org}"},
    };
    for (const auto& r : rows) {
        BOOST_TEST_INFO(r.name);
        BOOST_TEST(show(policyd::MxCache::hosts_of("Example.ORG.", r.answer)) == r.want);
    }
}

BOOST_AUTO_TEST_CASE(deduplicated_and_delivered_on_the_loop) {
    Fixture f;
    f.querier->answer("example.org",
                      mx({{10, "aspmx.l.google.com"}, {20, "alt1.aspmx.l.google.com"}}));
    BOOST_TEST(show(f.cache->hosts("example.org")) == "pending");
    BOOST_TEST(show(f.cache->hosts("EXAMPLE.org.")) == "pending");  // the same domain
    BOOST_TEST(show(f.cache->hosts("example.org")) == "pending");
    BOOST_REQUIRE(f.querier->wait_calls("example.org", 1));
    BOOST_TEST(f.cache->pending() == 1u);
    // Nothing lands before the answer does, however long the loop runs.
    f.loop.run_once(20ms);
    BOOST_TEST(f.landed.empty());
    BOOST_REQUIRE(f.land("example.org"));
    BOOST_TEST(f.landed == std::vector<std::string>{"example.org"});
    BOOST_TEST(f.on_loop_thread);
    BOOST_TEST(f.querier->threads().count(f.test_thread) == 0u);  // never on the loop thread
    BOOST_TEST(f.querier->calls("example.org") == 1);
    BOOST_TEST((f.querier->types() == std::vector<dns::Type>{dns::Type::MX}));
    BOOST_TEST(show(f.cache->hosts("example.org")) ==
               "{aspmx.l.google.com alt1.aspmx.l.google.com}");
    BOOST_TEST(f.cache->pending() == 0u);
    const auto& c = f.cache->counters();
    BOOST_TEST(c.started == 1u);
    BOOST_TEST(c.misses == 3u);
    BOOST_TEST(c.deduplicated == 2u);
    BOOST_TEST(c.hits == 1u);
    BOOST_TEST(c.answers == 1u);
    BOOST_TEST(c.failures == 0u);
}

BOOST_AUTO_TEST_CASE(pending_bound_drops_and_counts) {
    auto o = Fixture::options();
    o.workers = 1;
    o.max_pending = 2;
    Fixture f(o);
    BOOST_TEST(show(f.cache->hosts("a.example")) == "pending");
    BOOST_TEST(show(f.cache->hosts("b.example")) == "pending");  // queued behind a
    BOOST_TEST(show(f.cache->hosts("c.example")) == "pending");  // dropped
    BOOST_TEST(f.cache->pending() == 2u);
    BOOST_TEST(f.cache->counters().dropped == 1u);
    BOOST_TEST(f.cache->counters().started == 2u);
    BOOST_REQUIRE(f.land("a.example"));
    BOOST_REQUIRE(f.land("b.example"));
    BOOST_TEST(f.querier->calls("c.example") == 0);
    // Room again: a later call looks it up.
    BOOST_TEST(show(f.cache->hosts("c.example")) == "pending");
    BOOST_REQUIRE(f.land("c.example"));
    BOOST_TEST(show(f.cache->hosts("c.example")) == "{c.example}");  // NXDOMAIN: implicit MX
    BOOST_TEST(f.querier->calls("c.example") == 1);
}

BOOST_AUTO_TEST_CASE(ttl_expiry_and_clamps) {
    Fixture f;
    f.querier->answer("keep.example", mx({{10, "mx.keep.example"}}, 300s));
    f.querier->answer("short.example", mx({{10, "mx.short.example"}}, 1s));    // clamped up to 30s
    f.querier->answer("long.example", mx({{10, "mx.long.example"}}, 86400s));  // clamped down to 1h
    for (const char* d : {"keep.example", "short.example", "long.example"}) {
        f.cache->hosts(d);
        BOOST_REQUIRE(f.land(d));
    }
    struct Row {
        std::chrono::seconds after;
        const char* domain;
        const char* want;
    };
    const Row rows[] = {
        {299s, "keep.example", "{mx.keep.example}"},
        {29s, "short.example", "{mx.short.example}"},
        {3599s, "long.example", "{mx.long.example}"},
    };
    const auto t0 = f.now;
    for (const auto& r : rows) {
        BOOST_TEST_INFO(r.domain);
        f.now = t0 + r.after;
        BOOST_TEST(show(f.cache->hosts(r.domain)) == r.want);
        f.now = t0 + r.after + 2s;
        BOOST_TEST(show(f.cache->hosts(r.domain)) == "pending");  // expired: looked up again
        BOOST_REQUIRE(f.querier->wait_calls(r.domain, 2));
        BOOST_REQUIRE(f.land(r.domain));
    }
}

BOOST_AUTO_TEST_CASE(negative_and_failed_answers) {
    Fixture f;
    f.querier->answer("nx.example", status(dns::Status::NxDomain, 600s));
    f.querier->answer("nodata.example", status(dns::Status::NoData, 600s));
    f.querier->answer("null.example", mx({{0, "."}}, 600s));
    f.querier->answer("fail.example", status(dns::Status::ServFail));
    for (const char* d : {"nx.example", "nodata.example", "null.example", "fail.example"}) {
        BOOST_TEST(show(f.cache->hosts(d)) == "pending");
        BOOST_REQUIRE(f.land(d));
    }
    BOOST_TEST(f.cache->counters().answers == 3u);
    BOOST_TEST(f.cache->counters().failures == 1u);
    f.now += 4s;
    BOOST_TEST(show(f.cache->hosts("nx.example")) == "{nx.example}");
    BOOST_TEST(show(f.cache->hosts("nodata.example")) == "{nodata.example}");
    BOOST_TEST(show(f.cache->hosts("null.example")) == "{}");
    BOOST_TEST(show(f.cache->hosts("fail.example")) == "{fail.example}");  // remembered briefly
    f.now += 2s;  // past failure_ttl (5s), within the negative TTL
    BOOST_TEST(show(f.cache->hosts("fail.example")) == "pending");
    BOOST_TEST(show(f.cache->hosts("nx.example")) == "{nx.example}");
    BOOST_REQUIRE(f.querier->wait_calls("fail.example", 2));
    BOOST_TEST(f.querier->calls("nx.example") == 1);
}

BOOST_AUTO_TEST_CASE(least_recently_used_goes) {
    auto o = Fixture::options();
    o.limits.max_entries = 2;
    Fixture f(o);
    for (const char* d : {"a.example", "b.example"}) {
        f.cache->hosts(d);
        BOOST_REQUIRE(f.land(d));
    }
    BOOST_TEST(show(f.cache->hosts("a.example")) == "{a.example}");  // a is now the most recent
    f.cache->hosts("c.example");
    BOOST_REQUIRE(f.land("c.example"));
    BOOST_TEST(f.cache->size() == 2u);
    BOOST_TEST(show(f.cache->hosts("a.example")) == "{a.example}");
    BOOST_TEST(show(f.cache->hosts("c.example")) == "{c.example}");
    BOOST_TEST(show(f.cache->hosts("b.example")) == "pending");  // evicted
    BOOST_REQUIRE(f.querier->wait_calls("b.example", 2));
}

BOOST_AUTO_TEST_CASE(floors_keep_a_landed_result) {
    auto o = Fixture::options();
    o.limits = {0, 0s, 0s, 0s};  // would keep nothing
    o.workers = 0;
    o.max_pending = 0;
    Fixture f(o);
    f.querier->answer("a.example", mx({{10, "mx.a.example"}}, 0s));
    BOOST_TEST(show(f.cache->hosts("a.example")) == "pending");
    BOOST_REQUIRE(f.land("a.example"));
    BOOST_TEST(show(f.cache->hosts("a.example")) == "{mx.a.example}");
    f.now += 2s;
    BOOST_TEST(show(f.cache->hosts("a.example")) == "pending");
}

BOOST_AUTO_TEST_CASE(names_that_are_no_domains) {
    Fixture f;
    struct Row {
        std::string name;
        std::string want;
    };
    const std::vector<Row> rows = {
        {"", "{}"},
        {".", "{}"},
        {"a..example", "{a..example}"},
        {".example", "{.example}"},
        {"exa mple.org", "{exa mple.org}"},
        {"ex\xc3\xa4mple.org", "{ex\xc3\xa4mple.org}"},
        {std::string(64, 'a') + ".example", "{" + std::string(64, 'a') + ".example}"},
        {std::string(250, 'a') + ".org", "{" + std::string(250, 'a') + ".org}"},
    };
    for (const auto& r : rows) {
        BOOST_TEST_INFO("name \"" << r.name.substr(0, 40) << "\"");
        auto got = show(f.cache->hosts(r.name));
        BOOST_TEST((got == r.want || (r.want == "{}" && got == "{}")));
    }
    BOOST_TEST(f.cache->counters().invalid == rows.size());
    BOOST_TEST(f.cache->counters().started == 0u);
    BOOST_TEST(f.cache->pending() == 0u);
}

BOOST_AUTO_TEST_CASE(destroyed_with_lookups_under_way) {
    // The destructor stops the workers and waits for the lookup under way
    // (released here from another thread while the destructor waits; if it
    // comes first, the queued lookup may run, which is fine too); nothing
    // is left watched on the loop.
    auto querier = std::make_shared<HeldQuerier>();
    net::EventLoop loop;
    std::thread opener;
    {
        policyd::MxCacheOptions o = Fixture::options();
        o.workers = 1;
        policyd::MxCache cache(loop, querier, o);
        cache.hosts("a.example");
        cache.hosts("b.example");
        BOOST_REQUIRE(querier->wait_calls("a.example", 1));
        opener = std::thread([&] {
            std::this_thread::sleep_for(50ms);
            querier->open();
        });
    }
    opener.join();
    BOOST_TEST(loop.watched() == 0u);
    BOOST_TEST(querier->calls("a.example") == 1);
}

BOOST_AUTO_TEST_CASE(known_domain_resolves_while_hundreds_hang) {
    // 300 RCPTs to domains whose DNS never answers (HeldQuerier holds them)
    // fill the queue; a domain that answered Ok before still resolves at
    // once when its TTL ran out, queued lookups expire after their budget,
    // a time-out is remembered for min_ttl, and a warning counts them.
    logging::open("test", logging::Sink::None);
    logging::clear_captured();
    auto o = Fixture::options();
    o.workers = 2;
    o.max_pending = 256;
    o.budget = 5s;
    Fixture f(o);
    f.querier->answer("mail.example", mx({{10, "mx.mail.example"}}, 300s));
    f.cache->hosts("mail.example");
    BOOST_REQUIRE(f.land("mail.example"));
    f.now += 301s;  // its answer expired: looked up again below

    auto hang = [](int i) { return "h" + std::to_string(i) + ".hang.example"; };
    for (int i = 0; i < 300; ++i) BOOST_TEST(show(f.cache->hosts(hang(i))) == "pending");
    BOOST_REQUIRE(f.querier->wait_calls(hang(0), 1));
    BOOST_TEST(f.cache->pending() == 256u);
    BOOST_TEST(f.cache->counters().dropped == 44u);

    BOOST_TEST(show(f.cache->hosts("mail.example")) == "pending");
    BOOST_TEST(f.cache->pending() == 256u);  // took the place of the one queued last
    BOOST_TEST(f.cache->counters().dropped == 45u);
    BOOST_REQUIRE(f.querier->wait_calls("mail.example", 2));
    BOOST_REQUIRE(f.land("mail.example"));
    BOOST_TEST(show(f.cache->hosts("mail.example")) == "{mx.mail.example}");
    BOOST_TEST(f.querier->calls(hang(1)) == 0);  // one worker stays free for known domains

    // Queued a budget long: expired, kept as failures, room again.
    f.now += 5s;
    BOOST_TEST(show(f.cache->hosts("new.example")) == "pending");
    BOOST_TEST(f.cache->counters().expired == 254u);  // all but the one under way
    BOOST_TEST(f.cache->pending() == 2u);
    BOOST_TEST(show(f.cache->hosts(hang(250))) == "{" + hang(250) + "}");  // kept as a failure

    // The one under way times out: remembered for min_ttl (30s), not 5s.
    f.querier->answer(hang(0), status(dns::Status::Timeout));
    BOOST_REQUIRE(f.land(hang(0)));
    BOOST_TEST(f.cache->counters().timed_out == 1u);
    BOOST_REQUIRE(f.querier->wait_calls("new.example", 1));  // taken off the queue
    f.now += 20s;
    BOOST_TEST(show(f.cache->hosts(hang(0))) == "{" + hang(0) + "}");
    BOOST_TEST(f.querier->calls(hang(0)) == 1);
    f.now += 11s;
    BOOST_TEST(show(f.cache->hosts(hang(0))) == "pending");

    const std::string log = logging::captured();
    BOOST_TEST(log.find("mx_lookups=degraded, dropped=1, expired=0, timed_out=0") != std::string::npos, log);
    BOOST_TEST(f.cache->counters().warnings == 1u);  // one a minute at most
    f.now += 60s;
    f.cache->hosts("other.example");  // hang(0), queued a minute, expires
    f.querier->release("new.example");
    BOOST_REQUIRE(f.run_until_landed(f.landed.size() + 1));
    BOOST_TEST(f.cache->counters().warnings == 2u);
    BOOST_TEST(logging::captured().find("dropped=44, expired=255, timed_out=1") != std::string::npos,
               logging::captured());
}

BOOST_AUTO_TEST_SUITE_END()
