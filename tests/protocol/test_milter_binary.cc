// test_milter_binary.cc - the real sendguard-milter over its UNIX socket,
// driven by the milter-protocol client (tests/support/milter_client.h)
//
// The milter runs as root here (milter_user = root, with its warning) in a
// temporary directory; no MTA. Each case checks something Postfix relies
// on: what it negotiates, the decisions as libmilter replies, and that
// hostile sequences leave it serving the next connection.
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <optional>
#include <string>

#include "tests/support/milter_client.h"
#include "tests/support/net_wait.h"
#include "tests/support/paths.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

using namespace std::chrono_literals;
namespace mb = harness::milter_bits;

namespace {

struct Milter {
    harness::TempDir dir{"sg-proto-milter-"};
    std::string sock = dir.sub("milter.sock");
    std::optional<harness::Process> proc;

    Milter() {
        harness::write_file(dir.sub("verp.keys"), "0123456789abcdef0123456789abcdef\n", 0600);
        dir.mkdir("state", 0700);
        harness::write_file(dir.sub("sendguard.conf"),
                            "config_directory = " + dir.path() + "\nstate_directory = " + dir.sub("state") +
                                "\nmilter_listen = unix:" + sock +
                                "\nmilter_user = root\nmilter_socket_group =\nbounce_domains = bounces.*\n"
                                "milter_reply_check = no\n");
        proc.emplace(harness::SpawnSpec{
            .argv = {harness::sendguard_bin("sendguard-milter"), "-f", "-c", dir.sub("sendguard.conf")}});
        BOOST_REQUIRE_MESSAGE(harness::wait_for_unix(sock, 10s), "milter did not listen: " << proc->err());
    }
    harness::MilterClient client() const { return harness::MilterClient::open_unix(sock); }
    harness::MilterTranscript send(const std::string& login, const std::string& from) const {
        harness::MilterClient c = client();
        return c.transaction({.macros = {.mail = {{"i", "4XkQ1"}, {"{auth_authen}", login}},
                                         .rcpt = {{"{rcpt_mailer}", "smtp"}},
                                         .eom = {{"i", "4XkQ1"}}},
                              .mail_from = from,
                              .esmtp_args = {"RET=HDRS", "SIZE=100"},
                              .rcpts = {"bob@remote.example"},
                              .headers = {{"From", " " + from}},
                              .body = "hi\n"});
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(protocol_milter_binary)

BOOST_AUTO_TEST_CASE(negotiates_only_what_it_needs) {
    Milter m;
    harness::MilterClient c = m.client();
    const harness::MilterNegotiated& n = c.negotiate();
    BOOST_TEST(n.actions == (mb::kChgFrom | mb::kSetSymList));
    for (uint32_t bit : {mb::kNoHelo, mb::kNoBody, mb::kNoUnknown, mb::kNoData, mb::kNrConn, mb::kNrHdr, mb::kNrEoh})
        BOOST_TEST(n.has(bit), "protocol bit " << bit << " not negotiated");
    BOOST_TEST(!n.has(mb::kNoMail));
    BOOST_TEST(!n.has(mb::kNoRcpt));
    BOOST_TEST(!n.has(mb::kNoEoh));
    const auto& mail = n.macros[static_cast<size_t>(harness::MilterStage::Mail)];
    BOOST_REQUIRE(mail);
    BOOST_TEST((*mail == std::vector<std::string>{"i", "{auth_authen}"}));
    const auto& rcpt = n.macros[static_cast<size_t>(harness::MilterStage::Rcpt)];
    BOOST_REQUIRE(rcpt);
    BOOST_TEST((*rcpt == std::vector<std::string>{"{rcpt_mailer}"}));
}

BOOST_AUTO_TEST_CASE(decisions_as_replies) {
    Milter m;
    const harness::MilterTranscript ok = m.send("alice@customer-a.example", "news@customer-a.example");
    BOOST_TEST(ok.eom.status == harness::MilterStatus::Continue, ok.str());
    BOOST_REQUIRE_MESSAGE(ok.change_from(), ok.str());
    BOOST_TEST(ok.change_from()->sender.ends_with("@bounces.customer-a.example>"), ok.str());
    BOOST_TEST(ok.change_from()->args.value_or("") == "RET=HDRS", ok.str());

    const harness::MilterTranscript no = m.send("alice@customer-a.example", "boss@customer-b.example");
    BOOST_TEST(no.mail.text == "550 5.7.1 login alice@customer-a.example may not send as boss@customer-b.example",
               no.str());
}

// EOM without MAIL, 10^5 headers, a 1 MiB header packet, ABORT
// mid-message, a connection dropped mid-message: each leaves the milter
// serving.
BOOST_AUTO_TEST_CASE(hostile_sequences_leave_it_serving) {
    Milter m;
    {
        // libmilter answers nothing to an end of message without MAIL (as
        // the client's own tests record): no reply, no change, no crash.
        harness::MilterClient c = m.client();
        c.negotiate();
        c.connect({});
        c.set_timeout(1s);
        try {
            const harness::MilterResponse r = c.eom();
            BOOST_TEST(r.mods.empty(), r.str());
        } catch (const harness::MilterError& e) {
            BOOST_TEST((e.kind() == harness::MilterError::Kind::Timeout), e.what());
        }
    }
    {
        harness::MilterClient c = m.client();
        c.negotiate();
        c.connect({});
        c.mail("x@customer-a.example", {}, {{"{auth_authen}", "alice@customer-a.example"}});
        c.rcpt("bob@remote.example");
        for (int i = 0; i < 100000; ++i) c.header(i % 2 ? "From" : "X-Junk", " x@customer-a.example");
        BOOST_TEST(c.eoh().status == harness::MilterStatus::NoReply);  // SMFIP_NR_EOH
        const harness::MilterResponse r = c.eom();
        BOOST_TEST(r.text == "550 5.6.0 message has 50000 From: header fields", r.str());
    }
    {
        // Over the packet limit (256 KiB, milter/service.h): libmilter drops the
        // connection (the MTA applies milter_default_action), the milter goes on.
        harness::MilterClient c = m.client();
        c.negotiate();
        c.connect({});
        c.mail("x@customer-a.example", {}, {{"{auth_authen}", "alice@customer-a.example"}});
        try {
            c.header("From", " " + std::string(1 << 20, 'a'));
            (void)c.eoh();  // no reply (SMFIP_NR_EOH): the end of message waits for one
            (void)c.eom();
            BOOST_FAIL("a 1 MiB header packet was taken");
        } catch (const harness::MilterError& e) {
            // Closed, or a write into the closed connection.
            BOOST_TEST((e.kind() == harness::MilterError::Kind::Closed || e.kind() == harness::MilterError::Kind::Io),
                       e.what());
        }
    }
    {
        harness::MilterClient c = m.client();
        c.negotiate();
        c.connect({});
        c.mail("x@customer-a.example", {}, {{"{auth_authen}", "alice@customer-a.example"}});
        c.header("From", " x@customer-a.example");
        c.abort();
        c.mail("x@customer-a.example", {}, {{"{auth_authen}", "alice@customer-a.example"}});
        c.header("Subject", " half");
    }  // closed mid-message
    const harness::MilterTranscript after = m.send("alice@customer-a.example", "news@customer-a.example");
    BOOST_TEST(after.eom.status == harness::MilterStatus::Continue, after.str());
    BOOST_TEST(m.proc->running(), m.proc->err());
}

BOOST_AUTO_TEST_SUITE_END()
