// test_milter_dns.cc - milter_reply_check in a real Postfix, with real DNS
//
// Part of e2e_milter (the test_milter* glob); the case needing dnsmasq
// runs as e2e.milter.dnsmasq.
// A real Postfix (smtpd_milters) relays to an smtp-sink; the real
// sendguard-milter asks a real name server on loopback through dns_servers:
// dnsmasq on 127.0.0.1:<free port> in this network namespace, answering
// only its own records (--no-resolv --no-hosts, local=/#/: every other name
// is NXDOMAIN, nothing is forwarded), or a DnsStub that never answers.
//
// The zone (LoopbackDns below):
//   customer-a.example           MX mx.customer-a.example   (alice's)
//   bounces.customer-a.example   MX mx.customer-a.example
//   customer-b.example           none: NXDOMAIN             (bob's)
//   customer-c.example           null MX                    (carol's)
// The preflight case adds TXT records: _dmarc.customer-a.example,
// bounces.customer-a.example (SPF) and spf.relay.example.
#include <boost/test/unit_test.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/address/address.h"
#include "common/daemon/users.h"
#include "common/dns/resolver.h"
#include "tests/support/dns_harness.h"
#include "tests/support/dns_stub.h"
#include "tests/support/net_wait.h"
#include "tests/support/paths.h"
#include "tests/support/postfix_harness.h"
#include "tests/support/process.h"
#include "tests/support/require.h"
#include "tests/support/smtp_sink.h"
#include "tests/support/temp_dir.h"

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

bool contains(const std::string& s, const std::string& sub) { return s.find(sub) != std::string::npos; }

// dnsmasq serving records on 127.0.0.1:port of this namespace; it never
// forwards a query (no resolv.conf, no upstream server).
class LoopbackDns {
public:
    explicit LoopbackDns(const harness::DnsRecords& records) : dir_("sg-e2e-dns-") {
        port_ = harness::free_tcp_port("127.0.0.1");
        const std::string conf = dir_.sub("dnsmasq.conf");
        harness::write_file(conf, records.dnsmasq_conf());
        proc_.emplace(harness::SpawnSpec{
            .argv = {"dnsmasq", "--keep-in-foreground", "--log-facility=-", "--log-queries", "--no-resolv",
                     "--no-hosts", "--no-poll", "--listen-address=127.0.0.1", "--bind-interfaces",
                     "--port=" + std::to_string(port_), "--cache-size=0", "--user=nobody",
                     "--group=" + group(), "--pid-file=" + dir_.sub("dnsmasq.pid"), "--conf-file=" + conf}});
        // Up when it answers a record of its own.
        const dns::Resolver r({.servers = {{"127.0.0.1", port_}}});
        const bool up = harness::wait_until(
            [&] {
                return !proc_->running() ||
                       r.query("customer-a.example", dns::Type::MX, 1s).status == dns::Status::Ok;
            },
            5000ms);
        if (!up || !proc_->running()) throw std::runtime_error("dnsmasq did not answer: " + proc_->err());
    }
    std::string server() const { return "127.0.0.1:" + std::to_string(port_); }
    std::string log() const { return proc_->out() + proc_->err(); }

private:
    static std::string group() { return daemons::gid_of("nogroup") ? "nogroup" : "nobody"; }
    harness::TempDir dir_;
    uint16_t port_ = 0;
    std::optional<harness::Process> proc_;
};

harness::DnsRecords zone() {
    harness::DnsRecords r;
    r.mx("customer-a.example", "mx.customer-a.example", 10)
        .mx("bounces.customer-a.example", "mx.customer-a.example", 10)
        .a("mx.customer-a.example", "192.0.2.25")
        .null_mx("customer-c.example")
        .ttl(60);
    return r;
}

// The milter as installed: the sendguard user, socket group postfix.
struct Milter {
    harness::TempDir dir{"sg-e2e-milterdns-"};
    std::string conf = dir.sub("sendguard.conf");
    std::string sock = dir.sub("run/milter.sock");
    std::optional<harness::Process> proc;

    explicit Milter(const std::string& extra) {
        ::chmod(dir.path().c_str(), 0755);
        dir.mkdir("run", 0755);
        dir.mkdir("lib", 0750);
        const auto uid = daemons::uid_of("sendguard").value();
        const auto gid = daemons::gid_of("sendguard").value();
        if (::chown(dir.sub("run").c_str(), uid, gid) != 0 || ::chown(dir.sub("lib").c_str(), uid, gid) != 0)
            throw std::runtime_error("chown");
        harness::write_file(dir.sub("verp.keys"), "0123456789abcdef0123456789abcdef\n", 0640);
        if (::chown(dir.sub("verp.keys").c_str(), 0, gid) != 0) throw std::runtime_error("chown");
        // bounce_domains: the default, bounces.*
        harness::write_file(conf,
                            "config_directory = " + dir.path() + "\nstate_directory = " + dir.sub("lib") +
                                "\nrun_directory = " + dir.sub("run") + "\n" + extra,
                            0644);
        proc.emplace(harness::SpawnSpec{.argv = {harness::sendguard_bin("sendguard-milter"), "-f", "-c", conf}});
        BOOST_REQUIRE_MESSAGE(harness::wait_for_unix(sock, 10s), "milter did not listen: " << proc->err());
    }
    std::string err() const { return proc->err(); }
};

struct Site {
    harness::SmtpSink sink;
    harness::PostfixInstance pf{{.relayhost = sink.nexthop()}};
    Milter milter;

    explicit Site(const std::string& milter_config) : milter(milter_config) {
        pf.add_sasl_user("alice", "alice-pw", "customer-a.example");
        pf.add_sasl_user("bob", "bob-pw", "customer-b.example");
        pf.add_sasl_user("carol", "carol-pw", "customer-c.example");
        pf.add_milter("unix:" + milter.sock);
        pf.set("milter_protocol", "6");
        pf.set("milter_default_action", "tempfail");
        pf.start();
    }
    harness::SmtpTranscript send(const std::string& login, const std::string& from, const std::string& header_from) {
        const std::string pw = login.substr(0, login.find('@')) + "-pw";
        return pf.send({.auth_plain = std::make_pair(login, pw),
                        .mail_from = from,
                        .rcpt_to = {"dest@remote.example"},
                        .data = "From: " + header_from + "\nSubject: test\n\nbody\n"});
    }
    std::string why(const harness::SmtpTranscript& t) const {
        return t.str() + "\nmilter: " + milter.err() + "\npostfix: " + pf.log_tail();
    }
};

long long ms(Clock::duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); }

}  // namespace

BOOST_AUTO_TEST_SUITE(e2e_milter_dns)

// MX: relayed with VERP on bounces.customer-a.example; NXDOMAIN sender and
// From: 550 5.1.8; null MX: 550 5.7.27, as the SMTP client sees them.
BOOST_AUTO_TEST_CASE(domains_that_cannot_receive_replies_are_refused, *boost::unit_test::label("dnsmasq")) {
    harness::skip_if(harness::PostfixInstance::unavailable());
    harness::skip_if(harness::DnsServer::unavailable());
    LoopbackDns dns(zone());
    Site site("dns_servers = " + dns.server() + "\n");

    auto ok = site.send("alice@customer-a.example", "news@customer-a.example", "news@customer-a.example");
    BOOST_REQUIRE_MESSAGE(ok.accepted(), site.why(ok));
    BOOST_REQUIRE_MESSAGE(site.sink.wait_for_messages(1, 15s), site.pf.log_tail());
    const std::string sender = site.sink.messages().front().mail_from();
    BOOST_TEST(sender.starts_with("bounce+"), sender);
    BOOST_TEST(sender.ends_with("@bounces.customer-a.example"), sender);

    auto nx = site.send("bob@customer-b.example", "bob@customer-b.example", "bob@customer-b.example");
    BOOST_TEST(nx.mail.str() == "550 5.1.8 sender domain customer-b.example does not exist (NXDOMAIN)", site.why(nx));

    // The null sender is not looked up; its From: is.
    auto from = site.send("bob@customer-b.example", "", "Bob <bob@customer-b.example>");
    BOOST_TEST(from.mail.positive(), site.why(from));
    BOOST_REQUIRE_MESSAGE(from.data_end, site.why(from));
    BOOST_TEST(from.data_end->str() == "550 5.1.8 From: domain customer-b.example does not exist (NXDOMAIN)",
               site.why(from));

    auto null_mx = site.send("carol@customer-c.example", "carol@customer-c.example", "carol@customer-c.example");
    BOOST_TEST(null_mx.mail.str() ==
                   "550 5.7.27 sender domain customer-c.example publishes a null MX: it accepts no mail (RFC 7505)",
               site.why(null_mx));

    const std::string log = site.milter.err();
    BOOST_TEST(contains(log, "action=refuse, stage=mail, client=localhost[127.0.0.1], login=bob@customer-b.example, "
                             "from=<bob@customer-b.example>, address=<bob@customer-b.example>, why=nxdomain"),
               log);
    BOOST_TEST(contains(log, "action=refuse, stage=header"), log);
    BOOST_TEST(contains(log, "why=null_mx"), log);
    BOOST_TEST(site.sink.messages().size() == 1u);
}

// milter_preflight (sendguard-milter(8) PREFLIGHT): customer-a.example
// publishes p=reject; its bounce domain's SPF does not authorise the relay
// (192.0.2.1, relay_spf_include): refused at the end of DATA with the
// fix-it text; once the bounce domain includes the relay: relayed.
BOOST_AUTO_TEST_CASE(preflight_refuses_mail_that_will_fail_dmarc, *boost::unit_test::label("dnsmasq")) {
    harness::skip_if(harness::PostfixInstance::unavailable());
    harness::skip_if(harness::DnsServer::unavailable());
    const std::string relay = "relay_public_addresses = 192.0.2.1\nrelay_spf_include = include:spf.relay.example\n";
    const auto customer = [](const std::string& bounce_spf) {
        harness::DnsRecords r = zone();
        r.txt("_dmarc.customer-a.example", "v=DMARC1; p=reject")
            .txt("spf.relay.example", "v=spf1 ip4:192.0.2.1 -all")
            .txt("bounces.customer-a.example", bounce_spf);
        return r;
    };
    {
        LoopbackDns dns(customer("v=spf1 -all"));
        Site site("dns_servers = " + dns.server() + "\n" + relay);
        auto t = site.send("alice@customer-a.example", "news@customer-a.example", "news@customer-a.example");
        BOOST_TEST(t.mail.positive(), site.why(t));
        BOOST_REQUIRE_MESSAGE(t.data_end, site.why(t));
        BOOST_TEST(t.data_end->str() ==
                       "550 5.7.26 DMARC for customer-a.example will fail: add include:spf.relay.example to the SPF "
                       "record of bounces.customer-a.example, or set up DKIM signing for customer-a.example",
                   site.why(t));
        BOOST_TEST(contains(site.milter.err(), "action=refuse, stage=header"), site.milter.err());
        BOOST_TEST(contains(site.milter.err(), "why=dmarc_will_fail"), site.milter.err());
        BOOST_TEST(site.sink.messages().empty());
    }
    {
        LoopbackDns dns(customer("v=spf1 include:spf.relay.example -all"));
        Site site("dns_servers = " + dns.server() + "\n" + relay);
        auto t = site.send("alice@customer-a.example", "news@customer-a.example", "news@customer-a.example");
        BOOST_REQUIRE_MESSAGE(t.accepted(), site.why(t));
        BOOST_REQUIRE_MESSAGE(site.sink.wait_for_messages(1, 15s), site.pf.log_tail());
        BOOST_TEST(site.sink.messages().front().mail_from().ends_with("@bounces.customer-a.example"));
        BOOST_TEST(contains(site.milter.err(), "why=dmarc_pass, detail=dmarc=pass by spf bounces.customer-a.example"),
                   site.milter.err());
    }
}

// A name server that never answers: 451 4.4.3 to MAIL within
// dns_lookup_timeout (plus a margin for a loaded machine); with
// milter_dns_error_action = accept the mail is relayed, its sender
// unchanged (the bounce domain could not be checked either).
BOOST_AUTO_TEST_CASE(a_silent_name_server_tempfails_or_passes) {
    harness::skip_if(harness::PostfixInstance::unavailable());
    harness::DnsStub silent(harness::DnsStub::Mode::Silent);
    const std::string dns = "dns_servers = 127.0.0.1:" + std::to_string(silent.port()) + "\ndns_lookup_timeout = 2s\n";
    {
        Site site(dns);
        harness::SmtpClient c = site.pf.connect();
        c.ehlo("client.sendguard.test");
        BOOST_REQUIRE(c.auth_plain("alice@customer-a.example", "alice-pw").positive());
        const auto t0 = Clock::now();
        const auto mail = c.mail_from("news@customer-a.example");
        const auto took = Clock::now() - t0;
        BOOST_TEST(mail.str() ==
                       "451 4.4.3 cannot check domain customer-a.example: the DNS lookup timed out, try again later",
                   mail.text() << "\nmilter: " << site.milter.err());
        BOOST_TEST(ms(took) <= 2000 + 1500, "MAIL took " << ms(took) << " ms");
        BOOST_TEST_MESSAGE("silent name server, dns_lookup_timeout 2s: MAIL answered in " << ms(took) << " ms");
        BOOST_TEST(silent.queries() >= 1);
        BOOST_TEST(contains(site.milter.err(), "action=tempfail, stage=mail"), site.milter.err());
    }
    {
        Site site(dns + "milter_dns_error_action = accept\n");
        auto t = site.send("alice@customer-a.example", "news@customer-a.example", "news@customer-a.example");
        BOOST_REQUIRE_MESSAGE(t.accepted(), site.why(t));
        BOOST_REQUIRE_MESSAGE(site.sink.wait_for_messages(1, 15s), site.pf.log_tail());
        BOOST_TEST(site.sink.messages().front().mail_from() == "news@customer-a.example");
        const std::string log = site.milter.err();
        BOOST_TEST(contains(log, "action=pass, stage=mail"), log);
        // One lookup that failed: the bounce domain is not asked again, the
        // message goes out unchanged.
        BOOST_TEST(contains(log, "action=pass, stage=eom, client=localhost[127.0.0.1], login=alice@customer-a.example, "
                                 "from=<news@customer-a.example>, address=-, why=dns_error"),
                   log);
        BOOST_TEST(!contains(log, "bounce_domain_unreachable"), log);
    }
}

BOOST_AUTO_TEST_SUITE_END()
