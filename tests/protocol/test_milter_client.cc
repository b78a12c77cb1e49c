// test_milter_client.cc - the milter-protocol test client against Debian's libmilter
//
// tests/support/milter_client.h speaks the MTA side of the milter protocol;
// sg_test_milter (tests/support/test_milter_main.cc) is a real libmilter
// milter that logs each callback and answers as its options say.  Each case
// starts its own milter, runs a conversation and checks both ends: what the
// client decoded and what libmilter handed to the callbacks.
#include <boost/test/unit_test.hpp>

#include <libmilter/mfapi.h>

#include <signal.h>
#include <sys/socket.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/milter_client.h"
#include "tests/support/net_wait.h"
#include "tests/support/test_milter.h"

using namespace std::chrono_literals;
using harness::MilterAct;
using harness::MilterClient;
using harness::MilterEnd;
using harness::MilterError;
using harness::MilterStatus;
using harness::MilterTransaction;
using harness::TestMilter;
using harness::milter_event;
namespace bits = harness::milter_bits;

// The client's wire constants are libmilter's.
static_assert(static_cast<char>(harness::MilterCmd::OptNeg) == SMFIC_OPTNEG);
static_assert(static_cast<char>(harness::MilterCmd::QuitNc) == SMFIC_QUIT_NC);
static_assert(static_cast<char>(harness::MilterCmd::Data) == SMFIC_DATA);
static_assert(static_cast<char>(harness::MilterCmd::Header) == SMFIC_HEADER);
static_assert(static_cast<char>(harness::MilterCmd::BodyEob) == SMFIC_BODYEOB);
static_assert(static_cast<char>(MilterAct::ChgFrom) == SMFIR_CHGFROM);
static_assert(static_cast<char>(MilterAct::ReplyCode) == SMFIR_REPLYCODE);
static_assert(static_cast<char>(MilterAct::AddRcptPar) == SMFIR_ADDRCPT_PAR);
static_assert(static_cast<char>(MilterAct::Progress) == SMFIR_PROGRESS);
static_assert(bits::kAllProtocol == SMFI_CURR_PROT);
static_assert(bits::kAllActions == SMFI_CURR_ACTS);
static_assert(bits::kNrHdr == SMFIP_NR_HDR && bits::kNrBody == SMFIP_NR_BODY);
static_assert(bits::kNoData == SMFIP_NODATA && bits::kHdrLeadSpc == SMFIP_HDR_LEADSPC);
static_assert(bits::kChgFrom == SMFIF_CHGFROM && bits::kSetSymList == SMFIF_SETSYMLIST);
static_assert(static_cast<int>(harness::MilterStage::Eoh) == SMFIM_EOH);

namespace {

MilterTransaction message() {
    return {.mail_from = "alice@customer-a.example",
            .esmtp_args = {"RET=HDRS", "ENVID=e1"},
            .rcpts = {"bob@example.net", "carol@example.org"},
            .headers = {{"From", " alice@customer-a.example"}, {"Subject", " hello"}},
            .body = "line one\nline two\n"};
}

// Event lines after the negotiation, up to and including "close".
std::vector<std::string> conversation(const TestMilter& m) {
    BOOST_TEST_REQUIRE(m.wait_event("close"));
    std::vector<std::string> e = m.events();
    if (!e.empty() && e.front().rfind("negotiate ", 0) == 0) e.erase(e.begin());
    return e;
}

std::string joined(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += s + "\n";
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(milter_client)

BOOST_AUTO_TEST_CASE(negotiation_defaults_to_version_6_and_all_actions) {
    TestMilter m({});
    MilterClient c = m.client();
    const harness::MilterNegotiated& n = c.negotiate();
    BOOST_TEST(n.version == 6u);
    BOOST_TEST(n.actions == bits::kAllActions);  // the test milter registers every action
    BOOST_TEST(n.protocol == 0u);                 // and asks for no protocol flags
    c.quit();
    BOOST_TEST_REQUIRE(m.wait_event(milter_event("negotiate", {"0x1ff", "0x1fffff"})));
}

BOOST_AUTO_TEST_CASE(negotiation_returns_the_flags_and_macro_lists_the_milter_asks_for) {
    TestMilter m({"-n", "nr_hdr,nohelo,leadspc", "-S", "envfrom={auth_authen} {client_addr}",
                  "-S", "eom=i"});
    MilterClient c = m.client();
    const harness::MilterNegotiated& n = c.negotiate();
    BOOST_TEST(n.protocol == (bits::kNrHdr | bits::kNoHelo | bits::kHdrLeadSpc));
    const auto& mail = n.macros[static_cast<size_t>(harness::MilterStage::Mail)];
    BOOST_TEST_REQUIRE(mail.has_value());
    BOOST_TEST(*mail == (std::vector<std::string>{"{auth_authen}", "{client_addr}"}),
               boost::test_tools::per_element());
    const auto& eom = n.macros[static_cast<size_t>(harness::MilterStage::Eom)];
    BOOST_TEST_REQUIRE(eom.has_value());
    BOOST_TEST(eom->front() == "i");
    BOOST_TEST(!n.macros[static_cast<size_t>(harness::MilterStage::Rcpt)].has_value());
}

BOOST_AUTO_TEST_CASE(a_smaller_offer_limits_what_the_milter_gets) {
    // Postfix before 2.6 offered no SMFIF_CHGFROM: the milter cannot change the sender.
    TestMilter m({"-a", "chgfrom|<new@example.com>"});
    MilterClient c = m.client();
    c.negotiate({.version = 6, .actions = bits::kAllActions & ~bits::kChgFrom,
                 .protocol = bits::kAllProtocol});
    BOOST_TEST(c.negotiated().actions == (bits::kAllActions & ~bits::kChgFrom));
    harness::MilterTranscript t = c.transaction(message());
    BOOST_TEST(t.eom.status == MilterStatus::Continue, t.str());
    BOOST_TEST(!t.change_from().has_value());
    BOOST_TEST(m.wait_event(milter_event("action-failed", {"chgfrom"})));
}

BOOST_AUTO_TEST_CASE(each_stage_reaches_its_callback_in_order) {
    TestMilter m({});
    MilterClient c = m.client();
    harness::MilterTranscript t = c.transaction(message());
    BOOST_TEST(t.connect.status == MilterStatus::Continue, t.str());
    BOOST_TEST(t.helo.status == MilterStatus::Continue);
    BOOST_TEST(t.mail.status == MilterStatus::Continue);
    BOOST_TEST_REQUIRE(t.rcpt.size() == 2u);
    BOOST_TEST(t.data.status == MilterStatus::Continue);
    BOOST_TEST(t.headers.size() == 2u);
    BOOST_TEST(t.eoh.status == MilterStatus::Continue);
    BOOST_TEST(t.body.size() == 1u);
    BOOST_TEST(t.eom.status == MilterStatus::Continue);
    BOOST_TEST(!t.aborted);
    const std::vector<std::string> want = {
        milter_event("connect", {"client.sendguard.test", "4", "54321", "192.0.2.10"}),
        milter_event("helo", {"client.sendguard.test"}),
        milter_event("envfrom", {"<alice@customer-a.example>", "RET=HDRS", "ENVID=e1"}),
        milter_event("envrcpt", {"<bob@example.net>"}),
        milter_event("envrcpt", {"<carol@example.org>"}),
        milter_event("data"),
        // Without SMFIP_HDR_LEADSPC the blank after the colon is not sent.
        milter_event("header", {"From", "alice@customer-a.example"}),
        milter_event("header", {"Subject", "hello"}),
        milter_event("eoh"),
        milter_event("body", {"20", "line one\r\nline two\r\n"}),
        milter_event("eom"),
        milter_event("close"),
    };
    std::vector<std::string> got = conversation(m);
    BOOST_TEST(got == want, "got:\n" << joined(got) << "want:\n" << joined(want));
}

BOOST_AUTO_TEST_CASE(connect_families_and_leading_space) {
    struct Case {
        harness::MilterConnect info;
        std::vector<std::string> want;
    };
    const Case cases[] = {
        {{"mx.example", harness::MilterFamily::Inet6, 2525, "2001:db8::25"},
         {"mx.example", "6", "2525", "2001:db8::25"}},
        {{"localhost", harness::MilterFamily::Unix, 0, "/run/sock"}, {"localhost", "L", "", "/run/sock"}},
        {{"[unknown]", harness::MilterFamily::Unknown, 0, ""}, {"[unknown]", "U", "", ""}},
    };
    for (const auto& k : cases) {
        TestMilter m({"-n", "leadspc"});
        MilterClient c = m.client();
        MilterTransaction t = message();
        t.connect = k.info;
        harness::MilterTranscript r = c.transaction(t);
        BOOST_TEST(r.eom.status == MilterStatus::Continue, r.str());
        std::vector<std::string> got = conversation(m);
        BOOST_TEST(got.front() == milter_event("connect", k.want));
        // With SMFIP_HDR_LEADSPC the value is sent as it was.
        BOOST_TEST(m.has_event(milter_event("header", {"Subject", " hello"})), joined(got));
    }
}

BOOST_AUTO_TEST_CASE(macros_arrive_with_their_stage) {
    TestMilter m({"-m", "j,{client_addr},{auth_authen},{rcpt_mailer},{mail_addr},i"});
    MilterClient c = m.client();
    MilterTransaction t = message();
    t.macros = {.connect = {{"j", "relay.sendguard.test"}, {"{client_addr}", "192.0.2.10"}},
                .mail = {{"{auth_authen}", "alice@customer-a.example"},
                         {"{mail_addr}", "alice@customer-a.example"}},
                .eom = {{"i", "4XkQ2m1Zz9z"}}};
    t.rcpt_macros = {{{"{rcpt_mailer}", "smtp"}}, {{"{rcpt_mailer}", "local"}}};
    harness::MilterTranscript r = c.transaction(t);
    BOOST_TEST(r.eom.status == MilterStatus::Continue, r.str());
    std::vector<std::string> got = conversation(m);
    const std::vector<std::string> want = {
        milter_event("macro", {"connect", "j", "relay.sendguard.test"}),
        milter_event("macro", {"connect", "{client_addr}", "192.0.2.10"}),
        milter_event("macro", {"envfrom", "{auth_authen}", "alice@customer-a.example"}),
        milter_event("macro", {"envrcpt", "{rcpt_mailer}", "smtp"}),
        milter_event("macro", {"envrcpt", "{rcpt_mailer}", "local"}),
        milter_event("macro", {"eom", "i", "4XkQ2m1Zz9z"}),
    };
    for (const auto& w : want) BOOST_TEST(m.has_event(w), w << " not in\n" << joined(got));
    // A stage's macros are not there before it.
    BOOST_TEST(!m.has_event(milter_event("macro", {"connect", "{auth_authen}",
                                                   "alice@customer-a.example"})));
    BOOST_TEST(!m.has_event(milter_event("macro", {"envrcpt", "i", "4XkQ2m1Zz9z"})));
}

BOOST_AUTO_TEST_CASE(only_the_macros_the_milter_asked_for_are_sent) {
    TestMilter m({"-m", "{auth_authen},{auth_type}", "-S", "envfrom={auth_authen}"});
    MilterClient c = m.client();
    MilterTransaction t = message();
    t.macros.mail = {{"{auth_type}", "PLAIN"}, {"{auth_authen}", "alice"}};
    c.transaction(t);
    conversation(m);
    BOOST_TEST(m.has_event(milter_event("macro", {"envfrom", "{auth_authen}", "alice"})));
    BOOST_TEST(!m.has_event(milter_event("macro", {"envfrom", "{auth_type}", "PLAIN"})));
}

BOOST_AUTO_TEST_CASE(replies_at_each_stage) {
    struct Case {
        std::vector<std::string> args;
        MilterStatus want;
        std::string text;
        std::string where;  // which step answered
    };
    const Case cases[] = {
        {{"-r", "connect=tempfail"}, MilterStatus::Tempfail, "", "connect"},
        {{"-r", "helo=reject"}, MilterStatus::Reject, "", "helo"},
        {{"-r", "envfrom=550 5.7.1 login alice@customer-a.example may not send as "
                "boss@customer-b.example"},
         MilterStatus::ReplyCode,
         "550 5.7.1 login alice@customer-a.example may not send as boss@customer-b.example", "mail"},
        {{"-r", "envfrom=discard"}, MilterStatus::Discard, "", "mail"},
        {{"-r", "envfrom=accept"}, MilterStatus::Accept, "", "mail"},
        {{"-r", "data=451 4.3.5 try again later"}, MilterStatus::ReplyCode,
         "451 4.3.5 try again later", "data"},
        {{"-r", "header/Subject=reject"}, MilterStatus::Reject, "", "header"},
        {{"-r", "eoh=tempfail"}, MilterStatus::Tempfail, "", "eoh"},
        {{"-r", "body=reject"}, MilterStatus::Reject, "", "body"},
        {{"-r", "eom=554 5.7.1 no thanks"}, MilterStatus::ReplyCode, "554 5.7.1 no thanks", "eom"},
        {{"-r", "eom=tempfail"}, MilterStatus::Tempfail, "", "eom"},
    };
    for (const auto& k : cases) {
        BOOST_TEST_CONTEXT(k.args[1]) {
            TestMilter m(k.args);
            MilterClient c = m.client();
            harness::MilterTranscript t = c.transaction(message());
            const harness::MilterResponse* r = k.where == "connect" ? &t.connect
                                             : k.where == "helo"    ? &t.helo
                                             : k.where == "mail"    ? &t.mail
                                             : k.where == "data"    ? &t.data
                                             : k.where == "eoh"     ? &t.eoh
                                             : k.where == "header"  ? &t.headers.back()
                                             : k.where == "body"    ? &t.body.back()
                                                                    : &t.eom;
            BOOST_TEST(r->status == k.want, t.str());
            BOOST_TEST(r->text == k.text);
            // A refused message goes no further; a refused connection gets no abort.
            BOOST_TEST(t.aborted == (k.where != "connect" && k.where != "helo" && k.where != "eom"));
            if (k.where != "eom") BOOST_TEST(t.eom.status == MilterStatus::NotSent);
            std::vector<std::string> got = conversation(m);
            BOOST_TEST((!m.has_event("eom") || k.where == "eom"), joined(got));
        }
    }
}

BOOST_AUTO_TEST_CASE(a_refused_recipient_leaves_the_others) {
    TestMilter m({"-r", "envrcpt/<bob@example.net>=550 5.1.1 no such user"});
    MilterClient c = m.client();
    harness::MilterTranscript t = c.transaction(message());
    BOOST_TEST_REQUIRE(t.rcpt.size() == 2u);
    BOOST_TEST(t.rcpt[0].code() == 550, t.str());
    BOOST_TEST(t.rcpt[1].status == MilterStatus::Continue);
    BOOST_TEST(t.eom.status == MilterStatus::Continue);

    TestMilter all({"-r", "envrcpt=tempfail"});
    MilterClient c2 = all.client();
    t = c2.transaction(message());
    BOOST_TEST(t.rcpt.size() == 2u);
    BOOST_TEST(t.aborted, t.str());
    BOOST_TEST(t.data.status == MilterStatus::NotSent);
    conversation(all);
    BOOST_TEST(all.has_event("abort"));
}

BOOST_AUTO_TEST_CASE(change_sender_with_and_without_args) {
    struct Case {
        std::string action;
        std::string sender;
        std::optional<std::string> args;
    };
    const Case cases[] = {
        {"chgfrom|<bounces+bob=example.net@bounces.customer-a.example>|RET=HDRS ENVID=e1",
         "<bounces+bob=example.net@bounces.customer-a.example>", "RET=HDRS ENVID=e1"},
        {"chgfrom|<bounces@b.example>", "<bounces@b.example>", std::nullopt},
    };
    for (const auto& k : cases) {
        TestMilter m({"-a", k.action});
        MilterClient c = m.client();
        harness::MilterTranscript t = c.transaction(message());
        BOOST_TEST(t.eom.status == MilterStatus::Continue, t.str());
        BOOST_TEST_REQUIRE(t.change_from().has_value(), t.str());
        BOOST_TEST(t.change_from()->sender == k.sender);
        BOOST_TEST(t.change_from()->args.value_or("(none)") == k.args.value_or("(none)"));
    }
}

BOOST_AUTO_TEST_CASE(every_modification_is_decoded_in_order) {
    TestMilter m({"-a", "addheader|X-Sendguard|checked", "-a", "chgheader|Subject|1|changed",
                  "-a", "insheader|0|X-First|top", "-a", "addrcpt|<dave@example.com>", "-a",
                  "addrcpt_par|<erin@example.com>|NOTIFY=NEVER", "-a", "delrcpt|<bob@example.net>",
                  "-a", "progress", "-a", "quarantine|held for review", "-a", "replbody|new body\r\n",
                  "-r", "eom=accept"});
    MilterClient c = m.client();
    harness::MilterTranscript t = c.transaction(message());
    BOOST_TEST(t.eom.status == MilterStatus::Accept, t.str());
    BOOST_TEST(t.eom.progress == 1u);
    std::vector<std::string> got;
    for (const auto& mod : t.eom.mods) got.push_back(mod.str());
    const std::vector<std::string> want = {
        "h X-Sendguard checked", "m 1 Subject changed", "i 0 X-First top",
        "+ <dave@example.com>", "2 <erin@example.com> NOTIFY=NEVER", "- <bob@example.net>",
        "q held for review", "b (10 bytes)"};
    BOOST_TEST(got == want, boost::test_tools::per_element());
    BOOST_TEST(t.mods(MilterAct::ReplBody).at(0).data == "new body\r\n");
}

BOOST_AUTO_TEST_CASE(no_reply_flags_are_honoured) {
    // Were the client to wait for a reply the milter never sends, it would time out.
    TestMilter m({"-n", "nr_conn,nr_helo,nr_mail,nr_rcpt,nr_data,nr_hdr,nr_eoh,nr_body"});
    MilterClient c = m.client({.timeout = 2s});
    harness::MilterTranscript t = c.transaction(message());
    for (const auto* r : {&t.connect, &t.helo, &t.mail, &t.rcpt[0], &t.rcpt[1], &t.data,
                          &t.headers[0], &t.headers[1], &t.eoh, &t.body[0]})
        BOOST_TEST(r->status == MilterStatus::NoReply, t.str());
    BOOST_TEST(t.eom.status == MilterStatus::Continue);
    std::vector<std::string> got = conversation(m);
    BOOST_TEST(got.size() == 12u, joined(got));  // every callback still ran
}

BOOST_AUTO_TEST_CASE(steps_the_milter_turns_off_are_not_sent) {
    TestMilter m({"-n", "nohelo,nodata,nohdrs,noeoh,nobody"});
    MilterClient c = m.client({.timeout = 2s});
    harness::MilterTranscript t = c.transaction(message());
    for (const auto* r : {&t.helo, &t.data, &t.headers[0], &t.eoh})
        BOOST_TEST(r->status == MilterStatus::NotSent, t.str());
    BOOST_TEST(t.body.empty());
    BOOST_TEST(t.eom.status == MilterStatus::Continue);
    const std::vector<std::string> want = {
        milter_event("connect", {"client.sendguard.test", "4", "54321", "192.0.2.10"}),
        milter_event("envfrom", {"<alice@customer-a.example>", "RET=HDRS", "ENVID=e1"}),
        milter_event("envrcpt", {"<bob@example.net>"}),
        milter_event("envrcpt", {"<carol@example.org>"}),
        milter_event("eom"),
        milter_event("close"),
    };
    std::vector<std::string> got = conversation(m);
    BOOST_TEST(got == want, "got:\n" << joined(got));
}

BOOST_AUTO_TEST_CASE(skip_ends_the_body_early) {
    TestMilter m({"-n", "skip", "-r", "body=skip"});
    MilterClient c = m.client();
    MilterTransaction tx = message();
    tx.body = std::string(200000, 'x');  // four chunks of at most 65535 bytes
    harness::MilterTranscript t = c.transaction(tx);
    BOOST_TEST_REQUIRE(t.body.size() == 1u, t.str());
    BOOST_TEST(t.body[0].status == MilterStatus::Skip);
    BOOST_TEST(t.eom.status == MilterStatus::Continue);
    conversation(m);
    BOOST_TEST(m.has_event(milter_event("body", {"65535", std::string(4096, 'x')})));
}

BOOST_AUTO_TEST_CASE(a_hundred_thousand_headers_without_replies) {
    // Far more than a socket buffer holds: the client must wait for the
    // milter to read rather than fail or spin.
    TestMilter m({"-n", "nr_hdr"});
    MilterClient c = m.client({.timeout = 10s});
    MilterTransaction tx = message();
    tx.headers.assign(100000, {"X-Filler", " 0123456789abcdef0123456789abcdef"});
    harness::MilterTranscript t = c.transaction(tx);
    BOOST_TEST(t.headers.size() == 100000u);
    BOOST_TEST(t.headers.back().status == MilterStatus::NoReply);
    BOOST_TEST(t.eom.status == MilterStatus::Continue, t.eom.str());
    std::vector<std::string> e = conversation(m);
    BOOST_TEST(std::count(e.begin(), e.end(),
                          milter_event("header", {"X-Filler", "0123456789abcdef0123456789abcdef"})) ==
               100000);
}

BOOST_AUTO_TEST_CASE(a_milter_that_never_answers_is_a_timeout) {
    TestMilter m({"-r", "envfrom=hang"});
    MilterClient c = m.client({.timeout = 300ms});
    auto start = std::chrono::steady_clock::now();
    try {
        c.transaction(message());
        BOOST_FAIL("no time-out");
    } catch (const MilterError& e) {
        BOOST_TEST((e.kind() == MilterError::Kind::Timeout), e.what());
    }
    BOOST_TEST((std::chrono::steady_clock::now() - start < 3s));
}

BOOST_AUTO_TEST_CASE(a_milter_that_closes_mid_message) {
    TestMilter m({"-r", "header=exit"});
    MilterClient c = m.client({.timeout = 5s});
    try {
        c.transaction(message());
        BOOST_FAIL("no error");
    } catch (const MilterError& e) {
        BOOST_TEST((e.kind() == MilterError::Kind::Closed), e.what());
    }
}

BOOST_AUTO_TEST_CASE(several_messages_and_connections_on_one_socket) {
    TestMilter m({});
    MilterClient c = m.client();
    MilterTransaction tx = message();
    tx.end = MilterEnd::Keep;  // second message in the same SMTP session
    BOOST_TEST(c.transaction(tx).eom.status == MilterStatus::Continue);
    harness::MilterTranscript second = c.transaction(tx);
    BOOST_TEST(second.connect.status == MilterStatus::NotSent);  // same connection
    BOOST_TEST(second.eom.status == MilterStatus::Continue);
    tx.end = MilterEnd::QuitNc;  // a new SMTP connection follows
    c.transaction(tx);
    tx.end = MilterEnd::Quit;
    harness::MilterTranscript last = c.transaction(tx);
    BOOST_TEST(last.connect.status == MilterStatus::Continue, last.str());
    BOOST_TEST(last.eom.status == MilterStatus::Continue);
    BOOST_TEST_REQUIRE(m.wait_event("close", 5s, 1));
    std::vector<std::string> e = m.events();
    BOOST_TEST(std::count(e.begin(), e.end(), milter_event("eom")) == 4);
    BOOST_TEST(std::count_if(e.begin(), e.end(),
                             [](const std::string& l) { return l.rfind("connect ", 0) == 0; }) == 2);
    BOOST_TEST(std::count(e.begin(), e.end(), "negotiate \"0x1ff\" \"0x1fffff\"") == 1);
}

BOOST_AUTO_TEST_CASE(a_milter_that_stops_accepting_is_a_timeout_at_connect) {
    TestMilter m({});
    BOOST_TEST_REQUIRE(::kill(m.process().pid(), SIGSTOP) == 0);
    std::vector<MilterClient> open;
    std::optional<MilterError> err;
    auto start = std::chrono::steady_clock::now();
    try {
        for (int i = 0; i < 2000; ++i) open.push_back(m.client({.timeout = 200ms}));
    } catch (const MilterError& e) {
        err = e;
    }
    ::kill(m.process().pid(), SIGCONT);
    BOOST_TEST_REQUIRE(err.has_value(), open.size() << " connections and no time-out");
    BOOST_TEST((err->kind() == MilterError::Kind::Timeout), err->what());
    BOOST_TEST(open.size() >= 256u);  // the test milter's listen backlog
    BOOST_TEST((std::chrono::steady_clock::now() - start < 5s));
}

BOOST_AUTO_TEST_CASE(tcp_socket) {
    uint16_t port = harness::free_tcp_port();
    TestMilter m({}, "inet:" + std::to_string(port) + "@127.0.0.1");
    MilterClient c = m.client();
    harness::MilterTranscript t = c.transaction(message());
    BOOST_TEST(t.eom.status == MilterStatus::Continue, t.str());
    BOOST_TEST(m.wait_event(milter_event("eom")));
}

BOOST_AUTO_TEST_CASE(raw_packets_for_hostile_sequences) {
    TestMilter m({});
    MilterClient c = m.client({.timeout = 300ms});
    c.negotiate();
    // End of message with no MAIL before it: libmilter ignores it, no reply.
    c.send_packet('E', {});
    try {
        c.read_response(true);
        BOOST_FAIL("libmilter answered an end of message without MAIL");
    } catch (const MilterError& e) {
        BOOST_TEST((e.kind() == MilterError::Kind::Timeout), e.what());
    }
    // A length beyond libmilter's limit makes it close the connection.
    c.send_raw(std::string("\x7f\xff\xff\xff", 4) + "L");
    BOOST_TEST(c.wait_closed(5s));
    BOOST_TEST(m.process().running());  // the milter itself lives on
    MilterClient again = m.client();
    BOOST_TEST(again.transaction(message()).eom.status == MilterStatus::Continue);
}

// The client's own checks, against a peer that says exactly what each case
// writes: what no libmilter milter would send.
BOOST_AUTO_TEST_CASE(malformed_replies_are_errors) {
    auto be32 = [](uint32_t v) {
        return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                           static_cast<char>(v >> 8), static_cast<char>(v)};
    };
    const std::string optneg = be32(6) + be32(bits::kAllActions) + be32(bits::kNrHdr);
    struct Case {
        const char* name;
        std::string reply;  // bytes the "milter" has sent
        bool negotiate;     // else a MAIL step
        MilterError::Kind want;
    };
    const Case cases[] = {
        {"flags beyond the offer", harness::milter_packet('O', optneg), true,
         MilterError::Kind::Protocol},
        {"no negotiation reply", harness::milter_packet('c', {}), true, MilterError::Kind::Protocol},
        {"short negotiation", harness::milter_packet('O', be32(6)), true,
         MilterError::Kind::Protocol},
        {"macro list without NUL", harness::milter_packet('O', optneg.substr(0, 8) + be32(0) +
                                                                  be32(2) + "i"),
         true, MilterError::Kind::Protocol},
        {"modification before end of message", harness::milter_packet('e', std::string("<a>\0", 4)),
         false, MilterError::Kind::Protocol},
        {"unknown reply", harness::milter_packet('Z', {}), false, MilterError::Kind::Protocol},
        {"zero length", be32(0), false, MilterError::Kind::Protocol},
        {"oversized packet", be32(5u << 20) + "c", false, MilterError::Kind::Protocol},
        {"closed mid-packet", be32(20) + "y550", false, MilterError::Kind::Closed},
        {"closed", "", false, MilterError::Kind::Closed},
    };
    for (const auto& k : cases) {
        BOOST_TEST_CONTEXT(k.name) {
            int sv[2];
            BOOST_TEST_REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
            sys::Fd peer(sv[1]);
            MilterClient c(sys::Fd(sv[0]), {.timeout = 2s});
            sys::write_all(peer.get(), k.reply);
            ::shutdown(peer.get(), SHUT_WR);
            try {
                if (k.negotiate)
                    c.negotiate({.version = 6, .actions = bits::kAllActions, .protocol = 0});
                else
                    c.mail("a@example.com");
                BOOST_FAIL("no error");
            } catch (const MilterError& e) {
                BOOST_TEST((e.kind() == k.want), e.what());
            }
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
