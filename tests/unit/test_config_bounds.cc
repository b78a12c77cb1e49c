// test_config_bounds.cc - what the table accepts, the code can hold
//
// A bound in the parameter table that is larger than what the code behind
// it keeps would be cut silently at run time. Each row here ties a
// parameter's max to the limit of the code that uses it, and checks that a
// value past it is a configuration error naming the max.
#include <boost/test/unit_test.hpp>

#include <string>

#include "bounce-pipe/transport.h"
#include "common/address/verp.h"
#include "common/address/verp_setup.h"
#include "common/config/config.h"
#include "tests/unit/test_config_support.h"
#include "common/net/netstring.h"
#include "common/store/record.h"
#include "common/store/setup.h"
#include "tests/support/temp_dir.h"

using config_test::error_of;

BOOST_AUTO_TEST_SUITE(config_bounds)

BOOST_AUTO_TEST_CASE(diagnostic_limit_is_what_a_record_holds) {
    const config::Param* p = config::find_param("bounce_diagnostic_limit");
    BOOST_REQUIRE(p);
    BOOST_TEST(p->max == static_cast<long long>(store::kMaxDiagnostic));
    BOOST_TEST(error_of("bounce_diagnostic_limit = 5k\n") ==
               "sendguard.conf:1: invalid bounce_diagnostic_limit: 5k (max 4k)");
    // At the max, the whole text survives the settings and the record.
    const config::Config cfg = config::Config::parse("bounce_diagnostic_limit = 4k\n", "sendguard.conf");
    const bounce::Settings s = bounce::Settings::from(cfg);
    BOOST_TEST(s.limits.max_diagnostic == store::kMaxDiagnostic);
    BOOST_TEST(s.policy.max_diagnostic == store::kMaxDiagnostic);
    store::Record r;
    r.diagnostic = std::string(s.policy.max_diagnostic, 'x');
    store::Record back;
    BOOST_REQUIRE(store::decode(store::encode(r), back) == store::Decode::Ok);
    BOOST_TEST(back.diagnostic.size() == s.policy.max_diagnostic);
}

BOOST_AUTO_TEST_CASE(socketmap_request_fits_the_netstring_decoder) {
    const config::Param* p = config::find_param("policyd_socketmap_max_request");
    BOOST_REQUIRE(p);
    long long decoder_max = 1;
    for (size_t i = 0; i < net::kNetstringMaxDigits; ++i) decoder_max *= 10;
    BOOST_TEST(p->max < decoder_max);
}

// LMDB takes the readers count as an unsigned int and sizes its lock file
// by it: the table's max must open.
BOOST_AUTO_TEST_CASE(store_max_readers_at_its_max_opens) {
    const config::Param* p = config::find_param("store_max_readers");
    BOOST_REQUIRE(p);
    harness::TempDir dir("sg-bounds-");
    const config::Config cfg = config::Config::parse(
        "", "test", {"state_directory=" + dir.sub("state"), "store_max_readers=" + std::to_string(p->max)});
    BOOST_CHECK_NO_THROW((void)store::open_suppression_store(cfg));
    BOOST_TEST(error_of("store_max_readers = " + std::to_string(p->max + 1) + "\n") ==
               "sendguard.conf:1: invalid store_max_readers: " + std::to_string(p->max + 1) + " (max " +
                   std::to_string(p->max) + ")");
}

// dsn::Limits and bounce::Settings hold the recipient count as size_t.
BOOST_AUTO_TEST_CASE(max_recipients_fits_the_parser_limits) {
    const config::Config cfg = config::Config::parse(
        "bounce_max_recipients = " + std::to_string(config::find_param("bounce_max_recipients")->max) + "\n",
        "sendguard.conf");
    BOOST_TEST(bounce::Settings::from(cfg).limits.max_recipients ==
               static_cast<size_t>(config::find_param("bounce_max_recipients")->max));
}

BOOST_AUTO_TEST_CASE(verp_local_part_fits_the_codec) {
    BOOST_TEST(config::find_param("verp_local_part")->max == static_cast<long long>(address::kVerpMaxPrefix));
    BOOST_TEST(error_of("verp_local_part = " + std::string(33, 'p') + "\n") ==
               "sendguard.conf:1: invalid verp_local_part: " + std::string(33, 'p') + " (max 32 bytes)");
}

// What the table cannot say (which characters may delimit, a dot-atom
// prefix) the codec refuses; that is a configuration error at the
// parameter's line, not an unexplained failure of every delivery.
BOOST_AUTO_TEST_CASE(verp_settings_the_codec_refuses_name_the_parameter) {
    harness::TempDir dir("sg-bounds-");
    harness::write_file(dir.sub("k"), "0123456789abcdef0123456789abcdef\n", 0600);
    struct Case {
        std::string line, want;
    } cases[] = {
        {"verp_delimiter = a", "t.conf:3: invalid verp_delimiter for bounce domain b.example: invalid VERP delimiter"},
        {"verp_local_part = a+b", "t.conf:3: invalid verp_local_part for bounce domain b.example: invalid VERP prefix"},
        {"", "t.conf:1: invalid bounce_domains for bounce domain [192.0.2.1]: VERP bounce domain must be a domain name"},
    };
    for (const auto& c : cases) {
        const std::string domain = c.line.empty() ? "[192.0.2.1]" : "b.example";
        const config::Config cfg = config::Config::parse(
            "bounce_domains = " + domain + "\nverp_key_file = " + dir.sub("k") + "\n" + c.line + "\n", "t.conf");
        try {
            (void)address::verp_codecs(cfg);
            BOOST_TEST(false, c.line << ": no error");
        } catch (const config::Error& e) {
            BOOST_TEST(std::string(e.what()) == c.want);
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
