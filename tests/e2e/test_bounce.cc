// test_bounce.cc - the bounce pipeline against a real Postfix
//
// A message with a VERP-signed sender goes through a throw-away Postfix to
// an smtp-sink that answers 550; Postfix's own DSN comes back to the bounce
// domain, goes through the pipe(8) transport running sendguard-bounce, and
// the recipient ends up suppressed. With sendguard-policyd hooked into
// check_recipient_access, the next message to that recipient is refused at
// RCPT. A second case kills sendguard-bounce processes at random during
// 2,000 deliveries: every delivery Postfix logged as done is in the store.
#include <boost/test/unit_test.hpp>

#include <signal.h>
#include <sys/stat.h>

#include <filesystem>
#include <random>
#include <set>
#include <thread>

#include "common/address/verp.h"
#include "common/address/verp_setup.h"
#include "common/store/setup.h"
#include "common/store/suppression.h"
#include "tests/support/net_wait.h"
#include "tests/support/paths.h"
#include "tests/support/postfix_harness.h"
#include "tests/support/smtp_sink.h"
#include "tests/support/temp_dir.h"

using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

const char* const kBounceDomain = "bounces.sendguard.test";
const char* const kKey = "e2e-key-0123456789abcdef0123456789";

// Everything sendguard needs, in a directory the pipe user (nobody) can
// reach: binaries are copied in, because the build tree may sit below a
// directory nobody cannot enter (pipe(8) would defer with EACCES).
struct Sendguard {
    harness::TempDir dir{"sg-e2e-"};
    std::string conf = dir.sub("sendguard.conf");
    std::string bounce = dir.sub("sendguard-bounce");
    std::string policyd_sock = dir.sub("run/socketmap.sock");

    Sendguard() {
        ::chmod(dir.path().c_str(), 0755);
        dir.mkdir("run", 0755);
        dir.mkdir("lib", 0750);
        fs::copy_file(harness::sendguard_bin("sendguard-bounce"), bounce);
        ::chmod(bounce.c_str(), 0755);
        harness::write_file(dir.sub("verp.keys"), std::string(kKey) + "\n", 0600);
        harness::write_file(conf, "state_directory = " + dir.sub("lib") + "\n"
                                  "run_directory = " + dir.sub("run") + "\n"
                                  "verp_key_file = " + dir.sub("verp.keys") + "\n"
                                  "bounce_domains = " + kBounceDomain + "\n"
                                  "policyd_user = root\n", 0644);
        harness::chown_to(dir.sub("lib"), "nobody");
        harness::chown_to(dir.sub("verp.keys"), "nobody");
    }
    std::string verp(const std::string& rcpt) const {
        const address::VerpConfig vc = address::verp_config(config::Config::defaults(), kBounceDomain);
        address::VerpCodec c(vc, address::VerpKeys::from_strings({kKey}));
        return c.encode(*address::parse_mailbox(rcpt), {})->address;
    }
    void hook_into(harness::PostfixInstance& pf, const std::string& maxproc = "-") const {
        harness::PipeTransport t;
        t.name = "sendguard";
        t.user = "nobody";
        t.flags = "DRq";
        t.attributes = {"null_sender="};
        t.maxproc = maxproc;
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

}  // namespace

BOOST_AUTO_TEST_SUITE(e2e_bounce)

BOOST_AUTO_TEST_CASE(hard_bounce_is_suppressed_then_refused_at_rcpt) {
    harness::skip_if(harness::PostfixInstance::unavailable());
    Sendguard sg;
    harness::SmtpSink sink({.mode = harness::SinkMode::HardFail});
    harness::PostfixInstance pf({.relayhost = sink.nexthop()});
    sg.hook_into(pf);
    pf.start();

    // 1. The remote side answers 550; Postfix bounces to our VERP sender.
    auto t = pf.send({.mail_from = sg.verp("bob@example.net"),
                      .rcpt_to = {"bob@example.net"},
                      .data = "From: news@example.org\nTo: bob@example.net\nSubject: news\n\nHello\n"});
    BOOST_REQUIRE_MESSAGE(t.accepted(), t.str());
    auto d = pf.wait_for_delivery(t.queue_id(), 30s);
    BOOST_REQUIRE_MESSAGE(d, "no delivery line; log:\n" << pf.log_tail());
    BOOST_TEST(d->status == "bounced", d->line);

    // 2. Postfix's DSN goes through the pipe transport and is stored.
    auto dsn = pf.wait_for_notification(t.queue_id(), 30s);
    BOOST_REQUIRE_MESSAGE(dsn, "no DSN; log:\n" << pf.log_tail());
    auto dd = pf.wait_for_delivery(*dsn, 60s);
    BOOST_REQUIRE_MESSAGE(dd, "DSN not delivered; log:\n" << pf.log_tail());
    BOOST_TEST(dd->status == "sent", dd->line);
    BOOST_TEST(dd->relay == "sendguard", dd->line);
    auto c = sg.cli({"suppress", "check", "--json", "bob@example.net"});
    BOOST_TEST(c.status.code == 0, c.describe());
    BOOST_TEST(c.out.find("\"class\":\"hard\"") != std::string::npos, c.out);
    BOOST_TEST(c.out.find("\"status\":\"5.1.1\"") != std::string::npos, c.out);
    BOOST_TEST(c.out.find("\"evidence\":\"" + *dsn + "\"") != std::string::npos, c.out);

    // 3. The socketmap refuses the suppressed recipient at RCPT, not others.
    harness::Process policyd({.argv = {harness::sendguard_bin("sendguard-policyd"), "-c", sg.conf}});
    BOOST_REQUIRE_MESSAGE(harness::wait_for_unix(sg.policyd_sock, 10s), "policyd: " << policyd.err());
    pf.set("smtpd_recipient_restrictions",
           "check_recipient_access socketmap:unix:" + sg.policyd_sock + ":suppress, "
           "permit_mynetworks, reject_unauth_destination");
    sink.set_mode(harness::SinkMode::Accept);
    auto t2 = pf.send({.mail_from = sg.verp("bob@example.net"),
                       .rcpt_to = {"bob@example.net", "alice@example.net"},
                       .data = "Subject: again\n\nHello again\n"});
    BOOST_REQUIRE_EQUAL(t2.rcpt.size(), 2u);
    // policyd_suppressed_reply's numeric form reaches the client as written,
    // after smtpd's prefix (the line README and sendguard-policyd(8) show).
    BOOST_TEST(t2.rcpt[0].str() == "550 5.1.1 <bob@example.net>: Recipient address rejected: "
                                   "Recipient address is on the sendguard suppression list",
               t2.str());
    BOOST_TEST(t2.rcpt[1].code == 250, t2.str());
    BOOST_TEST(t2.accepted(), t2.str());
    policyd.stop(10000ms);
}

BOOST_AUTO_TEST_CASE(killed_transports_lose_nothing) {
    harness::skip_if(harness::PostfixInstance::unavailable());
    Sendguard sg;
    harness::PostfixInstance pf;
    sg.hook_into(pf, "10");
    pf.set("sendguard_destination_concurrency_limit", "10");
    pf.start();

    constexpr int kMessages = 2000;
    std::atomic<bool> stop{false};
    std::atomic<int> kills{0};
    // The killer: SIGKILL a random running sendguard-bounce now and then.
    std::thread killer([&] {
        std::mt19937 rng(12345);
        while (!stop) {
            std::vector<pid_t> pids;
            for (auto& e : fs::directory_iterator("/proc")) {
                std::string name = e.path().filename();
                if (name.find_first_not_of("0123456789") != std::string::npos) continue;
                std::error_code ec;
                auto target = fs::read_symlink(e.path() / "exe", ec);
                if (!ec && target.string() == sg.bounce) pids.push_back(std::stoi(name));
            }
            if (!pids.empty()) {
                ::kill(pids[rng() % pids.size()], SIGKILL);
                ++kills;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(5 + rng() % 40));
        }
    });

    auto smtp = pf.connect();
    smtp.ehlo("client.sendguard.test");
    for (int i = 0; i < kMessages; ++i) {
        std::string rcpt = "user" + std::to_string(i) + "@example.net";
        std::string msg = "From: MAILER-DAEMON@mx.example.net\nTo: bounce@" + std::string(kBounceDomain) +
                          "\nSubject: Undelivered Mail\nMIME-Version: 1.0\n"
                          "Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\n\n"
                          "--b\nContent-Type: text/plain\n\nFailed.\n\n--b\n"
                          "Content-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.net\n\n"
                          "Final-Recipient: rfc822; " + rcpt + "\nAction: failed\nStatus: 5.1.1\n"
                          "Diagnostic-Code: smtp; 550 5.1.1 User unknown\n\n--b--\n";
        BOOST_REQUIRE(smtp.mail_from("").code == 250);
        auto r = smtp.rcpt_to(sg.verp(rcpt));
        BOOST_REQUIRE_MESSAGE(r.code == 250, r.str());
        auto e = smtp.data(msg);
        BOOST_REQUIRE_MESSAGE(e.code == 250, e.str());
    }
    smtp.quit();
    // Keep killing for a while, then let the queue drain.
    bool drained = pf.wait_queue_empty(20s);
    stop = true;
    killer.join();
    if (!drained) {
        pf.flush();
        drained = pf.wait_queue_empty(240s);
    }
    BOOST_REQUIRE_MESSAGE(drained, "queue did not drain; log:\n" << pf.log_tail());

    std::set<std::string> delivered;
    size_t deferred = 0;
    for (const auto& d : pf.deliveries()) {
        if (d.relay != "sendguard") continue;
        if (d.status == "sent") delivered.insert(d.to);
        else if (d.status == "deferred") ++deferred;
        else BOOST_ERROR("unexpected delivery status: " << d.line);
    }
    BOOST_TEST_MESSAGE("crash test: " << kMessages << " messages, " << kills.load() << " kills, "
                       << deferred << " deferred and retried, " << delivered.size() << " delivered");
    BOOST_TEST(delivered.size() == static_cast<size_t>(kMessages));
    BOOST_TEST(kills.load() > 0);

    auto env = store::open_suppression_store(config::Config::parse("", "test", {"state_directory=" + sg.dir.sub("lib")}));
    store::SuppressionList list(env);
    const address::VerpConfig vc = address::verp_config(config::Config::defaults(), kBounceDomain);
    address::VerpCodec codec(vc, address::VerpKeys::from_strings({kKey}));
    size_t missing = 0;
    for (const auto& to : delivered) {
        auto dec = codec.decode(to);
        BOOST_REQUIRE(dec.status == address::VerpStatus::Ok);
        if (!list.check(dec.recipient.normalised(), std::time(nullptr))) ++missing;
    }
    BOOST_TEST(missing == 0u, missing << " deliveries Postfix counted as done are not in the store");
}

BOOST_AUTO_TEST_SUITE_END()
