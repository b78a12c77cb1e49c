// test_sendmail_harness.cc - self-test of the Sendmail 8.17 harness
// (tests/support/sendmail_harness.h) against sg_test_milter
//
// What the milter e2e tests will stand on: Debian's Sendmail, run from the
// tree scripts/deps.sh unpacked, relays to an smtp-sink; a milter on
// INPUT_MAIL_FILTER sees the SASL login in {auth_authen} and the queue id in
// {i}; a milter's reject at MAIL reaches the SMTP client with its text; a
// sender changed at end of message is the envelope sender the next hop
// sees (and, in queue-only mode, the queue file's); a milter that is down
// with F=T tempfails MAIL.  Every case starts its
// own instance, which takes well under a second.
//
// Skips (exit 77) without the unpacked tree or without root, except under
// CI=true, where that is a failure.
#include "tests/support/net_wait.h"
#include "tests/support/sendmail_harness.h"
#include "tests/support/smtp_sink.h"
#include "tests/support/test_milter.h"

#include <boost/test/unit_test.hpp>

#include <chrono>

using namespace std::chrono_literals;
namespace h = harness;

namespace {

const std::string kSender = "alice@customer-a.example";
const std::string kRcpt = "bob@example.net";

std::string message(const std::string& subject) {
    return "From: <" + kSender + ">\nTo: <" + kRcpt + ">\nSubject: " + subject + "\n\nhello\n";
}

h::SmtpEnvelope envelope(const std::string& subject) {
    return {.mail_from = kSender, .rcpt_to = {kRcpt}, .data = message(subject)};
}

std::string macro(const std::string& stage, const std::string& name, const std::string& value) {
    return h::milter_event("macro", {stage, name, value});
}

// Sendmail's log line for the delivery of queue_id to the sink.
std::optional<std::string> wait_sent(const h::SendmailInstance& sm, const std::string& queue_id) {
    return sm.wait_for_log(queue_id + ": to=<" + kRcpt + ">", 10s);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(sendmail_reply)

BOOST_AUTO_TEST_CASE(queue_id_from_reply) {
    struct Case {
        int code;
        std::string line, want;
    } cases[] = {
        {250, "2.0.0 6B1NQLvD005038 Message accepted for delivery", "6B1NQLvD005038"},
        {250, "2.0.0 Ok: queued as 4XkQ2m1Zz9z", ""},  // Postfix's wording
        {451, "4.3.0 6B1NQLvD005038 Message accepted for delivery", ""},
        {250, "2.0.0", ""},
    };
    for (const auto& c : cases) {
        h::SmtpTranscript t;
        t.data_end = h::Reply{.code = c.code, .lines = {c.line}};
        BOOST_TEST(h::sendmail_queue_id(t) == c.want,
                   "for \"" << c.line << "\": got \"" << h::sendmail_queue_id(t)
                             << "\", want \"" << c.want << "\"");
    }
}

BOOST_AUTO_TEST_SUITE_END()

// Each case skips (require_sendmail) without the tree: they carry the label
// that runs them as their own ctest, e2e.sendmail_harness.sendmail.
BOOST_AUTO_TEST_SUITE(sendmail_harness, *boost::unit_test::label("sendmail"))

BOOST_AUTO_TEST_CASE(relays_to_sink) {
    h::require_sendmail();
    h::SmtpSink sink;
    h::SendmailInstance sm({.smart_host = sink.nexthop()});
    auto t0 = std::chrono::steady_clock::now();
    sm.start();
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - t0);
    BOOST_TEST_MESSAGE("sendmail start-up (m4, exec, listening): " << ms.count() << " ms");
    BOOST_TEST(ms < 5000ms,
               "start-up took " << ms.count() << " ms: the 60s unqualified-name sleep?");
    BOOST_TEST(sm.log_tail().find("starting daemon") != std::string::npos, sm.log_tail());

    h::SmtpClient c = sm.connect();
    BOOST_TEST(c.ehlo("client.sendguard.test").code == 250);
    BOOST_TEST(!c.has_extension("AUTH"), "AUTH offered without enable_sasl()");
    c.quit();

    h::SmtpTranscript t = sm.send(envelope("relay"));
    BOOST_TEST_REQUIRE(t.accepted(), t.str());
    std::string qid = h::sendmail_queue_id(t);
    BOOST_TEST_REQUIRE(!qid.empty(), t.str());
    auto sent = wait_sent(sm, qid);
    BOOST_TEST_REQUIRE(sent.has_value(), "no delivery line for " << qid);
    BOOST_TEST(sent->find("stat=Sent") != std::string::npos, *sent);
    BOOST_TEST(sent->find("relay=[" + sink.ip() + "]") != std::string::npos, *sent);

    BOOST_TEST_REQUIRE(sink.wait_for_messages(1, 10s));
    auto msgs = sink.messages();
    BOOST_TEST(msgs.front().mail_from() == kSender);
    BOOST_TEST(msgs.front().rcpt_to() == std::vector<std::string>{kRcpt});
    BOOST_TEST(msgs.front().header("Subject") == "relay");
    BOOST_TEST(msgs.front().helo == sm.hostname());

    const std::string root = sm.root();
    sm.stop();
    BOOST_TEST(h::processes_using(root).empty(), "processes left under " << root);
}

BOOST_AUTO_TEST_CASE(milter_sees_sasl_login_and_queue_id) {
    h::require_sendmail();
    h::TestMilter milter({"-m", "i,{auth_authen},{auth_type},{rcpt_mailer}"});
    h::SmtpSink sink;
    h::SendmailInstance sm({.smart_host = sink.nexthop()});
    sm.add_milter("sgtest", milter.spec());
    sm.enable_sasl();
    sm.add_sasl_user("alice", "s3cret pass");
    sm.start();

    h::SmtpClient wrong = sm.connect();
    BOOST_TEST(wrong.ehlo("client.sendguard.test").code == 250);
    BOOST_TEST(wrong.has_extension("AUTH"));
    BOOST_TEST(wrong.auth_plain("alice", "wrong").code == 535);
    wrong.quit();

    h::SmtpEnvelope env = envelope("auth");
    env.auth_plain = {{"alice", "s3cret pass"}};
    h::SmtpTranscript t = sm.send(env);
    BOOST_TEST_REQUIRE(t.auth.has_value(), t.str());
    BOOST_TEST(t.auth->code == 235, t.str());
    BOOST_TEST_REQUIRE(t.accepted(), t.str());
    std::string qid = h::sendmail_queue_id(t);
    BOOST_TEST(milter.wait_event(macro("envfrom", "{auth_authen}", "alice")));
    BOOST_TEST(milter.has_event(macro("envfrom", "{auth_type}", "PLAIN")));
    // Sendmail has the queue id at MAIL already (Postfix only after RCPT).
    BOOST_TEST(milter.has_event(macro("envfrom", "i", qid)), qid);
    BOOST_TEST(milter.has_event(macro("envrcpt", "{rcpt_mailer}", "esmtp")));
    BOOST_TEST(wait_sent(sm, qid).has_value());

    // Without AUTH there is no {auth_authen}.
    size_t before = milter.events().size();
    BOOST_TEST_REQUIRE(sm.send(envelope("noauth")).accepted());
    BOOST_TEST(milter.wait_event("close", 5s, 2));  // the third: wrong, auth, noauth
    auto events = milter.events();
    for (size_t i = before; i < events.size(); ++i)
        BOOST_TEST(events[i].find("{auth_authen}") == std::string::npos, events[i]);
}

BOOST_AUTO_TEST_CASE(milter_reject_at_mail_reaches_client) {
    h::require_sendmail();
    const std::string spoofed = "boss@customer-b.example";
    const std::string text = "login alice@customer-a.example may not send as " + spoofed;
    h::TestMilter milter({"-r", "envfrom/<" + spoofed + ">=550 5.7.1 " + text});
    h::SmtpSink sink;
    h::SendmailInstance sm({.smart_host = sink.nexthop()});
    sm.add_milter("sgtest", milter.spec());
    sm.start();

    h::SmtpTranscript t = sm.send({.mail_from = spoofed, .rcpt_to = {kRcpt}, .data = message("x")});
    BOOST_TEST(t.mail.code == 550, t.str());
    // Sendmail puts the address before the milter's text.
    BOOST_TEST(t.mail.str() == "550 5.7.1 <" + spoofed + ">... " + text, t.str());
    BOOST_TEST(t.rcpt.empty(), t.str());
    BOOST_TEST(sm.wait_for_log("Milter: from=<" + spoofed + ">, reject=550 5.7.1", 5s).has_value(),
               sm.log_tail());

    // The same session's milter passes everyone else.
    BOOST_TEST(sm.send(envelope("ok")).accepted());
}

BOOST_AUTO_TEST_CASE(milter_chgfrom_is_the_envelope_sender_the_sink_sees) {
    h::require_sendmail();
    const std::string verp = "bounce+bob=example.net@bounces.customer-a.example";
    h::TestMilter milter({"-a", "chgfrom|<" + verp + ">"});
    h::SmtpSink sink;
    h::SendmailInstance sm({.smart_host = sink.nexthop()});
    sm.add_milter("sgtest", milter.spec());
    sm.start();

    h::SmtpEnvelope env = envelope("verp");
    env.mail_params = "RET=HDRS ENVID=campaign-7";
    h::SmtpTranscript t = sm.send(env);
    BOOST_TEST_REQUIRE(t.accepted(), t.str());
    BOOST_TEST(wait_sent(sm, h::sendmail_queue_id(t)).has_value(), sm.log_tail());
    BOOST_TEST_REQUIRE(sink.wait_for_messages(1, 10s));
    h::SinkMessage m = sink.messages().front();
    BOOST_TEST(m.mail_from() == verp, m.mail_args);
    // smfi_chgfrom without ESMTP arguments keeps the client's DSN ones.
    BOOST_TEST(m.mail_args.find("RET=HDRS") != std::string::npos, m.mail_args);
    BOOST_TEST(m.mail_args.find("ENVID=campaign-7") != std::string::npos, m.mail_args);
    BOOST_TEST(m.header("From") == "<" + kSender + ">");
}

// With ESMTP arguments, smfi_chgfrom replaces the client's set: a milter that
// keeps ENVID must pass it itself (Postfix honours only RET and ENVID).
BOOST_AUTO_TEST_CASE(milter_chgfrom_arguments_replace_the_clients) {
    h::require_sendmail();
    const std::string verp = "bounce+bob=example.net@bounces.customer-a.example";
    h::TestMilter milter({"-a", "chgfrom|<" + verp + ">|RET=FULL"});
    h::SmtpSink sink;
    h::SendmailInstance sm({.smart_host = sink.nexthop()});
    sm.add_milter("sgtest", milter.spec());
    sm.start();

    h::SmtpEnvelope env = envelope("verp-args");
    env.mail_params = "RET=HDRS ENVID=campaign-7";
    h::SmtpTranscript t = sm.send(env);
    BOOST_TEST_REQUIRE(t.accepted(), t.str());
    BOOST_TEST(wait_sent(sm, h::sendmail_queue_id(t)).has_value(), sm.log_tail());
    BOOST_TEST_REQUIRE(sink.wait_for_messages(1, 10s));
    h::SinkMessage m = sink.messages().front();
    BOOST_TEST(m.mail_from() == verp, m.mail_args);
    BOOST_TEST(m.mail_args.find("RET=FULL") != std::string::npos, m.mail_args);
    BOOST_TEST(m.mail_args.find("RET=HDRS") == std::string::npos, m.mail_args);
    BOOST_TEST(m.mail_args.find("ENVID=") == std::string::npos, m.mail_args);
}

BOOST_AUTO_TEST_CASE(queue_only_mode_queue_file_shows_changed_sender) {
    h::require_sendmail();
    const std::string verp = "bounce+bob=example.net@bounces.customer-a.example";
    h::TestMilter milter({"-a", "chgfrom|<" + verp + ">"});
    h::SendmailInstance sm;  // no smart host: accepted mail stays queued
    sm.add_milter("sgtest", milter.spec());
    sm.start();

    h::SmtpTranscript t = sm.send(envelope("queued"));
    BOOST_TEST_REQUIRE(t.accepted(), t.str());
    std::string qid = h::sendmail_queue_id(t);
    BOOST_TEST(sm.queue() == std::vector<std::string>{qid});
    auto sender = sm.queued_sender(qid);
    BOOST_TEST_REQUIRE(sender.has_value(), "no qf file for " << qid);
    BOOST_TEST(*sender == verp);
    BOOST_TEST(!sm.queued_sender("nosuchid").has_value());
}

BOOST_AUTO_TEST_CASE(unavailable_milter_with_f_t_tempfails) {
    h::require_sendmail();
    const uint16_t nobody_listens = h::free_tcp_port();
    h::SendmailInstance sm;
    sm.add_milter("absent", "inet:" + std::to_string(nobody_listens) + "@127.0.0.1", "T",
                  "C:1s;S:1s;R:1s;E:1s");
    sm.start();
    h::SmtpTranscript t = sm.send(envelope("tempfail"));
    BOOST_TEST(!t.accepted(), t.str());
    BOOST_TEST(t.mail.str() == "451 4.3.2 Please try again later", t.str());
    BOOST_TEST(sm.wait_for_log("Milter (absent): to error state", 5s).has_value(), sm.log_tail());
    BOOST_TEST(sm.queue().empty());
}

BOOST_AUTO_TEST_SUITE_END()
