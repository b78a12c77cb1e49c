// test_store_suppression.cc - suppression rules, manual entries, scans, blocks
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "tests/unit/test_store_support.h"

using store::Class;
using store_test::TempDir;
using store_test::event;
using store_test::test_opts;

namespace {

constexpr int64_t kDay = 86400;
constexpr int64_t kT0 = 1'700'000'000;

struct Fixture {
    TempDir td;
    std::shared_ptr<store::Env> env = store::Env::open(td.env_dir(), test_opts());
    store::SuppressionList list{env};
    store::Policy policy = store_test::default_policy();
};

}  // namespace

BOOST_AUTO_TEST_SUITE(store_suppression)

// The parameter table holds the defaults; a Policy carries none that could
// drift from it, and the one the programs build has the table's values.
BOOST_AUTO_TEST_CASE(policy_defaults_come_from_the_table_only) {
    const store::Policy bare;
    BOOST_TEST(bare.soft_threshold == 0);
    BOOST_TEST(bare.soft_window.count() == 0);
    BOOST_TEST(bare.soft_expiry.count() == 0);
    BOOST_TEST(bare.domain_threshold == 0);
    BOOST_TEST(bare.max_diagnostic == 0u);
    const config::Config d = config::Config::defaults();
    const store::Policy p = store_test::default_policy();
    BOOST_TEST(p.soft_threshold == d.integer("bounce_soft_threshold"));
    BOOST_TEST(p.soft_window == d.duration("bounce_soft_window"));
    BOOST_TEST(p.soft_expiry == d.duration("bounce_soft_expiry"));
    BOOST_TEST(p.domain_threshold == d.integer("bounce_domain_threshold"));
    BOOST_TEST(p.max_diagnostic == d.size("bounce_diagnostic_limit"));
    BOOST_TEST(p.reason_expiry.size() == d.duration_map("bounce_reason_expiry").entries.size());
}

BOOST_FIXTURE_TEST_CASE(hard_and_complaint_suppress_at_once, Fixture) {
    struct {
        Class klass;
        std::string reason;
        bool want;
    } cases[] = {
        {Class::Hard, "userunknown", true},
        {Class::Complaint, "abuse", true},
        {Class::Manual, "operator", true},
        {Class::Soft, "mailboxfull", false},
    };
    int i = 0;
    for (const auto& c : cases) {
        const std::string addr = "a" + std::to_string(i++) + "@example.com";
        const store::Outcome o = list.record(event(addr, c.klass, c.reason, kT0), policy);
        BOOST_TEST(o.suppressed == c.want, store::to_string(c.klass) << ": suppressed got "
                                                                     << o.suppressed << ", want " << c.want);
        BOOST_TEST(o.newly_suppressed == c.want);
        BOOST_TEST(bool(list.check(addr, kT0 + 1)) == c.want, store::to_string(c.klass) << ": check");
        BOOST_TEST(o.record.reason == c.reason);
        BOOST_TEST((o.record.klass == c.klass));
        // A second event of the same kind is not "newly" suppressed.
        const store::Outcome again = list.record(event(addr, c.klass, c.reason, kT0 + 5), policy);
        BOOST_TEST(!(again.newly_suppressed && c.want), "repeat counted as newly suppressed");
        BOOST_TEST(again.record.count == 2u);
    }
    // The same report again (a retried delivery) changes nothing.
    const store::Outcome repeat =
        list.record(event("a0@example.com", Class::Hard, "userunknown", kT0 + 7, "Q" + std::to_string(kT0 + 5)), policy);
    BOOST_TEST(repeat.record.count == 2u, "a repeated report was counted");
    auto r = list.check("a0@example.com", kT0 + 10);
    BOOST_REQUIRE(r);
    BOOST_TEST(r->status == "5.1.1");
    BOOST_TEST(r->evidence == "Q" + std::to_string(kT0 + 5));
    BOOST_TEST(r->first_seen == kT0);
    BOOST_TEST(r->last_seen == kT0 + 5);
    BOOST_TEST(r->expiry == 0, "hard_expiry 0 means never, got " << r->expiry);
}

BOOST_FIXTURE_TEST_CASE(soft_suppresses_after_threshold_in_window, Fixture) {
    // Each row: offsets (days) of soft events; whether the last one
    // suppresses; the window count and total count after it. A pending record
    // whose window closed reads as absent, so its count starts again too.
    struct {
        std::string name;
        std::vector<int64_t> days;
        bool want;
        uint32_t want_window_count, want_count;
    } cases[] = {
        {"one", {0}, false, 1, 1},
        {"two", {0, 1}, false, 2, 2},
        {"three in a week", {0, 1, 2}, true, 3, 3},
        {"four in a week", {0, 1, 2, 3}, true, 4, 4},
        {"three spread over 8 days", {0, 4, 8}, false, 1, 1},  // window restarts at day 8
        {"restart then three", {0, 8, 9, 10}, true, 3, 3},
        {"exactly at window end", {0, 1, 7}, false, 1, 1},
        {"just inside the window", {0, 1, 6}, true, 3, 3},
    };
    int i = 0;
    for (const auto& c : cases) {
        const std::string addr = "s" + std::to_string(i++) + "@soft.example";
        store::Outcome o;
        for (int64_t d : c.days)
            o = list.record(event(addr, Class::Soft, "mailboxfull", kT0 + d * kDay), policy);
        BOOST_TEST(o.suppressed == c.want, c.name << ": got " << o.suppressed << ", want " << c.want);
        BOOST_TEST(o.record.window_count == c.want_window_count,
                   c.name << ": window_count got " << o.record.window_count << ", want "
                          << c.want_window_count);
        BOOST_TEST(o.record.count == c.want_count,
                   c.name << ": count got " << o.record.count << ", want " << c.want_count);
        const int64_t now = kT0 + c.days.back() * kDay + 1;
        BOOST_TEST(bool(list.check(addr, now)) == c.want, c.name << ": check");
    }
}

BOOST_FIXTURE_TEST_CASE(expiry_and_class_precedence, Fixture) {
    policy.reason_expiry.clear();  // the class's expiry, not bounce_reason_expiry's mailboxfull=14d
    policy.soft_expiry = std::chrono::seconds(30 * kDay);
    policy.complaint_expiry = std::chrono::seconds(90 * kDay);
    const std::string s = "soft@exp.example";
    for (int d = 0; d < 3; ++d)
        list.record(event(s, Class::Soft, "mailboxfull", kT0 + d), policy);
    auto r = list.check(s, kT0 + 10);
    BOOST_REQUIRE(r);
    BOOST_TEST(r->expiry == kT0 + 2 + 30 * kDay);
    BOOST_TEST(bool(list.check(s, kT0 + 2 + 30 * kDay - 1)), "suppression ended early");
    BOOST_TEST(!list.check(s, kT0 + 2 + 30 * kDay), "expired entry still suppresses");
    // After expiry the next soft bounce starts afresh.
    auto o = list.record(event(s, Class::Soft, "mailboxfull", kT0 + 40 * kDay), policy);
    BOOST_TEST(!o.suppressed);
    BOOST_TEST(o.record.count == 1u, "count got " << o.record.count << ", want 1 (fresh record)");

    // Weaker classes do not override a stronger active suppression.
    const std::string c = "complaint@exp.example";
    list.record(event(c, Class::Complaint, "abuse", kT0), policy);
    for (int d = 1; d <= 3; ++d)
        o = list.record(event(c, Class::Soft, "mailboxfull", kT0 + d), policy);
    BOOST_TEST((o.record.klass == Class::Complaint), "got " << store::to_string(o.record.klass));
    BOOST_TEST(o.record.reason == "abuse");
    BOOST_TEST(o.record.expiry == kT0 + 90 * kDay);
    BOOST_TEST(o.record.evidence == "Q" + std::to_string(kT0 + 3));
    BOOST_TEST(o.record.count == 4u);
    // A stronger class takes over a weaker one.
    const std::string h = "hard@exp.example";
    for (int d = 0; d < 3; ++d)
        list.record(event(h, Class::Soft, "mailboxfull", kT0 + d), policy);
    o = list.record(event(h, Class::Hard, "userunknown", kT0 + 5), policy);
    BOOST_TEST((o.record.klass == Class::Hard));
    BOOST_TEST(o.record.expiry == 0);
    BOOST_TEST(!o.newly_suppressed, "already suppressed by the soft rule");
}

BOOST_FIXTURE_TEST_CASE(diagnostic_is_capped, Fixture) {
    policy.max_diagnostic = 16;
    auto ev = event("cap@example.com", Class::Hard, "userunknown", kT0);
    ev.diagnostic = std::string(100, 'z');
    auto o = list.record(ev, policy);
    BOOST_TEST(o.record.diagnostic.size() == 16u);
    BOOST_TEST(list.check("cap@example.com", kT0)->diagnostic.size() == 16u);
}

BOOST_FIXTURE_TEST_CASE(domain_entry_after_threshold_hostunknown, Fixture) {
    policy.domain_threshold = 3;
    store::Outcome o;
    // Other reasons and other domains do not count.
    list.record(event("x@dead.example", Class::Hard, "userunknown", kT0), policy);
    list.record(event("y@other.example", Class::Hard, "hostunknown", kT0), policy);
    // The same address twice counts once.
    o = list.record(event("a@dead.example", Class::Hard, "hostunknown", kT0), policy);
    o = list.record(event("a@dead.example", Class::Hard, "hostunknown", kT0 + 1), policy);
    BOOST_TEST(!o.domain_suppressed);
    o = list.record(event("b@dead.example", Class::Hard, "hostunknown", kT0 + 2), policy);
    BOOST_TEST(!o.domain_suppressed, "domain suppressed after 2 distinct addresses");
    BOOST_TEST(!list.check("new@dead.example", kT0 + 3));
    o = list.record(event("c@dead.example", Class::Hard, "hostunknown", kT0 + 3), policy);
    BOOST_TEST(o.domain_suppressed, "no domain entry after 3 distinct addresses");
    auto d = list.check("never-seen@dead.example", kT0 + 4);
    BOOST_REQUIRE(d);
    BOOST_TEST(d->reason == "hostunknown");
    BOOST_TEST((d->klass == Class::Hard));
    BOOST_TEST(list.is_suppressed("never-seen@dead.example", kT0 + 4));
    BOOST_TEST(!list.check("y2@other.example", kT0 + 4));
    // Outcome for an unrelated event in the domain reports the domain entry.
    o = list.record(event("z@dead.example", Class::Soft, "mailboxfull", kT0 + 5), policy);
    BOOST_TEST(o.domain_suppressed);
    BOOST_TEST(!o.suppressed);

    // Sightings older than the window do not count.
    for (int i = 0; i < 2; ++i)
        list.record(event("o" + std::to_string(i) + "@slow.example", Class::Hard, "hostunknown",
                          kT0 + i), policy);
    o = list.record(event("late@slow.example", Class::Hard, "hostunknown", kT0 + 8 * kDay), policy);
    BOOST_TEST(!o.domain_suppressed, "stale sightings counted");

    // Removing the domain entry forgets its sightings.
    BOOST_TEST(list.remove("@dead.example"));
    BOOST_TEST(!list.check("never-seen@dead.example", kT0 + 6));
    o = list.record(event("d@dead.example", Class::Hard, "hostunknown", kT0 + 7), policy);
    BOOST_TEST(!o.domain_suppressed, "old sightings survived remove()");
}

BOOST_FIXTURE_TEST_CASE(manual_add_remove, Fixture) {
    store::Record r;
    r.klass = Class::Manual;
    r.source = store::Source::Manual;
    r.suppressed = true;
    r.reason = "operator";
    list.add("vip@example.org", r);
    list.add("@blocked.example", r);
    BOOST_TEST(bool(list.check("vip@example.org", kT0)));
    BOOST_TEST(bool(list.check("anyone@blocked.example", kT0)));
    BOOST_TEST(bool(list.check("@blocked.example", kT0)));
    // A hard bounce does not replace the manual entry.
    auto o = list.record(event("vip@example.org", Class::Hard, "userunknown", kT0), policy);
    BOOST_TEST((o.record.klass == Class::Manual));
    BOOST_TEST(list.remove("vip@example.org"));
    BOOST_TEST(!list.remove("vip@example.org"), "second remove returned true");
    BOOST_TEST(!list.check("vip@example.org", kT0));
    BOOST_TEST(!list.remove(""));
    BOOST_CHECK_THROW(list.add("", r), store::Error);
    BOOST_CHECK_THROW(list.record(event(std::string(600, 'a'), Class::Hard, "x", kT0), policy),
                      store::Error);
    BOOST_TEST(!list.check(std::string(600, 'a'), kT0));
    BOOST_TEST(!list.check("", kT0));
}

BOOST_FIXTURE_TEST_CASE(stats_and_purge, Fixture) {
    policy.reason_expiry.clear();  // soft entries expire by class: soft_expiry
    policy.soft_expiry = std::chrono::seconds(10 * kDay);
    list.record(event("h1@a.example", Class::Hard, "userunknown", kT0), policy);
    list.record(event("h2@a.example", Class::Hard, "userunknown", kT0), policy);
    list.record(event("h3@a.example", Class::Hard, "hostunknown", kT0), policy);
    list.record(event("c1@a.example", Class::Complaint, "abuse", kT0), policy);
    list.record(event("p1@a.example", Class::Soft, "mailboxfull", kT0), policy);  // pending
    for (int d = 0; d < 3; ++d)                                                   // expires at +12d
        list.record(event("s1@a.example", Class::Soft, "mailboxfull", kT0 + d * kDay), policy);
    store::Record m;
    m.klass = Class::Manual;
    m.source = store::Source::Import;
    m.suppressed = true;
    m.reason = "import";
    list.add("@dom.example", m);
    const MDB_dbi raw = list.env().dbi("suppress");
    list.env().write([&](store::WriteTxn& w) { w.put(raw, "junk@x", "\x09zz"); });

    auto s = list.stats(kT0 + 13 * kDay);
    struct {
        std::string name;
        uint64_t got, want;
    } cases[] = {
        {"total", s.total, 8},
        {"active", s.active, 5},
        {"pending", s.pending, 0},  // p1's window closed at +7d: expired
        {"expired", s.expired, 2},
        {"undecodable", s.undecodable, 1},
        {"domains", s.domains, 1},
        {"hard", s.by_class[size_t(Class::Hard)], 3},
        {"complaint", s.by_class[size_t(Class::Complaint)], 1},
        {"manual", s.by_class[size_t(Class::Manual)], 1},
        {"soft", s.by_class[size_t(Class::Soft)], 0},
        {"dsn", s.by_source[size_t(store::Source::Dsn)], 3},
        {"arf", s.by_source[size_t(store::Source::Arf)], 1},
        {"import", s.by_source[size_t(store::Source::Import)], 1},
        {"reason userunknown", s.by_reason["userunknown"], 2},
        {"reason hostunknown", s.by_reason["hostunknown"], 1},
    };
    for (const auto& c : cases)
        BOOST_TEST(c.got == c.want, c.name << ": got " << c.got << ", want " << c.want);
    auto early = list.stats(kT0 + 1);
    BOOST_TEST(early.pending == 1u, "pending at +1s: got " << early.pending);

    BOOST_TEST(list.purge_expired(kT0 + 13 * kDay) == 2u);
    s = list.stats(kT0 + 13 * kDay);
    BOOST_TEST(s.total == 6u, "after purge: got " << s.total);
    BOOST_TEST(s.expired == 0u);
    BOOST_TEST(s.undecodable == 1u, "purge must keep values it cannot read");
}

BOOST_FIXTURE_TEST_CASE(unknown_version_in_store_is_a_clear_error, Fixture) {
    std::string v = store::encode(store::Record{});
    v[0] = 7;
    const MDB_dbi raw = env->dbi("suppress");
    env->write([&](store::WriteTxn& w) { w.put(raw, "odd@example.com", v); });
    try {
        list.check("odd@example.com", kT0);
        BOOST_FAIL("no exception");
    } catch (const store::Error& e) {
        const std::string what = e.what();
        BOOST_TEST((e.kind() == store::Error::Kind::Format), what);
        BOOST_TEST(what.find("odd@example.com") != std::string::npos, what);
        BOOST_TEST(what.find("unknown format version 7") != std::string::npos, what);
    }
    BOOST_CHECK_THROW(list.record(event("odd@example.com", Class::Hard, "x", kT0), policy), store::Error);
    BOOST_CHECK_THROW(list.for_each([](std::string_view, const store::Record&) { return true; }),
                      store::Error);
}

BOOST_FIXTURE_TEST_CASE(streaming_for_each_and_resume, Fixture) {
    constexpr size_t kN = 25'600;
    std::vector<store::Entry> entries;
    for (size_t i = 0; i < kN; ++i) {
        char k[32];
        std::snprintf(k, sizeof k, "u%06zu@stream.example", i);
        store::Entry e{k, {}};
        e.record.suppressed = true;
        e.record.count = static_cast<uint32_t>(i);
        e.record.source = store::Source::Import;
        entries.push_back(std::move(e));
    }
    BOOST_TEST(list.import_batch(entries) == kN);

    size_t n = 0;
    std::string prev;
    bool ordered = true, intact = true;
    list.for_each([&](std::string_view k, const store::Record& r) {
        ordered &= prev < k;
        intact &= r.count == n;
        prev = k;
        ++n;
        return true;
    });
    BOOST_TEST(n == kN, "visited " << n << ", want " << kN);
    BOOST_TEST(ordered);
    BOOST_TEST(intact);

    // Resume after a key in the middle (an export restarted from its last line).
    const std::string mark = entries[12'345].key;
    size_t rest = 0;
    std::string first;
    list.for_each([&](std::string_view k, const store::Record&) {
        if (rest++ == 0)
            first = k;
        return true;
    }, mark);
    BOOST_TEST(rest == kN - 12'346, "resumed visit got " << rest << ", want " << kN - 12'346);
    BOOST_TEST(first == entries[12'346].key);

    // Stop early; writing from inside the callback is allowed (no txn held).
    size_t seen = 0;
    list.for_each([&](std::string_view k, const store::Record&) {
        list.remove(k);
        return ++seen < 10;
    });
    BOOST_TEST(seen == 10u);
    BOOST_TEST(list.stats(0).total == kN - 10);
}

// A retried report counts a block once: the block record keeps the id of
// the report it last counted.
BOOST_FIXTURE_TEST_CASE(a_retried_block_counts_once, Fixture) {
    store::BlockEvent b{"example.net", "blocked", "5.7.1", "554 blocked", "mx1.example.net", kT0, "QID1"};
    BOOST_TEST(!list.record_block(b, policy).repeated);
    auto again = list.record_block(b, policy);
    BOOST_TEST(again.repeated);
    BOOST_TEST(again.record.count == 1u, "counted " << again.record.count << " times");
    b.evidence = "QID2";
    auto next = list.record_block(b, policy);
    BOOST_TEST(!next.repeated);
    BOOST_TEST(next.record.count == 2u);
    BOOST_TEST(list.block("example.net")->evidence == "QID2");
}

BOOST_FIXTURE_TEST_CASE(block_events_are_recorded_not_suppressed, Fixture) {
    store::BlockEvent b{"example.net", "spamdetected", "5.7.1", "550 5.7.1 spam", "mx1.example.net", kT0};
    auto r = list.record_block(b, policy).record;
    BOOST_TEST(r.count == 1u);
    b.reason = "ratelimited";
    b.status = "4.7.0";
    b.when = kT0 + 100;
    r = list.record_block(b, policy).record;
    b.reason = "blocked";  // an older report arriving late: counted, texts kept
    b.when = kT0 + 50;
    r = list.record_block(b, policy).record;
    BOOST_TEST(r.count == 3u);
    BOOST_TEST(r.first_seen == kT0);
    BOOST_TEST(r.last_seen == kT0 + 100);
    BOOST_TEST(r.reason == "ratelimited");
    BOOST_TEST(r.status == "4.7.0");
    list.record_block({"example.org", "blocked", "5.7.1", "", "", kT0}, policy);
    BOOST_TEST(!list.check("someone@example.net", kT0 + 200), "a block event suppressed a recipient");
    BOOST_TEST(list.block("example.org")->reason == "blocked");
    BOOST_TEST(!list.block("example.com"));

    std::vector<std::string> seen;
    list.for_each_block([&](std::string_view d, const store::BlockRecord&) {
        seen.emplace_back(d);
        return true;
    });
    BOOST_TEST((seen == std::vector<std::string>{"example.net", "example.org"}));
    seen.clear();
    list.for_each_block([&](std::string_view d, const store::BlockRecord&) {
        seen.emplace_back(d);
        return true;
    }, "example.net");
    BOOST_TEST((seen == std::vector<std::string>{"example.org"}));
    BOOST_TEST(list.stats(kT0).block_domains == 2u);
}

// Text from a remote server cannot carry terminal escapes into a listing or
// an export: control characters other than tab and line feed become '?'.
BOOST_AUTO_TEST_CASE(remote_text_is_stored_without_control_characters) {
    Fixture f;
    store::Event ev = event("esc@example.net", Class::Hard, "userunknown", kT0);
    ev.remote_mta = "mx.example.net\x1b[2J";
    ev.diagnostic = "550 \x1b]0;pwn\x07\x1b[31m no\tsuch\nuser\x7f";
    f.list.record(ev, f.policy);
    const auto r = f.list.check("esc@example.net", kT0 + 1);
    BOOST_REQUIRE(r.has_value());
    BOOST_TEST(r->remote_mta == "mx.example.net?[2J", "got " << r->remote_mta);
    BOOST_TEST(r->diagnostic == "550 ?]0;pwn??[31m no\tsuch\nuser?", "got " << r->diagnostic);
}

BOOST_AUTO_TEST_CASE(suppression_dir_and_domain_of) {
    struct {
        std::string in, want;
    } dirs[] = {{"/var/lib/sendguard", "/var/lib/sendguard/suppress.lmdb"},
                {"/var/lib/sendguard/", "/var/lib/sendguard/suppress.lmdb"},
                {"/", "/suppress.lmdb"},
                {"", "suppress.lmdb"}};
    for (const auto& c : dirs) {
        const std::string got = store::suppression_dir(c.in);
        BOOST_TEST(got == c.want, "suppression_dir(" << c.in << "): got " << got << ", want " << c.want);
    }
    struct {
        std::string in, want;  // "-" for none
    } doms[] = {{"a@b.example", "b.example"}, {"@b.example", "-"}, {"a@", "-"},
                {"noat", "-"},                {"a@b@c.example", "c.example"}};
    for (const auto& c : doms) {
        auto d = store::domain_of(c.in);
        const std::string got = d ? std::string(*d) : "-";
        BOOST_TEST(got == c.want, "domain_of(" << c.in << "): got " << got << ", want " << c.want);
    }
}

BOOST_AUTO_TEST_SUITE_END()
