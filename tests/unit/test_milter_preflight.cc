// test_milter_preflight.cc - milter_preflight: will the message pass DMARC?
//
// Whole messages through milter::Session with a fake DNS (FakeDns in
// test_milter_support.h) holding the customer's DMARC and SPF records and
// the relay's SPF include.
#include <boost/test/unit_test.hpp>

#include <functional>
#include <string>
#include <vector>

#include "tests/unit/test_milter_support.h"

using milter_test::describe;
using milter_test::FakeDns;
using milter_test::Fixture;

namespace {

bool contains(const std::string& s, const std::string& sub) { return s.find(sub) != std::string::npos; }

struct Senders {
    harness::TempDir dir{"sg-milter-preflight-"};
    std::string config;
    Senders() {
        harness::write_file(dir.sub("senders"), "alice@customer-c.example customer-c.example\n", 0644);
        config = "milter_sender_tables = " + dir.sub("senders") +
                 "\nrelay_public_addresses = 192.0.2.1\nrelay_spf_include = include:spf.relay.example\n";
    }
};

struct Outcome {
    std::string answer;  // the first answer not "continue", else "eom: verp" / "eom: pass"
    std::vector<std::pair<std::string, std::string>> headers;
};

Outcome run(Fixture& f) {
    milter::Session s = f.session();
    s.connect(milter_test::smtp_client());
    if (auto d = s.mail("<news@customer-c.example>", {}, "alice@customer-c.example", "Q1");
        d.reply.kind != milter::Reply::Kind::Continue)
        return {"mail: " + describe(d.reply), {}};
    s.rcpt("<bob@remote.example>", "smtp");
    s.header("From", "News <news@customer-c.example>");
    if (auto d = s.end_of_headers("Q1"); d.reply.kind != milter::Reply::Kind::Continue)
        return {"header: " + describe(d.reply), {}};
    milter::Decision d = s.end_of_message("Q1");
    if (d.reply.kind != milter::Reply::Kind::Continue) return {"eom: " + describe(d.reply), {}};
    return {d.change_from ? "eom: verp" : "eom: pass", d.add_headers};
}

void relay(FakeDns& d) { d.set("spf.relay.example", dns::Type::TXT, dns::Status::Ok, {"v=spf1 ip4:192.0.2.1 -all"}); }
void dmarc(FakeDns& d, const std::string& rec) {
    d.set("_dmarc.customer-c.example", dns::Type::TXT, dns::Status::Ok, {rec});
}
void bounce_spf(FakeDns& d, const std::string& rec) {
    d.set("bounces.customer-c.example", dns::Type::TXT, dns::Status::Ok, {rec});
}

const std::string kFixIt =
    "DMARC for customer-c.example will fail: add include:spf.relay.example to the SPF record of "
    "bounces.customer-c.example, or set up DKIM signing for customer-c.example";

}  // namespace

BOOST_AUTO_TEST_SUITE(milter_preflight)

BOOST_AUTO_TEST_CASE(decisions) {
    using Zone = std::function<void(FakeDns&)>;
    struct Case {
        const char* what;
        std::string config;
        Zone zone;
        std::string want;
        std::string want_log;
    };
    const Zone refuses_relay = [](FakeDns& d) {
        relay(d);
        dmarc(d, "v=DMARC1; p=reject");
        bounce_spf(d, "v=spf1 -all");
    };
    const Case cases[] = {
        {"SPF of the bounce domain does not authorise the relay", "", refuses_relay,
         "header: reject 550 5.7.26 " + kFixIt, "action=refuse, stage=header"},
        {"the bounce domain includes the relay", "",
         [](FakeDns& d) {
             relay(d);
             dmarc(d, "v=DMARC1; p=reject");
             bounce_spf(d, "v=spf1 include:spf.relay.example -all");
         },
         "eom: verp", "why=dmarc_pass, detail=dmarc=pass by spf bounces.customer-c.example"},
        {"tempfail", "milter_dmarc_action = tempfail\n", refuses_relay,
         "header: tempfail 451 4.7.26 " + kFixIt + "; try again later", "why=dmarc_will_fail"},
        {"accept: logged", "milter_dmarc_action = accept\n", refuses_relay, "eom: verp",
         "action=pass, stage=header, client=client.example[192.0.2.10], login=alice@customer-c.example, "
         "from=<news@customer-c.example>, address=<news@customer-c.example>, why=dmarc_will_fail, detail=\"" + kFixIt + "\""},
        {"dry run", "milter_dry_run = yes\n", refuses_relay, "eom: verp", "action=would_refuse"},
        {"p=none", "", [](FakeDns& d) { dmarc(d, "v=DMARC1; p=none"); }, "eom: verp", "why=dmarc_no_policy"},
        {"no DMARC record", "", [](FakeDns&) {}, "eom: verp", "why=dmarc_no_policy"},
        {"DMARC lookup fails", "", [](FakeDns& d) { d.set("_dmarc.customer-c.example", dns::Type::TXT, dns::Status::ServFail); },
         "header: tempfail 451 4.4.3 cannot check DMARC for customer-c.example: the DNS lookup of TXT "
         "_dmarc.customer-c.example failed (servfail), try again later",
         "why=dns_error"},
        {"DMARC lookup fails, milter_dns_error_action = accept", "milter_dns_error_action = accept\n",
         // After a DNS failure that passed, nothing more is looked up (session.h).
         [](FakeDns& d) { d.set("_dmarc.customer-c.example", dns::Type::TXT, dns::Status::ServFail); }, "eom: pass",
         "action=pass, stage=header"},
        {"no VERP: the sender domain's SPF counts", "milter_verp = no\n",
         [](FakeDns& d) {
             relay(d);
             dmarc(d, "v=DMARC1; p=reject; aspf=s");
             d.set("customer-c.example", dns::Type::TXT, dns::Status::Ok, {"v=spf1 include:spf.relay.example -all"});
         },
         "eom: pass", "why=dmarc_pass, detail=dmarc=pass by spf customer-c.example"},
        {"aspf=s with VERP", "",
         [](FakeDns& d) {
             relay(d);
             dmarc(d, "v=DMARC1; p=quarantine; aspf=s");
         },
         "header: reject 550 5.7.26 DMARC for customer-c.example will fail: aspf=s: the envelope domain "
         "bounces.customer-c.example cannot align; relax aspf in the DMARC record of customer-c.example, or set "
         "up DKIM signing for customer-c.example",
         "why=dmarc_will_fail"},
        {"preflight off", "milter_preflight = no\n", refuses_relay, "eom: verp", ""},
        {"no relay addresses: off", "relay_public_addresses =\n", refuses_relay, "eom: verp", ""},
    };
    for (const Case& c : cases) {
        BOOST_TEST_CONTEXT(c.what) {
            Senders senders;
            Fixture f(senders.config + c.config);
            c.zone(*f.dns);
            const Outcome o = run(f);
            BOOST_TEST(o.answer == c.want);
            if (!c.want_log.empty()) BOOST_TEST(contains(logging::captured(), c.want_log), logging::captured());
            const bool asked = std::find(f.dns->queries.begin(), f.dns->queries.end(),
                                         "TXT _dmarc.customer-c.example") != f.dns->queries.end();
            BOOST_TEST(asked == !c.want_log.empty());
        }
    }
}

BOOST_AUTO_TEST_CASE(tag_adds_a_header_at_end_of_message) {
    Senders senders;
    Fixture f(senders.config + "milter_dmarc_action = tag\n");
    relay(*f.dns);
    dmarc(*f.dns, "v=DMARC1; p=reject");
    bounce_spf(*f.dns, "v=spf1 -all");
    const Outcome o = run(f);
    BOOST_TEST(o.answer == "eom: verp");
    BOOST_REQUIRE(o.headers.size() == 1u);
    BOOST_TEST(o.headers[0].first == "X-Sendguard-Preflight");
    BOOST_TEST(o.headers[0].second ==
               "dmarc=fail from=customer-c.example envelope=bounces.customer-c.example; " + kFixIt);
    BOOST_TEST(contains(logging::captured(), "action=tag, stage=header"));
}

BOOST_AUTO_TEST_CASE(loopback_relay_address_is_a_config_error) {
    Senders senders;
    BOOST_CHECK_EXCEPTION(Fixture(senders.config + "relay_public_addresses = 127.0.0.1\n"), config::Error,
                          [](const config::Error& e) {
                              return contains(e.what(), "invalid relay_public_addresses: 127.0.0.1 (a loopback");
                          });
}

BOOST_AUTO_TEST_SUITE_END()
