// test_logging.cc - sendguard's lines in Postfix's own log file
//
// A throw-away Postfix logs through postlogd(8) into maillog_file (the
// harness sets it up that way: no syslog daemon). With log_target =
// postlog:$queue_directory/public/postlog, sendguard (the audit trail) and
// sendguard-policyd -v (one line per lookup) write their lines to the same
// socket, and they land in the same file, in the same format as Postfix's.
// sendguard-bounce cannot reach the socket: public/ is postfix:postdrop
// 0710 and pipe(8) refuses user=...:postdrop ("specifies mail system
// postdrop group id"); it goes through postlog(1), see
// test_logging_bounce.cc.
#include <boost/test/unit_test.hpp>

#include <sys/stat.h>

#include <regex>

#include "tests/support/net_wait.h"
#include "tests/support/paths.h"
#include "tests/support/postfix_harness.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

using namespace std::chrono_literals;

namespace {

struct Sendguard {
    harness::TempDir dir{"sg-e2e-log-"};
    std::string conf = dir.sub("sendguard.conf");
    std::string policyd_sock = dir.sub("run/socketmap.sock");

    explicit Sendguard(const harness::PostfixInstance& pf) {
        ::chmod(dir.path().c_str(), 0755);
        dir.mkdir("run", 0755);
        dir.mkdir("lib", 0750);
        harness::write_file(conf, "state_directory = " + dir.sub("lib") + "\n"
                                  "run_directory = " + dir.sub("run") + "\n"
                                  "log_target = postlog:" + pf.queue_dir() + "/public/postlog\n",
                            0644);
    }
};

// "Dec 01 21:00:34 host ident[pid]: " - the prefix postlogd writes for
// every record, Postfix's and ours.
const std::string kStamp = "[A-Z][a-z][a-z] [0-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-6][0-9] [^ ]+ ";

}  // namespace

BOOST_AUTO_TEST_SUITE(e2e_logging)

// sendguard's audit trail (run as root, like postsuper) beside Postfix's.
BOOST_AUTO_TEST_CASE(cli_audit_line_lands_in_maillog_file) {
    harness::skip_if(harness::PostfixInstance::unavailable());
    harness::PostfixInstance pf;
    Sendguard sg(pf);
    pf.start();
    auto r = harness::run({harness::sendguard_bin("sendguard"), "-c", sg.conf, "suppress", "add", "bob@example.net"});
    BOOST_TEST(r.status.code == 0, r.describe());
    auto line = pf.wait_for_log(" sendguard/cli[", 10s);
    BOOST_REQUIRE_MESSAGE(line, "no sendguard/cli line; log:\n" << pf.log_tail());
    BOOST_TEST(std::regex_match(*line, std::regex(kStamp + "sendguard/cli\\[[0-9]+\\]: suppress: action=add, "
                                                           "address=<bob@example.net>, .*")),
               *line);
    // Postfix's own lines have the same shape.
    const std::vector<std::string> lines = pf.log_lines();
    BOOST_REQUIRE(!lines.empty());
    BOOST_TEST(std::regex_match(lines.front(), std::regex(kStamp + "postfix/[a-z-]+\\[[0-9]+\\]: .*")),
               lines.front());
}

BOOST_AUTO_TEST_CASE(policyd_start_and_lookups_land_in_maillog_file) {
    harness::skip_if(harness::PostfixInstance::unavailable());
    harness::PostfixInstance pf;
    Sendguard sg(pf);
    harness::chown_to(sg.dir.sub("lib"), "sendguard");
    pf.start();
    // It connects to public/postlog as root, then runs as policyd_user
    // (sendguard), which may not enter public/: the lines still get there.
    harness::Process policyd({.argv = {harness::sendguard_bin("sendguard-policyd"), "-v", "-c", sg.conf}});
    BOOST_REQUIRE_MESSAGE(harness::wait_for_unix(sg.policyd_sock, 10s), "policyd: " << policyd.err());
    pf.set("smtpd_recipient_restrictions",
           "check_recipient_access socketmap:unix:" + sg.policyd_sock + ":suppress, "
           "permit_mynetworks, reject_unauth_destination");
    pf.add_transport("example.net", "discard:");
    auto t = pf.send({.mail_from = "a@sender.test", .rcpt_to = {"alice@example.net"},
                      .data = "Subject: hi\n\nbody\n"});
    BOOST_TEST(t.accepted(), t.str());
    auto lookup = pf.wait_for_log("map=suppress, key=alice@example.net", 10s);
    BOOST_REQUIRE_MESSAGE(lookup, "no lookup line; log:\n" << pf.log_tail() << "\npolicyd: " << policyd.err());
    // A plain line: no queue id, no NOQUEUE.
    BOOST_TEST(std::regex_match(*lookup, std::regex(kStamp + "sendguard/policyd\\[[0-9]+\\]: policyd: "
                                                             "map=suppress, key=alice@example.net, .*answer=NOTFOUND")),
               *lookup);
    auto start = pf.wait_for_log(" sendguard/policyd[", 1s);
    BOOST_REQUIRE(start);
    BOOST_TEST(start->find("NOQUEUE") == std::string::npos, *start);
    // At start it said where the log goes.
    BOOST_TEST(policyd.err().find("sendguard-policyd: logging to postlogd(8) socket " + pf.queue_dir() +
                                  "/public/postlog as sendguard/policyd\n") != std::string::npos,
               policyd.err());
    policyd.stop(10000ms);
}

BOOST_AUTO_TEST_SUITE_END()
