// test_milter_roundtrip.cc - VERP round trips through one real Postfix:
// sendguard-milter signs the sender, the remote side refuses some
// recipients, Postfix's DSN comes back to the bounce domain and
// sendguard-bounce suppresses exactly the refused recipients
//
// One relay: customer A logs in with SASL (alice@customer-a.example) and
// sends as news@customer-a.example; the milter (smtpd_milters) rewrites the
// envelope sender to a VERP address at bounces.customer-a.example, which
// transport_maps routes to the pipe(8) transport "sendguard" of the same
// instance. The milter and sendguard-bounce share one sendguard.conf, key
// file and store (the send log of tokens, the suppression list), run as the
// sendguard user, as installed. Remote mail goes to an smtp-sink answering
// 250; the recipients a case names as refused are routed (transport_maps by
// address) to a second smtp-sink answering 550 5.1.1 at RCPT, so one
// message meets 250 for some recipients and 550 for others.
//
//   token (default): one message, three recipients, two refused; the DSN
//     names both, the token's send-log entry maps it back to the message,
//     both end up suppressed and the accepted one not; a hand-made DSN to
//     the same token naming someone else suppresses nobody.
//   split: the second RCPT of the transaction gets 452 4.5.3, the client
//     sends it again in a transaction of its own; each envelope carries a
//     recipient-form VERP sender naming its recipient, and the refused one
//     is suppressed through that tag.
#include <boost/test/unit_test.hpp>

#include <sys/stat.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/address/verp.h"
#include "common/address/verp_setup.h"
#include "common/config/config.h"
#include "common/store/sendlog.h"
#include "common/store/setup.h"
#include "tests/support/cleanup.h"
#include "tests/support/net_wait.h"
#include "tests/support/paths.h"
#include "tests/support/postfix_harness.h"
#include "tests/support/process.h"
#include "tests/support/sendguard_milter.h"
#include "tests/support/smtp_sink.h"
#include "tests/support/temp_dir.h"

using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

const std::string kBounceDomain = "bounces.customer-a.example";
const std::string kSender = "news@customer-a.example";
const std::string kKeep = "keep@remote.example";    // 250
const std::string kGone1 = "gone1@remote.example";  // 550 5.1.1
const std::string kGone2 = "gone2@remote.example";  // 550 5.1.1

bool contains(std::string_view s, std::string_view sub) { return s.find(sub) != std::string_view::npos; }

// Every sendguard.conf line of these tests, beyond the harness's own
// (tests/support/sendguard_milter.cc); later lines win. log_target is for
// sendguard-bounce and the CLI: the milter runs in the foreground and logs
// on standard error.
std::string config_lines(const std::string& verp_recipients, const std::string& log_file) {
    return "milter_user = sendguard\n"
           "milter_socket_group = postfix\n"
           "bounce_domains = " + kBounceDomain + "\n"
           "milter_verp_recipients = " + verp_recipients + "\n"
           "log_target = file:" + log_file + "\n";
}

std::string message(const std::string& subject) {
    return "From: News <" + kSender + ">\nSubject: " + subject + "\n\nbody\n";
}

// A place the sendguard user can reach for the bounce binary (the build
// tree may sit below a directory it cannot enter) and the log file.
struct Files {
    harness::TempDir dir{"sg-e2e-roundtrip-"};
    std::string bounce = dir.sub("sendguard-bounce");
    std::string log = dir.sub("sendguard.log");

    Files() {
        ::chmod(dir.path().c_str(), 0755);
        fs::copy_file(harness::sendguard_bin("sendguard-bounce"), bounce);
        ::chmod(bounce.c_str(), 0755);
        harness::write_file(log, "", 0644);
        harness::chown_to(log, "sendguard");
    }
};

// The relay: milter, Postfix, the two sinks and the bounce transport.
struct Relay {
    Files files;
    harness::SmtpSink accept_sink;
    // -v: the conversation on its standard error (log()), for it keeps no
    // dump of a transaction that ends at RCPT.
    harness::SmtpSink refuse_sink{{.mode = harness::SinkMode::HardFail, .extra_args = {"-v"}}};
    harness::SendguardMilter milter;
    harness::PostfixInstance pf{{.relayhost = accept_sink.nexthop()}};

    // refused: recipients the second sink answers 550 5.1.1.
    Relay(const std::string& verp_recipients, const std::vector<std::string>& refused)
        : milter({.extra = config_lines(verp_recipients, files.log)}) {
        // The milter and the pipe transport both run as sendguard.
        harness::chown_to(milter.dir().sub("lib"), "sendguard");
        harness::chown_to(milter.dir().sub("run"), "sendguard");
        harness::chown_to(milter.dir().sub("verp.keys"), "sendguard");
        milter.start();

        pf.add_sasl_user("alice", "alice-pw", "customer-a.example");
        // Customers submit over SMTP; sendmail(1) mail (the hand-made DSN,
        // standing in for a remote MTA's report) does not pass the milter.
        pf.add_milter(milter.spec(), /*smtpd=*/true, /*non_smtpd=*/false);
        pf.set("milter_protocol", "6");
        pf.set("milter_default_action", "tempfail");
        harness::PipeTransport t;
        t.name = "sendguard";
        t.user = "sendguard";
        t.flags = "DRq";
        t.attributes = {"null_sender="};
        t.argv = {files.bounce, "-c", milter.config_path(), "-q", "${queue_id}", "-f", "${sender}",
                  "-a", "${original_recipient}", "--", "${recipient}"};
        pf.add_pipe_transport(t);
        pf.add_transport(kBounceDomain, "sendguard:");
        for (const auto& r : refused) pf.add_transport(r, refuse_sink.transport());
        pf.start();
    }

    // One message from customer A to rcpts; its queue id, once the milter
    // has logged its VERP decision.
    std::string send(const std::vector<std::string>& rcpts, const std::string& subject) const {
        const harness::SmtpTranscript t =
            pf.send({.auth_plain = std::make_pair("alice@customer-a.example", "alice-pw"),
                     .mail_from = kSender,
                     .rcpt_to = rcpts,
                     .data = message(subject)});
        BOOST_REQUIRE_MESSAGE(t.accepted(), t.str() << "\nmilter: " << milter.err());
        BOOST_REQUIRE_MESSAGE(milter.logged(t.queue_id() + ": milter: action=verp, stage=eom", 10s), milter.err());
        return t.queue_id();
    }

    harness::SmtpClient login() const {
        harness::SmtpClient c = pf.connect();
        c.ehlo("client.sendguard.test");
        const harness::Reply a = c.auth_plain("alice@customer-a.example", "alice-pw");
        BOOST_REQUIRE_MESSAGE(a.positive(), a.str());
        return c;
    }

    // sendguard suppress check: exit 0 suppressed, 1 not.
    harness::RunResult check(const std::string& rcpt) const {
        return harness::run({harness::sendguard_bin("sendguard"), "-c", milter.config_path(), "suppress", "check",
                             "--json", rcpt});
    }
    bool suppressed(const std::string& rcpt) const { return check(rcpt).status.code == 0; }

    // The send-log entry of the token in verp, as sendguard-bounce reads it.
    std::optional<store::SendLogEntry> send_log_entry(const std::string& verp) const {
        const address::VerpCodec codec(address::verp_config(config::Config::defaults(), kBounceDomain),
                                       address::VerpKeys::from_strings({harness::kVerpKey}));
        const address::Decoded d = codec.decode(verp);
        if (d.status != address::VerpStatus::Ok || !d.is_token) return std::nullopt;
        const auto env = store::open_suppression_store(
            config::Config::parse("", "test", {"state_directory=" + milter.dir().sub("lib")}), /*read_only=*/true);
        return store::SendLog(env).lookup(d.token, std::time(nullptr));
    }

    std::string bounce_log() const { return harness::file_text(files.log); }
    bool wait_bounce_log(const std::string& what, std::chrono::milliseconds within) const {
        return harness::wait_until([&] { return contains(bounce_log(), what); }, within);
    }

    // The envelope sender qmgr logs for queue_id ("QID: from=<...>", once
    // the message is in the active queue); "" when it does not.
    std::string logged_sender(const std::string& queue_id) const {
        const std::string key = queue_id + ": from=<";
        const auto l = pf.wait_for_log(key, 10s);
        if (!l) return {};
        const size_t from = l->find(key) + key.size();
        return l->substr(from, l->find('>', from) - from);
    }

    // Waits for queue_id's DSN and its delivery through the pipe transport.
    void wait_dsn_delivered(const std::string& queue_id) const {
        const auto dsn = pf.wait_for_notification(queue_id, 30s);
        BOOST_REQUIRE_MESSAGE(dsn, "no DSN for " << queue_id << "; log:\n" << pf.log_tail());
        const auto d = pf.wait_for_delivery(*dsn, 30s);
        BOOST_REQUIRE_MESSAGE(d, "DSN " << *dsn << " not delivered; log:\n" << pf.log_tail());
        BOOST_TEST(d->status == "sent", d->line << "\nsendguard log:\n" << bounce_log());
        BOOST_TEST(d->relay == "sendguard", d->line);
    }
};

// A DSN as a remote MTA would write it, naming each of rcpts as failed.
std::string hand_made_dsn(const std::string& to, const std::vector<std::string>& rcpts) {
    std::string m = "From: MAILER-DAEMON@mx.remote.example\nTo: " + to +
                    "\nSubject: Undelivered Mail Returned to Sender\nMIME-Version: 1.0\n"
                    "Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\n\n"
                    "--b\nContent-Type: text/plain\n\nFailed.\n\n--b\n"
                    "Content-Type: message/delivery-status\n\nReporting-MTA: dns; mx.remote.example\n";
    for (const auto& r : rcpts)
        m += "\nFinal-Recipient: rfc822; " + r + "\nAction: failed\nStatus: 5.1.1\n"
             "Diagnostic-Code: smtp; 550 5.1.1 User unknown\n";
    return m + "\n--b--\n";
}

// The first line of text holding what, "" if none.
std::string line_with(const std::string& text, const std::string& what) {
    const size_t at = text.find(what);
    if (at == std::string::npos) return {};
    const size_t begin = text.rfind('\n', at) == std::string::npos ? 0 : text.rfind('\n', at) + 1;
    return text.substr(begin, text.find('\n', at) - begin);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(e2e_milter_roundtrip, *boost::unit_test::label("roundtrip"))

// One message to three recipients, two of them refused with 550: one DSN,
// mapped back through the token's send-log entry, suppresses exactly those
// two. A hand-made DSN to the same token naming someone who was not a
// recipient of that message suppresses nobody.
BOOST_AUTO_TEST_CASE(token_mode_suppresses_the_refused_recipients_only) {
    harness::skip_if(harness::PostfixInstance::unavailable());
    Relay relay("token", {kGone1, kGone2});

    const std::string qid = relay.send({kKeep, kGone1, kGone2}, "three");

    // One token for the whole message, at the bounce domain, as the sink saw it.
    const std::string verp = relay.logged_sender(qid);
    BOOST_TEST_REQUIRE(verp.starts_with("bounce+t"), verp);
    BOOST_TEST_REQUIRE(verp.ends_with("@" + kBounceDomain), verp);
    const std::string verp_line = line_with(relay.milter.err(), qid + ": milter: action=verp, stage=eom");
    BOOST_TEST(contains(verp_line, "why=token, new_from=<" + verp + ">"), relay.milter.err());
    const std::vector<std::pair<std::string, std::string>> expected = {
        {kKeep, "sent"}, {kGone1, "bounced"}, {kGone2, "bounced"}};
    for (const auto& [rcpt, status] : expected) {
        const auto d = relay.pf.wait_for_delivery(qid, 30s, rcpt);
        BOOST_REQUIRE_MESSAGE(d, "no delivery to " << rcpt << "; log:\n" << relay.pf.log_tail());
        BOOST_TEST(d->status == status, d->line);
    }
    BOOST_REQUIRE(relay.accept_sink.wait_for_messages(1, 10s));
    BOOST_TEST(relay.accept_sink.messages().front().mail_from() == verp);
    // Its send-log entry: every recipient, the original sender, the queue id.
    const std::optional<store::SendLogEntry> entry = relay.send_log_entry(verp);
    BOOST_REQUIRE_MESSAGE(entry, "no send-log entry for " << verp);
    BOOST_TEST(entry->recipients == (std::vector<std::string>{kKeep, kGone1, kGone2}), verp);
    BOOST_TEST(entry->sender == kSender);
    BOOST_TEST(entry->queue_id == qid);

    // The refusing sink saw the same sender for both refused recipients.
    const std::string refused = relay.refuse_sink.log();
    BOOST_TEST(contains(refused, "MAIL FROM:<" + verp + ">"), refused);
    BOOST_TEST(contains(refused, "RCPT TO:<" + kGone1 + ">"), refused);
    BOOST_TEST(contains(refused, "RCPT TO:<" + kGone2 + ">"), refused);
    BOOST_TEST(!contains(refused, "RCPT TO:<" + kKeep + ">"), refused);

    // Postfix's own DSN, to the token, through the pipe transport.
    relay.wait_dsn_delivered(qid);
    BOOST_TEST(relay.suppressed(kGone1), relay.check(kGone1).describe());
    BOOST_TEST(relay.suppressed(kGone2), relay.check(kGone2).describe());
    BOOST_TEST(!relay.suppressed(kKeep), relay.check(kKeep).describe());
    BOOST_TEST(contains(relay.check(kGone1).out, "\"status\":\"5.1.1\""), relay.check(kGone1).out);
    const std::string log = relay.bounce_log();
    for (const auto& rcpt : {kGone1, kGone2})
        BOOST_TEST(contains(log, "action=suppress, rcpt=<" + rcpt + ">, verp=<" + verp + ">, signed=yes"), log);
    BOOST_TEST(!contains(log, "rcpt=<" + kKeep + ">"), log);

    // A report to this token naming a recipient of another message and an
    // address nobody sent to: neither was a recipient of this message, so
    // nobody is suppressed; the report is kept for a human.
    const std::string other = "other@remote.example", forged = "forged@remote.example";
    const std::string qid2 = relay.send({other, "other2@remote.example"}, "another");
    const std::string verp2 = relay.logged_sender(qid2);
    BOOST_TEST_REQUIRE(verp2.starts_with("bounce+t"), verp2);
    BOOST_TEST_REQUIRE(verp2 != verp);
    const size_t mark = relay.pf.log_mark();
    const harness::RunResult r = relay.pf.sendmail("", {verp}, hand_made_dsn(verp, {other, forged}));
    BOOST_REQUIRE_MESSAGE(r.ok(), r.describe());
    const auto piped = relay.pf.wait_for_log(
        [&](std::string_view l) {
            const auto d = harness::parse_delivery(l);
            return d && d->relay == "sendguard" && d->to == verp;
        },
        30s, mark);
    BOOST_REQUIRE_MESSAGE(piped, "hand-made DSN not delivered; log:\n" << relay.pf.log_tail());
    BOOST_TEST(contains(*piped, "status=sent"), *piped);
    BOOST_TEST(!relay.suppressed(other), relay.check(other).describe());
    BOOST_TEST(!relay.suppressed(forged), relay.check(forged).describe());
    BOOST_TEST(!relay.suppressed(kKeep), relay.check(kKeep).describe());
    BOOST_TEST(relay.wait_bounce_log("action=quarantine, rcpt=<" + other + ">, verp=<" + verp + ">, signed=yes", 5s),
               relay.bounce_log());
    BOOST_TEST(contains(relay.bounce_log(), "why=no-recipient"), relay.bounce_log());
}

// milter_verp_recipients = split: the second RCPT gets 452 4.5.3 and goes
// again in a transaction of its own; each envelope names its recipient in a
// recipient-form tag, and the refused one is suppressed through it.
BOOST_AUTO_TEST_CASE(split_mode_one_transaction_per_recipient) {
    harness::skip_if(harness::PostfixInstance::unavailable());
    Relay relay("split", {kGone1});

    harness::SmtpClient c = relay.login();
    BOOST_REQUIRE(c.mail_from(kSender).positive());
    const harness::Reply first = c.rcpt_to(kKeep);
    BOOST_TEST(first.code == 250, first.str());
    const harness::Reply second = c.rcpt_to(kGone1);
    BOOST_TEST(second.str() == "452 4.5.3 one recipient per message: send the next one in a new transaction",
               second.str() << "\nmilter: " << relay.milter.err());
    BOOST_TEST(contains(relay.milter.err(), "milter: action=defer, stage=rcpt"), relay.milter.err());
    BOOST_TEST(contains(relay.milter.err(), "address=<" + kGone1 + ">, why=one_recipient_per_message"),
               relay.milter.err());
    const harness::Reply end1 = c.data(message("split 1"));
    BOOST_REQUIRE_MESSAGE(end1.code == 250, end1.str() << "\nmilter: " << relay.milter.err());
    // RFC 5321 4.5.3.1.10: the deferred recipient in a new transaction.
    BOOST_REQUIRE(c.mail_from(kSender).positive());
    const harness::Reply again = c.rcpt_to(kGone1);
    BOOST_TEST(again.code == 250, again.str());
    const harness::Reply end2 = c.data(message("split 2"));
    BOOST_REQUIRE_MESSAGE(end2.code == 250, end2.str() << "\nmilter: " << relay.milter.err());
    c.quit();
    const harness::SmtpTranscript q1{.data_end = end1}, q2{.data_end = end2};
    const std::string qid1 = q1.queue_id(), qid2 = q2.queue_id();
    BOOST_REQUIRE(!qid1.empty() && !qid2.empty() && qid1 != qid2);

    // Two envelopes, each with a tag naming its own recipient.
    const auto d1 = relay.pf.wait_for_delivery(qid1, 30s, kKeep);
    const auto d2 = relay.pf.wait_for_delivery(qid2, 30s, kGone1);
    BOOST_REQUIRE_MESSAGE(d1 && d2, relay.pf.log_tail());
    BOOST_TEST(d1->status == "sent", d1->line);
    BOOST_TEST(d2->status == "bounced", d2->line);
    const std::string verp1 = relay.logged_sender(qid1), verp2 = relay.logged_sender(qid2);
    BOOST_TEST(verp1.starts_with("bounce+r"), verp1);
    BOOST_TEST(verp1.ends_with("-keep=remote.example@" + kBounceDomain), verp1);
    BOOST_TEST(verp2.starts_with("bounce+r"), verp2);
    BOOST_TEST(verp2.ends_with("-gone1=remote.example@" + kBounceDomain), verp2);
    BOOST_REQUIRE(relay.accept_sink.wait_for_messages(1, 10s));
    const auto seen = relay.accept_sink.messages();
    BOOST_TEST(seen.size() == 1u);
    BOOST_TEST(seen.front().mail_from() == verp1, seen.front().mail_args);
    BOOST_TEST(seen.front().rcpt_to() == std::vector<std::string>{kKeep});
    const std::string refused = relay.refuse_sink.log();
    BOOST_TEST(contains(refused, "MAIL FROM:<" + verp2 + ">"), refused);
    BOOST_TEST(contains(refused, "RCPT TO:<" + kGone1 + ">"), refused);
    BOOST_TEST(!contains(refused, "MAIL FROM:<" + verp1 + ">"), refused);

    // The DSN for the second message comes back to its recipient tag.
    relay.wait_dsn_delivered(qid2);
    BOOST_TEST(relay.suppressed(kGone1), relay.check(kGone1).describe());
    BOOST_TEST(!relay.suppressed(kKeep), relay.check(kKeep).describe());
    BOOST_TEST(contains(relay.bounce_log(), "action=suppress, rcpt=<" + kGone1 + ">, verp=<" + verp2 + ">, signed=yes"),
               relay.bounce_log());
}

BOOST_AUTO_TEST_SUITE_END()
