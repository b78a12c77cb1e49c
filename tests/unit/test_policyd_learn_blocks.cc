// test_policyd_learn_blocks.cc - BlockScanner over a real LMDB suppression
// store: only block-event rows new since the last scan reach the learner
#define BOOST_TEST_NO_MAIN
#include <boost/test/unit_test.hpp>

#include <string>

#include "common/log/log.h"
#include "common/store/lmdb.h"
#include "common/store/suppression.h"
#include "policyd/learner.h"
#include "test_policyd_learn_support.h"
#include "tests/support/temp_dir.h"

namespace {

constexpr int64_t kWhen = learn_test::kT0 / learn_test::kSec;  // unix seconds

struct Store {
    harness::TempDir dir{"sg-learn-blocks-"};
    std::shared_ptr<store::Env> env =
        store::Env::open(dir.sub("lmdb"), {.map_size = size_t{1} << 20, .max_readers = 126});
    store::SuppressionList list{env};
    store::Policy policy = [] {
        store::Policy p;
        p.max_diagnostic = 512;
        return p;
    }();
    int reports = 0;

    void block(const std::string& domain, const std::string& reason, int64_t when,
               const std::string& remote = "") {
        store::BlockEvent ev;
        ev.domain = domain;
        ev.reason = reason;
        ev.status = reason == "ratelimited" ? "4.7.0" : "5.7.1";
        ev.diagnostic = "smtp; 421 slow down, " + reason;
        ev.remote_mta = remote;
        ev.when = when;
        ev.evidence = "Q" + std::to_string(++reports);
        list.record_block(ev, policy);
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(policyd_learn_blocks)

BOOST_AUTO_TEST_CASE(scan_feeds_only_new_rows) {
    logging::open("test", logging::Sink::None);
    Store st;
    policyd::Learner l(learn_test::settings(), learn_test::destinations());
    policyd::BlockScanner scanner;
    const int64_t now = learn_test::kT0;

    // Rows from before the first scan are history (reflected in persisted states).
    st.block("gmx.de", "ratelimited", kWhen - 100);
    BOOST_TEST(scanner.scan(st.list, l, now) == 0u);
    BOOST_TEST(l.level("gmx") == 0);

    st.block("web.de", "blocked", kWhen);
    BOOST_TEST(scanner.scan(st.list, l, now) == 1u);
    BOOST_TEST(l.level("gmx") == 1);
    BOOST_TEST(scanner.scan(st.list, l, now) == 0u);  // nothing new

    // Another domain with the same last_seen second is still new.
    st.block("gmail.com", "ratelimited", kWhen);
    BOOST_TEST(scanner.scan(st.list, l, now) == 1u);
    BOOST_TEST(l.level("google") == 1);
    BOOST_TEST(scanner.scan(st.list, l, now) == 0u);

    // A later report for a domain seen before.
    st.block("gmx.de", "ratelimited", kWhen + 90);
    BOOST_TEST(scanner.scan(st.list, l, now + 90 * learn_test::kSec) == 1u);
    BOOST_TEST(l.level("gmx") == 2);

    // Fed, but a reason that does not throttle, and a domain of no provider.
    st.block("yahoo.com", "spamdetected", kWhen + 100);
    st.block("small.example", "ratelimited", kWhen + 100);
    BOOST_TEST(scanner.scan(st.list, l, now + 100 * learn_test::kSec) == 2u);
    BOOST_TEST(l.level("yahoo") == 0);
    BOOST_TEST(l.states().size() == 2u);  // gmx and google only
    // ... unless its Remote-MTA names a provider's host.
    st.block("small.example", "ratelimited", kWhen + 101, "dns; mta5.am0.yahoodns.net");
    BOOST_TEST(scanner.scan(st.list, l, now + 101 * learn_test::kSec) == 1u);
    BOOST_TEST(l.level("yahoo") == 1);
    BOOST_TEST(l.counters().block_events == 6u);
}

BOOST_AUTO_TEST_CASE(an_empty_table_and_the_first_scan) {
    Store st;
    policyd::Learner l(learn_test::settings(), learn_test::destinations());
    policyd::BlockScanner scanner;
    BOOST_TEST(scanner.scan(st.list, l, learn_test::kT0) == 0u);
    st.block("gmx.de", "ratelimited", kWhen);
    BOOST_TEST(scanner.scan(st.list, l, learn_test::kT0) == 1u);  // the table was empty at start
    BOOST_TEST(l.level("gmx") == 1);
}

BOOST_AUTO_TEST_SUITE_END()
