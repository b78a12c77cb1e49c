// test_cli_throttle.cc - "sendguard status" and "sendguard backoff clear"
// over a store filled through store::ThrottleState, as sendguard-policyd
// fills it
//
// The real binary against a store in a temporary directory: the table and
// the JSON document (parsed by python3's json module, not by matching text),
// a clear that sets cleared_at, an unknown provider refused with the known
// ones, the empty state, and a bad row reported by its key.
#include <boost/test/unit_test.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "common/config/load.h"
#include "common/store/setup.h"
#include "common/store/throttle.h"
#include "tests/support/process.h"
#include "tests/support/site.h"

namespace {

struct Site : harness::Site {
    Site() : harness::Site("sg-cli-throttle-") {}
    // The store as the programs open it (this configuration's store_* sizes).
    // Callers drop it before running the CLI, so each process opens its own.
    std::shared_ptr<store::Env> env() const {
        return store::open_suppression_store(config::load(conf, {}));
    }
};

int64_t now_us() {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

bool has(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

// Runs python3 over the JSON document: prints the values of the expressions,
// one per line, or fails (non-zero exit) when doc is not JSON.
harness::RunResult json_eval(const std::string& doc, const std::vector<std::string>& exprs) {
    std::string script = "import json, sys\nd = json.loads(sys.stdin.read())\n";
    for (const auto& e : exprs) script += "print(json.dumps(" + e + "))\n";
    return harness::run({.argv = {"python3", "-c", script}, .stdin_data = doc});
}

std::vector<std::string> lines(const std::string& s) {
    std::vector<std::string> v;
    size_t b = 0;
    for (size_t e; (e = s.find('\n', b)) != std::string::npos; b = e + 1) v.push_back(s.substr(b, e - b));
    return v;
}

// Two providers (gmail in backoff after a 4xx with a terminal escape in
// it, yahoo at its configured rate), one customer with two windows, one bucket.
void fill(const Site& s, int64_t now) {
    store::ThrottleState ts(s.env());
    store::ProviderState g;
    g.provider = "gmail";
    g.configured_per_hour = 3600;
    g.allowed_per_hour = 900.5;
    g.level = 2;
    g.suspended_until = now + 3'600'000'000;
    g.last_signal = now - 125'000'000;
    g.last_change = now - 125'000'000;
    g.last_reply = "451 4.7.28 \x1b[2Jrate limited, try again later";
    g.last_reply_at = now - 125'000'000;  // 2m5s ago
    g.deferrals = 7;
    g.rate_signals = 3;
    g.successes = 1234;
    g.updated = now;
    store::ProviderState y;
    y.provider = "yahoo";
    y.configured_per_hour = 1800;
    y.successes = 99;
    y.updated = now;
    store::UsageState u;
    u.rule = "per-customer";
    u.key = "alice";
    u.windows = {{3600, 600, 17}, {86400, 10000, 412}};
    u.refused = 2;
    u.first_refused_at = now - 10'000'000;
    u.updated = now;
    store::BucketState b{"per-customer", "alice", {now + 6'000'000, now + 8'640'000}, now};
    BOOST_TEST(ts.write_batch({g, y}, {b}, {u}).empty());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cli_throttle)

BOOST_AUTO_TEST_CASE(status_table_for_people) {
    Site s;
    fill(s, now_us());
    auto r = s.cli({"status"});
    BOOST_TEST(r.ok(), r.describe());
    BOOST_TEST_MESSAGE("status:\n" << r.out);
    const auto l = lines(r.out);
    BOOST_REQUIRE(l.size() >= 10u);
    BOOST_TEST(has(l[0], "providers (rates per hour"), l[0]);
    BOOST_TEST(l[1].starts_with("PROVIDER  CONFIGURED  ALLOWED  LEVEL  SUSPENDED UNTIL"), l[1]);
    // Rows in name order; numbers right-aligned under their headings.
    BOOST_TEST(l[2].starts_with("gmail"), l[2]);
    BOOST_TEST(has(l[2], "3600    900.5      2  20"), l[2]);
    BOOST_TEST(has(l[2], "1234  never"), l[2]);
    BOOST_TEST(l[3].starts_with("yahoo"), l[3]);
    BOOST_TEST(has(l[3], "1800        -      0  -"), l[3]);
    BOOST_TEST(has(r.out, "last 4xx reply per provider:\n  gmail (2m5s ago): 451 4.7.28 ?[2Jrate limited"), r.out);
    BOOST_TEST(!has(r.out, "\x1b"), "a terminal escape reached the table");
    BOOST_TEST(has(r.out, "customer usage (used/limit per window, as of now)\n"), r.out);
    BOOST_TEST(has(r.out, "RULE          KEY    WINDOW  USED/LIMIT  REFUSED  FIRST REFUSED"), r.out);
    BOOST_TEST(has(r.out, "per-customer  alice  1h          17/600        2  20"), r.out);
    BOOST_TEST(has(r.out, "\n                     1d       412/10000\n"), r.out);
    BOOST_TEST(has(r.out, "1 rate bucket (used/burst per window, as of now)\n"), r.out);
    // A row without its windows (as sendguard-policyd wrote them before it kept them).
    BOOST_TEST(has(r.out, "per-customer  alice  -                ?  -  "), r.out);
    BOOST_TEST(r.err.empty(), r.err);
}

BOOST_AUTO_TEST_CASE(status_json_is_one_document) {
    Site s;
    const int64_t t = now_us();
    fill(s, t);
    auto r = s.cli({"status", "--json"});
    BOOST_TEST(r.ok(), r.describe());
    BOOST_TEST(std::count(r.out.begin(), r.out.end(), '\n') == 1, "not one line: " << r.out);
    auto j = json_eval(r.out, {
                                  "d['empty']",
                                  "[p['provider'] for p in d['providers']]",
                                  "d['providers'][0]['configured_per_hour']",
                                  "d['providers'][0]['allowed_per_hour']",
                                  "d['providers'][0]['effective_per_hour']",
                                  "d['providers'][0]['in_backoff']",
                                  "d['providers'][0]['level']",
                                  "d['providers'][0]['suspended']",
                                  "d['providers'][0]['last_reply']",  // the store cleaned the escape
                                  "d['providers'][0]['last_reply_age_s'] >= 125",
                                  "d['providers'][0]['last_reply_at'] == " + std::to_string(t - 125'000'000),
                                  "[d['providers'][0][k] for k in ('deferrals', 'rate_signals', 'successes')]",
                                  "d['providers'][1]['in_backoff']",
                                  "d['providers'][1]['effective_per_hour']",
                                  "d['providers'][1]['last_reply_age_s']",
                                  "[(u['rule'], u['key'], u['refused']) for u in d['usage']]",
                                  "[(w['period'], w['used'], w['limit']) for w in d['usage'][0]['windows']]",
                                  "d['buckets']",
                              });
    BOOST_REQUIRE_MESSAGE(j.ok(), "not JSON: " << j.err << "\n" << r.out);
    const std::vector<std::string> want = {
        "false",
        "[\"gmail\", \"yahoo\"]",
        "3600",
        "900.5",
        "900.5",
        "true",
        "2",
        "true",
        "\"451 4.7.28 ?[2Jrate limited, try again later\"",
        "true",
        "true",
        "[7, 3, 1234]",
        "false",
        "1800",
        "null",
        "[[\"per-customer\", \"alice\", 2]]",
        "[[\"1h\", 17, 600], [\"1d\", 412, 10000]]",
        "1",
    };
    const auto got = lines(j.out);
    BOOST_REQUIRE(got.size() == want.size());
    for (size_t i = 0; i < want.size(); ++i) BOOST_TEST(got[i] == want[i], "field " << i << ": got " << got[i] << ", want " << want[i]);
}

// Usage and buckets as of now, not as stored: a count taken in a window
// that has ended shows 0 (the stored one stays in the JSON as used_stored),
// a bucket shows what its GCRA state still holds now; each row says when it
// last changed.
BOOST_AUTO_TEST_CASE(status_shows_usage_as_of_now) {
    Site s;
    const int64_t now = now_us();
    const int64_t hour = 3'600'000'000LL;
    {
        store::ThrottleState ts(s.env());
        store::UsageState u;
        u.rule = "per-customer";
        u.key = "yesterday";
        u.windows = {{3600, 600, 17}, {86400, 10000, 412}};
        u.updated = now - 2 * 24 * hour;  // two days ago: both windows ended
        store::BucketState drained{"gmail", "gmail", {now - 1'000'000}, now - 2 * hour};
        drained.windows = {{600, hour, 20}};  // T = 6 s
        store::BucketState busy{"gmx", "gmx", {now + 60'000'000, now + 60'000'000}, now};
        busy.windows = {{600, hour, 20}, {10, hour, 10}};  // T = 6 s, T = 360 s
        busy.refused_since = now - 30'000'000;
        busy.refused = 4;
        BOOST_TEST(ts.write_batch({}, {drained, busy}, {u}).empty());
    }
    auto r = s.cli({"status"});
    BOOST_TEST(r.ok(), r.describe());
    BOOST_TEST_MESSAGE("status:\n" << r.out);
    BOOST_TEST(has(r.out, "per-customer  yesterday  1h           0/600"), r.out);
    BOOST_TEST(has(r.out, "1d         0/10000"), r.out);
    BOOST_TEST(has(r.out, "2 rate buckets (used/burst per window, as of now)\n"), r.out);
    BOOST_TEST(has(r.out, "RULE   KEY    WINDOW          USED/BURST  REFUSED SINCE         UPDATED"), r.out);
    BOOST_TEST(has(r.out, "gmail  gmail  600/h burst 20        0/20  -                     2h ago"), r.out);
    BOOST_TEST(has(r.out, "gmx    gmx    600/h burst 20       10/20  "), r.out);
    BOOST_TEST(has(r.out, "              10/h                  1/10\n"), r.out);

    auto j = s.cli({"status", "--json"});
    BOOST_TEST(j.ok(), j.describe());
    auto v = json_eval(j.out, {
                                  "[(w['used'], w['used_stored']) for w in d['usage'][0]['windows']]",
                                  "d['usage'][0]['updated'] == " + std::to_string(now - 2 * 24 * hour),
                                  "[b['rule'] for b in d['rate_buckets']]",
                                  "[(w['limit'], w['used'], w['burst']) for w in d['rate_buckets'][0]['windows']]",
                                  "[(w['limit'], w['used'], w['burst']) for w in d['rate_buckets'][1]['windows']]",
                                  "d['rate_buckets'][1]['refused_since'] == " + std::to_string(now - 30'000'000),
                                  "d['rate_buckets'][1]['refused']",
                                  "d['rate_buckets'][1]['updated'] == " + std::to_string(now),
                              });
    BOOST_REQUIRE_MESSAGE(v.ok(), "not JSON: " << v.err << "\n" << j.out);
    const std::vector<std::string> want = {
        "[[0, 17], [0, 412]]",
        "true",
        "[\"gmail\", \"gmx\"]",
        "[[\"600/h burst 20\", 0, 20]]",
        "[[\"600/h burst 20\", 10, 20], [\"10/h\", 1, 10]]",
        "true",
        "4",
        "true",
    };
    const auto got = lines(v.out);
    BOOST_REQUIRE(got.size() == want.size());
    for (size_t i = 0; i < want.size(); ++i)
        BOOST_TEST(got[i] == want[i], "field " << i << ": got " << got[i] << ", want " << want[i]);
}

BOOST_AUTO_TEST_CASE(backoff_clear_sets_cleared_at) {
    Site s;
    fill(s, now_us());
    const int64_t before = now_us();
    auto r = s.cli({"backoff", "clear", "gmail"});
    const int64_t after = now_us();
    BOOST_TEST(r.ok(), r.describe());
    BOOST_TEST(r.out == "gmail: backoff cleared; sendguard-policyd restores the configured rate (3600/h) at its next store check, within 5 seconds\n",
               r.out);
    BOOST_TEST(has(r.err, "sendguard/cli: backoff: action=clear, provider=gmail, uid="), r.err);
    BOOST_TEST(has(r.err, "result=cleared"), r.err);
    {
        store::ThrottleState ts(s.env());
        auto g = ts.get_provider("gmail");
        BOOST_REQUIRE(g);
        BOOST_TEST(g->cleared_at >= before);
        BOOST_TEST(g->cleared_at <= after);
        BOOST_TEST(g->level == 0u);
        BOOST_TEST(g->allowed_per_hour == 0.0);
        BOOST_TEST(g->suspended_until == 0);
        BOOST_TEST(g->deferrals == 7u, "counters stay");
        BOOST_TEST(ts.get_provider("yahoo")->cleared_at == 0, "another provider was cleared");
    }
    // status shows the configured rate at once.
    auto st = s.cli({"status"});
    BOOST_TEST(st.ok(), st.describe());
    const auto l = lines(st.out);
    BOOST_REQUIRE(l.size() > 2u);
    BOOST_TEST(has(l[2], "3600        -      0  -"), l[2]);
    BOOST_TEST(has(l[2], "s ago"), "CLEARED column: " << l[2]);
}

BOOST_AUTO_TEST_CASE(an_unknown_provider_is_refused_with_the_known_ones) {
    Site s;
    fill(s, now_us());
    auto r = s.cli({"backoff", "clear", "hotmail"});
    BOOST_TEST(r.status.code == 2, r.describe());
    BOOST_TEST(r.out.empty(), r.out);
    BOOST_TEST(has(r.err, "sendguard: backoff clear: unknown provider hotmail; known providers: gmail, yahoo\n"), r.err);
    BOOST_TEST(has(r.err, "result=unknown"), r.err);
    store::ThrottleState ts(s.env());
    BOOST_TEST(!ts.get_provider("hotmail"), "a row was created");
    BOOST_TEST(ts.get_provider("gmail")->level == 2u);

    // Bad arguments are usage errors too.
    for (std::vector<std::string> args : {std::vector<std::string>{"backoff"},
                                          {"backoff", "clear"},
                                          {"backoff", "clear", "gmail", "yahoo"},
                                          {"backoff", "reset", "gmail"},
                                          {"status", "--bogus"}}) {
        auto b = s.cli(args);
        BOOST_TEST(b.status.code == 2, b.describe());
        BOOST_TEST(has(b.err, "usage: sendguard"), b.err);
    }
}

BOOST_AUTO_TEST_CASE(empty_state_says_so) {
    const std::string msg = "no throttle state yet (sendguard-policyd has not recorded any)";
    Site s;
    // No store at all: nothing is created by reading, or by a refused clear.
    auto r = s.cli({"status"});
    BOOST_TEST(r.ok(), r.describe());
    BOOST_TEST(r.out == msg + "\n", r.out);
    auto j = s.cli({"status", "--json"});
    BOOST_TEST(j.ok(), j.describe());
    BOOST_TEST(has(j.err, msg), j.err);
    auto e = json_eval(j.out, {"d['empty']", "d['providers']", "d['usage']"});
    BOOST_TEST(e.ok(), e.err << j.out);
    BOOST_TEST(e.out == "true\n[]\n[]\n", e.out);
    auto c = s.cli({"backoff", "clear", "gmail"});
    BOOST_TEST(c.status.code == 2, c.describe());
    BOOST_TEST(has(c.err, "unknown provider gmail: " + msg), c.err);
    struct stat st {};
    BOOST_TEST(::stat(s.lib.c_str(), &st) != 0, "a read created " << s.lib);

    // A store the suppression list uses, without throttle tables yet.
    auto a = s.cli({"suppress", "add", "bob@example.net"});
    BOOST_REQUIRE_MESSAGE(a.ok(), a.describe());
    r = s.cli({"status"});
    BOOST_TEST(r.ok(), r.describe());
    BOOST_TEST(r.out == msg + "\n", r.out);
    c = s.cli({"backoff", "clear", "gmail"});
    BOOST_TEST(c.status.code == 2, c.describe());
    BOOST_TEST(has(c.err, "unknown provider gmail; " + msg), c.err);
}

BOOST_AUTO_TEST_CASE(a_bad_row_is_reported_by_its_key) {
    Site s;
    fill(s, now_us());
    {
        auto env = s.env();
        const MDB_dbi db = env->dbi(std::string(store::kThrottleProvidersDb));
        env->write([&](store::WriteTxn& w) { w.put(db, "outlook", std::string("\x09newer", 6)); });
    }
    auto r = s.cli({"status"});
    BOOST_TEST(r.status.code == 3, r.describe());
    BOOST_TEST(has(r.err, "throttle_providers row outlook: value does not decode"), r.err);
    auto c = s.cli({"backoff", "clear", "outlook"});
    BOOST_TEST(c.status.code == 3, c.describe());
    BOOST_TEST(has(c.err, "throttle_providers row outlook"), c.err);
}

BOOST_AUTO_TEST_SUITE_END()
