// test_milter_dns.cc - milter_reply_check: senders that can receive replies
//
// Whole messages through milter::Session with a fake DNS (FakeDns in
// test_milter_support.h): the envelope sender at MAIL, every From: mailbox
// at the end of headers, the bounce domain at the end of message.
#include <boost/test/unit_test.hpp>

#include <algorithm>

#include <functional>
#include <string>
#include <vector>

#include "tests/unit/test_milter_support.h"

using milter_test::describe;
using milter_test::FakeDns;
using milter_test::Fixture;

namespace {

bool contains(const std::string& s, const std::string& sub) { return s.find(sub) != std::string::npos; }

// Who may send as which domains: alice (SASL) as customer-a and customer-b;
// local submissions as customer-a. (No rule grants an address literal, so
// the literal case, Reachable without a lookup, is dns::mail_reachability's
// own test.)
struct Senders {
    harness::TempDir dir{"sg-milter-dns-"};
    std::string config;
    Senders() {
        harness::write_file(dir.sub("senders"),
                            "alice@customer-a.example customer-a.example, customer-b.example, customer-c.example\n",
                            0644);
        config = "milter_sender_tables = " + dir.sub("senders") + "\n";
    }
};

struct Message {
    std::string sender = "<news@customer-a.example>";
    std::string from = "news@customer-a.example";
    bool local = false;
};

// The first answer that is not "continue", as "STAGE: REPLY", else
// "eom: verp" or "eom: pass".
std::string run(Fixture& f, const Message& m) {
    milter::Session s = f.session();
    s.connect(m.local ? milter_test::local_submission() : milter_test::smtp_client());
    const std::string login = m.local ? "" : "alice@customer-a.example";
    if (auto d = s.mail(m.sender, {}, login, "Q1"); d.reply.kind != milter::Reply::Kind::Continue)
        return "mail: " + describe(d.reply);
    if (auto d = s.rcpt("<bob@remote.example>", "smtp"); d.reply.kind != milter::Reply::Kind::Continue)
        return "rcpt: " + describe(d.reply);
    s.header("From", m.from);
    if (auto d = s.end_of_headers("Q1"); d.reply.kind != milter::Reply::Kind::Continue)
        return "header: " + describe(d.reply);
    const milter::Decision d = s.end_of_message("Q1");
    if (d.reply.kind != milter::Reply::Kind::Continue) return "eom: " + describe(d.reply);
    return d.change_from ? "eom: verp" : "eom: pass";
}

void nodata(FakeDns& d, const std::string& name) { d.set(name, dns::Status::NoData); }

}  // namespace

BOOST_AUTO_TEST_SUITE(milter_dns)

BOOST_AUTO_TEST_CASE(reply_ability_decisions) {
    using Zone = std::function<void(FakeDns&)>;
    struct Case {
        const char* what;
        std::string config;
        Zone zone;
        Message m;
        std::string want;      // run()
        std::string want_log;  // in the captured log; "" : nothing asked
    };
    const std::string a = "customer-a.example";
    const Case cases[] = {
        {"MX", "", [](FakeDns&) {}, {}, "eom: verp", "action=verp"},
        {"only an A record (the implicit MX)", "",
         [&](FakeDns& d) {
             nodata(d, a);
             d.set(a, dns::Type::A, dns::Status::Ok, {"192.0.2.25"});
         },
         {}, "eom: verp", "action=verp"},
        {"only an AAAA record", "",
         [&](FakeDns& d) {
             nodata(d, a);
             d.set(a, dns::Type::AAAA, dns::Status::Ok, {"2001:db8::25"});
         },
         {}, "eom: verp", "action=verp"},
        {"null MX", "", [&](FakeDns& d) { d.set(a, dns::Type::MX, dns::Status::Ok, {"."}); }, {},
         "mail: reject 550 5.7.27 sender domain customer-a.example publishes a null MX: it accepts no mail (RFC 7505)",
         "Q1: milter: action=refuse, stage=mail, client=client.example[192.0.2.10], login=alice@customer-a.example, "
         "from=<news@customer-a.example>, address=<news@customer-a.example>, why=null_mx"},
        {"NXDOMAIN", "", [&](FakeDns& d) { d.set(a, dns::Status::NxDomain); }, {},
         "mail: reject 550 5.1.8 sender domain customer-a.example does not exist (NXDOMAIN)", "why=nxdomain"},
        {"no MX, A or AAAA", "", [&](FakeDns& d) { nodata(d, a); }, {},
         "mail: reject 550 5.1.8 sender domain customer-a.example has no MX and no address record",
         "why=no_mail_host"},
        {"time-out, tempfail", "", [&](FakeDns& d) { d.set(a, dns::Status::Timeout); }, {},
         "mail: tempfail 451 4.4.3 cannot check domain customer-a.example: the DNS lookup timed out, try again later",
         "action=tempfail, stage=mail, client=client.example[192.0.2.10], login=alice@customer-a.example, "
         "from=<news@customer-a.example>, address=<news@customer-a.example>, why=dns_error"},
        {"SERVFAIL, tempfail", "", [&](FakeDns& d) { d.set(a, dns::Status::ServFail); }, {},
         "mail: tempfail 451 4.4.3 cannot check domain customer-a.example: DNS server failure (SERVFAIL), try again "
         "later",
         "why=dns_error"},
        {"time-out, accept", "milter_dns_error_action = accept\n",
         [&](FakeDns& d) { d.set(a, dns::Status::Timeout); }, {}, "eom: pass",
         "action=pass, stage=mail, client=client.example[192.0.2.10], login=alice@customer-a.example, "
         "from=<news@customer-a.example>, address=<news@customer-a.example>, why=dns_error, detail=cannot check "
         "domain customer-a.example: the DNS lookup timed out"},
        {"null sender: its From is checked", "", [&](FakeDns& d) { d.set(a, dns::Status::NxDomain); },
         {.sender = "<>"}, "header: reject 550 5.1.8 From: domain customer-a.example does not exist (NXDOMAIN)",
         "action=refuse, stage=header"},
        {"the second From: mailbox NXDOMAIN", "",
         [](FakeDns& d) { d.set("customer-b.example", dns::Status::NxDomain); },
         {.from = "news@customer-a.example, Boss <boss@customer-b.example>"},
         "header: reject 550 5.1.8 From: domain customer-b.example does not exist (NXDOMAIN)",
         "address=<boss@customer-b.example>, why=nxdomain"},
        {"From: null MX", "", [](FakeDns& d) { d.set("customer-b.example", dns::Type::MX, dns::Status::Ok, {"."}); },
         {.from = "boss@customer-b.example"},
         "header: reject 550 5.7.27 From: domain customer-b.example publishes a null MX: it accepts no mail (RFC "
         "7505)",
         "why=null_mx"},
        {"From: time-out", "", [](FakeDns& d) { d.set("customer-b.example", dns::Status::Timeout); },
         {.from = "boss@customer-b.example"},
         "header: tempfail 451 4.4.3 cannot check domain customer-b.example: the DNS lookup timed out, try again "
         "later",
         "action=tempfail, stage=header"},
        {"dry run: NXDOMAIN logged only", "milter_dry_run = yes\n",
         [&](FakeDns& d) { d.set(a, dns::Status::NxDomain); }, {}, "eom: verp",
         "action=would_refuse, stage=mail, client=client.example[192.0.2.10], login=alice@customer-a.example, "
         "from=<news@customer-a.example>, address=<news@customer-a.example>, why=nxdomain"},
        {"dry run: time-out logged only", "milter_dry_run = yes\n",
         [&](FakeDns& d) { d.set(a, dns::Status::Timeout); }, {}, "eom: verp", "action=would_tempfail, stage=mail"},
        {"local submission: From NXDOMAIN", "milter_local_senders = customer-a.example, customer-b.example\n",
         [](FakeDns& d) { d.set("customer-b.example", dns::Status::NxDomain); },
         {.sender = "<www-data@customer-a.example>", .from = "boss@customer-b.example", .local = true},
         "header: reject 550 5.1.8 From: domain customer-b.example does not exist (NXDOMAIN)",
         "login=local, from=<www-data@customer-a.example>, address=<boss@customer-b.example>, why=nxdomain"},
        {"local submission: sender NXDOMAIN", "", [&](FakeDns& d) { d.set(a, dns::Status::NxDomain); },
         {.sender = "<www-data@customer-a.example>", .from = "www-data@customer-a.example", .local = true},
         "mail: reject 550 5.1.8 sender domain customer-a.example does not exist (NXDOMAIN)", "login=local"},
        {"bounce domain NXDOMAIN: no VERP", "",
         [](FakeDns& d) { d.set("bounces.customer-a.example", dns::Status::NxDomain); }, {}, "eom: pass",
         "action=pass, stage=eom, client=client.example[192.0.2.10], login=alice@customer-a.example, "
         "from=<news@customer-a.example>, address=-, why=bounce_domain_unreachable, detail=domain "
         "bounces.customer-a.example does not exist (NXDOMAIN)"},
        {"bounce domain time-out: no VERP", "",
         [](FakeDns& d) { d.set("bounces.customer-a.example", dns::Status::Timeout); }, {}, "eom: pass",
         "why=bounce_domain_unreachable"},
        {"bounce domain NXDOMAIN, no_bounce_domain_action = refuse", "milter_no_bounce_domain_action = refuse\n",
         [](FakeDns& d) { d.set("bounces.customer-a.example", dns::Status::NxDomain); }, {},
         "mail: reject 550 5.7.1 bounce domain bounces.customer-a.example does not exist (NXDOMAIN); bounces for "
         "sender domain customer-a.example would be lost",
         "action=refuse, stage=mail"},
        {"bounce domain time-out, no_bounce_domain_action = refuse", "milter_no_bounce_domain_action = refuse\n",
         [](FakeDns& d) { d.set("bounces.customer-a.example", dns::Status::Timeout); }, {},
         "mail: tempfail 451 4.4.3 cannot check domain bounces.customer-a.example: the DNS lookup timed out, try "
         "again later",
         "why=dns_error"},
        {"refuse, local submission: passes unchanged", "milter_no_bounce_domain_action = refuse\n",
         [](FakeDns& d) { d.set("bounces.customer-a.example", dns::Status::NxDomain); },
         {.sender = "<www-data@customer-a.example>", .from = "www-data@customer-a.example", .local = true},
         "eom: pass", "why=bounce_domain_unreachable"},
        {"milter_reply_check = no", "milter_reply_check = no\n",
         [&](FakeDns& d) {
             d.set(a, dns::Status::NxDomain);
             d.set("bounces.customer-a.example", dns::Status::NxDomain);
         },
         {}, "eom: verp", ""},
    };
    for (const Case& c : cases) {
        BOOST_TEST_CONTEXT(c.what) {
            Senders senders;
            Fixture f(senders.config + c.config);
            c.zone(*f.dns);
            const std::string got = run(f, c.m);
            BOOST_TEST(got == c.want, "got " << got << ", want " << c.want);
            if (c.want_log.empty()) {
                BOOST_TEST(f.dns->queries.empty());
            } else {
                BOOST_TEST(contains(logging::captured(), c.want_log), logging::captured());
            }
        }
    }
}

// What is asked: nothing for the null sender at MAIL; the envelope sender, each From: domain and the bounce domain
// otherwise, MX first (RFC 5321 5.1).
BOOST_AUTO_TEST_CASE(what_is_looked_up) {
    Senders senders;
    {
        Fixture f(senders.config);
        milter::Session s = f.session();
        s.connect(milter_test::smtp_client());
        BOOST_TEST(describe(s.mail("<>", {}, "alice@customer-a.example", "Q1").reply) == "continue");
        BOOST_TEST(f.dns->queries.empty());
    }
    {
        Fixture f(senders.config);
        BOOST_TEST(run(f, {.from = "news@customer-a.example, boss@customer-b.example"}) == "eom: verp");
        // customer-a.example once: the From: domain was the sender's.
        const std::vector<std::string> want = {"MX customer-a.example", "MX customer-b.example",
                                               "MX bounces.customer-a.example"};
        BOOST_TEST(f.dns->queries == want, boost::test_tools::per_element());
    }
}

// With accept, one failure ends the message's lookups: a dead name server
// costs one dns_lookup_timeout, not one per From: mailbox and another for
// the bounce domain; the message goes out unchanged (no VERP).
BOOST_AUTO_TEST_CASE(one_dns_failure_per_message) {
    Senders senders;
    Fixture f(senders.config + "milter_dns_error_action = accept\n");
    f.dns->set("customer-a.example", dns::Status::Timeout);
    f.dns->set("customer-b.example", dns::Status::Timeout);
    BOOST_TEST(run(f, {.from = "news@customer-a.example, boss@customer-b.example"}) == "eom: pass");
    BOOST_TEST(contains(logging::captured(), "action=pass, stage=eom, client=client.example[192.0.2.10], "
                                             "login=alice@customer-a.example, from=<news@customer-a.example>, "
                                             "address=-, why=dns_error"),
               logging::captured());
    const std::vector<std::string> want = {"MX customer-a.example"};
    BOOST_TEST(f.dns->queries == want, boost::test_tools::per_element());
}

// A From: with many mailboxes: each domain is asked once, and all the
// message's reply checks together stop after kReplyCheckBudgets times
// dns_lookup_timeout (1s here), as a DNS failure.
BOOST_AUTO_TEST_CASE(reply_checks_of_a_message_are_bounded) {
    Senders senders;
    Fixture f(senders.config + "dns_lookup_timeout = 1s\nmilter_dns_error_action = tempfail\n");
    BOOST_TEST(run(f, {.from = "a@customer-a.example, b@customer-a.example, c@customer-a.example"}) == "eom: verp");
    BOOST_TEST(std::count(f.dns->queries.begin(), f.dns->queries.end(), "MX customer-a.example") == 1);

    f.dns->queries.clear();
    f.dns->delay = std::chrono::milliseconds(1100);
    const std::string got = run(f, {.from = "news@customer-a.example, boss@customer-b.example, x@customer-c.example"});
    BOOST_TEST(got == "header: tempfail 451 4.4.3 cannot check domain customer-c.example: the message's DNS lookups "
                      "took longer than 2s, try again later",
               got);
    BOOST_TEST(std::count(f.dns->queries.begin(), f.dns->queries.end(), "MX customer-c.example") == 0);
}

// dns_servers: up to three IPv4 name servers, a port optional; a bad one
// is named with its file and line.
BOOST_AUTO_TEST_CASE(dns_servers_are_checked) {
    struct Case {
        std::string value;
        std::string want;  // "" : loads
    };
    const Case cases[] = {
        {"127.0.0.1", ""},
        {"127.0.0.1:5353, 192.0.2.53", ""},
        {"::1", "test.conf:8: invalid dns_servers: ::1: expected an IPv4 address, or IPv4:port"},
        {"ns.example", "test.conf:8: invalid dns_servers: ns.example: expected an IPv4 address, or IPv4:port"},
        {"127.0.0.1:0", "test.conf:8: invalid dns_servers: 127.0.0.1:0: expected a port of 1 to 65535 after the colon"},
        {"127.0.0.1:70000",
         "test.conf:8: invalid dns_servers: 127.0.0.1:70000: expected a port of 1 to 65535 after the colon"},
        {"127.0.0.1:", "test.conf:8: invalid dns_servers: 127.0.0.1:: expected a port of 1 to 65535 after the colon"},
    };
    for (const Case& c : cases) {
        for (const char* check : {"yes", "no"}) {
            std::string got;
            try {
                Fixture f("milter_reply_check = " + std::string(check) + "\ndns_servers = " + c.value + "\n");
            } catch (const config::Error& e) {
                got = e.what();
            }
            BOOST_TEST(got == c.want, c.value << " (milter_reply_check = " << check << "): got " << got);
        }
    }
}

// A reload (Settings::from again) builds its own lookup; the check off
// builds none.
BOOST_AUTO_TEST_CASE(lookup_built_by_settings) {
    harness::TempDir dir("sg-milter-dns-");
    harness::write_file(dir.sub("verp.keys"), std::string(milter_test::kKey) + "\n", 0600);
    const std::string base = "config_directory = " + dir.path() + "\nmilter_user = root\nmilter_socket_group =\n";
    const auto on = milter::Settings::from(config::Config::parse(base + "dns_lookup_timeout = 7s\n", "t.conf"));
    const auto again = milter::Settings::from(config::Config::parse(base, "t.conf"));
    const auto off = milter::Settings::from(config::Config::parse(base + "milter_reply_check = no\n", "t.conf"));
    BOOST_REQUIRE(on.policy->dns);
    BOOST_TEST(on.policy->dns->budget().count() == 7);
    BOOST_REQUIRE(again.policy->dns);
    BOOST_TEST(on.policy->dns.get() != again.policy->dns.get());
    BOOST_TEST(!off.policy->dns);
    BOOST_TEST(on.policy->bounce_domains.accepts(*address::normalise_domain("bounces.customer-a.example")),
               "bounce_domains defaults to bounces.*");
}

BOOST_AUTO_TEST_SUITE_END()
