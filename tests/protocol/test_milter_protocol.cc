// test_milter_protocol.cc - sendguard-milter's decisions over the wire
//
// The real binary (tests/support/sendguard_milter.h: its rules and files)
// driven by harness::MilterClient as Postfix's milter8 client would: the
// allowed sender's envelope becomes a signed VERP address (the 'e' action,
// RET and ENVID kept, the tag decoding with the configured key back to the
// recipient), login A as B is refused at MAIL with 550 5.7.1 and the text,
// From: and Sender: are checked at the end of the headers, and a client
// without a login outside every network is refused.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "common/address/address.h"
#include "common/address/verp_setup.h"
#include "common/config/config.h"
#include "tests/support/milter_client.h"
#include "tests/support/sendguard_milter.h"

using harness::MilterStatus;
using harness::MilterTransaction;

namespace {

bool contains(const std::string& s, const std::string& sub) { return s.find(sub) != std::string::npos; }

// "<bounce+...@d>" -> "bounce+...@d"; the milter passes the new sender
// without brackets (smfi_chgfrom), as Postfix and Sendmail both take it.
std::string unbracket(const std::string& s) {
    return s.size() >= 2 && s.front() == '<' && s.back() == '>' ? s.substr(1, s.size() - 2) : s;
}

// The VERP address decoded with the milter's own configuration.
address::Decoded decode(const harness::SendguardMilter& m, const std::string& verp) {
    const config::Config cfg = config::Config::parse(m.config_text(), m.config_path());
    const auto bounce = address::domain_of("<" + verp + ">");
    BOOST_REQUIRE_MESSAGE(bounce.ok(), verp);
    const auto codec = address::BounceDomains::from(cfg).codec(*bounce);
    BOOST_REQUIRE_MESSAGE(codec.has_value(), "no codec for " << verp);
    return codec->decode(verp);
}

MilterTransaction as_login(const std::string& login, const std::string& sender, const std::string& from) {
    MilterTransaction t = harness::allowed_transaction("QLOGIN1");
    t.macros.mail = {{"{auth_authen}", login}};
    t.mail_from = sender;
    t.headers = {{"From", " " + from}, {"Subject", " test"}};
    return t;
}

MilterTransaction without_login(const std::string& client_addr, const std::string& sender) {
    MilterTransaction t = as_login("", sender, sender);
    t.macros.mail = {};
    t.connect.address = client_addr;
    return t;
}

struct Started {
    harness::SendguardMilter milter;
    Started() { milter.start(); }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(milter_protocol, Started)

// What the milter negotiates: the change-sender action and the callbacks
// it needs, with the macro lists of sendguard-milter(8).
BOOST_AUTO_TEST_CASE(negotiates_chgfrom_and_its_macros) {
    harness::MilterClient c = milter.client();
    const harness::MilterNegotiated& n = c.negotiate();
    BOOST_TEST(n.version == 6u);
    BOOST_TEST((n.actions & harness::milter_bits::kChgFrom) != 0u, "actions " << n.actions);
    BOOST_TEST(n.has(harness::milter_bits::kNoBody), "the body is not needed");
    BOOST_REQUIRE(n.macros[static_cast<size_t>(harness::MilterStage::Mail)].has_value());
    const auto& mail = *n.macros[static_cast<size_t>(harness::MilterStage::Mail)];
    const bool asks_login = std::find(mail.begin(), mail.end(), "{auth_authen}") != mail.end();
    BOOST_TEST(asks_login, "the MAIL macros hold no {auth_authen}");
}

// One recipient: the tag carries it; RET and ENVID are kept, the rest dropped.
BOOST_AUTO_TEST_CASE(allowed_login_gets_a_verp_sender) {
    harness::MilterClient c = milter.client();
    MilterTransaction t = harness::allowed_transaction("QVERP1");
    t.esmtp_args.push_back("SIZE=1234");
    const harness::MilterTranscript r = c.transaction(t);
    BOOST_TEST(r.mail.status == MilterStatus::Continue, r.str());
    // No reply to EOH (SMFIP_NR_EOH): the headers' verdict is the answer to EOM.
    BOOST_TEST(r.negotiated.has(harness::milter_bits::kNrEoh), r.str());
    BOOST_TEST(r.eoh.status == MilterStatus::NoReply, r.str());
    BOOST_TEST(r.eom.status == MilterStatus::Continue, r.str());
    const auto cf = r.change_from();
    BOOST_REQUIRE_MESSAGE(cf.has_value(), r.str());
    BOOST_TEST(unbracket(cf->sender).starts_with("bounce+"), cf->sender);
    BOOST_TEST(unbracket(cf->sender).ends_with("@bounces.customer-a.example"), cf->sender);
    BOOST_TEST(cf->args.value_or("") == "RET=HDRS ENVID=QVERP1", cf->args.value_or("(none)"));
    const address::Decoded d = decode(milter, unbracket(cf->sender));
    BOOST_TEST(static_cast<int>(d.status) == static_cast<int>(address::VerpStatus::Ok), cf->sender);
    BOOST_TEST(!d.is_token);
    BOOST_TEST(d.recipient.str() == "dest@remote.example");
    BOOST_TEST(milter.logged("QVERP1: milter: action=verp, stage=eom", std::chrono::seconds(5)), milter.err());
}

// Several recipients: one token, recorded in the store's send log.
BOOST_AUTO_TEST_CASE(several_recipients_get_a_token) {
    harness::MilterClient c = milter.client();
    MilterTransaction t = harness::allowed_transaction("QTOKEN1");
    t.rcpts = {"a@remote.example", "b@remote.example"};
    const harness::MilterTranscript r = c.transaction(t);
    const auto cf = r.change_from();
    BOOST_REQUIRE_MESSAGE(cf.has_value(), r.str() << milter.err());
    const address::Decoded d = decode(milter, unbracket(cf->sender));
    BOOST_TEST(static_cast<int>(d.status) == static_cast<int>(address::VerpStatus::Ok), cf->sender);
    BOOST_TEST(d.is_token, cf->sender);
    BOOST_TEST(milter.logged("QTOKEN1: milter: action=verp, stage=eom", std::chrono::seconds(5)), milter.err());
}

// The sender table grants a login without a domain its customer's domains.
BOOST_AUTO_TEST_CASE(sender_table_grants_a_login) {
    harness::MilterClient c = milter.client();
    const auto r = c.transaction(as_login("carol", "x@mail.customer-c.example", "x@customer-c.example"));
    BOOST_TEST(r.mail.status == MilterStatus::Continue, r.str());
    BOOST_TEST(r.eoh.status == MilterStatus::NoReply, r.str());
    BOOST_TEST(r.change_from().has_value(), r.str());
}

BOOST_AUTO_TEST_CASE(login_a_as_b_is_refused_at_mail) {
    struct Case {
        std::string login, sender, want;
    } cases[] = {
        {"alice@customer-a.example", "boss@customer-b.example",
         "550 5.7.1 login alice@customer-a.example may not send as boss@customer-b.example"},
        {"bob@customer-b.example", "news@customer-a.example",
         "550 5.7.1 login bob@customer-b.example may not send as news@customer-a.example"},
        {"carol", "carol@customer-a.example", "550 5.7.1 login carol may not send as carol@customer-a.example"},
        {"alice@customer-a.example", "x@bounces.customer-a.example",
         "550 5.7.1 x@bounces.customer-a.example is a bounce address"},
    };
    for (const Case& k : cases) {
        harness::MilterClient c = milter.client();
        const auto r = c.transaction(as_login(k.login, k.sender, k.sender));
        BOOST_TEST(r.mail.status == MilterStatus::ReplyCode, r.str());
        BOOST_TEST(r.mail.text == k.want, "login " << k.login << " as " << k.sender << ": got \"" << r.mail.text
                                                   << "\", want \"" << k.want << "\"");
        BOOST_TEST(r.aborted, "the client stops after a refused MAIL");
    }
    BOOST_TEST(milter.logged("milter: action=refuse, stage=mail, client=client.sendguard.test[192.0.2.10], "
                             "login=alice@customer-a.example, from=<boss@customer-b.example>",
                             std::chrono::seconds(5)),
               milter.err());
}

// The envelope passes; From: or Sender: names another customer: refused at
// the end of the headers (the MTA sends it at the end of DATA).
BOOST_AUTO_TEST_CASE(from_and_sender_are_refused_at_end_of_headers) {
    const std::string text = "550 5.7.1 login alice@customer-a.example may not send as boss@customer-b.example";
    struct Case {
        std::vector<harness::MilterHeader> headers;
        std::string want;
    } cases[] = {
        {{{"From", " Boss <boss@customer-b.example>"}}, text},
        {{{"From", " news@customer-a.example, boss@customer-b.example"}}, text},
        {{{"From", " news@customer-a.example"}, {"Sender", " boss@customer-b.example"}}, text},
        {{{"From", " undisclosed-recipients:;"}}, "550 5.6.0 From: header field holds no valid address"},
        {{{"Subject", " no from"}}, "550 5.6.0 message has no From: header field"},
        {{{"From", " news@customer-a.example"}, {"From", " news@customer-a.example"}},
         "550 5.6.0 message has 2 From: header fields"},
        {{{"From", " \"News\" <news@CUSTOMER-A.example>"}}, ""},  // allowed: no refusal
    };
    for (const Case& k : cases) {
        harness::MilterClient c = milter.client();
        MilterTransaction t = harness::allowed_transaction("QHDR1");
        t.headers = k.headers;
        const auto r = c.transaction(t);
        BOOST_TEST(r.mail.status == MilterStatus::Continue, r.str());
        if (k.want.empty()) {
            BOOST_TEST(r.eoh.status == MilterStatus::NoReply, r.str());
            BOOST_TEST(r.change_from().has_value(), r.str());
            continue;
        }
        BOOST_TEST(r.eoh.status == MilterStatus::NoReply, r.str());
        BOOST_TEST(r.eom.status == MilterStatus::ReplyCode, r.str());
        BOOST_TEST(r.eom.text == k.want, "got \"" << r.eom.text << "\", want \"" << k.want << "\"\n" << r.str());
        BOOST_TEST(!r.change_from().has_value(), r.str());
    }
    BOOST_TEST(milter.logged("QHDR1: milter: action=refuse, stage=header", std::chrono::seconds(5)), milter.err());
}

BOOST_AUTO_TEST_CASE(clients_without_login_need_a_network) {
    {
        harness::MilterClient c = milter.client();
        const auto r = c.transaction(without_login("198.51.100.7", "x@customer-a.example"));
        BOOST_TEST(r.mail.text == "550 5.7.1 client 198.51.100.7 may not send as x@customer-a.example", r.str());
    }
    {
        harness::MilterClient c = milter.client();
        const auto r = c.transaction(without_login("127.0.0.1", "x@customer-n.example"));
        BOOST_TEST(r.mail.text == "550 5.7.1 client 127.0.0.1 may not send as x@customer-n.example", r.str());
    }
    {
        harness::MilterClient c = milter.client();
        const auto r = c.transaction(without_login("192.0.2.99", "x@customer-n.example"));
        BOOST_TEST(r.mail.status == MilterStatus::Continue, r.str());
        BOOST_TEST(r.eoh.status == MilterStatus::NoReply, r.str());
        BOOST_TEST(r.change_from().has_value(), r.str());
    }
    {
        harness::MilterClient c = milter.client();
        const auto r = c.transaction(without_login("192.0.2.99", "x@customer-a.example"));
        BOOST_TEST(r.mail.text == "550 5.7.1 client 192.0.2.99 may not send as x@customer-a.example", r.str());
    }
}

// Two messages on one connection: the second is judged on its own.
BOOST_AUTO_TEST_CASE(messages_on_one_connection_are_independent) {
    harness::MilterClient c = milter.client();
    MilterTransaction refused = as_login("alice@customer-a.example", "news@customer-a.example",
                                         "boss@customer-b.example");
    refused.end = harness::MilterEnd::Keep;
    const auto r1 = c.transaction(refused);
    BOOST_TEST(r1.eom.status == MilterStatus::ReplyCode, r1.str());
    BOOST_TEST(!r1.change_from().has_value(), r1.str());
    MilterTransaction ok = harness::allowed_transaction("QSECOND1");
    ok.end = harness::MilterEnd::Keep;
    const auto r2 = c.transaction(ok);
    BOOST_TEST(r2.eoh.status == MilterStatus::NoReply, r2.str());
    BOOST_TEST(r2.change_from().has_value(), r2.str());
    const auto r3 = c.transaction(harness::allowed_transaction("QTHIRD1"));
    BOOST_TEST(r3.change_from().has_value(), r3.str());
    BOOST_TEST(contains(r3.change_from()->args.value_or(""), "ENVID=QTHIRD1"), r3.str());
}

BOOST_AUTO_TEST_SUITE_END()
