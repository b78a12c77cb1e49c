// test_store_throttle.cc - ThrottleState: round trips, value versions and
// bad values, limits, write_batch (all or nothing, clears kept), purge,
// mark_cleared, read-only readers and a full map
#include <boost/test/unit_test.hpp>

#include <bit>
#include <cstdio>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "common/store/le_codec.h"
#include "common/store/throttle.h"
#include "tests/unit/test_store_support.h"

using store_test::TempDir;
using store_test::test_opts;

namespace {

store::ProviderState provider(std::string name, int64_t updated) {
    store::ProviderState p;
    p.provider = std::move(name);
    p.configured_per_hour = 3600;
    p.allowed_per_hour = 900.5;
    p.level = 2;
    p.suspended_until = updated + 60'000'000;
    p.last_signal = updated - 5'000'000;
    p.last_change = updated - 4'000'000;
    p.last_reply = "451 4.7.28 Our system has detected an unusual rate";
    p.last_reply_at = updated - 5'000'000;
    p.deferrals = 7;
    p.rate_signals = 3;
    p.successes = 1234;
    p.cleared_at = 0;
    p.updated = updated;
    return p;
}

store::BucketState bucket(std::string rule, std::string key, int64_t updated) {
    return {std::move(rule), std::move(key), {updated + 6'000'000, updated + 8'640'000}, updated};
}

store::UsageState usage(std::string rule, std::string key, int64_t updated) {
    store::UsageState u;
    u.rule = std::move(rule);
    u.key = std::move(key);
    u.windows = {{3600, 600, 17}, {86400, 10000, 412}};
    u.refused = 2;
    u.first_refused_at = updated - 1'000'000;
    u.updated = updated;
    return u;
}

// Writes raw bytes under a key, bypassing ThrottleState's checks.
void put_raw(store::Env& env, std::string_view db, std::string_view key, std::string_view value) {
    const MDB_dbi dbi = env.dbi(std::string(db));
    env.write([&](store::WriteTxn& w) { w.put(dbi, key, value); });
}

template <class Fn>
std::string error_of(store::Error::Kind want, Fn&& fn) {
    try {
        fn();
    } catch (const store::Error& e) {
        BOOST_TEST((e.kind() == want), "got kind " << store::to_string(e.kind()) << ": " << e.what()
                                                   << ", want " << store::to_string(want));
        return e.what();
    }
    BOOST_FAIL("no store::Error of kind " << store::to_string(want));
    return {};
}

std::vector<std::string> names(const store::ThrottleState& ts) { return ts.provider_names(); }

}  // namespace

BOOST_AUTO_TEST_SUITE(store_throttle)

BOOST_AUTO_TEST_CASE(round_trips) {
    TempDir td;
    store::ThrottleState ts(store::Env::open(td.env_dir(), test_opts()));
    const int64_t t = 1'764'000'000'000'000;

    BOOST_TEST(!ts.get_provider("gmail"));
    ts.put_provider(provider("yahoo", t));
    ts.put_provider(provider("gmail", t + 1));
    auto g = ts.get_provider("gmail");
    BOOST_REQUIRE(g);
    BOOST_TEST((*g == provider("gmail", t + 1)));
    BOOST_TEST((names(ts) == std::vector<std::string>{"gmail", "yahoo"}));

    // The same rule with keys that are prefixes of one another, an empty key,
    // and a key with a NUL in it: each its own row.
    ts.put_bucket(bucket("per-customer", "alice", t));
    ts.put_bucket(bucket("per-customer", "alice+example.org", t + 1));
    ts.put_bucket(bucket("per-customer", "", t + 2));
    ts.put_bucket(bucket("per", std::string("x\0y", 3), t + 3));
    auto b = ts.get_bucket("per-customer", "alice+example.org");
    BOOST_REQUIRE(b);
    BOOST_TEST((*b == bucket("per-customer", "alice+example.org", t + 1)));
    BOOST_TEST(!ts.get_bucket("per-customer", "alic"));
    auto nul = ts.get_bucket("per", std::string("x\0y", 3));
    BOOST_REQUIRE(nul);
    BOOST_TEST(nul->key.size() == 3u);

    std::vector<store::BucketState> seen;
    ts.for_each_bucket([&](const store::BucketState& s) {
        seen.push_back(s);
        return true;
    });
    BOOST_REQUIRE(seen.size() == 4u);
    // (rule, key) order: "per" sorts before "per-customer" because the NUL
    // separator sorts before '-'.
    BOOST_TEST(seen[0].rule == "per");
    BOOST_TEST(seen[1].rule == "per-customer");
    BOOST_TEST(seen[1].key == "");
    BOOST_TEST(seen[2].key == "alice");
    BOOST_TEST((seen[3] == bucket("per-customer", "alice+example.org", t + 1)));

    ts.put_usage(usage("per-customer", "alice", t));
    auto u = ts.get_usage("per-customer", "alice");
    BOOST_REQUIRE(u);
    BOOST_TEST((*u == usage("per-customer", "alice", t)));
    // Buckets and usage are separate tables.
    BOOST_TEST(!ts.get_usage("per-customer", "alice+example.org"));

    // A visit returning false stops the scan.
    int visits = 0;
    ts.for_each_provider([&](const store::ProviderState&) { return ++visits < 1; });
    BOOST_TEST(visits == 1);

    BOOST_TEST(ts.erase_provider("gmail"));
    BOOST_TEST(!ts.erase_provider("gmail"));
    BOOST_TEST(ts.erase_bucket("per-customer", "alice"));
    BOOST_TEST(!ts.get_bucket("per-customer", "alice"));
    BOOST_TEST(ts.erase_usage("per-customer", "alice"));
    BOOST_TEST(!ts.erase_usage("per-customer", "alice"));
    BOOST_TEST((names(ts) == std::vector<std::string>{"yahoo"}));
}

BOOST_AUTO_TEST_CASE(scans_cross_batches) {
    TempDir td;
    store::ThrottleState ts(store::Env::open(td.env_dir(), test_opts()));
    const size_t n = store::kScanBatch * 2 + 7;
    std::vector<store::UsageState> rows;
    for (size_t i = 0; i < n; ++i) rows.push_back(usage("r", "k" + std::to_string(i), 1000));
    ts.write_batch({}, {}, rows);
    size_t count = 0;
    std::string last;
    bool ordered = true;
    ts.for_each_usage([&](const store::UsageState& u) {
        ordered = ordered && (count == 0 || u.key > last);
        last = u.key;
        ++count;
        return true;
    });
    BOOST_TEST(count == n, "got " << count << " rows, want " << n);
    BOOST_TEST(ordered);
}

BOOST_AUTO_TEST_CASE(value_layout_is_pinned) {
    // Version 1 bucket (still read): version, updated, count, tat_us (all
    // little-endian); it reads as no refusal and no windows.
    const std::string v1 = std::string("\x01", 1) + std::string("\x88\x77\x66\x55\x44\x33\x22\x11", 8) +
                           std::string("\x02", 1) + std::string("\x02\x01\0\0\0\0\0\0", 8) +
                           std::string(8, '\xff');
    const auto old = store::decode_bucket(v1);
    BOOST_REQUIRE(old.has_value());
    BOOST_TEST(old->updated == 0x1122334455667788);
    BOOST_TEST((old->tat_us == std::vector<int64_t>{0x0102, -1}));
    BOOST_TEST(old->refused_since == 0);
    BOOST_TEST(old->refused == 0u);
    BOOST_TEST(old->windows.empty());
    // Version 2: version, updated, refused_since, refused, count, tat_us,
    // window count, windows (count, period_us, burst).
    store::BucketState b{"r", "k", {0x0102}, 0x1122334455667788};
    b.refused_since = 0x0a0b;
    b.refused = 3;
    b.windows = {{600, 3'600'000'000, 20}};
    const std::string v = store::encode_bucket(b);
    auto le = [](uint64_t x) {
        std::string o;
        store::put_le(o, x);
        return o;
    };
    const std::string want = std::string("\x02", 1) + le(0x1122334455667788) + le(0x0a0b) + le(3) +
                             std::string("\x01", 1) + le(0x0102) + std::string("\x01", 1) + le(600) +
                             le(3'600'000'000) + le(20);
    BOOST_TEST(v == want);
    auto back = store::decode_bucket(v);
    BOOST_REQUIRE(back.has_value());
    back->rule = "r";
    back->key = "k";
    BOOST_TEST((*back == b));
    // Provider: the rate is the IEEE 754 bits of the double.
    store::ProviderState p;
    p.configured_per_hour = 1.0;
    const std::string pv = store::encode_provider(p);
    BOOST_TEST(pv.size() == 1u + 8 + 8 + 4 + 3 * 8 + 2 + 8 + 3 * 8 + 8 + 8);
    BOOST_TEST(store::get_le<uint64_t>(pv.data() + 1) == 0x3ff0000000000000u);
}

BOOST_AUTO_TEST_CASE(bad_values_do_not_decode) {
    const std::string pv = store::encode_provider(provider("p", 5));
    const std::string bv = store::encode_bucket(bucket("r", "k", 5));
    const std::string uv = store::encode_usage(usage("r", "k", 5));
    BOOST_TEST(store::decode_provider(pv).has_value());
    BOOST_TEST(store::decode_bucket(bv).has_value());
    BOOST_TEST(store::decode_usage(uv).has_value());

    struct Case {
        const char* what;
        std::string value;
    };
    auto other_version = [](std::string v) {
        v[0] = 2;
        return v;
    };
    const std::vector<Case> provider_cases = {
        {"empty", ""},
        {"version 2", other_version(pv)},
        {"truncated", pv.substr(0, pv.size() - 1)},
        {"trailing byte", pv + "x"},
        {"reply length past the end", pv.substr(0, 1 + 8 + 8 + 4 + 24) + std::string("\xff\x7f", 2)},
    };
    for (const auto& c : provider_cases)
        BOOST_TEST(!store::decode_provider(c.value), "provider value decoded: " << c.what);
    // A NaN rate is not a rate.
    std::string nan = pv;
    std::string bits;
    store::put_le(bits, std::bit_cast<uint64_t>(std::numeric_limits<double>::quiet_NaN()));
    nan.replace(9, 8, bits);
    BOOST_TEST(!store::decode_provider(nan), "NaN allowed_per_hour decoded");

    std::string many = bv;
    many[25] = static_cast<char>(store::kThrottleMaxWindows + 1);  // after updated, refused_since, refused
    store::BucketState windowed = bucket("r", "k", 5);
    windowed.windows = {{600, 3'600'000'000, 20}, {10000, 86'400'000'000, 10000}};
    const std::string wv = store::encode_bucket(windowed);
    BOOST_TEST(store::decode_bucket(wv).has_value());
    std::string zero_burst = wv;
    zero_burst.replace(wv.size() - 8, 8, std::string(8, '\0'));
    std::string half = wv;
    half[1 + 24 + 1 + 16] = 1;  // one window for two TATs
    const std::vector<Case> bucket_cases = {
        {"empty", ""}, {"version 0", std::string(1, '\0') + bv.substr(1)},
        {"version 3", std::string(1, '\3') + bv.substr(1)},
        {"truncated", bv.substr(0, bv.size() - 3)}, {"trailing byte", bv + "x"},
        {"too many windows", many}, {"a window of burst 0", zero_burst},
        {"window count not the TAT count", half},
    };
    for (const auto& c : bucket_cases)
        BOOST_TEST(!store::decode_bucket(c.value), "bucket value decoded: " << c.what);
    const std::vector<Case> usage_cases = {
        {"version 2", other_version(uv)}, {"truncated", uv.substr(0, 20)},
        {"trailing byte", uv + "x"}, {"header only", uv.substr(0, 1)},
    };
    for (const auto& c : usage_cases)
        BOOST_TEST(!store::decode_usage(c.value), "usage value decoded: " << c.what);
}

BOOST_AUTO_TEST_CASE(a_bad_stored_value_is_an_error_naming_the_key) {
    TempDir td;
    auto env = store::Env::open(td.env_dir(), test_opts());
    store::ThrottleState ts(env);
    ts.put_provider(provider("gmail", 1));
    put_raw(*env, store::kThrottleProvidersDb, "outlook", std::string("\x07garbage", 8));
    put_raw(*env, store::kThrottleUsageDb, std::string("rule1\0cust\x1b", 11), "\x01");

    std::string what = error_of(store::Error::Kind::Format, [&] { ts.get_provider("outlook"); });
    BOOST_TEST(what.find("throttle_providers row outlook") != std::string::npos, what);
    what = error_of(store::Error::Kind::Format, [&] {
        ts.for_each_provider([](const store::ProviderState&) { return true; });
    });
    BOOST_TEST(what.find("outlook") != std::string::npos, what);
    // The key is cleaned: no escape reaches a terminal.
    what = error_of(store::Error::Kind::Format, [&] { ts.get_usage("rule1", "cust\x1b"); });
    BOOST_TEST(what.find("throttle_usage row rule1/cust?") != std::string::npos, what);
    BOOST_TEST(what.find('\x1b') == std::string::npos, what);
    // A good row beside them still reads.
    BOOST_TEST(ts.get_provider("gmail").has_value());
    // A bucket key without the separator is not a row ThrottleState wrote.
    put_raw(*env, store::kThrottleBucketsDb, "nosep", store::encode_bucket(bucket("a", "b", 1)));
    what = error_of(store::Error::Kind::Format, [&] {
        ts.for_each_bucket([](const store::BucketState&) { return true; });
    });
    BOOST_TEST(what.find("throttle_buckets row nosep") != std::string::npos, what);
}

BOOST_AUTO_TEST_CASE(limits_are_checked_before_writing) {
    TempDir td;
    store::ThrottleState ts(store::Env::open(td.env_dir(), test_opts()));
    error_of(store::Error::Kind::BadKey, [&] { ts.put_provider(provider("", 1)); });
    error_of(store::Error::Kind::BadKey,
             [&] { ts.put_provider(provider(std::string(store::kThrottleMaxName + 1, 'p'), 1)); });
    ts.put_provider(provider(std::string(store::kThrottleMaxName, 'p'), 1));  // at the limit
    error_of(store::Error::Kind::BadKey, [&] { ts.put_bucket(bucket("", "k", 1)); });
    error_of(store::Error::Kind::BadKey, [&] { ts.put_bucket(bucket(std::string("a\0b", 3), "k", 1)); });
    error_of(store::Error::Kind::BadKey,
             [&] { ts.put_usage(usage("r", std::string(store::kThrottleMaxKey + 1, 'k'), 1)); });
    // The longest rule with the longest key is a key LMDB takes.
    ts.put_usage(usage(std::string(store::kThrottleMaxRule, 'r'), std::string(store::kThrottleMaxKey, 'k'), 1));
    BOOST_TEST(ts.get_usage(std::string(store::kThrottleMaxRule, 'r'), std::string(store::kThrottleMaxKey, 'k')).has_value());

    store::BucketState wide = bucket("r", "k", 1);
    wide.tat_us.assign(store::kThrottleMaxWindows + 1, 5);
    std::string what = error_of(store::Error::Kind::Usage, [&] { ts.put_bucket(wide); });
    BOOST_TEST(what.find("windows") != std::string::npos, what);
    store::ProviderState neg = provider("neg", 1);
    neg.configured_per_hour = -1;
    error_of(store::Error::Kind::Usage, [&] { ts.put_provider(neg); });
    neg.configured_per_hour = std::numeric_limits<double>::infinity();
    error_of(store::Error::Kind::Usage, [&] { ts.put_provider(neg); });
    BOOST_TEST(!ts.get_provider("neg"));
    BOOST_TEST(!ts.get_bucket("r", "k"));

    // The last reply is remote text: capped at a character boundary, no escapes.
    store::ProviderState p = provider("long", 1);
    p.last_reply = "\x1b[31m" + std::string(store::kThrottleMaxReply, 'a') + "\xc3\xa9";
    ts.put_provider(p);
    auto got = ts.get_provider("long");
    BOOST_REQUIRE(got);
    BOOST_TEST(got->last_reply.size() <= store::kThrottleMaxReply);
    BOOST_TEST(got->last_reply.substr(0, 5) == "?[31m");
}

BOOST_AUTO_TEST_CASE(write_batch_is_one_unit) {
    TempDir td;
    store::ThrottleState ts(store::Env::open(td.env_dir(), test_opts()));
    auto cleared = ts.write_batch({provider("gmail", 10), provider("yahoo", 10)},
                                  {bucket("r1", "a", 10), bucket("r1", "b", 10)},
                                  {usage("r1", "a", 10)});
    BOOST_TEST(cleared.empty());
    BOOST_TEST(ts.get_provider("yahoo").has_value());
    BOOST_TEST(ts.get_bucket("r1", "b").has_value());
    BOOST_TEST(ts.get_usage("r1", "a").has_value());

    // One bad row fails the batch before anything is written.
    store::UsageState bad = usage("r1", "c", 20);
    bad.windows.resize(store::kThrottleMaxWindows + 1);
    error_of(store::Error::Kind::Usage, [&] {
        ts.write_batch({provider("outlook", 20)}, {bucket("r2", "x", 20)}, {usage("r1", "b", 20), bad});
    });
    BOOST_TEST(!ts.get_provider("outlook"));
    BOOST_TEST(!ts.get_bucket("r2", "x"));
    BOOST_TEST(!ts.get_usage("r1", "b"));
}

BOOST_AUTO_TEST_CASE(a_flush_never_undoes_a_clear) {
    TempDir td;
    store::ThrottleState ts(store::Env::open(td.env_dir(), test_opts()));
    ts.write_batch({provider("gmail", 100), provider("yahoo", 100)}, {}, {});

    BOOST_TEST(!ts.mark_cleared("hotmail", 200), "an unknown provider was cleared");
    BOOST_TEST(!ts.get_provider("hotmail"), "mark_cleared created a row");
    auto c = ts.mark_cleared("gmail", 200);
    BOOST_REQUIRE(c);
    BOOST_TEST(c->cleared_at == 200);
    BOOST_TEST(c->allowed_per_hour == 0.0);
    BOOST_TEST(c->level == 0u);
    BOOST_TEST(c->suspended_until == 0);
    BOOST_TEST(c->configured_per_hour == 3600.0);
    BOOST_TEST(c->deferrals == 7u, "the counters stay");
    BOOST_TEST((*ts.get_provider("gmail") == *c));

    // policyd flushes its in-memory state, which has not seen the clear yet:
    // the stored row is kept and reported, the other provider is written.
    store::ProviderState stale = provider("gmail", 300);
    store::ProviderState y = provider("yahoo", 300);
    y.level = 5;
    auto back = ts.write_batch({stale, y}, {}, {});
    BOOST_REQUIRE(back.size() == 1u);
    BOOST_TEST(back[0].provider == "gmail");
    BOOST_TEST(back[0].cleared_at == 200);
    BOOST_TEST(ts.get_provider("gmail")->level == 0u);
    BOOST_TEST(ts.get_provider("yahoo")->level == 5u);

    // Having adopted the clear, policyd's next flush goes through.
    stale.cleared_at = 200;
    stale.level = 1;
    BOOST_TEST(ts.write_batch({stale}, {}, {}).empty());
    BOOST_TEST(ts.get_provider("gmail")->level == 1u);

    // A second clear is newer even when the clock went back.
    auto again = ts.mark_cleared("gmail", 150);
    BOOST_REQUIRE(again);
    BOOST_TEST(again->cleared_at == 201);
}

BOOST_AUTO_TEST_CASE(purge_drops_idle_buckets_and_usage) {
    TempDir td;
    auto env = store::Env::open(td.env_dir(), test_opts());
    store::ThrottleState ts(env);
    ts.write_batch({provider("gmail", 1)},
                   {bucket("r", "old", 100), bucket("r", "edge", 500), bucket("r", "new", 900)},
                   {usage("r", "old", 100), usage("r", "new", 900)});
    put_raw(*env, store::kThrottleUsageDb, std::string("r\0junk", 6), "\x09");
    const auto n = ts.purge(500);
    BOOST_TEST(n.buckets == 1u, "got " << n.buckets << " buckets purged, want 1");
    BOOST_TEST(n.usage == 2u, "got " << n.usage << " usage rows purged, want 2 (old, junk)");
    BOOST_TEST(!ts.get_bucket("r", "old"));
    BOOST_TEST(ts.get_bucket("r", "edge").has_value(), "updated == older_than is kept");
    BOOST_TEST(ts.get_bucket("r", "new").has_value());
    BOOST_TEST(!ts.get_usage("r", "old"));
    BOOST_TEST(ts.get_usage("r", "new").has_value());
    BOOST_TEST(ts.get_provider("gmail").has_value(), "provider rows are never purged");
    const auto none = ts.purge(500);
    BOOST_TEST(none.buckets + none.usage == 0u);
}

BOOST_AUTO_TEST_CASE(a_reader_of_a_store_policyd_never_wrote) {
    TempDir td;
    const std::string dir = td.env_dir();
    {
        store::SuppressionList list(store::Env::open(dir, test_opts()));
        store::Record r;
        r.suppressed = true;
        list.add("bob@example.net", r);
    }
    store::EnvOptions ro = test_opts();
    ro.read_only = true;
    {
        store::ThrottleState ts(store::Env::open(dir, ro));
        BOOST_TEST(!ts.get_provider("gmail"));
        BOOST_TEST(ts.provider_names().empty());
        int visits = 0;
        ts.for_each_usage([&](const store::UsageState&) { return ++visits > 0; });
        BOOST_TEST(visits == 0);
        BOOST_TEST(!ts.get_bucket("r", "k"));
        std::string what = error_of(store::Error::Kind::Usage, [&] { ts.mark_cleared("gmail", 1); });
        BOOST_TEST(what.find("read-only") != std::string::npos, what);
    }
    {
        store::ThrottleState w(store::Env::open(dir, test_opts()));
        w.put_provider(provider("gmail", 1));
    }
    store::ThrottleState ts(store::Env::open(dir, ro));
    BOOST_TEST((ts.provider_names() == std::vector<std::string>{"gmail"}));
}

BOOST_AUTO_TEST_CASE(a_full_map_commits_nothing) {
    TempDir td;
    auto env = store::Env::open(td.env_dir(), test_opts(64 << 10, 256 << 10));
    store::ThrottleState ts(env);
    ts.put_provider(provider("gmail", 1));
    std::vector<store::UsageState> big;
    for (int i = 0; i < 4000; ++i)
        big.push_back(usage("per-customer", "customer-" + std::to_string(i) + std::string(100, 'x'), 2));
    std::string what = error_of(store::Error::Kind::MapFull, [&] {
        ts.write_batch({provider("yahoo", 2)}, {bucket("r", "k", 2)}, big);
    });
    BOOST_TEST(what.find("max_map_size") != std::string::npos, what);
    BOOST_TEST(env->map_size() == size_t{256} << 10);
    BOOST_TEST(!ts.get_provider("yahoo"), "part of the failed batch was committed");
    BOOST_TEST(!ts.get_bucket("r", "k"));
    BOOST_TEST(!ts.get_usage("per-customer", big[0].key));
    // The store still works for small writes and reads.
    BOOST_TEST(ts.get_provider("gmail").has_value());
    BOOST_TEST(ts.mark_cleared("gmail", 3).has_value());
}

// A purge in steps looks at no more than max_rows rows per write txn and
// resumes where it stopped; what it deletes is what one purge() would.
BOOST_AUTO_TEST_CASE(purge_steps_are_bounded_batches) {
    TempDir td;
    auto env = store::Env::open(td.env_dir(), test_opts());
    store::ThrottleState ts(env);
    std::vector<store::BucketState> buckets;
    std::vector<store::UsageState> usage;
    for (int i = 0; i < 5000; ++i) {
        char key[16];
        std::snprintf(key, sizeof key, "c%05d", i);
        const int64_t updated = i % 10 == 0 ? 900 : 100;  // one in ten is recent
        buckets.push_back(bucket("r", key, updated));
        if (i < 1500) usage.push_back(::usage("r", key, updated));
    }
    ts.write_batch({}, buckets, usage);
    store::PurgeCursor c;
    size_t steps = 0;
    size_t deleted_before = 0;
    while (!ts.purge_step(500, c, 1000)) {
        ++steps;
        const size_t deleted = c.purged.buckets + c.purged.usage;
        BOOST_TEST(deleted - deleted_before <= 1000u, "one step deleted " << deleted - deleted_before);
        deleted_before = deleted;
        BOOST_REQUIRE(steps < 100);
    }
    // 5000 bucket rows in 5 steps (the 5th finds the end), 1500 usage rows in 2.
    BOOST_TEST(steps + 1 == 7u, "got " << steps + 1 << " steps, want 7");
    BOOST_TEST(c.purged.buckets == 4500u, "got " << c.purged.buckets);
    BOOST_TEST(c.purged.usage == 1350u, "got " << c.purged.usage);
    size_t left = 0;
    ts.for_each_bucket([&](const store::BucketState& b) {
        BOOST_TEST(b.updated == 900);
        ++left;
        return true;
    });
    BOOST_TEST(left == 500u);
    BOOST_TEST(ts.purge(500).buckets == 0u);
}

// Loading skips idle rows: live state sorted after a million idle rows
// would be hidden by a cap that counts them; here 3000 idle rows come first
// and a cap of 10 still finds the 5 live ones.
BOOST_AUTO_TEST_CASE(live_rows_skip_idle_rows_before_the_cap) {
    TempDir td;
    auto env = store::Env::open(td.env_dir(), test_opts());
    store::ThrottleState ts(env);
    const int64_t now = 1'800'000'000LL * 1'000'000;
    const int64_t hour = 3'600'000'000LL;
    std::vector<store::BucketState> buckets;
    std::vector<store::UsageState> usage;
    for (int i = 0; i < 3000; ++i) {
        char key[16];
        std::snprintf(key, sizeof key, "a%05d", i);  // before the live "z..." keys
        store::BucketState b{"r", key, {now - hour}, now - 2 * hour};
        b.windows = {{600, hour, 20}};
        buckets.push_back(b);
        store::UsageState u = ::usage("r", key, now - 2 * 86400 * 1'000'000LL);  // windows of 1h and 1d
        usage.push_back(u);
    }
    for (int i = 0; i < 5; ++i) {
        const std::string key = "z" + std::to_string(i);
        store::BucketState b{"r", key, {i == 0 ? now - 1 : now + 6'000'000}, now - 1'000'000};
        b.windows = {{600, hour, 20}};
        if (i == 0) b.refused_since = now - 60'000'000;  // TAT passed, refusal window still open
        buckets.push_back(b);
        usage.push_back(::usage("r", key, now - 60'000'000));
    }
    // A refusal long ago on a drained bucket is idle.
    store::BucketState old{"r", "b-old", {now - hour}, now - 2 * hour};
    old.windows = {{600, hour, 20}};
    old.refused_since = now - 2 * hour;
    buckets.push_back(old);
    ts.write_batch({}, buckets, usage);

    store::ThrottleState::LiveRows live;
    ts.live_rows(now, 10, live);
    BOOST_TEST(live.buckets.size() == 5u, "got " << live.buckets.size() << " live buckets, want 5");
    BOOST_TEST(live.usage.size() == 5u, "got " << live.usage.size() << " live usage rows, want 5");
    BOOST_TEST(live.idle_buckets == 3001u);
    BOOST_TEST(live.idle_usage == 3000u);
    BOOST_TEST(!live.capped);
    for (const auto& b : live.buckets) BOOST_TEST(b.key.front() == 'z', b.key);
    // The cap counts live rows only, and says when it cut.
    store::ThrottleState::LiveRows capped;
    ts.live_rows(now, 3, capped);
    BOOST_TEST(capped.buckets.size() == 3u);
    BOOST_TEST(capped.capped);
}

BOOST_AUTO_TEST_SUITE_END()
