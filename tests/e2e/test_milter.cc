// test_milter.cc - sendguard-milter in a real Postfix (smtpd_milters and
// non_smtpd_milters), relaying to an smtp-sink
//
// Two hosting customers log in with SASL (alice@customer-a.example,
// bob@customer-b.example). The milter runs as the sendguard user with its
// socket group postfix, as installed; bounce_domains = bounces.* gives each
// customer domain its own bounce domain.
#include <boost/test/unit_test.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <string>
#include <vector>

#include "common/daemon/users.h"
#include "tests/support/net_wait.h"
#include "tests/support/paths.h"
#include "tests/support/postfix_harness.h"
#include "tests/support/process.h"
#include "tests/support/require.h"
#include "tests/support/smtp_sink.h"
#include "tests/support/temp_dir.h"

using namespace std::chrono_literals;

namespace {

bool contains(const std::string& s, const std::string& sub) { return s.find(sub) != std::string::npos; }

// The first n messages the sink received, once each dump is complete
// (smtp-sink writes its dump file while the transaction goes on).
std::vector<harness::SinkMessage> wait_for_dumps(const harness::SmtpSink& sink, size_t n) {
    for (auto end = std::chrono::steady_clock::now() + 15s; std::chrono::steady_clock::now() < end;) {
        if (sink.wait_for_messages(n, 1s)) {
            std::vector<harness::SinkMessage> m = sink.messages();
            bool complete = m.size() >= n;
            for (size_t i = 0; complete && i < n; ++i)
                complete = !m[i].mail_from().empty() && contains(m[i].content, "body");
            if (complete) return m;
        }
        ::usleep(50000);
    }
    return sink.messages();
}

struct Milter {
    harness::TempDir dir{"sg-e2e-milter-"};
    std::string conf = dir.sub("sendguard.conf");
    std::string sock = dir.sub("run/milter.sock");
    std::string map = dir.sub("bounce-domains");
    std::optional<harness::Process> proc;

    Milter() {
        ::chmod(dir.path().c_str(), 0755);
        dir.mkdir("run", 0755);
        dir.mkdir("lib", 0750);
        const auto uid = daemons::uid_of("sendguard").value();
        const auto gid = daemons::gid_of("sendguard").value();
        if (::chown(dir.sub("run").c_str(), uid, gid) != 0 || ::chown(dir.sub("lib").c_str(), uid, gid) != 0)
            throw std::runtime_error("chown");
        // Read again on SIGHUP, as the sendguard user: root:sendguard 0640.
        harness::write_file(dir.sub("verp.keys"), "0123456789abcdef0123456789abcdef\n", 0640);
        harness::write_file(map, "", 0644);
        if (::chown(dir.sub("verp.keys").c_str(), 0, gid) != 0) throw std::runtime_error("chown");
        write_config("");
    }
    void write_config(const std::string& extra) const {
        harness::write_file(conf,
                            "config_directory = " + dir.path() + "\nstate_directory = " + dir.sub("lib") +
                                "\nrun_directory = " + dir.sub("run") +
                                "\nbounce_domains = bounces.*, rt.mail-host.example\n"
                                "milter_bounce_domain_maps = " + map +
                                "\nmilter_local_senders = customer-a.example\n"
                                "milter_reply_check = no\n" + extra,
                            0644);
    }
    void start() {
        proc.emplace(harness::SpawnSpec{.argv = {harness::sendguard_bin("sendguard-milter"), "-f", "-v", "-c", conf}});
        BOOST_REQUIRE_MESSAGE(harness::wait_for_unix(sock, 10s), "milter did not listen: " << proc->err());
    }
    std::string err() const { return proc->err(); }
    bool wait_for_err(const std::string& what, std::chrono::milliseconds t) const {
        for (auto end = std::chrono::steady_clock::now() + t; std::chrono::steady_clock::now() < end;) {
            if (contains(proc->err(), what)) return true;
            ::usleep(50000);
        }
        return false;
    }
};

struct Site {
    harness::SmtpSink sink;
    harness::PostfixInstance pf{{.relayhost = sink.nexthop()}};
    Milter milter;

    Site() {
        pf.add_sasl_user("alice", "alice-pw", "customer-a.example");
        pf.add_sasl_user("bob", "bob-pw", "customer-b.example");
        milter.start();
        pf.add_milter("unix:" + milter.sock);
        pf.set("milter_protocol", "6");
        pf.set("milter_default_action", "tempfail");
        pf.start();
    }
    harness::SmtpTranscript send(const std::string& login, const std::string& from, const std::string& header_from,
                                 const std::string& extra_headers = "", const std::string& params = "") {
        const std::string pw = login.substr(0, login.find('@')) + "-pw";
        return pf.send({.auth_plain = std::make_pair(login, pw),
                        .mail_from = from,
                        .mail_params = params,
                        .rcpt_to = {"dest@remote.example"},
                        .data = "From: " + header_from + "\n" + extra_headers + "Subject: test\n\nbody\n"});
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(e2e_milter)

// The allowed sender is relayed with a signed VERP envelope (RET and ENVID
// kept); customer A as customer B is refused, by envelope, From and Sender.
BOOST_AUTO_TEST_CASE(customers_send_as_themselves_only) {
    harness::skip_if(harness::PostfixInstance::unavailable());
    Site site;

    auto ok = site.send("alice@customer-a.example", "news@customer-a.example", "news@customer-a.example", "",
                        "RET=HDRS ENVID=e2e-1");
    BOOST_REQUIRE_MESSAGE(ok.accepted(), ok.str() << "\nmilter: " << site.milter.err());
    const auto dumps = wait_for_dumps(site.sink, 1);
    BOOST_REQUIRE_MESSAGE(!dumps.empty(), site.pf.log_tail());
    const harness::SinkMessage m = dumps.front();
    BOOST_TEST(m.mail_from().starts_with("bounce+r"), m.mail_args);
    BOOST_TEST(m.mail_from().ends_with("@bounces.customer-a.example"), m.mail_args);
    BOOST_TEST(contains(m.mail_args, "RET=HDRS"), m.mail_args);
    BOOST_TEST(contains(m.mail_args, "ENVID=e2e-1"), m.mail_args);
    BOOST_TEST(contains(site.milter.err(), ok.queue_id() + ": milter: action=verp, stage=eom"), site.milter.err());

    const std::string text = "login alice@customer-a.example may not send as boss@customer-b.example";
    auto envelope = site.send("alice@customer-a.example", "boss@customer-b.example", "news@customer-a.example");
    BOOST_TEST(envelope.mail.str() == "550 5.7.1 " + text, envelope.str());
    auto from = site.send("alice@customer-a.example", "news@customer-a.example", "Boss <boss@customer-b.example>");
    BOOST_REQUIRE(from.data_end);
    BOOST_TEST(from.data_end->str() == "550 5.7.1 " + text, from.str());
    auto sender = site.send("alice@customer-a.example", "news@customer-a.example", "news@customer-a.example",
                            "Sender: boss@customer-b.example\n");
    BOOST_REQUIRE(sender.data_end);
    BOOST_TEST(sender.data_end->str() == "550 5.7.1 " + text, sender.str());
    // And the other way round: bob is customer B.
    auto bob = site.send("bob@customer-b.example", "bob@customer-b.example", "bob@customer-b.example");
    BOOST_TEST(bob.accepted(), bob.str());
    auto bob_as_a = site.send("bob@customer-b.example", "bob@customer-b.example", "news@customer-a.example");
    BOOST_REQUIRE(bob_as_a.data_end);
    BOOST_TEST(bob_as_a.data_end->str() ==
                   "550 5.7.1 login bob@customer-b.example may not send as news@customer-a.example",
               bob_as_a.str());
    // Unauthenticated, even from 127.0.0.1 (inside mynetworks): refused.
    auto anon = site.pf.send({.mail_from = "news@customer-a.example", .rcpt_to = {"dest@remote.example"},
                              .data = "From: news@customer-a.example\n\nbody\n"});
    BOOST_TEST(anon.mail.str() ==
                   "550 5.7.1 client 127.0.0.1 may not send as news@customer-a.example",
               anon.str());
    // Every refusal is one line with the queue id.
    BOOST_TEST(contains(site.milter.err(), "milter: action=refuse, stage=mail, client=localhost[127.0.0.1], "
                                           "login=alice@customer-a.example, from=<boss@customer-b.example>"),
               site.milter.err());
    BOOST_TEST(contains(site.milter.err(), "milter: action=refuse, stage=header"), site.milter.err());
}

// sendmail(1) mail reaches the milter through non_smtpd_milters as client
// "localhost" [127.0.0.1] port 0: no login, taken as a local submission.
BOOST_AUTO_TEST_CASE(local_submission_through_sendmail) {
    harness::skip_if(harness::PostfixInstance::unavailable());
    Site site;
    auto r = site.pf.sendmail("www-data@customer-a.example", {"dest@remote.example"},
                              "From: www-data@customer-a.example\nSubject: form\n\nbody\n");
    BOOST_REQUIRE_MESSAGE(r.ok(), r.describe());
    const auto dumps = wait_for_dumps(site.sink, 1);
    BOOST_REQUIRE_MESSAGE(!dumps.empty(), site.pf.log_tail() << "\nmilter: " << site.milter.err());
    BOOST_TEST(dumps.front().mail_from().ends_with("@bounces.customer-a.example"), dumps.front().mail_args);
    BOOST_TEST(contains(site.milter.err(), "client_port=0"), site.milter.err());
    BOOST_TEST(contains(site.milter.err(), "local=yes"), site.milter.err());
    BOOST_TEST(contains(site.milter.err(), "login=local"), site.milter.err());
}

// SIGHUP: a changed table is used by the next message, the process keeps
// running and a connection in progress keeps its rules; SIGTERM stops.
BOOST_AUTO_TEST_CASE(sighup_reloads_sigterm_stops) {
    harness::skip_if(harness::PostfixInstance::unavailable());
    Site site;
    const pid_t pid = site.milter.proc->pid();

    // A session that has passed MAIL before the reload.
    harness::SmtpClient c = site.pf.connect();
    c.ehlo("client.sendguard.test");
    BOOST_REQUIRE(c.auth_plain("alice@customer-a.example", "alice-pw").positive());
    BOOST_REQUIRE(c.mail_from("news@customer-a.example").positive());

    harness::write_file(site.milter.map, "customer-a.example rt.mail-host.example\n", 0644);
    ::kill(pid, SIGHUP);
    BOOST_REQUIRE_MESSAGE(site.milter.wait_for_err("reload=ok", 10s), site.milter.err());

    BOOST_REQUIRE(c.rcpt_to("dest@remote.example").positive());
    const harness::Reply end = c.data("From: news@customer-a.example\nSubject: before\n\nbody\n");
    BOOST_TEST(end.code == 250, end.str());
    c.quit();
    const auto first = wait_for_dumps(site.sink, 1);
    BOOST_REQUIRE_MESSAGE(!first.empty(), site.pf.log_tail());
    BOOST_TEST(first.front().mail_from().ends_with("@bounces.customer-a.example"),
               "the connection kept the rules it started with: " << first.front().mail_args);

    auto next = site.send("alice@customer-a.example", "news@customer-a.example", "news@customer-a.example");
    BOOST_REQUIRE_MESSAGE(next.accepted(), next.str());
    const auto both = wait_for_dumps(site.sink, 2);
    BOOST_REQUIRE_MESSAGE(both.size() == 2u, site.pf.log_tail());
    BOOST_TEST(both.back().mail_from().ends_with("@rt.mail-host.example"),
               "the next connection uses the new table: " << both.back().mail_args);
    BOOST_TEST(site.milter.proc->running());

    // A broken table: the reload fails, the old rules stay.
    harness::write_file(site.milter.map, "customer-a.example not-accepted.example\n", 0644);
    ::kill(pid, SIGHUP);
    BOOST_REQUIRE_MESSAGE(site.milter.wait_for_err("reload=failed", 10s), site.milter.err());
    BOOST_TEST(site.milter.proc->running());

    ::kill(pid, SIGTERM);
    const auto st = site.milter.proc->wait_for(15s);
    BOOST_REQUIRE_MESSAGE(st, "still running 15s after SIGTERM");
    BOOST_TEST(st->ok(), site.milter.err());
    BOOST_TEST(contains(site.milter.err(), "milter: stop=signal"), site.milter.err());
}

// What sendguard-milter(8) says Postfix does while the milter is down
// (milter_default_action = tempfail): a temporary refusal, never relaying
// unchecked mail.
BOOST_AUTO_TEST_CASE(postfix_tempfails_while_the_milter_is_down) {
    harness::skip_if(harness::PostfixInstance::unavailable());
    harness::SmtpSink sink;
    harness::PostfixInstance pf({.relayhost = sink.nexthop()});
    harness::TempDir dir("sg-e2e-milter-down-");
    pf.add_milter("unix:" + dir.sub("milter.sock"));
    pf.set("milter_default_action", "tempfail");
    pf.start();
    auto t = pf.send({.mail_from = "news@customer-a.example", .rcpt_to = {"dest@remote.example"},
                      .data = "From: news@customer-a.example\n\nbody\n"});
    BOOST_TEST(!t.accepted(), t.str());
    BOOST_TEST(contains(t.str(), "451 4.7.1 Service unavailable - try again later"), t.str());
}

BOOST_AUTO_TEST_SUITE_END()
