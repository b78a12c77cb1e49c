// test_policyd_learn.cc - the Learner as a table: sequences of status keys,
// block events and times -> rates, levels and transport_maps answers
#define BOOST_TEST_NO_MAIN
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "common/config/config.h"
#include "common/log/log.h"
#include "common/store/throttle.h"
#include "policyd/learn_settings.h"
#include "policyd/learn_signal.h"
#include "policyd/learner.h"
#include "test_policyd_learn_support.h"

using learn_test::kSec;

namespace {

std::string show(const net::SocketmapReply& r) {
    return std::string(net::status_name(r.status)) + " " + r.data;
}

// One step of a scenario: at t seconds, feed map/key (a status key), or a
// block event (map "block:REASON", key "domain text"), or only tick; then
// expect gmx's backoff level (decreases applied, 0 once normal again) and
// rate (per hour, 0: not in backoff) and the transport answer for the
// domain web.de ("" = NOTFOUND): the transport follows the rate back up.
struct Step {
    int64_t t;
    std::string map, key;
    int level;
    double per_hour;
    std::string transport;
};

void run(const std::string& name, const std::vector<Step>& steps,
         const std::string& conf = learn_test::kConf) {
    policyd::Learner l(learn_test::settings(conf), learn_test::destinations());
    for (size_t i = 0; i < steps.size(); ++i) {
        const Step& s = steps[i];
        const int64_t now = learn_test::kT0 + s.t * kSec;
        if (s.map.starts_with("block:"))
            l.on_block_event(s.key.substr(0, s.key.find(' ')), s.map.substr(6),
                             s.key.substr(s.key.find(' ') + 1), now);
        else if (!s.map.empty())
            BOOST_TEST(show(policyd::learn_lookup(l, s.map, s.key, now)) == "NOTFOUND ");
        l.tick(now);
        const std::optional<double> rate = l.allowed_rate("gmx", now);
        const net::SocketmapReply t = policyd::learn_lookup(l, "transport", "web.de", now);
        BOOST_TEST_CONTEXT(name << " step " << i << " t=" << s.t << " " << s.map << " " << s.key) {
            BOOST_TEST(l.level("gmx") == s.level);
            BOOST_TEST(std::lround(rate.value_or(0) * 3600) == std::lround(s.per_hour));
            BOOST_TEST((t.status == net::SocketmapStatus::Ok ? t.data : std::string()) == s.transport);
        }
    }
}

const std::string kWebDe =
    "4.0.0 host mx-ha03.web.de[212.227.17.8] said: 421 Rate limit reached. Please try again later "
    "(in reply to MAIL FROM command)";
const std::string kGmxTooMany =
    "4.0.0 host mx01.emig.gmx.net[212.227.17.5] said: 421-Too many messages have been received in a "
    "short period of time (in reply to end of DATA command)";
const std::string kMailboxFull =
    "4.2.2 host mx-ha03.web.de[212.227.17.8] said: 452 4.2.2 Mailbox full (in reply to RCPT TO "
    "command)";
const std::string kRefused = "4.4.1 connect to mx-ha03.web.de[212.227.17.8]:25: Connection refused";
const std::string kGreylist =
    "4.7.1 host mx-ha03.web.de[212.227.17.8] said: 450 4.7.1 <bob@web.de>: Recipient address "
    "rejected: Greylisted, see http://postgrey.schweikert.ch/help/web.de.html (in reply to RCPT TO "
    "command)";
const std::string kOk = "2.0.0 250 2.0.0 Ok: queued as 4Xk2";

struct QuietLog {
    QuietLog() { logging::open("test", logging::Sink::None); }
};

}  // namespace

BOOST_TEST_GLOBAL_FIXTURE(QuietLog);

BOOST_AUTO_TEST_SUITE(policyd_learn)

BOOST_AUTO_TEST_CASE(aimd_sequences) {
    // kConf: decrease 50%, min 60/h, step 600/h, quiet 600s, default 3600/h,
    // gmx=gmx-slow/gmx-crawl, default=throttled; hold-down 1m (the default).
    run("decrease, hold-down, recovery",
        {
            {0, "", "", 0, 0, ""},
            {10, "status", kWebDe, 1, 1800, "gmx-slow:"},
            {20, "status", kGmxTooMany, 1, 1800, "gmx-slow:"},  // inside the hold-down
            {100, "status", kGmxTooMany, 2, 900, "gmx-crawl:"},
            {600, "", "", 2, 900, "gmx-crawl:"},                // quiet 500s: not yet
            {700, "", "", 2, 1500, "gmx-crawl:"},               // +600/h; 1500 < 1800: still level 2
            {1300, "", "", 2, 2100, "gmx-slow:"},               // above the level-1 point
            {1900, "", "", 2, 2700, "gmx-slow:"},
            {2500, "", "", 2, 3300, "gmx-slow:"},
            {3100, "", "", 0, 0, ""},                           // at the ceiling: out of backoff
        });
    run("floor at min_rate: the level stops rising there",
        {
            {0, "status", kWebDe, 1, 1800, "gmx-slow:"},
            {60, "status", kWebDe, 2, 900, "gmx-crawl:"},
            {120, "status", kWebDe, 3, 450, "gmx-crawl:"},
            {180, "status", kWebDe, 4, 225, "gmx-crawl:"},
            {240, "status", kWebDe, 5, 112.5, "gmx-crawl:"},
            {300, "status", kWebDe, 6, 60, "gmx-crawl:"},
            // Another 18 minutes of rate-limit replies at the floor: no
            // decrease, so the level stays (it counts decreases).
            {360, "status", kWebDe, 6, 60, "gmx-crawl:"},
            {420, "status", kWebDe, 6, 60, "gmx-crawl:"},
            {900, "status", kWebDe, 6, 60, "gmx-crawl:"},
            {1400, "status", kWebDe, 6, 60, "gmx-crawl:"},
            {1999, "", "", 6, 60, "gmx-crawl:"},   // quiet counts from the last signal
            {2000, "", "", 6, 660, "gmx-crawl:"},  // the level stays until normal
        });
    run("a long quiet spell recovers several steps at once",
        {
            {0, "status", kWebDe, 1, 1800, "gmx-slow:"},
            {60, "status", kWebDe, 2, 900, "gmx-crawl:"},
            {60 + 4 * 600, "", "", 2, 3300, "gmx-slow:"},  // 900 + 4 * 600
            {60 + 5 * 600, "", "", 0, 0, ""},  // 900 + 5 * 600 >= 3600
        });
}

BOOST_AUTO_TEST_CASE(ordinary_temporary_failures_never_throttle) {
    run("mailbox full, refused, greylisting",
        {
            {0, "status", kMailboxFull, 0, 0, ""},
            {1, "status", kRefused, 0, 0, ""},
            {2, "status", kGreylist, 0, 0, ""},
            {3, "status-gmx", kMailboxFull, 0, 0, ""},
            {4, "status", kOk, 0, 0, ""},
        });
    policyd::Learner l(learn_test::settings(), learn_test::destinations());
    l.on_status("status", kMailboxFull, learn_test::kT0);
    const std::vector<store::ProviderState> st = l.states();
    BOOST_REQUIRE_EQUAL(st.size(), 1u);
    BOOST_TEST(st[0].provider == "gmx");
    BOOST_TEST(st[0].deferrals == 1u);
    BOOST_TEST(st[0].rate_signals == 0u);
    BOOST_TEST(st[0].level == 0u);
    BOOST_TEST(st[0].last_reply.find("Mailbox full") != std::string::npos);
    BOOST_TEST(l.counters().ordinary == 1u);
}

BOOST_AUTO_TEST_CASE(success_credited_only_through_a_provider_map) {
    policyd::Learner l(learn_test::settings(), learn_test::destinations());
    const int64_t t = learn_test::kT0;
    BOOST_TEST(show(policyd::learn_lookup(l, "status", kOk, t)) == "NOTFOUND ");
    BOOST_TEST(l.states().empty());  // nobody to credit
    BOOST_TEST(l.counters().successes_uncredited == 1u);
    BOOST_TEST(show(policyd::learn_lookup(l, "status-gmx", kOk, t)) == "NOTFOUND ");
    BOOST_TEST(show(policyd::learn_lookup(l, "status-gmx", kOk, t)) == "NOTFOUND ");
    BOOST_REQUIRE_EQUAL(l.states().size(), 1u);
    BOOST_TEST(l.states()[0].provider == "gmx");
    BOOST_TEST(l.states()[0].successes == 2u);
    BOOST_TEST(l.counters().successes_credited == 2u);
    // A map name that names no valid provider is the shared map.
    l.on_status("status-NOT/valid", kOk, t);
    l.on_status("status-default", kOk, t);
    BOOST_TEST(l.counters().bad_map_names == 2u);
    BOOST_TEST(l.states().size() == 1u);
    // A well-formed name that is no row of the provider table creates no
    // state either: a status client cannot fill the provider states.
    l.on_status("status-nosuchprovider", kOk, t);
    BOOST_TEST(l.counters().bad_map_names == 3u);
    BOOST_TEST(l.states().size() == 1u);
    // A deferral on a per-provider map is that provider's, whatever the host.
    l.on_status("status-google", kWebDe, t);
    BOOST_TEST(l.level("google") == 1);
    BOOST_TEST(l.level("gmx") == 0);
}

BOOST_AUTO_TEST_CASE(hosts_and_domains_without_a_provider) {
    policyd::Learner l(learn_test::settings(), learn_test::destinations());
    const int64_t t = learn_test::kT0;
    l.on_status("status",
                "4.7.1 host mail.small.example[192.0.2.9] said: 421 4.7.1 Rate limit exceeded "
                "(in reply to RCPT TO command)",
                t);
    BOOST_TEST(l.states().empty());
    BOOST_TEST(l.counters().unknown_host == 1u);
    // Malformed keys are counted, never thrown.
    for (const char* bad : {"", "hello", "9.9.9 what", "4.7.1", "x.y.z host"})
        BOOST_TEST(show(policyd::learn_lookup(l, "status", bad, t)) == "NOTFOUND ");
    BOOST_TEST(l.counters().malformed >= 4u);
    BOOST_TEST(show(policyd::learn_lookup(l, "nosuchmap", "x", t)).starts_with("PERM "));
}

BOOST_AUTO_TEST_CASE(transport_answers_only_the_domain_form) {
    policyd::Learner l(learn_test::settings(), learn_test::destinations());
    const int64_t t = learn_test::kT0;
    l.on_status("status", kWebDe, t);
    l.on_status("status",
                "4.7.28 host gmail-smtp-in.l.google.com[142.250.1.26] said: 421-4.7.28 Gmail has "
                "detected an unusual rate of unsolicited mail (in reply to end of DATA command)",
                t);
    struct Case {
        std::string key, want;  // "" = NOTFOUND
    };
    const std::vector<Case> cases = {
        {"web.de", "gmx-slow:"},
        {"GMX.DE", "gmx-slow:"},  // keys are compared in lower case
        {"gmail.com", "throttled:"},  // google has no entry: default=
        // trivial-rewrite asks a socketmap for the full address only: its domain decides.
        {"bob@web.de", "gmx-slow:"},
        {"Bob+news@WEB.de", "gmx-slow:"},
        {"\"a@b\"@web.de", "gmx-slow:"},  // the last '@' ends the local part
        {"bob@yahoo.com", ""},
        {"bob@", ""},
        {"bob@.web.de", ""},
        {".web.de", ""},              // parent-domain form
        {"*", ""},
        {"pending.example", ""},      // MX lookup pending
        {"small.example", ""},        // its own destination
        {"yahoo.com", ""},            // provider not in backoff
        {"", ""},
        {std::string(300, 'a'), ""},
    };
    for (const Case& c : cases) {
        const net::SocketmapReply r = policyd::learn_lookup(l, "transport", c.key, t);
        BOOST_TEST_CONTEXT(c.key) {
            BOOST_TEST((r.status == net::SocketmapStatus::Ok ? r.data : std::string()) == c.want);
            if (c.want.empty()) BOOST_TEST(show(r) == "NOTFOUND ");
        }
    }
    // Without default= a provider with no entry is not rerouted.
    policyd::Learner l2(learn_test::settings(learn_test::kConfNoDefault), learn_test::destinations());
    l2.on_status("status-google", kWebDe, t);
    BOOST_TEST(l2.level("google") == 1);
    BOOST_TEST(!l2.transport_for("gmail.com", t));
}

namespace {

// The policy service's side of ProviderBudget, as the learner sees it.
struct Budget final : policyd::ProviderBudget {
    std::vector<std::string> charged;
    std::string over;  // the provider over its limit; "" none
    void charge_retry(std::string_view provider, int64_t) override { charged.emplace_back(provider); }
    bool over_limit(std::string_view provider, int64_t) const override { return provider == over; }
};

}  // namespace

// Providers count delivery attempts: each deferral (one recipient to be
// tried again) is charged once, successes and permanent failures never.
BOOST_AUTO_TEST_CASE(deferrals_charge_the_provider_budget) {
    policyd::Learner l(learn_test::settings(), learn_test::destinations());
    Budget b;
    l.set_budget(&b);
    const int64_t t = learn_test::kT0;
    l.on_status("status", kMailboxFull, t);   // gmx, ordinary deferral
    l.on_status("status", kWebDe, t);         // gmx, rate limit
    l.on_status("status-google", kGreylist, t);  // the map names the provider
    l.on_status("status-gmx", kOk, t);        // delivered: no retry
    l.on_status("status",
                "5.1.1 host mx-ha03.web.de[212.227.17.8] said: 550 5.1.1 no such user (in reply "
                "to RCPT TO command)",
                t);  // bounced: no retry
    l.on_status("status",
                "4.7.1 host mail.small.example[192.0.2.9] said: 451 4.7.1 try later (in reply to "
                "RCPT TO command)",
                t);  // no provider: nobody to charge
    l.on_status("status", "garbage", t);
    BOOST_TEST(b.charged == (std::vector<std::string>{"gmx", "gmx", "google"}), boost::test_tools::per_element());
    BOOST_TEST(l.counters().retries_charged == 3u);
    // Without a budget the learner learns as before.
    l.set_budget(nullptr);
    l.on_status("status", kMailboxFull, t);
    BOOST_TEST(b.charged.size() == 3u);
}

// A provider not in backoff whose bucket is over its limit goes to its
// first throttled transport while it is; a provider in backoff keeps the
// transport of its level.
BOOST_AUTO_TEST_CASE(a_provider_over_its_budget_is_routed_to_its_first_throttled_transport) {
    policyd::Learner l(learn_test::settings(), learn_test::destinations());
    Budget b;
    l.set_budget(&b);
    const int64_t t = learn_test::kT0;
    BOOST_TEST(!l.transport_for("web.de", t));
    b.over = "gmx";
    BOOST_TEST(l.transport_for("web.de", t).value_or("") == "gmx-slow:");
    BOOST_TEST(l.transport_for("gmx.de", t).value_or("") == "gmx-slow:");
    BOOST_TEST(!l.transport_for("gmail.com", t));     // google is within its budget
    BOOST_TEST(!l.transport_for("small.example", t)); // no provider
    BOOST_TEST(l.transport_for("bob@web.de", t).value_or("") == "gmx-slow:");  // the address's domain
    BOOST_TEST(!l.transport_for("*", t));
    BOOST_TEST(l.counters().over_limit_answers == 3u);
    b.over = "google";
    BOOST_TEST(l.transport_for("gmail.com", t).value_or("") == "throttled:");  // default=
    b.over.clear();  // conforms again
    BOOST_TEST(!l.transport_for("web.de", t));
    // In backoff past level 1 the learned level decides, over or not.
    l.on_status("status", kWebDe, t);
    l.on_status("status", kWebDe, t + 61 * kSec);
    BOOST_TEST(l.level("gmx") == 2);
    b.over = "gmx";
    BOOST_TEST(l.transport_for("web.de", t + 62 * kSec).value_or("") == "gmx-crawl:");
    // Without default= a provider with no entry is not rerouted.
    policyd::Learner l2(learn_test::settings(learn_test::kConfNoDefault), learn_test::destinations());
    l2.set_budget(&b);
    b.over = "google";
    BOOST_TEST(!l2.transport_for("gmail.com", t));
}

BOOST_AUTO_TEST_CASE(suspension_for_a_retry_after) {
    logging::clear_captured();
    policyd::Learner l(learn_test::settings(), learn_test::destinations());
    const int64_t t = learn_test::kT0;
    const std::string key =
        "4.7.0 host mx01.emig.gmx.net[212.227.17.5] said: 421 4.7.0 Too many connections, try "
        "again in 30 minutes (in reply to MAIL FROM command)";
    std::optional<policyd::BackoffChange> c = l.on_status("status", key, t);
    const policyd::StatusSignal sig = policyd::classify_status_key(key);
    BOOST_REQUIRE(sig.kind == policyd::StatusKind::RateLimit);
    BOOST_TEST(sig.retry_after_s == 1800);  // "try again in 30 minutes"
    if (sig.retry_after_s > 0) {
        BOOST_REQUIRE(c);
        BOOST_TEST(c->suspended_until_us == t + 1800 * kSec);
        BOOST_TEST(logging::captured().find("suspended_for=1800") != std::string::npos);
        BOOST_TEST(l.suspended("gmx", t));
        BOOST_TEST(*l.allowed_rate("gmx", t) == 0.0);
        BOOST_TEST(l.transport_for("web.de", t).value_or("") == "gmx-crawl:");  // slowest
        const int64_t end = t + std::min<int64_t>(sig.retry_after_s, 3600) * kSec;
        BOOST_TEST(l.suspended("gmx", end - 1));
        l.tick(end);
        BOOST_TEST(!l.suspended("gmx", end));
        BOOST_TEST(l.transport_for("web.de", end).value_or("") == "gmx-slow:");
        // Recovery counts from the end of the suspension, not from the reply.
        l.tick(end + 599 * kSec);
        BOOST_TEST(l.level("gmx") == 1);
        l.tick(end + 600 * kSec);
        BOOST_TEST(std::lround(*l.allowed_rate("gmx", end + 600 * kSec) * 3600) == 2400);
    }
    // max_suspend 0 never suspends.
    policyd::Learner l0(learn_test::settings(learn_test::kConfNoSuspend),
                        learn_test::destinations());
    l0.on_status("status", key, t);
    BOOST_TEST(!l0.suspended("gmx", t));
    BOOST_TEST(l0.level("gmx") == 1);
}

BOOST_AUTO_TEST_CASE(block_events) {
    run("ratelimited and blocked DSNs throttle; others do not",
        {
            {0, "block:spamdetected", "web.de 550 5.7.1 spam", 0, 0, ""},
            {1, "block:ratelimited", "gmx.de 421 rate limit reached", 1, 1800, "gmx-slow:"},
            {100, "block:blocked", "web.de 554 IP blocked", 2, 900, "gmx-crawl:"},
            {101, "block:ratelimited", "small.example 421 slow down", 2, 900, "gmx-crawl:"},
        });
    // A domain whose MX lookup is pending waits for the next tick.
    learn_test::PendingDomain pending;
    policyd::Learner l(learn_test::settings(), learn_test::destinations(&pending));
    const int64_t t = learn_test::kT0;
    pending.domain = "later.example";
    pending.resolved = false;
    BOOST_TEST(!l.on_block_event("later.example", "ratelimited", "421 slow down", t));
    BOOST_TEST(l.level("gmx") == 0);
    l.tick(t + kSec);
    BOOST_TEST(l.level("gmx") == 0);
    pending.resolved = true;  // rolls up to gmx now
    auto changes = l.tick(t + 2 * kSec);
    BOOST_TEST(l.level("gmx") == 1);
    BOOST_REQUIRE_EQUAL(changes.size(), 1u);
    BOOST_TEST(changes[0].source == "block");
    // The DSN's Remote-MTA names the provider when the domain does not.
    policyd::Learner l2(learn_test::settings(), learn_test::destinations());
    l2.on_block_event("small.example", "ratelimited", "421 slow down", t, "dns; mx00.web.de");
    BOOST_TEST(l2.level("gmx") == 1);
}

BOOST_AUTO_TEST_CASE(changes_are_logged_with_the_reply) {
    logging::open("test", logging::Sink::None);
    logging::clear_captured();
    policyd::Learner l(learn_test::settings(), learn_test::destinations());
    auto c = l.on_status("status", kWebDe, learn_test::kT0);
    BOOST_REQUIRE(c);
    BOOST_TEST(c->provider == "gmx");
    BOOST_TEST(c->old_level == 0);
    BOOST_TEST(c->new_level == 1);
    BOOST_TEST(std::lround(c->old_rate * 3600) == 3600);
    BOOST_TEST(std::lround(c->new_rate * 3600) == 1800);
    const std::string log = logging::captured();
    BOOST_TEST(log.find("policyd: backoff=status, provider=gmx, old_rate=3600/h, "
                        "new_rate=1800/h, old_level=0, level=1") != std::string::npos,
               log);
    BOOST_TEST(log.find("Rate limit reached") != std::string::npos, log);
    logging::clear_captured();
    l.tick(learn_test::kT0 + 600 * kSec);
    BOOST_TEST(logging::captured().find("backoff=recovery, provider=gmx, old_rate=1800/h, new_rate=2400/h") !=
                   std::string::npos,
               logging::captured());
}

BOOST_AUTO_TEST_CASE(persistence_and_cleared_at) {
    const int64_t t = learn_test::kT0;
    policyd::Learner a(learn_test::settings(), learn_test::destinations());
    BOOST_TEST(!a.dirty());
    a.on_status("status", kWebDe, t);
    a.on_status("status", kWebDe, t + 60 * kSec);
    BOOST_TEST(a.dirty());
    std::vector<store::ProviderState> saved = a.states();
    a.mark_clean();
    BOOST_TEST(!a.dirty());
    BOOST_REQUIRE_EQUAL(saved.size(), 1u);
    BOOST_TEST(saved[0].level == 2u);
    BOOST_TEST(std::lround(saved[0].allowed_per_hour) == 900);
    BOOST_TEST(std::lround(saved[0].configured_per_hour) == 3600);
    BOOST_TEST(saved[0].rate_signals == 2u);
    BOOST_TEST(saved[0].last_signal == t + 60 * kSec);

    // A restart: the state comes back and goes on recovering from where it was.
    policyd::Learner b(learn_test::settings(), learn_test::destinations());
    b.load(saved);
    BOOST_TEST(b.level("gmx") == 2);
    BOOST_TEST(b.transport_for("web.de", t + 61 * kSec).value_or("") == "gmx-crawl:");
    b.tick(t + 660 * kSec);
    BOOST_TEST(std::lround(*b.allowed_rate("gmx", t + 660 * kSec) * 3600) == 1500);

    // `sendguard backoff clear gmx`: the stored row has a newer cleared_at.
    std::vector<store::ProviderState> stored = saved;
    stored[0].cleared_at = t + 700 * kSec;
    auto changes = b.merge_cleared(stored, t + 701 * kSec);
    BOOST_REQUIRE_EQUAL(changes.size(), 1u);
    BOOST_TEST(changes[0].source == "cleared");
    BOOST_TEST(b.level("gmx") == 0);
    BOOST_TEST(!b.transport_for("web.de", t + 701 * kSec));
    BOOST_TEST(b.dirty());
    BOOST_TEST(b.states()[0].cleared_at == t + 700 * kSec);
    // The same stamp again changes nothing; an older one neither.
    BOOST_TEST(b.merge_cleared(stored, t + 702 * kSec).empty());
    // load() of a row cleared since replaces the learner's copy.
    b.on_status("status", kWebDe, t + 800 * kSec);
    BOOST_TEST(b.level("gmx") == 1);
    stored[0].cleared_at = t + 900 * kSec;
    stored[0].level = 0;
    stored[0].allowed_per_hour = 0;
    b.load(stored);
    BOOST_TEST(b.level("gmx") == 0);
}

BOOST_AUTO_TEST_SUITE_END()
