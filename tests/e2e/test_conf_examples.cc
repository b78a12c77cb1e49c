// test_conf_examples.cc - the Postfix fragments in conf-examples/ are valid
//
// conf-examples/main.cf and master.cf are what admins paste. Postfix's own
// postconf(1) reads them in a throw-away config directory: every line must
// parse, every sendguard-specific parameter must be one Postfix knows (a
// "<transport>_..." parameter is only known when master.cf defines the
// transport), and the pipe service must come out as written. The policy
// service is in the submission service's restrictions only, not in the
// global ones the MX on port 25 uses.
#include <boost/test/unit_test.hpp>

#include <filesystem>

#include "tests/support/cleanup.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace {

std::string example(const char* name) {
    return harness::file_text(std::string(SENDGUARD_SOURCE_DIR) + "/conf-examples/" + name);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(conf_examples)

BOOST_AUTO_TEST_CASE(postfix_accepts_the_fragments) {
    if (!harness::have_program("/usr/sbin/postconf"))
        harness::skip_test("postconf not installed (apt-get install postfix)");
    harness::TempDir dir("sg-confex-");
    std::string base_master = std::filesystem::exists("/usr/share/postfix/master.cf.dist")
                                  ? harness::file_text("/usr/share/postfix/master.cf.dist")
                                  : "";
    harness::write_file(dir.sub("main.cf"), "compatibility_level = 3.6\n" + example("main.cf"));
    harness::write_file(dir.sub("master.cf"), base_master + example("master.cf"));

    auto n = harness::run({"/usr/sbin/postconf", "-c", dir.path(), "-n"});
    BOOST_REQUIRE_MESSAGE(n.ok(), n.describe());
    BOOST_TEST(n.err.empty(), "postconf warns about main.cf:\n" << n.err);
    BOOST_TEST(n.out.find("sendguard_destination_recipient_limit = 1") != std::string::npos, n.out);
    BOOST_TEST(n.out.find("socketmap:unix:/run/sendguard/socketmap.sock:suppress") != std::string::npos, n.out);

    // The rate limits run where customers submit, never on the MX that
    // anyone may send bounces and replies to.
    auto global = harness::run({"/usr/sbin/postconf", "-c", dir.path(), "-h",
                                "smtpd_recipient_restrictions", "smtpd_end_of_data_restrictions"});
    BOOST_REQUIRE_MESSAGE(global.ok(), global.describe());
    BOOST_TEST(global.out.find("check_policy_service") == std::string::npos,
               "the policy service is global:\n" << global.out);
    auto sub = harness::run({"/usr/sbin/postconf", "-c", dir.path(), "-P", "-x",
                             "submission/inet/smtpd_recipient_restrictions",
                             "submission/inet/smtpd_end_of_data_restrictions"});
    BOOST_REQUIRE_MESSAGE(sub.ok(), sub.describe());
    BOOST_TEST(sub.err.empty(), sub.err);
    for (const char* want :
         {"submission/inet/smtpd_recipient_restrictions = check_recipient_access "
          "socketmap:unix:/run/sendguard/socketmap.sock:suppress, check_policy_service { "
          "unix:/run/sendguard/policy.sock, default_action=DUNNO }, permit_sasl_authenticated, reject",
          "submission/inet/smtpd_end_of_data_restrictions = check_policy_service { "
          "unix:/run/sendguard/policy.sock, default_action=DUNNO }"})
        BOOST_TEST(sub.out.find(want) != std::string::npos, "missing " << want << " in:\n" << sub.out);

    auto m = harness::run({"/usr/sbin/postconf", "-c", dir.path(), "-M", "sendguard/unix"});
    BOOST_REQUIRE_MESSAGE(m.ok(), m.describe());
    BOOST_TEST(m.err.empty(), "postconf warns about master.cf:\n" << m.err);
    for (const char* want : {"pipe", "flags=DRq", "user=sendguard", "null_sender=",
                             "argv=/usr/sbin/sendguard-bounce", "${queue_id}", "-- ${recipient}"})
        BOOST_TEST(m.out.find(want) != std::string::npos, "missing " << want << " in:\n" << m.out);

    // The status filter and the throttled transports as Postfix reads them
    // (counting needs the service at END-OF-MESSAGE: the submission
    // service's smtpd_end_of_data_restrictions, checked above), and each
    // throttled transport credits its own provider's status map.
    auto p = harness::run({"/usr/sbin/postconf", "-c", dir.path(), "-h",
                           "smtp_delivery_status_filter"});
    BOOST_REQUIRE_MESSAGE(p.ok(), p.describe());
    std::string filter = p.out;
    while (!filter.empty() && (filter.back() == '\n' || filter.back() == ' ')) filter.pop_back();
    BOOST_TEST(filter == "socketmap:unix:/run/sendguard/socketmap.sock:status", p.out);
    for (const char* service : {"google-slow/unix", "google-crawl/unix"}) {
        auto t = harness::run({"/usr/sbin/postconf", "-c", dir.path(), "-M", service});
        BOOST_REQUIRE_MESSAGE(t.ok(), t.describe());
        BOOST_TEST(t.err.empty(), "postconf warns about " << service << ":\n" << t.err);
        BOOST_TEST(t.out.find("smtp_delivery_status_filter=socketmap:unix:/run/sendguard/"
                              "socketmap.sock:status-google") != std::string::npos,
                   service << " in:\n"
                           << t.out);
    }
}

BOOST_AUTO_TEST_SUITE_END()
