// test_logging_bounce.cc - sendguard-bounce's decision lines in Postfix's
// maillog_file, through postlog(1)
//
// Under pipe(8) the transport runs as user= (nobody here), which may not
// enter $queue_directory/public (postfix:postdrop 0710), and pipe(8) will
// not run it with the postdrop group. With log_target = postlog:... it
// hands its lines to postlog(1), set-gid postdrop as Postfix installs it:
// here a copy made root:postdrop 2755 in a throw-away directory (Debian's
// /usr/sbin/postlog is 0755 and is never changed). The instance runs with
// trust_config_directory: a set-gid postlog accepts the instance's
// MAIL_CONFIG (passed on by pipe(8)) only when the default main.cf lists it
// in alternate_config_directories.
//
// A real DSN (smtp-sink answers 550) goes through the pipe transport; its
// decision line, ident sendguard/bounce, lands in the maillog beside
// Postfix's own lines for the same queue id. Without a usable postlog
// (Debian's 0755 one, or a set-gid one that refuses the instance's
// MAIL_CONFIG) the delivery still succeeds, and the records that did not
// get through are in pipe(8)'s status text, which Postfix logs; run by
// hand from a terminal it says why.
#include <boost/test/unit_test.hpp>

#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <regex>

#include "common/address/verp.h"
#include "common/address/verp_setup.h"
#include "common/config/config.h"
#include "tests/support/paths.h"
#include "tests/support/postfix_harness.h"
#include "tests/support/process.h"
#include "tests/support/smtp_sink.h"
#include "tests/support/temp_dir.h"

using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

const char* const kBounceDomain = "bounces.sendguard.test";
const char* const kKey = "e2e-key-0123456789abcdef0123456789";
const char* const kDebianPostlog = "/usr/sbin/postlog";

// sendguard's files where nobody (the pipe user) can reach them.
struct Sendguard {
    harness::TempDir dir{"sg-e2e-postlog-"};
    std::string conf = dir.sub("sendguard.conf");
    std::string bounce = dir.sub("sendguard-bounce");
    std::string postlog = dir.sub("bin/postlog");

    // postlog_command: "" for the set-gid copy, or a path as it is.
    Sendguard(const harness::PostfixInstance& pf, const std::string& postlog_command = {}) {
        ::chmod(dir.path().c_str(), 0755);
        dir.mkdir("lib", 0750);
        dir.mkdir("bin", 0755);
        fs::copy_file(harness::sendguard_bin("sendguard-bounce"), bounce);
        ::chmod(bounce.c_str(), 0755);
        fs::copy_file(kDebianPostlog, postlog);
        const group* pd = ::getgrnam("postdrop");
        BOOST_REQUIRE(pd);
        BOOST_REQUIRE(::chown(postlog.c_str(), 0, pd->gr_gid) == 0);
        BOOST_REQUIRE(::chmod(postlog.c_str(), 02755) == 0);  // as postfix-files says
        harness::write_file(dir.sub("verp.keys"), std::string(kKey) + "\n", 0600);
        harness::write_file(conf, "state_directory = " + dir.sub("lib") + "\n"
                                  "verp_key_file = " + dir.sub("verp.keys") + "\n"
                                  "bounce_domains = " + kBounceDomain + "\n"
                                  "log_target = postlog:" + pf.queue_dir() + "/public/postlog\n"
                                  "postlog_command = " + (postlog_command.empty() ? postlog : postlog_command) + "\n",
                            0644);
        harness::chown_to(dir.sub("lib"), "nobody");
        harness::chown_to(dir.sub("verp.keys"), "nobody");
    }
    std::string verp(const std::string& rcpt) const {
        const address::VerpConfig vc = address::verp_config(config::Config::defaults(), kBounceDomain);
        address::VerpCodec c(vc, address::VerpKeys::from_strings({kKey}));
        return c.encode(*address::parse_mailbox(rcpt), {})->address;
    }
    void hook_into(harness::PostfixInstance& pf) const {
        harness::PipeTransport t;
        t.name = "sendguard";
        t.user = "nobody";
        t.flags = "DRq";
        t.attributes = {"null_sender="};
        t.argv = {bounce, "-c", conf, "-q", "${queue_id}", "-f", "${sender}",
                  "-a", "${original_recipient}", "--", "${recipient}"};
        pf.add_pipe_transport(t);
        pf.add_transport(kBounceDomain, "sendguard:");
    }
    harness::RunResult cli(std::vector<std::string> args) const {
        args.insert(args.begin(), {harness::sendguard_bin("sendguard"), "-c", conf});
        return harness::run(args);
    }
};

// Sends to bob@example.net with a signed return address; the sink answers
// 550 and Postfix's DSN goes to sendguard-bounce. Returns the DSN's
// delivery (its queue id in ->queue_id).
harness::Delivery bounce_one(harness::PostfixInstance& pf, const Sendguard& sg) {
    auto t = pf.send({.mail_from = sg.verp("bob@example.net"),
                      .rcpt_to = {"bob@example.net"},
                      .data = "From: news@example.org\nTo: bob@example.net\nSubject: news\n\nHello\n"});
    BOOST_REQUIRE_MESSAGE(t.accepted(), t.str());
    auto dsn = pf.wait_for_notification(t.queue_id(), 30s);
    BOOST_REQUIRE_MESSAGE(dsn, "no DSN; log:\n" << pf.log_tail());
    auto dd = pf.wait_for_delivery(*dsn, 60s);
    BOOST_REQUIRE_MESSAGE(dd, "DSN not delivered; log:\n" << pf.log_tail());
    return *dd;
}

const std::string kStamp = "[A-Z][a-z][a-z] [0-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-6][0-9] [^ ]+ ";

}  // namespace

BOOST_AUTO_TEST_SUITE(e2e_logging_bounce)

BOOST_AUTO_TEST_CASE(bounce_decision_lands_in_maillog_through_postlog) {
    harness::skip_if(harness::PostfixInstance::unavailable());
    harness::SmtpSink sink({.mode = harness::SinkMode::HardFail});
    harness::PostfixInstance pf({.relayhost = sink.nexthop(), .trust_config_directory = true});
    Sendguard sg(pf);
    sg.hook_into(pf);
    pf.start();

    const harness::Delivery d = bounce_one(pf, sg);
    BOOST_TEST(d.status == "sent", d.line);
    BOOST_TEST(d.relay == "sendguard", d.line);
    // Nothing in pipe(8)'s status text: the log went elsewhere.
    BOOST_TEST(d.detail == "delivered via sendguard service", d.line);
    auto line = pf.wait_for_log(" sendguard/bounce[", 10s);
    BOOST_REQUIRE_MESSAGE(line, "no sendguard/bounce line; log:\n" << pf.log_tail());
    BOOST_TEST(std::regex_match(*line, std::regex(kStamp + "sendguard/bounce\\[[0-9]+\\]: " + d.queue_id +
                                                  ": bounce: action=suppress, rcpt=<bob@example.net>, .*"
                                                  "status=5\\.[0-9.]+, class=hard, .*")),
               *line);
    // Beside Postfix's own lines for that queue id, in the same format.
    size_t postfix_lines = 0;
    for (const std::string& l : pf.log_lines())
        if (l.find(": " + d.queue_id + ": ") != std::string::npos &&
            std::regex_match(l, std::regex(kStamp + "postfix/[a-z-]+\\[[0-9]+\\]: .*")))
            ++postfix_lines;
    BOOST_TEST(postfix_lines >= 3u, "postfix lines for " << d.queue_id << ": " << postfix_lines << "\n"
                                                         << pf.log_tail());
    auto c = sg.cli({"suppress", "check", "--json", "bob@example.net"});
    BOOST_TEST(c.out.find("\"class\":\"hard\"") != std::string::npos, c.describe());
}

BOOST_AUTO_TEST_CASE(unusable_postlog_is_reported_and_the_delivery_succeeds) {
    harness::skip_if(harness::PostfixInstance::unavailable());
    struct stat st {};
    BOOST_REQUIRE(::stat(kDebianPostlog, &st) == 0);
    if (st.st_mode & S_ISGID) {
        BOOST_TEST_MESSAGE(kDebianPostlog << " is set-gid here: nothing to show");
        return;
    }
    harness::SmtpSink sink({.mode = harness::SinkMode::HardFail});
    harness::PostfixInstance pf({.relayhost = sink.nexthop(), .trust_config_directory = true});
    Sendguard sg(pf, kDebianPostlog);
    sg.hook_into(pf);
    pf.start();

    // Through Postfix: delivered (exit 0), suppressed, and pipe(8)'s status
    // text, in Postfix's own log line, says why and holds the decision.
    const harness::Delivery d = bounce_one(pf, sg);
    BOOST_TEST(d.status == "sent", d.line);
    BOOST_TEST(d.dsn == "2.0.0", d.line);
    BOOST_TEST(d.detail.starts_with("delivered via sendguard service (sendguard-bounce: not logged: "
                                    "action=suppress, rcpt=<bob@example.net>, "),
               d.line);
    auto c = sg.cli({"suppress", "check", "--json", "bob@example.net"});
    BOOST_TEST(c.out.find("\"class\":\"hard\"") != std::string::npos, c.describe());
    BOOST_TEST(!pf.wait_for_log(" sendguard/bounce[", 500ms), pf.log_tail());

    // By hand, as the pipe user, from a terminal: it says why, once.
    harness::write_file(sg.dir.sub("empty.eml"), "", 0644);
    const std::string cmd = "runuser -u nobody -- " + sg.bounce + " -c " + sg.conf +
                            " -q TEST1 -f '' -- bounce@" + kBounceDomain + " < " + sg.dir.sub("empty.eml") +
                            "; echo exit=$?";
    auto r = harness::run({"script", "-q", "-e", "-c", cmd, "/dev/null"});
    const std::string want = "sendguard-bounce: warning: cannot log to postlog:" + pf.queue_dir() +
                             "/public/postlog: " + pf.queue_dir() + "/public/postlog: Permission denied; " +
                             kDebianPostlog + " is not set-group-id postdrop (mode 0755, group root)";
    BOOST_TEST(r.out.find(want) != std::string::npos, r.describe());
    BOOST_TEST(r.out.find(want) == r.out.rfind(want), "said twice: " << r.out);
    BOOST_TEST(r.out.find("dpkg-statoverride --update --add root postdrop 2755 " + std::string(kDebianPostlog)) != std::string::npos, r.out);
    BOOST_TEST(r.out.find("; log records are lost") != std::string::npos, r.out);
    BOOST_TEST(r.out.find("exit=0") != std::string::npos, r.out);
}

// A set-gid postlog that fails at run time: the instance's configuration
// directory is not in the default main.cf's alternate_config_directories,
// so postlog refuses MAIL_CONFIG after it has been handed the records.
BOOST_AUTO_TEST_CASE(failing_postlog_relay_puts_the_records_in_the_status_text) {
    harness::skip_if(harness::PostfixInstance::unavailable());
    harness::SmtpSink sink({.mode = harness::SinkMode::HardFail});
    harness::PostfixInstance pf({.relayhost = sink.nexthop(), .trust_config_directory = false});
    Sendguard sg(pf);
    sg.hook_into(pf);
    pf.start();

    const harness::Delivery d = bounce_one(pf, sg);
    BOOST_TEST(d.status == "sent", d.line);
    BOOST_TEST(d.detail.starts_with("delivered via sendguard service (sendguard-bounce: not logged: "
                                    "action=suppress, rcpt=<bob@example.net>, "),
               d.line);
    BOOST_TEST(!pf.wait_for_log(" sendguard/bounce[", 500ms), pf.log_tail());
    auto c = sg.cli({"suppress", "check", "--json", "bob@example.net"});
    BOOST_TEST(c.out.find("\"class\":\"hard\"") != std::string::npos, c.describe());
}

BOOST_AUTO_TEST_SUITE_END()
