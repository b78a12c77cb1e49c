// test_setup_chroot.cc - the "keep the chroot" recipe of README and
// sendguard-policyd(8) against a real Postfix whose smtpd runs chrooted
// (Debian's master.cf), and the suppress lookup the documentation shows
// (label "postfix": both need Postfix). A second, unchrooted smtpd of the
// same instance reaches the socket by the same relative path.
//
// smtpd opens the socketmap connection at the first lookup, after it has
// entered the chroot (queue_directory): a socket at <queue>/sendguard/...
// is reached as "sendguard/socketmap.sock" (relative to the queue
// directory, which is also the working directory of an unchrooted Postfix
// daemon), while the path as seen from outside the chroot is not found and
// the recipient gets 451 4.3.5.
#include <boost/test/unit_test.hpp>

#include <sys/stat.h>

#include <optional>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/net_wait.h"
#include "tests/support/paths.h"
#include "tests/support/postfix_harness.h"
#include "tests/support/process.h"
#include "tests/support/require.h"
#include "tests/support/temp_dir.h"

using namespace std::chrono_literals;

namespace {

const std::string kSuppressedLine =
    "550 5.1.1 <bob@example.net>: Recipient address rejected: "
    "Recipient address is on the sendguard suppression list";

// A sendguard-policyd on `socket` over a store where bob@example.net is
// suppressed, with everything else in a temp directory.
struct Policyd {
    harness::TempDir dir{"sg-chroot-"};
    std::string conf = dir.sub("sendguard.conf");
    std::string socket;
    std::optional<harness::Process> proc;

    explicit Policyd(std::string sock) : socket(std::move(sock)) {
        dir.mkdir("lib", 0750);
        dir.mkdir("run", 0755);
        harness::write_file(conf, "state_directory = " + dir.sub("lib") + "\n"
                                  "run_directory = " + dir.sub("run") + "\n"
                                  "policyd_socketmap_listen = unix:" + socket + "\n"
                                  "policyd_user = root\n"
                                  "log_to_stderr = yes\n", 0644);
        auto add = harness::run({harness::sendguard_bin("sendguard"), "-c", conf, "suppress", "add",
                                 "bob@example.net"});
        BOOST_REQUIRE_MESSAGE(add.ok(), add.describe());
        proc.emplace(harness::SpawnSpec{
            .argv = {harness::sendguard_bin("sendguard-policyd"), "-c", conf}});
        BOOST_REQUIRE_MESSAGE(harness::wait_for_unix(socket, 10s), "policyd: " << proc->err());
    }
    ~Policyd() {
        if (proc) proc->stop(10000ms);
    }
};

std::string restrictions(const std::string& socket_path) {
    return "check_recipient_access socketmap:unix:" + socket_path +
           ":suppress, permit_mynetworks, reject_unauth_destination";
}

// The lines of man/sendguard-policyd.8 between ".Bd -literal" and ".Ed"
// that follow the line holding `marker`.
std::vector<std::string> man_example(const std::string& marker) {
    const std::string page =
        harness::file_text(std::string(SENDGUARD_SOURCE_DIR) + "/man/sendguard-policyd.8");
    size_t at = page.find(marker);
    BOOST_REQUIRE_MESSAGE(at != std::string::npos, "sendguard-policyd.8 lacks " << marker);
    at = page.find(".Bd -literal", at);
    BOOST_REQUIRE(at != std::string::npos);
    at = page.find('\n', at) + 1;
    const size_t end = page.find(".Ed\n", at);
    BOOST_REQUIRE(end != std::string::npos);
    std::vector<std::string> lines;
    for (size_t p = at; p < end;) {
        const size_t eol = page.find('\n', p);
        lines.push_back(page.substr(p, eol - p));
        p = eol + 1;
    }
    return lines;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(e2e_setup)

BOOST_AUTO_TEST_CASE(chrooted_smtpd_reaches_the_socket_in_the_queue_directory,
                     *boost::unit_test::label("postfix")) {
    harness::skip_if(harness::PostfixInstance::unavailable());
    harness::PostfixInstance pf({.smtpd_chroot = true});
    pf.add_transport("example.net", "discard:");
    // As the documentation says: a directory of sendguard's in the queue
    // directory, searchable by smtpd (user postfix), holding the socket.
    const std::string sockdir = pf.queue_dir() + "/sendguard";
    harness::make_dirs(sockdir, 0755);
    Policyd policyd(sockdir + "/socketmap.sock");
    pf.set("smtpd_recipient_restrictions", restrictions("sendguard/socketmap.sock"));
    // A second smtpd without the chroot (as a submission service may run):
    // the relative path names the same socket from there.
    const uint16_t plain_port = harness::free_tcp_port("127.0.0.1");
    pf.add_master_line("127.0.0.1:" + std::to_string(plain_port) + " inet n - n - - smtpd");
    pf.start();

    const size_t mark = pf.log_mark();
    auto t = pf.send({.mail_from = "news@example.org",
                      .rcpt_to = {"bob@example.net", "alice@example.net"},
                      .data = "Subject: chroot\n\nHello\n"});
    BOOST_REQUIRE_EQUAL(t.rcpt.size(), 2u);
    BOOST_TEST(t.rcpt[0].str() == kSuppressedLine, t.str());
    BOOST_TEST(t.rcpt[1].code == 250, t.str());
    BOOST_TEST(t.accepted(), t.str());
    BOOST_REQUIRE(harness::wait_for_tcp("127.0.0.1", plain_port, 10s));
    auto p = harness::send_mail("127.0.0.1", plain_port,
                                {.mail_from = "news@example.org",
                                 .rcpt_to = {"bob@example.net", "alice@example.net"},
                                 .data = "Subject: no chroot\n\nHello\n"});
    BOOST_REQUIRE_EQUAL(p.rcpt.size(), 2u);
    BOOST_TEST(p.rcpt[0].str() == kSuppressedLine, p.str());
    BOOST_TEST(p.rcpt[1].code == 250, p.str());
    // Inside the chroot the socket is also /sendguard/socketmap.sock.
    pf.set("smtpd_recipient_restrictions", restrictions("/sendguard/socketmap.sock"));
    auto a = pf.send({.mail_from = "news@example.org",
                      .rcpt_to = {"bob@example.net"},
                      .data = "Subject: chroot\n\nHello\n"});
    BOOST_REQUIRE_EQUAL(a.rcpt.size(), 1u);
    BOOST_TEST(a.rcpt[0].str() == kSuppressedLine, a.str());
    // smtpd did run chrooted: the same socket named by its path outside the
    // chroot is not found, and the recipient is deferred.
    pf.set("smtpd_recipient_restrictions", restrictions(sockdir + "/socketmap.sock"));
    auto t2 = pf.send({.mail_from = "news@example.org",
                       .rcpt_to = {"alice@example.net"},
                       .data = "Subject: chroot\n\nHello\n"});
    BOOST_REQUIRE_EQUAL(t2.rcpt.size(), 1u);
    BOOST_TEST(t2.rcpt[0].str() == "451 4.3.5 <alice@example.net>: Recipient address rejected: "
                                   "Server configuration error",
               t2.str());
    BOOST_TEST(pf.wait_for_log("connect to " + sockdir + "/socketmap.sock", 20s, mark).has_value(),
               pf.log_tail());
}

// sendguard-policyd(8) EXAMPLES: the postmap(1) lookup, run as written
// (only the socket path is this test's), prints what the page shows.
BOOST_AUTO_TEST_CASE(documented_postmap_lookup_prints_the_documented_answer,
                     *boost::unit_test::label("postfix")) {
    harness::skip_if(harness::PostfixInstance::unavailable());
    harness::TempDir run_dir("sg-postmap-");
    ::chmod(run_dir.path().c_str(), 0755);
    Policyd policyd(run_dir.sub("socketmap.sock"));
    harness::write_file(run_dir.sub("main.cf"), "");
    const auto lines = man_example("Ask it by hand");
    // "$ command" lines and the output lines after each.
    std::vector<std::pair<std::string, std::string>> cmds;
    for (const auto& l : lines) {
        if (l.rfind("$ ", 0) == 0)
            cmds.emplace_back(l.substr(2), "");
        else if (!cmds.empty())
            cmds.back().second += l + "\n";
    }
    BOOST_REQUIRE_MESSAGE(cmds.size() == 2u, "want two commands in the example");
    for (auto [cmd, want] : cmds) {
        BOOST_TEST_MESSAGE("$ " << cmd);
        // \e in mdoc is a backslash.
        cmd = std::regex_replace(cmd, std::regex(R"(\\e)"), "\\");
        want = std::regex_replace(want, std::regex(R"(\\e)"), "\\");
        const std::string documented = "/run/sendguard/socketmap.sock";
        const size_t at = cmd.find(documented);
        BOOST_REQUIRE_MESSAGE(at != std::string::npos, cmd);
        cmd.replace(at, documented.size(), policyd.socket);
        BOOST_REQUIRE(cmd.rfind("postmap -q ", 0) == 0);
        // postmap reads main.cf: an empty one of the test's, whatever this
        // machine has in /etc/postfix.
        auto r = harness::run({"env", "MAIL_CONFIG=" + run_dir.path(), "sh", "-c", cmd});
        BOOST_TEST(r.out + r.err == want, "$ " << cmd << "\ngot:\n" << r.out << r.err << "want:\n"
                                               << want);
    }
}

BOOST_AUTO_TEST_SUITE_END()
