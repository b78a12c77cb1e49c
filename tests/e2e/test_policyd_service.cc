// test_policyd_service.cc - sendguard-policyd's policy service with a real Postfix
//
// A throw-away Postfix relays to an smtp-sink and asks the real
// sendguard-policyd (check_policy_service at RCPT and END-OF-MESSAGE) for
// every recipient. MX lookups go to a closed local port, so every domain
// has its implicit MX (itself); the provider table of the test names a
// provider by those host names ("*.sink.test"), which is the same roll-up
// code a real MX answer goes through.
#include <boost/test/unit_test.hpp>

#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <optional>
#include <string>
#include <vector>

#include "common/net/endpoint.h"
#include "common/sys/fd.h"
#include "tests/support/net_wait.h"
#include "tests/support/paths.h"
#include "tests/support/postfix_harness.h"
#include "tests/support/process.h"
#include "tests/support/smtp_sink.h"
#include "tests/support/temp_dir.h"

using namespace std::chrono_literals;
namespace h = harness;

namespace {

bool contains(const std::string& hay, const std::string& needle) {
    return hay.find(needle) != std::string::npos;
}

// A policyd whose sockets smtpd (user postfix) can reach.
struct Policyd {
    h::TempDir dir{"sg-e2e-policyd-"};
    std::string conf = dir.sub("sendguard.conf");
    std::string rules = dir.sub("rate-rules");
    std::string providers = dir.sub("providers");
    std::string sock = dir.sub("policy.sock");
    std::optional<h::Process> proc;
    std::string extra;  // more sendguard.conf lines

    Policyd() { ::chmod(dir.path().c_str(), 0755); }
    void start() {
        h::write_file(conf, "state_directory = " + dir.path() + "/lib\nrun_directory = " +
                                dir.path() + "\nlog_to_stderr = yes\npolicyd_socket_mode = 0666\n"
                                "policyd_rate_rules = " + rules + "\npolicyd_provider_table = " +
                                providers + "\ndns_servers = 127.0.0.1:9\ndns_lookup_timeout = 1s\n" + extra);
        // -v: the MX roll-up of each domain is logged once its lookup lands.
        proc.emplace(h::SpawnSpec{.argv = {h::sendguard_bin("sendguard-policyd"), "-v", "-c", conf,
                                           "-o", "policyd_user=root"}});
        BOOST_REQUIRE_MESSAGE(h::wait_for_unix(sock, 10s), "policyd did not listen: " << proc->err());
    }
    void restart() {
        ::kill(proc->pid(), SIGTERM);
        auto st = proc->wait_for(10000ms);
        BOOST_REQUIRE_MESSAGE(st.has_value() && st->ok(), "policyd did not stop: " << proc->err());
        proc.reset();
        start();
    }
    std::string endpoint() const { return "unix:" + sock; }
    // Starts the MX lookups of domains with RCPT requests that never reach
    // END-OF-MESSAGE (they consume nothing) and waits for their roll-up:
    // until then a domain stands for itself (never waiting for DNS).
    void warm_up(const std::vector<std::string>& domains) {
        for (const std::string& dom : domains) {
            const std::string req = "request=smtpd_access_policy\nprotocol_state=RCPT\ninstance=warm-" +
                                    dom + "\nrecipient=x@" + dom + "\n\n";
            sys::Fd fd = net::connect_endpoint(net::Endpoint{net::Endpoint::Kind::Unix, sock, {}, 0}, 5s);
            BOOST_REQUIRE(::send(fd.get(), req.data(), req.size(), MSG_NOSIGNAL) ==
                          static_cast<ssize_t>(req.size()));
            char buf[512];
            BOOST_REQUIRE(::recv(fd.get(), buf, sizeof buf, 0) > 0);
        }
        for (const std::string& dom : domains)
            BOOST_REQUIRE_MESSAGE(h::wait_until([&] { return contains(proc->err(), "mx=" + dom + ","); }, 10s),
                                  "no MX result for " << dom << ": " << proc->err());
    }
};

// One message from login (or no login) to rcpt; the transcript.
h::SmtpTranscript send(const h::PostfixInstance& pf, const std::string& rcpt,
                       const std::string& login = "") {
    h::SmtpEnvelope env{.mail_from = "sender@customer.test",
                        .rcpt_to = {rcpt},
                        .data = "From: <sender@customer.test>\nTo: <" + rcpt +
                                ">\nSubject: policy\n\nhello\n"};
    if (!login.empty()) env.auth_plain = std::make_pair(login, std::string("pw ") + login);
    return pf.send(env);
}

void hook(h::PostfixInstance& pf, const Policyd& d) {
    pf.add_policy_service(d.endpoint());
    pf.add_policy_service(d.endpoint(), "smtpd_end_of_data_restrictions");
    pf.set("smtpd_policy_service_default_action", "DUNNO");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(e2e_policyd)

// The N+1th message to a provider within its window is deferred at RCPT
// with the rule's text; mail to another destination flows; a restart of
// policyd keeps the provider's bucket.
BOOST_AUTO_TEST_CASE(provider_limit_defers_the_next_message_and_survives_restart) {
    h::skip_if(h::PostfixInstance::unavailable());
    Policyd d;
    h::write_file(d.rules, "sinkprov provider=sinkprov key=provider 2/h burst 2\n");
    h::write_file(d.providers, "sinkprov *.sink.test\n");
    d.start();
    h::SmtpSink sink;
    h::PostfixInstance pf({.relayhost = sink.nexthop()});
    hook(pf, d);
    pf.start();
    d.warm_up({"a.sink.test", "b.sink.test"});
    BOOST_TEST(contains(d.proc->err(), "mx=a.sink.test, hosts=a.sink.test, provider=sinkprov"),
               d.proc->err());

    // Two domains of one provider share its budget.
    auto a = send(pf, "one@a.sink.test");
    BOOST_TEST(a.accepted(), a.str());
    auto b = send(pf, "two@b.sink.test");
    BOOST_TEST(b.accepted(), b.str());
    auto c = send(pf, "three@a.sink.test");
    BOOST_TEST(!c.accepted(), c.str());
    BOOST_TEST_REQUIRE(!c.rcpt.empty());
    BOOST_TEST(c.rcpt[0].code == 450, c.str());
    BOOST_TEST(contains(c.rcpt[0].str(), "4.7.1"), c.str());
    BOOST_TEST(contains(c.rcpt[0].text(), "rule sinkprov: 2/h for sinkprov reached; try again in"),
               c.str());
    // Another destination is not limited by it.
    auto other = send(pf, "someone@elsewhere.test");
    BOOST_TEST(other.accepted(), other.str());

    d.restart();
    d.warm_up({"b.sink.test"});
    auto after = send(pf, "four@b.sink.test");
    BOOST_TEST(!after.accepted(), after.str());
    BOOST_TEST(contains(after.str(), "rule sinkprov"), after.str());
    BOOST_TEST(pf.wait_queue_empty(20s), pf.log_tail());
}

// Customer quotas: a login over its quota is deferred while another login
// is not; a transaction that ends before END-OF-MESSAGE consumes nothing.
BOOST_AUTO_TEST_CASE(customer_quota_defers_one_login_not_another) {
    h::skip_if(h::PostfixInstance::unavailable());
    Policyd d;
    d.extra = "policyd_pending_timeout = 10s\n";
    h::write_file(d.rules, "quota key=sasl_username 2/h burst 2\n");
    h::write_file(d.providers, "");
    d.start();
    h::SmtpSink sink;
    h::PostfixInstance pf({.relayhost = sink.nexthop()});
    pf.enable_sasl("sendguard.test");
    pf.add_sasl_user("alice", "pw alice");
    pf.add_sasl_user("bob", "pw bob");
    hook(pf, d);
    pf.start();

    // alice reaches RCPT and quits: smtpd's policy check saw the recipient,
    // END-OF-MESSAGE never came.
    {
        h::SmtpClient cl = pf.connect();
        BOOST_TEST_REQUIRE(cl.ehlo("client.sendguard.test").code == 250);
        BOOST_TEST_REQUIRE(cl.auth_plain("alice", "pw alice").code == 235);
        BOOST_TEST(cl.mail_from("sender@customer.test").code == 250);
        BOOST_TEST(cl.rcpt_to("x@dest.test").code == 250);
        cl.command("RSET");
        cl.quit();
    }
    // Until its reservation expires it holds alice's unit (parallel
    // transactions never share the last one); then it has consumed nothing.
    BOOST_TEST(h::wait_until([&] { return contains(d.proc->err(), "reservations_expired=1"); }, 20s),
               d.proc->err());
    auto a1 = send(pf, "x@dest.test", "alice");
    BOOST_TEST(a1.accepted(), a1.str());
    auto a2 = send(pf, "y@dest.test", "alice");
    BOOST_TEST(a2.accepted(), a2.str());
    auto a3 = send(pf, "z@dest.test", "alice");
    BOOST_TEST(!a3.accepted(), a3.str());
    BOOST_TEST(contains(a3.str(), "450"), a3.str());
    BOOST_TEST(contains(a3.str(), "rule quota: 2/h for alice@sendguard.test reached"), a3.str());
    auto b1 = send(pf, "x@dest.test", "bob");
    BOOST_TEST(b1.accepted(), b1.str());
    // Unauthenticated mail is no customer's.
    auto anon = send(pf, "x@dest.test");
    BOOST_TEST(anon.accepted(), anon.str());
    BOOST_TEST(h::wait_until([&] { return contains(d.proc->err(), "limit=reached, rule=quota, key=alice@sendguard.test"); }, 5s),
               d.proc->err());
    BOOST_TEST(pf.wait_queue_empty(20s), pf.log_tail());
}

BOOST_AUTO_TEST_SUITE_END()
