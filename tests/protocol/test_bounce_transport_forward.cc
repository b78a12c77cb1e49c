// test_bounce_transport_forward.cc - the real sendguard-bounce forwards a
// person's reply through bounce_forward_command
//
// The command is a shell script that keeps its argv and standard input and
// exits with a chosen status; the send-log entry is written as the milter
// writes it (store::recipient_key for a recipient-form tag).
#include <boost/test/unit_test.hpp>

#include <filesystem>

#include "common/config/config.h"
#include "common/store/forwards.h"
#include "common/store/sendlog.h"
#include "common/store/setup.h"
#include "tests/support/paths.h"
#include "tests/support/process.h"
#include "tests/support/site.h"
#include "tests/support/temp_dir.h"

namespace {

const std::string kSender = "news@example.org";
const std::string kReplier = "alice@example.net";

bool contains(const std::string& s, const std::string& p) { return s.find(p) != std::string::npos; }

struct Site : harness::Site {
    std::string argv_file = dir.sub("argv"), stdin_file = dir.sub("stdin"), command = dir.sub("sendmail");
    Site() : harness::Site("sg-btf-") {}

    // The command's path is known once dir exists: its line is appended.
    void set_up(int status, const std::string& extra = "") {
        harness::write_file(command,
                            "#!/bin/sh\nfor a in \"$@\"; do printf '[%s]\\n' \"$a\"; done > " + argv_file +
                                "\ncat > " + stdin_file + "\necho 'fake: status " + std::to_string(status) +
                                "'\nexit " + std::to_string(status) + "\n",
                            0755);
        harness::append_file(conf, "\nbounce_forward_command = " + command + "\n" + extra);
    }
    // A recipient-form return address with the milter's send-log entry.
    std::string tracked_verp(const std::string& rcpt) const {
        const std::string to = verp(rcpt);
        const auto cfg = config::Config::parse(harness::file_text(conf), conf);
        store::SendLogEntry e;
        e.expiry = std::time(nullptr) + 86400;
        e.sender = kSender;
        e.queue_id = "4XkQ0orig";
        e.recipients = {rcpt};
        store::SendLog(store::open_suppression_store(cfg)).put(store::recipient_key(rcpt, "bounces.example.org"), e);
        return to;
    }
    harness::RunResult deliver(const std::string& to, const std::string& msg, const std::string& sender = kReplier) const {
        return harness::run({.argv = {harness::sendguard_bin("sendguard-bounce"), "-c", conf, "-q", "4XkQ5r1",
                                      "-f", sender, "--", to},
                             .stdin_data = msg});
    }
    size_t quarantined() const {
        std::error_code ec;
        size_t n = 0;
        for (auto it = std::filesystem::directory_iterator(lib + "/quarantine", ec);
             !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
            ++n;
        return n;
    }
};

std::string reply(const std::string& to) {
    return "From: Alice <" + kReplier + ">\n"
           "To: " + to + "\n"
           "Subject: Re: our November offer\n"
           "Message-ID: <reply-1@example.net>\n"
           "\n"
           "Yes please, call me back.\n";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(bounce_transport_forward)

BOOST_AUTO_TEST_CASE(reply_goes_to_the_original_sender) {
    Site s;
    s.set_up(0);
    const std::string to = s.tracked_verp("bob@example.net");
    const auto r = s.deliver(to, reply(to));
    BOOST_TEST(r.status.code == 0, r.describe());
    BOOST_TEST(harness::file_text(s.argv_file) == "[-G]\n[-i]\n[-f]\n[]\n[--]\n[" + kSender + "]\n");
    const std::string m = harness::file_text(s.stdin_file);
    BOOST_TEST(m.starts_with("X-Sendguard-Forwarded: v=1; t="), m);
    BOOST_TEST(contains(m, "\nAuto-Submitted: auto-forwarded\n"), m);
    BOOST_TEST(contains(m, "\nResent-To: <" + kSender + ">\n"), m);
    BOOST_TEST(m.ends_with(reply(to)), m);
    BOOST_TEST(contains(r.err, "4XkQ5r1: bounce: action=forward, rcpt=<" + kSender + ">"), r.err);
    BOOST_TEST(s.quarantined() == 0u);
}

BOOST_AUTO_TEST_CASE(a_temporary_failure_of_the_command_defers) {
    Site s;
    s.set_up(75);
    const std::string to = s.tracked_verp("bob@example.net");
    const auto r = s.deliver(to, reply(to));
    BOOST_TEST(r.status.code == 75, r.describe());
    BOOST_TEST(r.out.starts_with("4.3.0 sendguard-bounce: bounce_forward_command " + s.command +
                                 " exited with status 75: fake: status 75"),
               r.out);
    BOOST_TEST(contains(r.err, "action=defer"), r.err);
    BOOST_TEST(s.quarantined() == 0u);
}

BOOST_AUTO_TEST_CASE(over_the_limit_is_quarantined) {
    Site s;
    s.set_up(0, "bounce_forward_limit = 1\n");
    const std::string to = s.tracked_verp("bob@example.net");
    BOOST_TEST(s.deliver(to, reply(to)).status.code == 0);
    std::filesystem::remove(s.stdin_file);
    const auto r = s.deliver(to, reply(to));
    BOOST_TEST(r.status.code == 0, r.describe());
    BOOST_TEST(!std::filesystem::exists(s.stdin_file), "forwarded over the limit");
    BOOST_TEST(s.quarantined() == 1u);
    BOOST_TEST(contains(r.err, "action=quarantine, rcpt=<" + kSender + ">"), r.err);
    BOOST_TEST(contains(r.err, "why=forward-limit"), r.err);
}

BOOST_AUTO_TEST_SUITE_END()
