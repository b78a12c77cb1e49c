// test_milter_sendmail.cc - sendguard-milter in Sendmail 8.17
//
// Debian's Sendmail, run from the tree scripts/deps.sh unpacked
// (tests/support/sendmail_harness.h), names the real sendguard-milter in
// INPUT_MAIL_FILTER (F=T) and relays to an smtp-sink. The milter's rules
// are those of tests/support/sendguard_milter.h; Sendmail's {auth_authen}
// is the login as typed, so the customer logs in as carol (the sender
// table: customer-c.example and its subdomains).
//   - carol as another customer is refused at MAIL (envelope) and at the
//     end of DATA (From:, Sender:) with the milter's text; a client without
//     a login (127.0.0.1, in no network table) is refused;
//   - carol's own sender reaches the sink with the signed VERP envelope
//     sender on bounces.customer-c.example, RET and ENVID kept (smfi_chgfrom
//     with arguments replaces the client's whole set under Sendmail: the
//     milter passes both itself).
// Each case starts its own Sendmail and milter. Skips (77) without the
// Sendmail tree or root, except under CI=true.
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <optional>
#include <string>

#include "tests/support/net_wait.h"
#include "tests/support/sendguard_milter.h"
#include "tests/support/sendmail_harness.h"
#include "tests/support/smtp_sink.h"

using namespace std::chrono_literals;
namespace h = harness;

namespace {

const std::string kRcpt = "dest@remote.example";

// The sink's first message once its dump is complete (smtp-sink writes the
// dump file while the transaction goes on).
std::optional<h::SinkMessage> first_message(const h::SmtpSink& sink) {
    std::optional<h::SinkMessage> m;
    h::wait_until(
        [&] {
            const auto all = sink.messages();
            if (!all.empty() && !all.front().mail_from().empty() &&
                all.front().content.find("body") != std::string::npos)
                m = all.front();
            return m.has_value();
        },
        15s);
    return m;
}

struct Site {
    h::SendguardMilter milter;
    h::SmtpSink sink;
    h::SendmailInstance sm{{.smart_host = sink.nexthop()}};

    Site() {
        milter.start();
        sm.add_milter("sendguard", milter.spec());
        sm.enable_sasl();
        sm.add_sasl_user("carol", "carol-pw");
        sm.start();
    }
    h::SmtpTranscript send(const std::string& from, const std::string& header_from,
                           const std::string& extra_headers = "", const std::string& params = "",
                           bool login = true) const {
        h::SmtpEnvelope env{.mail_from = from,
                            .mail_params = params,
                            .rcpt_to = {kRcpt},
                            .data = "From: " + header_from + "\n" + extra_headers + "To: <" + kRcpt +
                                    ">\nSubject: test\n\nbody\n"};
        if (login) env.auth_plain = {{"carol", "carol-pw"}};
        return sm.send(env);
    }
    std::string why() const { return "\nmilter:\n" + milter.err() + "\nsendmail:\n" + sm.log_tail(); }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(milter_sendmail, *boost::unit_test::label("sendmail"))

BOOST_AUTO_TEST_CASE(spoofed_sender_is_refused_with_the_milters_text) {
    h::require_sendmail();
    Site site;
    const std::string text = "login carol may not send as boss@customer-b.example";

    const auto envelope = site.send("boss@customer-b.example", "x@customer-c.example");
    // Sendmail puts the address before the milter's text.
    BOOST_TEST(envelope.mail.str() == "550 5.7.1 <boss@customer-b.example>... " + text,
               envelope.str() << site.why());
    BOOST_TEST(!envelope.accepted());

    const auto from = site.send("x@customer-c.example", "Boss <boss@customer-b.example>");
    BOOST_REQUIRE_MESSAGE(from.data_end.has_value(), from.str() << site.why());
    BOOST_TEST(from.data_end->str() == "550 5.7.1 " + text, from.str() << site.why());

    const auto sender = site.send("x@customer-c.example", "x@customer-c.example",
                                  "Sender: boss@customer-b.example\n");
    BOOST_REQUIRE_MESSAGE(sender.data_end.has_value(), sender.str() << site.why());
    BOOST_TEST(sender.data_end->str() == "550 5.7.1 " + text, sender.str() << site.why());

    // Without a login, from 127.0.0.1: the address comes from the connect
    // callback (Sendmail sends no {client_addr} there by default).
    const auto anon = site.send("x@customer-c.example", "x@customer-c.example", "", "", false);
    BOOST_TEST(anon.mail.str() ==
                   "550 5.7.1 <x@customer-c.example>... client 127.0.0.1 may not send as x@customer-c.example",
               anon.str() << site.why());

    BOOST_TEST(site.sm.wait_for_log("Milter: from=<boss@customer-b.example>, reject=550 5.7.1 " + text, 5s)
                   .has_value(),
               site.why());
    BOOST_TEST(site.milter.logged("[127.0.0.1], login=carol, from=<boss@customer-b.example>", 5s), site.why());
    BOOST_TEST(!site.sink.wait_for_messages(1, 500ms), "a refused message reached the sink");
}

BOOST_AUTO_TEST_CASE(allowed_sender_is_relayed_with_the_verp_envelope) {
    h::require_sendmail();
    Site site;
    const auto t = site.send("news@mail.customer-c.example", "News <news@customer-c.example>", "",
                             "RET=HDRS ENVID=sm-1");
    BOOST_REQUIRE_MESSAGE(t.accepted(), t.str() << site.why());
    const std::string qid = h::sendmail_queue_id(t);
    BOOST_TEST(site.milter.logged(qid + ": milter: action=verp, stage=eom", 5s), "queue id " << qid << site.why());

    const auto dumped = first_message(site.sink);
    BOOST_REQUIRE_MESSAGE(dumped.has_value(), site.why());
    const h::SinkMessage& m = *dumped;
    BOOST_TEST_MESSAGE("the sink's MAIL FROM: " << m.mail_args);
    BOOST_TEST(m.mail_from().starts_with("bounce+r"), m.mail_args);
    BOOST_TEST(m.mail_from().ends_with("@bounces.mail.customer-c.example"), m.mail_args);
    BOOST_TEST(m.mail_args.find("RET=HDRS") != std::string::npos, m.mail_args);
    BOOST_TEST(m.mail_args.find("ENVID=sm-1") != std::string::npos, m.mail_args);
    BOOST_TEST(m.rcpt_to() == std::vector<std::string>{kRcpt});
    BOOST_TEST(m.header("From") == "News <news@customer-c.example>");
}

BOOST_AUTO_TEST_SUITE_END()
