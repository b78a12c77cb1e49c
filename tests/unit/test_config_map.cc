// test_config_map.cc - map parameters: key=value entries parsed once
#include <boost/test/unit_test.hpp>

#include <string>

#include "bounce-pipe/transport.h"
#include "common/config/config.h"
#include "tests/unit/test_config_support.h"

namespace {

using namespace std::chrono_literals;
using config_test::error_of;

}  // namespace

BOOST_AUTO_TEST_SUITE(config_map)

BOOST_AUTO_TEST_CASE(default_is_typed_in_order) {
    const config::Config c = config::Config::defaults();
    const config::DurationMap& m = c.duration_map("bounce_reason_expiry");
    BOOST_REQUIRE(m.entries.size() == 2u);
    BOOST_TEST(m.entries[0].first == "mailboxfull");
    BOOST_TEST(m.entries[0].second == std::chrono::seconds(14 * 86400));
    BOOST_TEST(m.entries[1].first == "suspend");
    BOOST_TEST(m.entries[1].second == std::chrono::seconds(90 * 86400));
    BOOST_TEST(m.find("suspend") != nullptr);
    BOOST_TEST(m.find("userunknown") == nullptr);
}

BOOST_AUTO_TEST_CASE(separators_and_empty) {
    const config::Config c = config::Config::parse(
        "bounce_reason_expiry = suspend=1d,mailboxfull=0\n    blocked=2w\n", "sendguard.conf");
    const auto& m = c.duration_map("bounce_reason_expiry");
    BOOST_REQUIRE(m.entries.size() == 3u);
    BOOST_TEST(m.entries[1].second.count() == 0);
    BOOST_TEST(m.entries[2].first == "blocked");
    BOOST_TEST(m.entries[2].second.count() == 14 * 86400);
    const config::Config empty = config::Config::parse("bounce_reason_expiry =\n", "x");
    BOOST_TEST(empty.duration_map("bounce_reason_expiry").entries.empty());
}

BOOST_AUTO_TEST_CASE(errors_name_file_line_and_entry) {
    struct Case {
        std::string text, want;
    } cases[] = {
        {"\nbounce_reason_expiry = suspend=9d, suspend=3d\n",
         "sendguard.conf:2: invalid bounce_reason_expiry: suspend=9d, suspend=3d (duplicate key suspend)"},
        {"bounce_reason_expiry = suspend\n",
         "sendguard.conf:1: invalid bounce_reason_expiry: suspend (expected key=value entries, like mailboxfull=14d; "
         "got suspend)"},
        {"bounce_reason_expiry = =3d\n",
         "sendguard.conf:1: invalid bounce_reason_expiry: =3d (expected key=value entries, like mailboxfull=14d; got =3d)"},
        {"bounce_reason_expiry = suspend=\n",
         "sendguard.conf:1: invalid bounce_reason_expiry: suspend= (expected key=value entries, like mailboxfull=14d; "
         "got suspend=)"},
        {"bounce_reason_expiry = Suspend=3d\n",
         "sendguard.conf:1: invalid bounce_reason_expiry: Suspend=3d (bad key Suspend; keys are lower-case letters, "
         "digits, '.', '_' and '-')"},
        {"bounce_reason_expiry = suspend=soon\n",
         "sendguard.conf:1: invalid bounce_reason_expiry: suspend=soon (suspend: expected a duration like 30s, 5m, "
         "1h, 1d)"},
        {"bounce_reason_expiry = suspend=3651d\n",
         "sendguard.conf:1: invalid bounce_reason_expiry: suspend=3651d (suspend: max 315360000s)"},
        {"bounce_reason_expiry = " + std::string(65, 'k') + "=1d\n",
         "sendguard.conf:1: invalid bounce_reason_expiry: " + std::string(65, 'k') +
             "=1d (key longer than 64 bytes)"},
    };
    for (const auto& c : cases) BOOST_TEST(error_of(c.text) == c.want);

    std::string many = "bounce_reason_expiry =";
    for (int i = 0; i <= 64; ++i) many += " k" + std::to_string(i) + "=1d";
    BOOST_TEST(error_of(many + "\n").find("(more than 64 entries)") != std::string::npos, error_of(many + "\n"));
    many = "bounce_reason_expiry =";
    for (int i = 0; i < 64; ++i) many += " k" + std::to_string(i) + "=1d";
    BOOST_TEST(error_of(many + "\n") == "(no error)");
}

// The owning program checks the keys: here sendguard-bounce's reasons.
BOOST_AUTO_TEST_CASE(owner_checks_keys) {
    const config::Config c =
        config::Config::parse("\n\nbounce_reason_expiry = mailboxfull=14d, notareason=3d\n", "sendguard.conf");
    auto known = [](std::string_view k) { return k == "mailboxfull"; };
    try {
        c.check_map_keys("bounce_reason_expiry", known, "reasons such as mailboxfull");
        BOOST_FAIL("no exception");
    } catch (const config::Error& e) {
        BOOST_TEST(std::string(e.what()) ==
                   "sendguard.conf:3: invalid bounce_reason_expiry: unknown key notareason (reasons such as mailboxfull)");
    }
    try {
        (void)bounce::Settings::from(c);
        BOOST_FAIL("no exception");
    } catch (const config::Error& e) {
        BOOST_TEST(std::string(e.what()).starts_with(
                       "sendguard.conf:3: invalid bounce_reason_expiry: unknown key notareason (reasons are"),
                   e.what());
    }
    const bounce::Settings s = bounce::Settings::from(config::Config::parse(
        "bounce_reason_expiry = mailboxfull=2d userunknown=0\n", "sendguard.conf"));
    BOOST_TEST(s.policy.reason_expiry.size() == 2u);
    BOOST_TEST(s.policy.reason_expiry.at("mailboxfull").count() == 2 * 86400);
    BOOST_TEST(s.policy.reason_expiry.at("userunknown").count() == 0);
}

BOOST_AUTO_TEST_SUITE_END()
