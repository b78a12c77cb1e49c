// test_policyd_policy.cc - the PolicyEngine as a table: Postfix policy requests
// at RCPT and END-OF-MESSAGE with times -> answers, reservations, persistence
#define BOOST_TEST_NO_MAIN
#include <boost/test/unit_test.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/log/log.h"
#include "common/policy/request.h"
#include "common/store/throttle.h"
#include "policyd/limit_notice.h"
#include "policyd/policy_service.h"
#include "policyd/providers.h"
#include "policyd/rules.h"
#include "common/config/error.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/test_store_support.h"

using namespace std::chrono_literals;

namespace {

constexpr int64_t kSec = 1'000'000;
constexpr int64_t kT0 = 1'800'000'000LL * kSec;  // a fixed wall-clock time

// Recipient domains and the provider they roll up to; absent: pending.
const std::map<std::string, std::optional<std::string>> kDomains = {
    {"gmail.example", std::string("google")},
    {"gmx.example", std::string("gmx")},
    {"own.example", std::string()},
};

policyd::ProviderOf provider_of() {
    return [](std::string_view d) -> std::optional<std::string> {
        auto it = kDomains.find(std::string(d));
        if (it == kDomains.end()) return std::nullopt;
        return it->second;
    };
}

struct Engine {
    policyd::PolicyEngine engine;
    explicit Engine(const std::string& rules, policyd::CountAt at = policyd::CountAt::EndOfMessage,
                    size_t max_pending = 1000)
        : engine(policyd::make_policy_tables(policyd::parse_rules(rules, "rules"),
                                             policyd::ProviderTable::builtin()),
                 provider_of(), at, 600s, max_pending) {}

    std::string rcpt(const std::string& instance, const std::string& sasl,
                     const std::string& rcpt, int64_t t, const std::string& sender = "a@example.com",
                     const std::string& client = "192.0.2.7") {
        policy::Request r;
        r.add("request", "smtpd_access_policy");
        r.add("protocol_state", "RCPT");
        r.add("client_address", client);
        r.add("sender", sender);
        r.add("recipient", rcpt);
        r.add("recipient_count", "0");
        r.add("queue_id", "");
        r.add("instance", instance);
        r.add("sasl_username", sasl);
        return engine.decide(r, t);
    }
    std::string eom(const std::string& instance, unsigned rcpt_count, int64_t t) {
        policy::Request r;
        r.add("request", "smtpd_access_policy");
        r.add("protocol_state", "END-OF-MESSAGE");
        r.add("client_address", "192.0.2.7");
        r.add("recipient_count", std::to_string(rcpt_count));
        r.add("queue_id", "4ABCD1234");
        r.add("instance", instance);
        return engine.decide(r, t);
    }
    // One whole message with one recipient.
    std::string message(const std::string& instance, const std::string& sasl,
                        const std::string& rcpt, int64_t t) {
        std::string a = this->rcpt(instance, sasl, rcpt, t);
        if (a == "DUNNO") eom(instance, 1, t);
        return a;
    }
};

bool starts(const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; }

}  // namespace

BOOST_AUTO_TEST_SUITE(policyd_policy)

BOOST_AUTO_TEST_CASE(no_rules_answer_dunno) {
    Engine e("");
    BOOST_TEST(e.rcpt("i1", "alice", "bob@gmail.example", kT0) == "DUNNO");
    BOOST_TEST(e.eom("i1", 1, kT0) == "DUNNO");
    BOOST_TEST(e.engine.pending() == 0u);
}

BOOST_AUTO_TEST_CASE(customer_burst_then_defer_with_retry_text) {
    Engine e("login key=sasl_username 2/h burst 2\n");
    BOOST_TEST(e.message("i1", "alice", "x@own.example", kT0) == "DUNNO");
    BOOST_TEST(e.message("i2", "alice", "x@own.example", kT0 + kSec) == "DUNNO");
    const std::string third = e.rcpt("i3", "alice", "x@own.example", kT0 + 2 * kSec);
    // 2/h: one every 1800 s; two were sent at t0 and t0+1, so the next fits
    // 1800 s after t0 (1798 s from now).
    BOOST_TEST(third == "DEFER_IF_PERMIT 4.7.1 rule login: 2/h for alice reached; "
                        "try again in 1798 s");
    // Another customer is not limited by alice's budget.
    BOOST_TEST(e.message("i4", "bob", "x@own.example", kT0 + 2 * kSec) == "DUNNO");
    // An unauthenticated client is no customer of a sasl_username rule.
    BOOST_TEST(e.message("i5", "", "x@own.example", kT0 + 2 * kSec) == "DUNNO");
    // After the period, alice may send again.
    BOOST_TEST(e.message("i6", "alice", "x@own.example", kT0 + 1800 * kSec) == "DUNNO");
}

BOOST_AUTO_TEST_CASE(reservations_without_end_of_message_consume_nothing) {
    Engine e("login key=sasl_username 2/h burst 2\n");
    // Ten transactions, two per login (the burst: a third one of a login is
    // refused while two are held), reach RCPT and end without
    // END-OF-MESSAGE (refused later, RSET, QUIT): nothing is consumed.
    const auto login = [](int i) { return i < 2 ? std::string("alice") : "u" + std::to_string(i / 2); };
    for (int i = 0; i < 10; ++i)
        BOOST_TEST(e.rcpt("r" + std::to_string(i), login(i), "x@own.example", kT0) == "DUNNO");
    BOOST_TEST(starts(e.rcpt("r10", "alice", "x@own.example", kT0), "DEFER_IF_PERMIT"));
    BOOST_TEST(e.engine.pending() == 10u);
    logging::open("test", logging::Sink::None);  // captured() sees the lines
    logging::clear_captured();
    e.engine.expire(kT0 + 601 * kSec);
    BOOST_TEST(e.engine.pending() == 0u);
    BOOST_TEST(e.engine.counters().pending_expired == 10u);
    // No END-OF-MESSAGE request ever came: the operator is told that
    // nothing is counted, and how to fix it.
    BOOST_TEST(logging::captured().find("reservations_expired=10") != std::string::npos);
    BOOST_TEST(logging::captured().find("smtpd_end_of_data_restrictions") != std::string::npos);
    BOOST_TEST(e.message("m1", "alice", "x@own.example", kT0 + 602 * kSec) == "DUNNO");
    BOOST_TEST(e.message("m2", "alice", "x@own.example", kT0 + 602 * kSec) == "DUNNO");
    BOOST_TEST(starts(e.rcpt("m3", "alice", "x@own.example", kT0 + 602 * kSec), "DEFER_IF_PERMIT"));
    // Once END-OF-MESSAGE requests arrive, an expired reservation is an
    // abandoned transaction, not a configuration mistake.
    logging::clear_captured();
    BOOST_TEST(e.rcpt("r99", "bob", "x@own.example", kT0 + 603 * kSec) == "DUNNO");
    e.engine.expire(kT0 + 1300 * kSec);
    BOOST_TEST(e.engine.counters().pending_expired == 11u);
    BOOST_TEST(logging::captured().find("reservations_expired") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_message_counts_once_for_many_recipients) {
    Engine e("login key=sasl_username 1/h\n");
    BOOST_TEST(e.rcpt("i1", "alice", "a@own.example", kT0) == "DUNNO");
    BOOST_TEST(e.rcpt("i1", "alice", "b@own.example", kT0) == "DUNNO");
    BOOST_TEST(e.rcpt("i1", "alice", "c@gmail.example", kT0) == "DUNNO");
    BOOST_TEST(e.eom("i1", 3, kT0) == "DUNNO");
    BOOST_TEST(starts(e.rcpt("i2", "alice", "a@own.example", kT0 + kSec), "DEFER_IF_PERMIT 4.7.1"));
}

BOOST_AUTO_TEST_CASE(recipients_count_pending_and_recipient_count) {
    Engine e("rcpts key=sasl_username count=recipients 3/h burst 3\n");
    BOOST_TEST(e.rcpt("i1", "alice", "a@own.example", kT0) == "DUNNO");
    BOOST_TEST(e.rcpt("i1", "alice", "b@own.example", kT0) == "DUNNO");
    BOOST_TEST(e.rcpt("i1", "alice", "c@own.example", kT0) == "DUNNO");
    // The fourth would be over the burst together with the three reserved.
    BOOST_TEST(starts(e.rcpt("i1", "alice", "d@own.example", kT0), "DEFER_IF_PERMIT 4.7.1 rule rcpts"));
    // Its retry is when it fits once the three are counted (3/h: 20 min),
    // not "never".
    BOOST_TEST(e.rcpt("i1", "alice", "d@own.example", kT0).ends_with("try again in 1200 s"));
    // Postfix accepted two of the three (a later restriction refused one):
    // recipient_count is what counts.
    BOOST_TEST(e.eom("i1", 2, kT0) == "DUNNO");
    BOOST_TEST(e.rcpt("i2", "alice", "e@own.example", kT0) == "DUNNO");
    BOOST_TEST(starts(e.rcpt("i2", "alice", "f@own.example", kT0), "DEFER_IF_PERMIT"));
}

BOOST_AUTO_TEST_CASE(provider_rule_per_provider_and_default_per_domain) {
    Engine e("google provider=google key=provider 1/h\n"
             "others provider=default key=provider 2/h burst 2\n");
    BOOST_TEST(e.message("i1", "", "a@gmail.example", kT0) == "DUNNO");
    BOOST_TEST(e.rcpt("i2", "", "b@gmail.example", kT0 + kSec) ==
               "DEFER_IF_PERMIT 4.7.1 rule google: 1/h for google reached; try again in 3599 s");
    // gmx has no rule of its own and is no "default" domain.
    for (int i = 0; i < 5; ++i)
        BOOST_TEST(e.message("g" + std::to_string(i), "", "a@gmx.example", kT0) == "DUNNO");
    // A domain of its own has its own bucket; a pending MX lookup counts as one.
    BOOST_TEST(e.message("o1", "", "a@own.example", kT0) == "DUNNO");
    BOOST_TEST(e.message("o2", "", "a@own.example", kT0) == "DUNNO");
    BOOST_TEST(starts(e.rcpt("o3", "", "a@own.example", kT0), "DEFER_IF_PERMIT 4.7.1 rule others: "
                                                               "2/h for own.example"));
    BOOST_TEST(e.message("p1", "", "a@pending.example", kT0) == "DUNNO");
    BOOST_TEST(e.message("p2", "", "a@pending.example", kT0) == "DUNNO");
    BOOST_TEST(starts(e.rcpt("p3", "", "a@pending.example", kT0), "DEFER_IF_PERMIT"));
}

BOOST_AUTO_TEST_CASE(provider_rule_counts_reserved_recipients) {
    Engine e("google provider=google key=provider count=recipients 2/h burst 2\n");
    BOOST_TEST(e.rcpt("i1", "", "a@gmail.example", kT0) == "DUNNO");
    BOOST_TEST(e.rcpt("i1", "", "x@own.example", kT0) == "DUNNO");
    BOOST_TEST(e.eom("i1", 2, kT0) == "DUNNO");  // one Google recipient of two
    BOOST_TEST(e.message("i2", "", "b@gmail.example", kT0) == "DUNNO");
    BOOST_TEST(starts(e.rcpt("i3", "", "c@gmail.example", kT0), "DEFER_IF_PERMIT"));
}

BOOST_AUTO_TEST_CASE(customer_and_provider_limits_apply_together) {
    Engine e("login key=sasl_username 10/h burst 10\n"
             "google provider=google key=provider 1/h\n");
    BOOST_TEST(e.message("i1", "alice", "a@gmail.example", kT0) == "DUNNO");
    BOOST_TEST(starts(e.rcpt("i2", "bob", "a@gmail.example", kT0), "DEFER_IF_PERMIT 4.7.1 rule google"));
    // Refused by the provider rule: alice's quota reserved nothing for it.
    BOOST_TEST(e.message("i3", "alice", "a@own.example", kT0) == "DUNNO");
}

BOOST_AUTO_TEST_CASE(actions_per_rule) {
    Engine e("h key=sasl_username action=hold 1/h\n"
             "r key=sasl_username action=reject 1/d\n"
             "f key=sender_domain action=filter:slow:[relay.example]:25 1/h\n");
    BOOST_TEST(e.message("i1", "alice", "a@own.example", kT0) == "DUNNO");
    BOOST_TEST(e.rcpt("i2", "alice", "a@own.example", kT0) == "HOLD rule h: 1/h for alice reached");
    Engine r("r key=sasl_username action=reject 1/d\n");
    BOOST_TEST(r.message("i1", "carol", "a@own.example", kT0) == "DUNNO");
    BOOST_TEST(r.rcpt("i2", "carol", "a@own.example", kT0) == "REJECT 5.7.1 rule r: 1/d for carol reached");
    Engine f("f key=sender_domain action=filter:slow:[relay.example]:25 1/h\n");
    BOOST_TEST(f.message("i1", "", "a@own.example", kT0) == "DUNNO");
    BOOST_TEST(f.rcpt("i2", "", "a@own.example", kT0) == "FILTER slow:[relay.example]:25");
}

BOOST_AUTO_TEST_CASE(count_at_rcpt_commits_at_once) {
    Engine e("login key=sasl_username 1/h\n", policyd::CountAt::Rcpt);
    BOOST_TEST(e.rcpt("i1", "alice", "a@own.example", kT0) == "DUNNO");
    BOOST_TEST(e.rcpt("i1", "alice", "b@own.example", kT0) == "DUNNO");  // same message
    BOOST_TEST(starts(e.rcpt("i2", "alice", "a@own.example", kT0), "DEFER_IF_PERMIT"));
}

BOOST_AUTO_TEST_CASE(first_refusal_in_a_window_notices_once) {
    Engine e("login key=sasl_username 1/h\n");
    BOOST_TEST(e.message("i1", "alice", "a@own.example", kT0) == "DUNNO");
    for (int i = 0; i < 5; ++i) BOOST_TEST(starts(e.rcpt("d" + std::to_string(i), "alice", "a@own.example", kT0), "DEFER"));
    auto n = e.engine.take_notices();
    BOOST_TEST_REQUIRE(n.size() == 1u);
    BOOST_TEST(n[0].rule == "login");
    BOOST_TEST(n[0].key == "alice");
    BOOST_TEST(n[0].sasl_username == "alice");
    BOOST_TEST(e.engine.take_notices().empty());
    BOOST_TEST(e.engine.counters().refused == 5u);
    // The next window's first refusal is noticed again.
    BOOST_TEST(e.message("i2", "alice", "a@own.example", kT0 + 3600 * kSec) == "DUNNO");
    BOOST_TEST(starts(e.rcpt("d9", "alice", "a@own.example", kT0 + 3600 * kSec), "DEFER"));
    BOOST_TEST(e.engine.take_notices().size() == 1u);
}

BOOST_AUTO_TEST_CASE(provider_rules_notice_their_first_refusal_too) {
    Engine e("google provider=google key=provider 1/h\n");
    BOOST_TEST(e.message("i1", "alice", "a@gmail.example", kT0) == "DUNNO");
    BOOST_TEST(starts(e.rcpt("i2", "bob", "b@gmail.example", kT0), "DEFER_IF_PERMIT"));
    BOOST_TEST(starts(e.rcpt("i3", "bob", "c@gmail.example", kT0), "DEFER_IF_PERMIT"));
    auto n = e.engine.take_notices();
    BOOST_TEST_REQUIRE(n.size() == 1u);
    BOOST_TEST(n[0].rule == "google");
    BOOST_TEST(n[0].key == "google");
    BOOST_TEST(n[0].provider_rule);
    const std::string m = policyd::notice_message(n[0], "admin@example.com");
    BOOST_TEST(m.find("limits what is sent to a provider") != std::string::npos, m);
    BOOST_TEST(m.find("compromised") == std::string::npos, m);
}

// Past kMaxNotices first refusals wait; the rest are counted and logged.
BOOST_AUTO_TEST_CASE(notices_past_the_cap_are_counted_and_logged) {
    logging::open("test", logging::Sink::None);
    logging::clear_captured();
    Engine e("login key=sasl_username 1/h\n");
    const size_t n = policyd::kMaxNotices + 6;
    for (size_t i = 0; i < n; ++i) {
        const std::string user = "u" + std::to_string(i);
        BOOST_TEST(e.message("m" + user, user, "a@own.example", kT0) == "DUNNO");
        BOOST_TEST(starts(e.rcpt("d" + user, user, "a@own.example", kT0), "DEFER_IF_PERMIT"));
    }
    BOOST_TEST(e.engine.counters().notices_dropped == 6u);
    BOOST_TEST(logging::captured().find("notices=dropped") == std::string::npos);
    BOOST_TEST(e.engine.take_notices().size() == policyd::kMaxNotices);
    BOOST_TEST(logging::captured().find("notices=dropped, count=6,") != std::string::npos,
               logging::captured());
    logging::clear_captured();
    BOOST_TEST(e.engine.take_notices().empty());
    BOOST_TEST(logging::captured().find("notices=dropped") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(state_survives_through_dirty_rows_and_load) {
    const std::string rules = "login key=sasl_username 2/h burst 2\n";
    Engine e(rules);
    BOOST_TEST(e.message("i1", "alice", "a@own.example", kT0) == "DUNNO");
    BOOST_TEST(e.message("i2", "alice", "a@own.example", kT0) == "DUNNO");
    auto buckets = e.engine.dirty_buckets();
    auto usage = e.engine.dirty_usage();
    BOOST_TEST_REQUIRE(buckets.size() == 1u);
    BOOST_TEST(buckets[0].rule == "login");
    BOOST_TEST(buckets[0].key == "alice");
    BOOST_TEST_REQUIRE(usage.size() == 1u);
    BOOST_TEST_REQUIRE(usage[0].windows.size() == 1u);
    BOOST_TEST(usage[0].windows[0].used == 2u);
    BOOST_TEST(usage[0].windows[0].limit == 2u);
    BOOST_TEST(usage[0].windows[0].period_s == 3600);
    e.engine.mark_clean();
    BOOST_TEST(e.engine.dirty_buckets().empty());

    Engine restarted(rules);
    restarted.engine.load(buckets, usage);
    BOOST_TEST(starts(restarted.rcpt("i3", "alice", "a@own.example", kT0 + kSec), "DEFER_IF_PERMIT"));
    // A rule whose windows changed starts afresh.
    Engine changed("login key=sasl_username 2/h burst 2, 100/d\n");
    changed.engine.load(buckets, usage);
    BOOST_TEST(changed.message("i3", "alice", "a@own.example", kT0 + kSec) == "DUNNO");
}

// The start of a bucket's refusal window is kept in the store: after a
// restart, the next refusal in the same window is not a first one (no
// second warning, event line or notice mail); the next window's is.
BOOST_AUTO_TEST_CASE(restart_keeps_the_refusal_window) {
    const std::string rules = "google provider=google key=provider 1/h\n";
    store_test::TempDir td;
    store::ThrottleState ts(store::Env::open(td.env_dir(), store_test::test_opts()));
    logging::open("test", logging::Sink::None);
    logging::clear_captured();
    {
        Engine e(rules);
        BOOST_TEST(e.message("i1", "alice", "a@gmail.example", kT0) == "DUNNO");
        BOOST_TEST(starts(e.rcpt("i2", "alice", "b@gmail.example", kT0 + kSec), "DEFER_IF_PERMIT"));
        BOOST_TEST(e.engine.take_notices().size() == 1u);
        ts.write_batch({}, e.engine.dirty_buckets(), e.engine.dirty_usage());
    }
    const auto row = ts.get_bucket("google", "google");
    BOOST_TEST_REQUIRE(row.has_value());
    BOOST_TEST(row->refused_since == kT0 + kSec);
    BOOST_TEST(row->windows.size() == 1u);

    Engine restarted(rules);
    store::ThrottleState::LiveRows live;
    ts.live_rows(kT0 + 2 * kSec, 1000, live);
    restarted.engine.load(live.buckets, live.usage);
    BOOST_TEST(starts(restarted.rcpt("i3", "alice", "c@gmail.example", kT0 + 2 * kSec), "DEFER_IF_PERMIT"));
    BOOST_TEST(restarted.engine.take_notices().empty(), "a refusal after a restart was noticed as a first one");
    const std::string log = logging::captured();
    BOOST_TEST(log.find("limit=reached") == log.rfind("limit=reached"), log);
    // The next window's first refusal is noticed again.
    BOOST_TEST(restarted.message("i4", "alice", "a@gmail.example", kT0 + 3602 * kSec) == "DUNNO");
    BOOST_TEST(starts(restarted.rcpt("i5", "alice", "b@gmail.example", kT0 + 3602 * kSec), "DEFER"));
    BOOST_TEST(restarted.engine.take_notices().size() == 1u);
}

// Hundreds of smtpd processes ask at once: what one open transaction has
// reserved is seen by every other's check, so two never take the last unit.
BOOST_AUTO_TEST_CASE(parallel_transactions_never_share_the_last_unit) {
    Engine e("one key=sasl_username 1/h\n");  // burst 1
    BOOST_TEST(e.rcpt("a", "alice", "x@own.example", kT0) == "DUNNO");
    // b interleaves before a's END-OF-MESSAGE: refused while a holds it,
    // told to retry when the unit a holds would have passed.
    BOOST_TEST(e.rcpt("b", "alice", "x@own.example", kT0 + kSec) ==
               "DEFER_IF_PERMIT 4.7.1 rule one: 1/h for alice reached; try again in 3600 s");
    // a's own further recipients are the same message.
    BOOST_TEST(e.rcpt("a", "alice", "y@own.example", kT0 + kSec) == "DUNNO");
    // a never reaches END-OF-MESSAGE: its reservation expires, b fits.
    e.engine.expire(kT0 + 601 * kSec);
    BOOST_TEST(e.engine.pending() == 0u);
    BOOST_TEST(e.rcpt("b", "alice", "x@own.example", kT0 + 601 * kSec) == "DUNNO");
    BOOST_TEST(starts(e.rcpt("c", "alice", "x@own.example", kT0 + 602 * kSec), "DEFER_IF_PERMIT"));
    // b commits: the unit moves from reserved to counted, c is still refused.
    BOOST_TEST(e.eom("b", 1, kT0 + 602 * kSec) == "DUNNO");
    BOOST_TEST(starts(e.rcpt("c", "alice", "x@own.example", kT0 + 603 * kSec), "DEFER_IF_PERMIT"));
    BOOST_TEST(e.engine.counters().committed == 1u);
    // Another customer's bucket holds nothing of alice's.
    BOOST_TEST(e.rcpt("d", "bob", "x@own.example", kT0 + 603 * kSec) == "DUNNO");
}

BOOST_AUTO_TEST_CASE(parallel_transactions_share_recipient_budgets) {
    Engine e("rcpts key=sasl_username count=recipients 3/h\n"
             "google provider=google key=provider count=recipients 2/h\n");
    BOOST_TEST(e.rcpt("a", "alice", "1@own.example", kT0) == "DUNNO");
    BOOST_TEST(e.rcpt("b", "alice", "2@own.example", kT0) == "DUNNO");
    BOOST_TEST(e.rcpt("a", "alice", "3@own.example", kT0) == "DUNNO");
    BOOST_TEST(starts(e.rcpt("b", "alice", "4@own.example", kT0), "DEFER_IF_PERMIT 4.7.1 rule rcpts"));
    BOOST_TEST(e.rcpt("c", "bob", "1@gmail.example", kT0) == "DUNNO");
    BOOST_TEST(e.rcpt("d", "carol", "2@gmail.example", kT0) == "DUNNO");
    BOOST_TEST(starts(e.rcpt("e", "dave", "3@gmail.example", kT0), "DEFER_IF_PERMIT 4.7.1 rule google"));
    // a took 2 recipients but Postfix accepted 1: a's second unit is free.
    BOOST_TEST(e.eom("a", 1, kT0) == "DUNNO");
    BOOST_TEST(e.rcpt("b", "alice", "4@own.example", kT0) == "DUNNO");
    BOOST_TEST(starts(e.rcpt("b", "alice", "5@own.example", kT0), "DEFER_IF_PERMIT"));
}

// Past policyd_max_pending the oldest transaction is evicted and its
// reservations counted; one client holds at most an eighth of the table.
BOOST_AUTO_TEST_CASE(pending_transactions_are_bounded) {
    logging::open("test", logging::Sink::None);
    logging::clear_captured();
    Engine e("login key=sasl_username 1000/h burst 1000\n", policyd::CountAt::EndOfMessage, 16);
    const std::string flooder = "198.51.100.9";
    for (int i = 0; i < 8; ++i)
        BOOST_TEST(e.rcpt("c" + std::to_string(i), "alice", "a@own.example", kT0, "a@example.com",
                          "192.0.2." + std::to_string(i + 1)) == "DUNNO");
    // One client opening transaction after transaction evicts its own.
    for (int i = 0; i < 20; ++i)
        BOOST_TEST(e.rcpt("f" + std::to_string(i), "alice", "a@own.example", kT0, "a@example.com",
                          flooder) == "DUNNO");
    BOOST_TEST(e.engine.pending() == 10u);  // 8 + the flooder's share of 2
    BOOST_TEST(e.engine.counters().pending_dropped == 18u);
    BOOST_TEST(e.engine.counters().pending_client_cap == 18u);
    // Evicted is counted (its mail may still be sent), never forgotten.
    BOOST_TEST(e.engine.counters().committed == 18u);
    for (int i = 0; i < 8; ++i) BOOST_TEST(e.eom("c" + std::to_string(i), 1, kT0) == "DUNNO");
    BOOST_TEST(e.engine.counters().committed == 26u);
    // An evicted transaction's END-OF-MESSAGE counts nothing twice.
    BOOST_TEST(e.eom("f0", 1, kT0) == "DUNNO");
    BOOST_TEST(e.engine.counters().committed == 26u);
    auto usage = e.engine.dirty_usage();
    BOOST_TEST_REQUIRE(usage.size() == 1u);
    BOOST_TEST(usage[0].windows[0].used == 26u);
    // A full table evicts the oldest of all: the flooder's two.
    for (int i = 0; i < 16; ++i)
        BOOST_TEST(e.rcpt("n" + std::to_string(i), "alice", "a@own.example", kT0 + kSec,
                          "a@example.com", "203.0.113." + std::to_string(i + 1)) == "DUNNO");
    BOOST_TEST(e.engine.pending() == 16u);
    BOOST_TEST(e.engine.counters().pending_dropped == 20u);
    BOOST_TEST(e.engine.counters().pending_client_cap == 18u);
    // One warning for the first eviction, the rest counted into the next
    // one a minute later.
    const std::string log = logging::captured();
    BOOST_TEST(log.find("pending=evicted, transactions=1,") != std::string::npos, log);
    BOOST_TEST(log.find("transactions=19") == std::string::npos);
    e.engine.expire(kT0 + 61 * kSec);
    BOOST_TEST(logging::captured().find("pending=evicted, transactions=19,") != std::string::npos,
               logging::captured());
    BOOST_TEST(logging::captured().find("last_client=198.51.100.9") != std::string::npos);
}

// Evicting counts: a flood of half transactions frees no budget.
BOOST_AUTO_TEST_CASE(a_flood_of_half_transactions_frees_no_budget) {
    Engine e("login key=sasl_username 5/h\n", policyd::CountAt::EndOfMessage, 16);
    int admitted = 0;
    for (int i = 0; i < 50; ++i)
        admitted += e.rcpt("m" + std::to_string(i), "mallory", "a@own.example", kT0 + i * kSec) ==
                    "DUNNO";
    // Dropping the evicted would have admitted all 50.
    BOOST_TEST(admitted == 5);
    BOOST_TEST(e.engine.counters().committed == 3u);  // two still reserved
    BOOST_TEST(e.engine.pending() == 2u);
}

// Deferrals observed by the learner are attempts the provider counts: its
// buckets are charged, so acceptance at RCPT sees them; over_limit() says
// when the transport map should pace it.
BOOST_AUTO_TEST_CASE(retries_count_toward_the_provider_budget) {
    Engine e("google provider=google key=provider 3/h\n"
             "per_provider key=provider 100/h\n"
             "login key=sasl_username 1/h\n"
             "login_google provider=google key=sasl_username+provider 1/h\n");
    BOOST_TEST(e.message("i1", "", "a@gmail.example", kT0) == "DUNNO");
    BOOST_TEST(!e.engine.over_limit("google", kT0));
    e.engine.charge_retry("google", kT0);
    BOOST_TEST(!e.engine.over_limit("google", kT0));
    e.engine.charge_retry("google", kT0);
    BOOST_TEST(e.engine.counters().retries_charged == 2u);
    // 1 message + 2 retries: google's 3/h is spent.
    BOOST_TEST(e.engine.over_limit("google", kT0 + kSec));
    BOOST_TEST(!e.engine.over_limit("gmx", kT0 + kSec));
    BOOST_TEST(starts(e.rcpt("i2", "", "b@gmail.example", kT0 + kSec),
                      "DEFER_IF_PERMIT 4.7.1 rule google: 3/h for google reached"));
    // Rules of a customer were not charged: alice's first message passes.
    BOOST_TEST(e.message("i3", "alice", "a@own.example", kT0 + kSec) == "DUNNO");
    // key=provider without provider= is a provider's bucket too.
    auto buckets = e.engine.dirty_buckets();
    const auto tat = [&](const std::string& rule, const std::string& key) -> int64_t {
        for (const auto& b : buckets)
            if (b.rule == rule && (key.empty() || b.key == key)) return b.tat_us.at(0);
        return 0;
    };
    // 100/h: one every 36 s; the message and two retries.
    BOOST_TEST(tat("per_provider", "google") == kT0 + 3 * 36 * kSec);
    BOOST_TEST(tat("login_google", "") == 0);  // a login's bucket: not whose attempt it is
    // Unknown and default providers charge nothing.
    e.engine.charge_retry("default", kT0);
    e.engine.charge_retry("", kT0);
    e.engine.charge_retry("nosuch", kT0);
    BOOST_TEST(e.engine.counters().retries_charged == 3u);  // nosuch: per_provider
    // Once the window has passed, google conforms again.
    BOOST_TEST(!e.engine.over_limit("google", kT0 + 3600 * kSec));
}

BOOST_AUTO_TEST_CASE(other_states_and_odd_requests_answer_dunno) {
    Engine e("all 1/h\n");
    policy::Request r;
    r.add("request", "smtpd_access_policy");
    r.add("protocol_state", "DATA");
    BOOST_TEST(e.engine.decide(r, kT0) == "DUNNO");
    policy::Request empty;
    BOOST_TEST(e.engine.decide(empty, kT0) == "DUNNO");
    // RCPT without a recipient or instance: the rule keyed on nothing counts
    // at once (no END-OF-MESSAGE can be tied to it).
    policy::Request bare;
    bare.add("protocol_state", "RCPT");
    BOOST_TEST(e.engine.decide(bare, kT0) == "DUNNO");
    BOOST_TEST(starts(e.engine.decide(bare, kT0), "DEFER_IF_PERMIT 4.7.1 rule all: 1/h for all senders"));
}

BOOST_AUTO_TEST_CASE(reload_keeps_buckets_of_unchanged_rules) {
    Engine e("a key=sasl_username 1/h\nb key=sasl_username 1/h\n");
    BOOST_TEST(e.message("i1", "alice", "x@own.example", kT0) == "DUNNO");
    e.engine.set_tables(policyd::make_policy_tables(
        policyd::parse_rules("a key=sasl_username 1/h\nb key=sasl_username 5/h burst 5\n", "rules"),
        policyd::ProviderTable::builtin()));
    // a kept its bucket: still over; b changed its limits: refused by a.
    BOOST_TEST(starts(e.rcpt("i2", "alice", "x@own.example", kT0), "DEFER_IF_PERMIT 4.7.1 rule a"));
    e.engine.set_tables(policyd::make_policy_tables(
        policyd::parse_rules("b key=sasl_username 5/h burst 5\n", "rules"), policyd::ProviderTable::builtin()));
    BOOST_TEST(e.message("i3", "alice", "x@own.example", kT0) == "DUNNO");
}

// What a client sends never adds a header line to the notice.
BOOST_AUTO_TEST_CASE(notice_message_keeps_client_text_out_of_the_header) {
    policyd::LimitNotice n{.rule = "login",
                           .key = "evil\r\nBcc: victim@example.org",
                           .limits = "1/h",
                           .sender = "a@b\nBcc: x@example.org",
                           .recipient = "r@example.net",
                           .client_address = "192.0.2.1",
                           .sasl_username = std::string(1000, 'u'),
                           .at_us = kT0};
    const std::string m = policyd::notice_message(n, "admin@example.com");
    BOOST_TEST(m.find("\nBcc:") == std::string::npos, m);
    BOOST_TEST(m.find("Subject: sendguard: rule login reached for evil??Bcc: victim@example.org\n") !=
                   std::string::npos,
               m);
    BOOST_TEST(m.find("Auto-Submitted: auto-generated\n") != std::string::npos);
    BOOST_TEST(m.find(std::string(policyd::kMaxNoticeValue + 1, 'u')) == std::string::npos);
    BOOST_TEST(m.find("2027-01-15 08:00:00 UTC") != std::string::npos, m);
}

// The shipped examples load, and do what their comments say.
BOOST_AUTO_TEST_CASE(conf_examples_load) {
    const std::string dir = std::string(SENDGUARD_SOURCE_DIR) + "/conf-examples/";
    policyd::PolicySettings s;
    s.rate_rules = dir + "rate-rules";
    s.provider_table = dir + "providers";
    auto tables = policyd::load_policy_tables(s);
    BOOST_TEST(policyd::rule_count(*tables) == 8u);  // with the local-submission quota
    const auto& pt = policyd::provider_table(*tables);
    BOOST_TEST(pt.provider_of_host("mx01.mail.example-isp.net").value_or("") == "example-isp");
    BOOST_TEST(pt.provider_of_host("x.mail.protection.outlook.com").value_or("") == "outlook");
    BOOST_TEST(pt.find("microsoft365") == nullptr);
    const auto ceilings = policyd::provider_ceilings(*tables);
    BOOST_TEST(ceilings.at("google") == 1.0, boost::test_tools::tolerance(1e-9));
    BOOST_TEST(ceilings.at("gmx") == 5000.0 / 86400.0, boost::test_tools::tolerance(1e-9));
    BOOST_TEST(ceilings.count("default") == 0u);
}

// A provider= naming no row of the provider table fails the load at the
// rule's line, naming the unknown provider and where the names come from;
// default and rows of the override file are known.
BOOST_AUTO_TEST_CASE(rule_provider_must_name_a_provider_row) {
    harness::TempDir dir;
    policyd::PolicySettings s;
    s.rate_rules = dir.sub("rules");
    auto error_of = [&]() -> std::string {
        try {
            policyd::load_policy_tables(s);
            return "(no error)";
        } catch (const config::Error& e) {
            return e.what();
        }
    };
    harness::write_file(s.rate_rules, "all 100/h\ngmail provider=gmial key=provider 10/h\n");
    const std::string e = error_of();
    BOOST_TEST(e.rfind(s.rate_rules + ":2: rule \"gmail\": provider=: unknown provider \"gmial\"", 0) == 0, e);
    BOOST_TEST(e.find("the built-in rows (policyd_provider_table is empty)") != std::string::npos, e);
    BOOST_TEST(e.find("google, outlook") != std::string::npos, e);
    BOOST_TEST(e.find("or default") != std::string::npos, e);

    harness::write_file(s.rate_rules, "own provider=default 10/h\ng provider=google 10/h\n");
    BOOST_TEST(error_of() == "(no error)");

    // A row of the override file is a provider name; a removed built-in row is not.
    s.provider_table = dir.sub("providers");
    harness::write_file(s.provider_table, "isp *.mail.isp.example\ngoogle -\n");
    harness::write_file(s.rate_rules, "isp provider=isp 10/h\n");
    BOOST_TEST(error_of() == "(no error)");
    harness::write_file(s.rate_rules, "g provider=google 10/h\n");
    const std::string removed = error_of();
    BOOST_TEST(removed.rfind(s.rate_rules + ":1: rule \"g\": provider=: unknown provider \"google\"", 0) == 0,
               removed);
    BOOST_TEST(removed.find("the built-in rows with policyd_provider_table " + s.provider_table + " applied") !=
                   std::string::npos,
               removed);
}

// A wall clock stepped back one hour: a key that used 5 of its 30 is not
// refused for that hour (rate.h clamps state beyond one burst ahead).
BOOST_AUTO_TEST_CASE(clock_step_back_does_not_lock_out) {
    Engine e("login key=sasl_username 30/min burst 30\n");
    for (int i = 0; i < 5; ++i) {
        const std::string inst = "m" + std::to_string(i);
        BOOST_REQUIRE(e.rcpt(inst, "alice", "b@example.net", kT0) == "DUNNO");
        e.eom(inst, 1, kT0);
    }
    const int64_t back = kT0 - 3600 * kSec;
    BOOST_TEST(e.message("late", "alice", "b@example.net", back) == "DUNNO");
    // Committed from the clamped state: the key paces at 1 every 2 s, and
    // is never told to come back in an hour.
    const std::string refused = e.rcpt("later", "alice", "b@example.net", back);
    BOOST_TEST(starts(refused, "DEFER"), refused);
    BOOST_TEST(refused.find("3591") == std::string::npos, refused);
    BOOST_TEST(e.message("later2", "alice", "b@example.net", back + 2 * kSec) == "DUNNO");
}

BOOST_AUTO_TEST_SUITE_END()
