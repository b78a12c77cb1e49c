// test_bounce_reply.cc - a person's reply to a bounce address reaches the
// original sender, through a real Postfix
//
// The reply comes in over SMTP to a signed VERP address; Postfix's pipe(8)
// runs sendguard-bounce as nobody, which forwards it with Debian's
// sendmail(1) to the instance's own pickup (pipe(8) exports MAIL_CONFIG;
// the set-gid postdrop accepts that config directory because the instance
// runs with trust_config_directory); Postfix relays the forward to the
// sink. The send-log entry is written as the milter writes it, under
// store::recipient_key. With bounce_forward_limit = 1 a second reply is
// quarantined; an auto-reply is not forwarded. With the real
// sendguard-milter as non_smtpd_milters, the forward (a local submission
// with the null sender and the replier's From:) passes by its seal.
#include <boost/test/unit_test.hpp>

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "common/address/verp.h"
#include "common/address/verp_setup.h"
#include "common/config/config.h"
#include "common/store/sendlog.h"
#include "common/store/setup.h"
#include "tests/support/paths.h"
#include "tests/support/postfix_harness.h"
#include "tests/support/process.h"
#include "tests/support/sendguard_milter.h"
#include "tests/support/smtp_sink.h"
#include "tests/support/temp_dir.h"

using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

const char* const kBounceDomain = "bounces.sendguard.test";
// The key of harness::SendguardMilter: the milter verifies the seals.
const char* const kKey = harness::kVerpKey;
const std::string kSender = "news@sender.sendguard.test";
const std::string kReplier = "alice@replier.sendguard.test";

bool contains(const std::string& s, const std::string& p) { return s.find(p) != std::string::npos; }

// sendguard's files where nobody (the pipe user) can reach them.
struct Sendguard {
    harness::TempDir dir{"sg-e2e-reply-"};
    std::string conf = dir.sub("sendguard.conf");
    std::string bounce = dir.sub("sendguard-bounce");
    std::string lib = dir.sub("lib");

    Sendguard() {
        ::chmod(dir.path().c_str(), 0755);
        dir.mkdir("lib", 0750);
        fs::copy_file(harness::sendguard_bin("sendguard-bounce"), bounce);
        ::chmod(bounce.c_str(), 0755);
        harness::write_file(dir.sub("verp.keys"), std::string(kKey) + "\n", 0600);
        harness::write_file(conf, "state_directory = " + lib + "\n"
                                  "verp_key_file = " + dir.sub("verp.keys") + "\n"
                                  "bounce_domains = " + kBounceDomain + "\n"
                                  "bounce_forward_limit = 1\n"
                                  "log_target = file:" + lib + "/bounce.log\n",
                            0644);
        harness::chown_to(dir.sub("verp.keys"), "nobody");
    }
    // A recipient-form return address of a message kSender sent to rcpt,
    // and its send-log entry; then the store is handed to nobody.
    std::string tracked_verp(const std::string& rcpt) const {
        const address::VerpConfig vc = address::verp_config(config::Config::defaults(), kBounceDomain);
        address::VerpCodec c(vc, address::VerpKeys::from_strings({kKey}));
        const std::string to = c.encode(*address::parse_mailbox(rcpt), {})->address;
        {
            const auto cfg = config::Config::parse(harness::file_text(conf), conf);
            store::SendLogEntry e;
            e.expiry = std::time(nullptr) + 86400;
            e.sender = kSender;
            e.queue_id = "4XkQ0orig";
            e.recipients = {rcpt};
            store::SendLog(store::open_suppression_store(cfg)).put(store::recipient_key(rcpt, kBounceDomain), e);
        }
        const passwd* nobody = ::getpwnam("nobody");
        BOOST_REQUIRE(nobody);
        BOOST_REQUIRE(::chown(lib.c_str(), nobody->pw_uid, static_cast<gid_t>(-1)) == 0);
        for (const auto& f : fs::recursive_directory_iterator(lib))
            BOOST_REQUIRE(::chown(f.path().c_str(), nobody->pw_uid, static_cast<gid_t>(-1)) == 0);
        return to;
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
    size_t quarantined() const {
        std::error_code ec;
        size_t n = 0;
        for (auto it = fs::directory_iterator(lib + "/quarantine", ec); !ec && it != fs::directory_iterator();
             it.increment(ec))
            ++n;
        return n;
    }
    std::string log() const { return harness::file_text(lib + "/bounce.log"); }
};

std::string reply(const std::string& to, const std::string& extra = "") {
    return "From: Alice <" + kReplier + ">\n"
           "To: " + to + "\n"
           "Subject: Re: our November offer\n" + extra +
           "\n"
           "Yes please, call me back.\n";
}

// One message from the replier to the bounce address, delivered by
// sendguard-bounce (status sent).
harness::Delivery send_reply(harness::PostfixInstance& pf, const std::string& to, const std::string& data) {
    auto t = pf.send({.mail_from = kReplier, .rcpt_to = {to}, .data = data});
    BOOST_REQUIRE_MESSAGE(t.accepted(), t.str());
    auto d = pf.wait_for_delivery(t.queue_id(), 60s, to);
    BOOST_REQUIRE_MESSAGE(d, "reply not delivered; log:\n" << pf.log_tail());
    return *d;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(e2e_bounce_reply)

BOOST_AUTO_TEST_CASE(human_reply_reaches_the_original_sender) {
    harness::skip_if(harness::PostfixInstance::unavailable());
    harness::SmtpSink sink;
    harness::PostfixInstance pf({.relayhost = sink.nexthop(), .trust_config_directory = true});
    Sendguard sg;
    const std::string to = sg.tracked_verp("bob@example.net");
    sg.hook_into(pf);
    pf.start();

    const harness::Delivery d = send_reply(pf, to, reply(to));
    BOOST_TEST(d.status == "sent", d.line << "\n" << sg.log());
    BOOST_TEST(d.relay == "sendguard", d.line);
    BOOST_REQUIRE_MESSAGE(sink.wait_for_messages(1, 60s), "no forward at the sink; log:\n"
                                                             << pf.log_tail() << "\n" << sg.log());
    const harness::SinkMessage m = sink.messages().front();
    BOOST_TEST(m.rcpt_to() == std::vector<std::string>{kSender});
    BOOST_TEST(m.mail_from() == "", "the forward's envelope sender: " << m.mail_args);
    BOOST_TEST(m.header("X-Sendguard-Forwarded").starts_with("v=1; t="), m.content);
    BOOST_TEST(m.header("Auto-Submitted") == "auto-forwarded", m.content);
    BOOST_TEST(m.header("Resent-To") == "<" + kSender + ">", m.content);
    BOOST_TEST(m.header("From") == "Alice <" + kReplier + ">", m.content);
    BOOST_TEST(contains(m.content, "Yes please, call me back."), m.content);
    BOOST_TEST(contains(sg.log(), "bounce: action=forward, rcpt=<" + kSender + ">"), sg.log());
    BOOST_TEST(sg.quarantined() == 0u);

    // bounce_forward_limit = 1: the second reply within the hour is kept.
    const harness::Delivery d2 = send_reply(pf, to, reply(to));
    BOOST_TEST(d2.status == "sent", d2.line);
    BOOST_TEST(sg.quarantined() == 1u, sg.log());
    BOOST_TEST(contains(sg.log(), "why=forward-limit"), sg.log());

    // An auto-reply is ignored, never forwarded.
    const harness::Delivery d3 = send_reply(pf, to, reply(to, "Auto-Submitted: auto-replied\n"));
    BOOST_TEST(d3.status == "sent", d3.line);
    BOOST_TEST(contains(sg.log(), d3.queue_id + ": bounce: action=ignore"), sg.log());
    BOOST_TEST(!sink.wait_for_messages(2, 2s), "a second message reached the sink");
}

BOOST_AUTO_TEST_CASE(the_milter_passes_the_sealed_forward) {
    harness::skip_if(harness::PostfixInstance::unavailable());
    harness::SendguardMilter milter({.inet = true, .extra = std::string("bounce_domains = ") + kBounceDomain + "\n"});
    milter.start();
    harness::SmtpSink sink;
    harness::PostfixInstance pf({.relayhost = sink.nexthop(), .trust_config_directory = true});
    // "inet:PORT@IP" in libmilter's form; Postfix writes inet:IP:PORT.
    const std::string& spec = milter.spec();
    const auto at = spec.find('@');
    pf.add_milter("inet:" + spec.substr(at + 1) + ":" + spec.substr(5, at - 5), false, true);
    pf.set("milter_default_action", "tempfail");
    Sendguard sg;
    const std::string to = sg.tracked_verp("bob@example.net");
    sg.hook_into(pf);
    pf.start();

    const harness::Delivery d = send_reply(pf, to, reply(to));
    BOOST_TEST(d.status == "sent", d.line << "\n" << sg.log());
    BOOST_REQUIRE_MESSAGE(sink.wait_for_messages(1, 60s), "no forward at the sink; log:\n"
                                                             << pf.log_tail() << "\nmilter:\n" << milter.err()
                                                             << "\n" << sg.log());
    BOOST_TEST(sink.messages().front().rcpt_to() == std::vector<std::string>{kSender});
    BOOST_TEST(milter.logged("milter: action=pass, stage=header, client=localhost[127.0.0.1], login=local, "
                             "from=<>, address=<" + kSender + ">, why=sealed_forward", 10s),
               milter.err());
    BOOST_TEST(!contains(milter.err(), "action=refuse"), milter.err());
}

BOOST_AUTO_TEST_SUITE_END()
