// test_policyd_learn_settings.cc - learn_settings(): the policyd_backoff_*
// parameters and the throttled-transport list, values and errors
#define BOOST_TEST_NO_MAIN
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "common/config/config.h"
#include "common/config/error.h"
#include "policyd/learn_settings.h"
#include "policyd/reply_class.h"
#include "tests/support/temp_dir.h"

namespace {

policyd::LearnSettings settings_of(const std::string& text) {
    return policyd::learn_settings(config::Config::parse(text, "sendguard.conf"));
}

std::string error_of(const std::string& text) {
    try {
        (void)settings_of(text);
    } catch (const config::Error& e) {
        return e.what();
    }
    return "(no error)";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(policyd_learn_settings)

BOOST_AUTO_TEST_CASE(defaults) {
    const policyd::LearnSettings s = settings_of("");
    BOOST_TEST(s.decrease == 0.5);
    BOOST_TEST(s.min_rate == 30.0 / 3600);
    BOOST_TEST(s.recovery_step == 60.0 / 3600);
    BOOST_TEST(s.quiet_period.count() == 600);
    BOOST_TEST(s.max_suspend.count() == 3600);
    BOOST_TEST(s.hold_down.count() == 60);
    BOOST_TEST(s.default_rate == 10.0);
    BOOST_TEST(s.transports.by_provider.empty());
    BOOST_TEST(s.transports.fallback.empty());
    BOOST_TEST(s.reply_patterns == "");
    BOOST_TEST(!s.patterns);
    BOOST_TEST(s.transports.for_level("gmx", 1) == "");
}

BOOST_AUTO_TEST_CASE(values) {
    harness::TempDir dir("sg-learn-settings-");
    const std::string patterns = dir.sub("replies");
    harness::write_file(patterns, "# ours\nratelimit:rate  slow down, friend\n");
    const policyd::LearnSettings s = settings_of(
        "policyd_backoff_decrease = 25\n"
        "policyd_backoff_min_rate = 2/m\n"
        "policyd_backoff_recovery_step = 10/m\n"
        "policyd_backoff_quiet_period = 5m\n"
        "policyd_backoff_max_suspend = 0\n"
        "policyd_backoff_hold_down = 0\n"
        "policyd_backoff_default_rate = 100/s\n"
        "policyd_throttled_transports = gmx=gmx-slow/gmx-crawl, google=google_slow, "
        "default=throttled\n"
        "policyd_reply_patterns = " + patterns + "\n");
    BOOST_TEST(s.decrease == 0.25);
    BOOST_TEST(s.min_rate == 2.0 / 60);
    BOOST_TEST(s.recovery_step == 10.0 / 60);
    BOOST_TEST(s.quiet_period.count() == 300);
    BOOST_TEST(s.max_suspend.count() == 0);
    BOOST_TEST(s.hold_down.count() == 0);
    BOOST_TEST(s.default_rate == 100.0);
    BOOST_TEST(s.reply_patterns == patterns);
    BOOST_REQUIRE(s.patterns);
    BOOST_TEST(s.patterns->size() == 1u);
    const auto c = policyd::classify_key(
        "4.0.0 host mx.example[192.0.2.1] said: 421 Slow down, friend", s.patterns.get());
    BOOST_TEST((c.signal == policyd::Signal::RateLimit));
    BOOST_TEST(c.from_extra);
    const policyd::ThrottledTransports& t = s.transports;
    BOOST_TEST(t.for_level("gmx", 0) == "");
    BOOST_TEST(t.for_level("gmx", 1) == "gmx-slow");
    BOOST_TEST(t.for_level("gmx", 2) == "gmx-crawl");
    BOOST_TEST(t.for_level("gmx", 7) == "gmx-crawl");  // past the last: the last
    BOOST_TEST(t.for_level("google", 3) == "google_slow");
    BOOST_TEST(t.for_level("yahoo", 1) == "throttled");  // default=
    BOOST_TEST(t.for_level("yahoo", 4) == "throttled");
}

BOOST_AUTO_TEST_CASE(errors_name_the_parameter_and_entry) {
    struct Case {
        std::string text, want;
    };
    const std::vector<Case> cases = {
        {"policyd_throttled_transports = gmx\n",
         "sendguard.conf:1: invalid policyd_throttled_transports: gmx (expected "
         "PROVIDER=TRANSPORT[/TRANSPORT...] or default=TRANSPORT)"},
        {"policyd_throttled_transports = =slow\n", "invalid policyd_throttled_transports: =slow"},
        {"policyd_throttled_transports = gmx=\n", "no transport after '='"},
        {"policyd_throttled_transports = gmx=a//b\n", "empty transport name between '/'"},
        {"policyd_throttled_transports = gmx=slow:[relay]\n", "master.cf service name"},
        {"policyd_throttled_transports = GMX=slow\n", "provider table row's name"},
        {"policyd_throttled_transports = gmx=a, gmx=b\n", "provider gmx given twice"},
        {"policyd_throttled_transports = default=a, default=b\n", "default= given twice"},
        {"policyd_throttled_transports = gmx=a/b/c/d/e/f/g/h/i\n", "more than 8 levels"},
        {"policyd_throttled_transports = gmx=" + std::string(65, 't') + "\n",
         "transport name longer than 64 bytes"},
        {"policyd_backoff_min_rate = 20/s\n",
         "invalid policyd_backoff_min_rate: 20/s (above policyd_backoff_default_rate (600/m)"},
        {"policyd_backoff_decrease = 100\n", "policyd_backoff_decrease"},
        {"policyd_backoff_decrease = 0\n", "policyd_backoff_decrease"},
        {"policyd_backoff_quiet_period = 5s\n", "policyd_backoff_quiet_period"},
        {"policyd_backoff_default_rate = fast\n", "expected a rate"},
    };
    for (const Case& c : cases) {
        const std::string got = error_of(c.text);
        BOOST_TEST_CONTEXT(c.text) { BOOST_TEST(got.find(c.want) != std::string::npos, got); }
    }
}

BOOST_AUTO_TEST_CASE(pattern_file_errors_name_the_file_and_line) {
    harness::TempDir dir("sg-learn-settings-");
    const std::string bad = dir.sub("replies");
    harness::write_file(bad, "ratelimit:rate ok\nsometimes maybe\n");
    const std::string got = error_of("policyd_reply_patterns = " + bad + "\n");
    BOOST_TEST(got.find("sendguard.conf:1: invalid policyd_reply_patterns: " + bad) == 0u, got);
    BOOST_TEST(got.find(bad + ":2:") != std::string::npos, got);
    const std::string missing = error_of("policyd_reply_patterns = " + dir.sub("none") + "\n");
    BOOST_TEST(missing.find("No such file") != std::string::npos, missing);
}

BOOST_AUTO_TEST_SUITE_END()
