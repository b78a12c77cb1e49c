// test_harness.cc - self-test of the e2e harness (tests/support/)
//
// Proves the pieces later e2e tests stand on, against the real Debian
// Postfix: relay to an accepting smtp-sink (and sendmail injection), a hard
// failure that bounces into a capture pipe transport, a soft failure that
// defers and then delivers after the sink is switched, SASL AUTH PLAIN
// against sasldb, bulk load with smtp-source, teardown after a killed
// master, and hermetic DNS (dnsmasq in a network namespace) with Postfix
// delivering by MX.  Parser helpers are checked first with tables.
//
// Skips (exit 77) without Postfix or without network namespaces, except
// under CI=true, where that is a failure.
#include "tests/support/dns_harness.h"
#include "tests/support/net_wait.h"
#include "tests/support/netns.h"
#include "tests/support/postfix_harness.h"
#include "tests/support/smtp_sink.h"

#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>
#include <atomic>
#include <csignal>
#include <filesystem>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

using namespace std::chrono_literals;
namespace h = harness;

namespace {

const std::string kSender = "alice@sender.sendguard.test";
const std::string kRcpt = "bob@example.net";

std::string message(const std::string& subject) {
    return "From: <" + kSender + ">\nTo: <" + kRcpt + ">\nSubject: " + subject +
           "\nMessage-ID: <" + subject + "@sender.sendguard.test>\n\nhello\n.leading dot\n";
}

void require_postfix() { h::skip_if(h::PostfixInstance::unavailable()); }

bool contains(const std::string& hay, const std::string& needle) {
    return hay.find(needle) != std::string::npos;
}

// A tiny Postfix policy service (SMTPD_POLICY_README) on 127.0.0.1: rejects
// recipients starting with "blocked@", DUNNO otherwise.  Just enough to
// prove the add_policy_service() hook; the real one is policyd.
class TinyPolicy {
public:
    TinyPolicy() {
        fd_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        sockaddr_in sa{};
        sa.sin_family = AF_INET;
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof sa;
        if (::bind(fd_.get(), reinterpret_cast<sockaddr*>(&sa), len) < 0 ||
            ::listen(fd_.get(), 16) < 0 ||
            ::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&sa), &len) < 0)
            throw std::runtime_error("TinyPolicy: cannot listen");
        port_ = ntohs(sa.sin_port);
        thread_ = std::thread([this] { serve(); });
    }
    ~TinyPolicy() {
        stop_ = true;
        thread_.join();
    }
    std::string endpoint() const { return "inet:127.0.0.1:" + std::to_string(port_); }
    int requests() const { return requests_; }

private:
    void serve() {
        std::vector<pollfd> fds{{fd_.get(), POLLIN, 0}};
        std::vector<std::string> bufs{""};
        while (!stop_) {
            if (::poll(fds.data(), fds.size(), 50) <= 0) continue;
            for (size_t i = 0; i < fds.size(); ++i) {
                if (!(fds[i].revents & (POLLIN | POLLHUP))) continue;
                if (i == 0) {
                    int c = ::accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC);
                    if (c >= 0) fds.push_back({c, POLLIN, 0}), bufs.emplace_back();
                    continue;
                }
                char tmp[4096];
                ssize_t n = ::read(fds[i].fd, tmp, sizeof tmp);
                if (n <= 0) {
                    ::close(fds[i].fd);
                    fds[i].fd = -1;  // poll ignores negative fds
                    continue;
                }
                bufs[i].append(tmp, static_cast<size_t>(n));
                for (size_t end; (end = bufs[i].find("\n\n")) != std::string::npos;) {
                    std::string req = bufs[i].substr(0, end + 1);
                    bufs[i].erase(0, end + 2);
                    ++requests_;
                    bool block = req.find("\nrecipient=blocked@") != std::string::npos;
                    std::string reply = block ? "action=REJECT 5.7.1 blocked by test policy\n\n"
                                              : "action=DUNNO\n\n";
                    if (::write(fds[i].fd, reply.data(), reply.size()) < 0) break;
                }
            }
        }
        for (size_t i = 1; i < fds.size(); ++i)
            if (fds[i].fd >= 0) ::close(fds[i].fd);
    }

    sys::Fd fd_;
    uint16_t port_ = 0;
    std::atomic<bool> stop_{false};
    std::atomic<int> requests_{0};
    std::thread thread_;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(harness_parsers)

BOOST_AUTO_TEST_CASE(parse_delivery_lines) {
    struct Case {
        std::string line;
        bool ok;
        std::string qid, to, relay, dsn, status, detail;
    };
    const Case cases[] = {
        {"Nov 23 11:44:22 mx postfix/smtp[7065]: CF2F5A721B3: to=<b@example.net>, "
         "relay=127.0.0.2[127.0.0.2]:27125, delay=0.01, delays=0.01/0/0/0, dsn=2.0.0, "
         "status=sent (250 2.0.0 Ok)",
         true, "CF2F5A721B3", "b@example.net", "127.0.0.2[127.0.0.2]:27125", "2.0.0", "sent",
         "250 2.0.0 Ok"},
        {"Nov 23 11:44:22 mx postfix/smtp[1]: 4XkQ2m1Zz9z: to=<c@x.test>, orig_to=<o@x.test>, "
         "relay=none, delay=1, delays=1/0/0/0, dsn=4.4.1, status=deferred (connect to "
         "x[1.2.3.4]:25: Connection refused)",
         true, "4XkQ2m1Zz9z", "c@x.test", "none", "4.4.1", "deferred",
         "connect to x[1.2.3.4]:25: Connection refused"},
        {"Nov 23 11:44:22 mx postfix/qmgr[7010]: CF2F5A721B3: removed", false, "", "", "", "", "",
         ""},
        {"garbage", false, "", "", "", "", "", ""},
    };
    for (const auto& c : cases) {
        auto d = h::parse_delivery(c.line);
        BOOST_TEST(d.has_value() == c.ok, "line: " << c.line << ": got parsed=" << d.has_value()
                                                   << ", want " << c.ok);
        if (!d || !c.ok) continue;
        BOOST_TEST(d->queue_id == c.qid, "got qid " << d->queue_id << ", want " << c.qid);
        BOOST_TEST(d->to == c.to, "got to " << d->to << ", want " << c.to);
        BOOST_TEST(d->relay == c.relay, "got relay " << d->relay << ", want " << c.relay);
        BOOST_TEST(d->dsn == c.dsn, "got dsn " << d->dsn << ", want " << c.dsn);
        BOOST_TEST(d->status == c.status, "got status " << d->status << ", want " << c.status);
        BOOST_TEST(d->detail == c.detail, "got detail " << d->detail << ", want " << c.detail);
    }
}

BOOST_AUTO_TEST_CASE(parse_postqueue_json_lines) {
    const std::string text =
        R"({"queue_name": "deferred", "queue_id": "ABC123", "arrival_time": 17, )"
        R"("message_size": 301, "forced_expire": false, "sender": "a@x.test", )"
        R"("recipients": [{"address": "b@y.test", "delay_reason": "host said: \"450\" try\u0021"}]})"
        "\n{broken\n";
    auto q = h::parse_postqueue_json(text);
    BOOST_TEST_REQUIRE(q.size() == 2u, "got " << q.size() << " entries, want 2");
    BOOST_TEST(q[0].queue_id == "ABC123");
    BOOST_TEST(q[0].queue_name == "deferred");
    BOOST_TEST(q[0].message_size == 301);
    BOOST_TEST_REQUIRE(q[0].recipients.size() == 1u);
    BOOST_TEST(q[0].recipients[0].address == "b@y.test");
    BOOST_TEST(q[0].recipients[0].delay_reason == "host said: \"450\" try!",
               "got " << q[0].recipients[0].delay_reason);
    BOOST_TEST(q[1].queue_id.empty());
    BOOST_TEST(!q[1].parse_error.empty());
}

BOOST_AUTO_TEST_CASE(sink_dump_and_smtp_encoding) {
    const std::string dump =
        "X-Client-Addr: 127.0.0.1\nX-Client-Proto: ESMTP\nX-Helo-Args: mx.sendguard.test\n"
        "X-Mail-Args: <> SIZE=12\nX-Rcpt-Args: <a@x.test> ORCPT=rfc822;a@x.test\n"
        "X-Rcpt-Args: <b@x.test>\nReceived: from mx ([127.0.0.1])\n\tby smtp-sink;\n\tdate\n"
        "Subject: hi\n there\nFrom: x\n\nbody\n\n";
    h::SinkMessage m = h::parse_sink_dump(dump);
    BOOST_TEST(m.mail_from() == "", "got " << m.mail_from());
    BOOST_TEST((m.rcpt_to() == std::vector<std::string>{"a@x.test", "b@x.test"}));
    BOOST_TEST(m.header("subject") == "hi there", "got " << m.header("subject"));
    BOOST_TEST(m.content == "Subject: hi\n there\nFrom: x\n\nbody\n", "got " << m.content);

    struct Case {
        std::string in, want;
    };
    const Case b64[] = {{"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"},
                        {std::string("\0u\0p", 4), "AHUAcA=="}};
    for (const auto& c : b64)
        BOOST_TEST(h::base64(c.in) == c.want, "got " << h::base64(c.in) << ", want " << c.want);
    const Case data[] = {{"a\n.b\nc", "a\r\n..b\r\nc\r\n.\r\n"},
                         {"x\r\n", "x\r\n.\r\n"},
                         {".", "..\r\n.\r\n"}};
    for (const auto& c : data)
        BOOST_TEST(h::smtp_data_block(c.in) == c.want, "input " << c.in);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(harness_postfix)

BOOST_AUTO_TEST_CASE(relay_to_accepting_sink) {
    require_postfix();
    h::SmtpSink sink;
    h::PostfixInstance pf({.relayhost = sink.nexthop()});
    pf.start();

    h::SmtpTranscript t = pf.send({.mail_from = kSender, .rcpt_to = {kRcpt},
                                   .data = message("relay-test")});
    BOOST_TEST_REQUIRE(t.accepted(), t.str());
    std::string qid = t.queue_id();
    BOOST_TEST_REQUIRE(!qid.empty(), t.str());
    auto d = pf.wait_for_delivery(qid, 20s);
    BOOST_TEST_REQUIRE(d.has_value(), "no delivery line for " << qid << "\n" << pf.log_tail());
    BOOST_TEST(d->status == "sent", d->line);
    BOOST_TEST(contains(d->relay, "127.0.0.2"), d->line);

    BOOST_TEST_REQUIRE(sink.wait_for_messages(1, 5s));
    auto msgs = sink.messages();
    BOOST_TEST_REQUIRE(msgs.size() == 1u);
    BOOST_TEST(msgs[0].mail_from() == kSender, "got " << msgs[0].mail_args);
    BOOST_TEST((msgs[0].rcpt_to() == std::vector<std::string>{kRcpt}));
    BOOST_TEST(msgs[0].header("Subject") == "relay-test");
    BOOST_TEST(contains(msgs[0].content, "\n.leading dot\n"), msgs[0].content);

    // sendmail(1) injection goes through postdrop and pickup.
    size_t mark = pf.log_mark();
    h::RunResult r = pf.sendmail(kSender, {"carol@example.net"}, message("sendmail-test"));
    BOOST_TEST_REQUIRE(r.ok(), r.describe());
    auto sent = pf.wait_for_log(
        [](std::string_view l) {
            auto dl = h::parse_delivery(l);
            return dl && dl->to == "carol@example.net" && dl->status == "sent";
        },
        20s, mark);
    BOOST_TEST(sent.has_value(), pf.log_tail());
    BOOST_TEST(sink.wait_for_messages(2, 5s));
    BOOST_TEST(pf.wait_queue_empty(10s));
}

BOOST_AUTO_TEST_CASE(hard_failure_bounces_to_sender) {
    require_postfix();
    h::SmtpSink sink({.mode = h::SinkMode::HardFail});
    h::PostfixInstance pf({.relayhost = sink.nexthop()});
    pf.add_capture_transport("dsncatch");  // the sender's domain receives the DSN here
    pf.add_transport("sender.sendguard.test", "dsncatch:");
    pf.start();

    auto t = pf.send({.mail_from = kSender, .rcpt_to = {kRcpt}, .data = message("bounce-test")});
    BOOST_TEST_REQUIRE(t.accepted(), t.str());
    auto d = pf.wait_for_delivery(t.queue_id(), 20s);
    BOOST_TEST_REQUIRE(d.has_value(), pf.log_tail());
    BOOST_TEST(d->status == "bounced", d->line);
    BOOST_TEST(d->dsn == "5.1.1", d->line);
    BOOST_TEST(contains(d->detail, "550 5.1.1"), d->line);

    auto dsn_id = pf.wait_for_notification(t.queue_id(), 10s);
    BOOST_TEST_REQUIRE(dsn_id.has_value(), pf.log_tail());
    auto dd = pf.wait_for_delivery(*dsn_id, 20s, kSender);
    BOOST_TEST_REQUIRE(dd.has_value(), pf.log_tail());
    BOOST_TEST(dd->status == "sent", dd->line);
    BOOST_TEST(contains(dd->relay, "dsncatch"), dd->line);

    auto caught = pf.captured("dsncatch");
    BOOST_TEST_REQUIRE(caught.size() == 1u, "got " << caught.size() << " captured messages");
    BOOST_TEST(caught[0].sender == "", "got sender <" << caught[0].sender << ">, want <>");
    BOOST_TEST((caught[0].recipients == std::vector<std::string>{kSender}));
    BOOST_TEST(contains(caught[0].content, "report-type=delivery-status"), caught[0].content);
    BOOST_TEST(contains(caught[0].content, "Final-Recipient: rfc822; " + kRcpt));
    BOOST_TEST(contains(caught[0].content, "Status: 5.1.1"));
}

BOOST_AUTO_TEST_CASE(soft_failure_defers_until_sink_accepts) {
    require_postfix();
    h::SmtpSink sink({.mode = h::SinkMode::TempFail});
    h::PostfixInstance pf({.relayhost = sink.nexthop()});
    pf.start();

    auto t = pf.send({.mail_from = kSender, .rcpt_to = {kRcpt}, .data = message("defer-test")});
    BOOST_TEST_REQUIRE(t.accepted(), t.str());
    auto d = pf.wait_for_delivery(t.queue_id(), 20s);
    BOOST_TEST_REQUIRE(d.has_value(), pf.log_tail());
    BOOST_TEST(d->status == "deferred", d->line);
    BOOST_TEST(d->dsn == "4.2.0", d->line);
    auto q = pf.queue();
    BOOST_TEST_REQUIRE(q.size() == 1u, "got " << q.size() << " queued messages, want 1");
    BOOST_TEST(q[0].queue_id == t.queue_id());
    BOOST_TEST_REQUIRE(q[0].recipients.size() == 1u);
    BOOST_TEST(q[0].recipients[0].address == kRcpt);

    size_t mark = pf.log_mark();
    sink.set_mode(h::SinkMode::Accept);
    pf.flush();
    auto s = pf.wait_for_log(
        [&](std::string_view l) {
            auto dl = h::parse_delivery(l);
            return dl && dl->queue_id == t.queue_id() && dl->status == "sent";
        },
        20s, mark);
    BOOST_TEST(s.has_value(), pf.log_tail());
    BOOST_TEST(pf.wait_queue_empty(10s));
    BOOST_TEST(sink.messages().size() == 1u);
}

BOOST_AUTO_TEST_CASE(sasl_auth_plain) {
    require_postfix();
    h::PostfixInstance pf;
    pf.enable_sasl("sendguard.test");
    pf.add_sasl_user("alice", "s3cret pass");
    pf.add_transport("example.net", "discard:");  // no relayhost: route the test recipient
    pf.start();

    struct Case {
        std::string user, password;
        int want;
    };
    const Case cases[] = {{"alice", "s3cret pass", 235},
                          {"alice", "wrong", 535},
                          {"mallory", "s3cret pass", 535}};
    for (const auto& c : cases) {
        h::SmtpClient cl = pf.connect();
        h::Reply e = cl.ehlo("client.sendguard.test");
        BOOST_TEST_REQUIRE(e.code == 250, e.text());
        BOOST_TEST(cl.has_extension("AUTH"), e.text());
        h::Reply r = cl.auth_plain(c.user, c.password);
        BOOST_TEST(r.code == c.want,
                   c.user << "/" << c.password << ": got " << r.str() << ", want " << c.want);
        if (r.code == 235) {  // smtpd logs the SASL user once a queue file exists
            BOOST_TEST(cl.mail_from(kSender).code == 250);
            BOOST_TEST(cl.rcpt_to(kRcpt).code == 250);
        }
        cl.quit();
    }
    // smtpd_sasl_local_domain appends the realm to the login name.
    BOOST_TEST(pf.wait_for_log("sasl_method=PLAIN, sasl_username=alice@sendguard.test", 5s)
                   .has_value(),
               pf.log_tail());
    BOOST_TEST(pf.wait_for_log("authentication failed: authentication failure, "
                               "sasl_username=mallory@sendguard.test",
                               5s)
                   .has_value(),
               pf.log_tail());
}

BOOST_AUTO_TEST_CASE(policy_service_added_while_running) {
    require_postfix();
    h::PostfixInstance pf;
    pf.add_transport("example.net", "discard:");
    pf.start();
    TinyPolicy policy;
    pf.add_policy_service(policy.endpoint());  // rewrites main.cf and reloads
    BOOST_TEST(contains(pf.postconf({"-h", "smtpd_recipient_restrictions"}).out,
                        "check_policy_service " + policy.endpoint()));

    struct Case {
        std::string rcpt;
        int want;
    };
    const Case cases[] = {{"ok@example.net", 250}, {"blocked@example.net", 554}};
    for (const auto& c : cases) {
        auto t = pf.send({.mail_from = kSender, .rcpt_to = {c.rcpt}, .data = message("policy")});
        BOOST_TEST_REQUIRE(t.rcpt.size() == 1u, t.str());
        BOOST_TEST(t.rcpt[0].code == c.want,
                   c.rcpt << ": got " << t.rcpt[0].str() << ", want " << c.want);
    }
    BOOST_TEST(contains(pf.send({.mail_from = kSender, .rcpt_to = {"blocked@example.net"}})
                            .rcpt.at(0)
                            .str(),
                        "blocked by test policy"));
    BOOST_TEST(policy.requests() >= 3, "got " << policy.requests() << " policy requests");
}

BOOST_AUTO_TEST_CASE(unreachable_milter_applies_default_action) {
    require_postfix();
    h::PostfixInstance pf;
    pf.add_transport("example.net", "discard:");
    pf.add_milter("inet:127.0.0.1:" + std::to_string(h::free_tcp_port()));  // nobody listens
    pf.set("milter_default_action", "tempfail");
    pf.start();
    auto t = pf.send({.mail_from = kSender, .rcpt_to = {kRcpt}, .data = message("milter")});
    BOOST_TEST(!t.accepted(), t.str());
    BOOST_TEST(t.mail.code == 451, "MAIL: got " << t.mail.str() << ", want 451\n" << t.str());
}

BOOST_AUTO_TEST_CASE(pipe_transport_path_must_be_reachable) {
    require_postfix();
    h::TempDir tmp("sg-pipecheck-");
    std::string closed = tmp.mkdir("closed", 0700), open = tmp.mkdir("open", 0755);
    h::write_file(closed + "/prog", "#!/bin/sh\nexit 0\n", 0755);
    h::write_file(open + "/prog", "#!/bin/sh\nexit 0\n", 0755);
    h::write_file(open + "/noexec", "#!/bin/sh\nexit 0\n", 0644);
    struct Case {
        std::string argv0;
        bool ok;
    };
    const Case cases[] = {{open + "/prog", true},
                          {closed + "/prog", false},
                          {open + "/noexec", false},
                          {open + "/missing", false}};
    h::PostfixInstance pf;
    int n = 0;
    for (const auto& c : cases) {
        bool ok = true;
        try {
            pf.add_pipe_transport({.name = "p" + std::to_string(n++), .argv = {c.argv0}});
        } catch (const std::invalid_argument&) {
            ok = false;
        }
        BOOST_TEST(ok == c.ok, c.argv0 << ": got accepted=" << ok << ", want " << c.ok);
    }
}

BOOST_AUTO_TEST_CASE(bulk_load_with_smtp_source) {
    require_postfix();
    h::SmtpSink sink({.dump = false});
    h::PostfixInstance pf({.relayhost = sink.nexthop()});
    pf.start();
    const int n = 300;
    h::RunResult r = h::run_smtp_source({.port = pf.smtpd_port(), .messages = n, .sessions = 5,
                                         .size = 512});
    BOOST_TEST_REQUIRE(r.ok(), r.describe());
    BOOST_TEST(pf.wait_queue_empty(60s));
    BOOST_TEST(h::wait_until(
        [&] {
            int sent = 0;
            for (const auto& d : pf.deliveries())
                sent += d.status == "sent";
            return sent == n;
        },
        20s));
    size_t sent = 0;
    for (const auto& d : pf.deliveries()) sent += d.status == "sent";
    BOOST_TEST(sent == static_cast<size_t>(n), "got " << sent << " sent, want " << n);
}

BOOST_AUTO_TEST_CASE(teardown_after_killed_master) {
    require_postfix();
    std::string root;
    pid_t master = -1;
    {
        h::PostfixInstance pf;
        pf.start();
        root = pf.root();
        master = pf.master_pid();
        BOOST_TEST_REQUIRE(h::process_alive(master));
        ::kill(master, SIGKILL);  // a crashed master: stop() must still clean up
        BOOST_TEST(h::wait_gone(master, 5s));
    }
    BOOST_TEST(!h::process_alive(master));
    BOOST_TEST(h::processes_using(root).empty(), "processes left under " << root);
    BOOST_TEST(!std::filesystem::exists(root), root << " still exists");
}

BOOST_AUTO_TEST_SUITE_END()

// Last: skipping (exit 77) here still lets everything above run first.
BOOST_AUTO_TEST_SUITE(harness_dns)

BOOST_AUTO_TEST_CASE(hermetic_dns_and_mx_delivery) {
    require_postfix();
    h::skip_if(h::DnsServer::unavailable());
    std::string ns_name, root;
    {
        auto ns = h::make_netns_or_skip();
        ns_name = ns->name();
        h::DnsServer dns(*ns);
        dns.records()
            .mx("example.test", "mx1.example.test", 10)
            .a("mx1.example.test", "127.0.0.2")
            .a("host.example.test", "127.0.0.9")
            .aaaa("host.example.test", "fd00::9")
            .txt("example.test", "v=spf1 ip4:192.0.2.0/24 -all");
        dns.start();

        struct Case {
            std::string name;
            h::DnsType type;
            h::DnsStatus status;
            std::vector<std::string> want;
        };
        const Case cases[] = {
            {"example.test", h::DnsType::MX, h::DnsStatus::Ok, {"10 mx1.example.test"}},
            {"mx1.example.test", h::DnsType::A, h::DnsStatus::Ok, {"127.0.0.2"}},
            {"host.example.test", h::DnsType::AAAA, h::DnsStatus::Ok, {"fd00::9"}},
            {"example.test", h::DnsType::TXT, h::DnsStatus::Ok, {"v=spf1 ip4:192.0.2.0/24 -all"}},
            {"nothere.example.test", h::DnsType::A, h::DnsStatus::NxDomain, {}},
            {"www.google.com", h::DnsType::A, h::DnsStatus::NxDomain, {}},
        };
        for (const auto& c : cases) {
            h::DnsResult r = h::dns_query(*ns, c.name, c.type);
            BOOST_TEST(r.status == c.status, c.name << ": got " << h::to_string(r.status) << " "
                                                    << r.error << ", want "
                                                    << h::to_string(c.status));
            BOOST_TEST(r.records == c.want, c.name << ": records differ");
        }
        // Programs in the namespace use its resolv.conf.
        h::RunResult g = h::run(ns->wrap({"getent", "ahosts", "host.example.test"}));
        BOOST_TEST(g.ok(), g.describe());
        BOOST_TEST(contains(g.out, "127.0.0.9"), g.out);

        // Postfix inside the namespace delivers by MX to a sink on mx1:25.
        h::SmtpSink sink({.ip = "127.0.0.2", .port = 25, .ns = ns.get()});
        h::PostfixInstance pf({.ns = ns.get()});
        root = pf.root();
        pf.start();
        auto t = pf.send({.mail_from = kSender, .rcpt_to = {"dave@example.test"},
                          .data = message("mx-test")});
        BOOST_TEST_REQUIRE(t.accepted(), t.str());
        auto d = pf.wait_for_delivery(t.queue_id(), 20s);
        BOOST_TEST_REQUIRE(d.has_value(), pf.log_tail() << dns.log());
        BOOST_TEST(d->status == "sent", d->line);
        BOOST_TEST(d->relay == "mx1.example.test[127.0.0.2]:25", d->line);
        BOOST_TEST(sink.messages().size() == 1u);

        // A domain the test did not define does not exist (hermetic).
        auto t2 = pf.send({.mail_from = kSender, .rcpt_to = {"erin@unknown.test"},
                           .data = message("nx-test")});
        BOOST_TEST_REQUIRE(t2.accepted(), t2.str());
        auto d2 = pf.wait_for_delivery(t2.queue_id(), 20s);
        BOOST_TEST_REQUIRE(d2.has_value(), pf.log_tail());
        BOOST_TEST(d2->status == "bounced", d2->line);
        BOOST_TEST(contains(d2->detail, "Host not found"), d2->line);
    }
    h::RunResult l = h::run({"ip", "netns", "list"});
    BOOST_TEST(!contains(l.out, ns_name), "namespace " << ns_name << " left behind");
    BOOST_TEST(!std::filesystem::exists("/etc/netns/" + ns_name));
    BOOST_TEST(!std::filesystem::exists(root));
}

BOOST_AUTO_TEST_SUITE_END()
