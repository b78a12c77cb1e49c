// test_doctor.cc - sendguard doctor: reverse DNS, the checks as tables over
// a fake name server, the report's lines, JSON and exit status
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "cli/doctor_checks.h"
#include "cli/doctor_report.h"
#include "common/address/address.h"
#include "common/dns/reverse.h"

namespace {

using namespace std::chrono_literals;
using cli::doctor::Check;
using cli::doctor::Status;

// Answers from a table; every other name is NXDOMAIN.
class TableQuerier final : public dns::Querier {
public:
    TableQuerier& set(const std::string& name, dns::Type t, dns::Answer a) {
        table_[{name, t}] = std::move(a);
        return *this;
    }
    dns::Answer query(std::string_view name, dns::Type type, std::chrono::seconds) const override {
        auto it = table_.find({std::string(name), type});
        if (it == table_.end()) return {dns::Status::NxDomain};
        return it->second;
    }

private:
    std::map<std::pair<std::string, dns::Type>, dns::Answer> table_;
};

dns::Answer ok(std::vector<dns::Record> r) { return {dns::Status::Ok, std::move(r), 300s}; }
dns::Answer names(std::vector<std::string> v) {
    std::vector<dns::Record> r;
    for (auto& s : v) r.push_back({0, std::move(s)});
    return ok(std::move(r));
}
dns::Answer status(dns::Status s) { return {s, {}, 0s}; }

address::Domain domain(const char* text) {
    auto d = address::normalise_domain(text);
    BOOST_REQUIRE(d.ok());
    return *d;
}

const cli::doctor::Relay kRelay{{"192.0.2.10", "2001:db8::10"}, "relay.example", "include:spf.relay.example"};
const char kPtr4[] = "10.2.0.192.in-addr.arpa";

std::string show(const Check& c) { return cli::doctor::text_line(c); }

}  // namespace

BOOST_AUTO_TEST_SUITE(doctor)

BOOST_AUTO_TEST_CASE(reverse_names_and_canonical_addresses) {
    const std::pair<const char*, const char*> cases[] = {
        {"192.0.2.10", "10.2.0.192.in-addr.arpa"},
        {"2001:db8::1", "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"},
        {"relay.example", ""},
        {"192.0.2", ""},
    };
    for (const auto& [in, want] : cases) {
        const auto got = dns::reverse_name(in);
        BOOST_TEST((got ? *got : std::string()) == want, in << ": got " << (got ? *got : "nullopt") << ", want " << want);
    }
    BOOST_TEST(dns::canonical_address("2001:DB8:0::0:1").value_or("") == "2001:db8::1");
    BOOST_TEST(dns::canonical_address("192.0.2.010").has_value() == false);
}

BOOST_AUTO_TEST_CASE(ptr_check) {
    struct Case {
        const char* what;
        TableQuerier q;
        Status want;
        const char* found;
    };
    const std::string fix = "set the PTR of 192.0.2.10 to relay.example (your hosting provider's reverse DNS panel), "
                            "and publish relay.example. A 192.0.2.10";
    std::vector<Case> cases;
    cases.push_back({"PTR is the HELO name and resolves back",
                     TableQuerier()
                         .set(kPtr4, dns::Type::PTR, names({"relay.example"}))
                         .set("relay.example", dns::Type::A, names({"192.0.2.10"})),
                     Status::Pass, "PTR relay.example, resolves back (FCrDNS), is relay_helo_name"});
    cases.push_back({"another PTR name, but the HELO name resolves to the address",
                     TableQuerier()
                         .set(kPtr4, dns::Type::PTR, names({"host10.provider.example"}))
                         .set("host10.provider.example", dns::Type::A, names({"192.0.2.10"}))
                         .set("relay.example", dns::Type::A, names({"192.0.2.10"})),
                     Status::Pass,
                     "PTR host10.provider.example (FCrDNS); relay_helo_name relay.example resolves to 192.0.2.10"});
    cases.push_back({"another PTR name, and the HELO name is elsewhere",
                     TableQuerier()
                         .set(kPtr4, dns::Type::PTR, names({"host10.provider.example"}))
                         .set("host10.provider.example", dns::Type::A, names({"192.0.2.10"}))
                         .set("relay.example", dns::Type::A, names({"198.51.100.1"})),
                     Status::Fail,
                     "PTR host10.provider.example (FCrDNS) is not relay_helo_name relay.example, which does not "
                     "resolve to 192.0.2.10"});
    cases.push_back({"no PTR", TableQuerier(), Status::Fail, "no PTR record"});
    cases.push_back({"PTR that does not resolve back",
                     TableQuerier()
                         .set(kPtr4, dns::Type::PTR, names({"relay.example"}))
                         .set("relay.example", dns::Type::A, names({"198.51.100.1"})),
                     Status::Fail, "PTR relay.example does not resolve back to 192.0.2.10 (no FCrDNS)"});
    cases.push_back({"SERVFAIL", TableQuerier().set(kPtr4, dns::Type::PTR, status(dns::Status::ServFail)),
                     Status::Temp, "cannot check the PTR of 192.0.2.10: DNS server failure (SERVFAIL)"});
    cases.push_back({"forward lookup times out",
                     TableQuerier()
                         .set(kPtr4, dns::Type::PTR, names({"relay.example"}))
                         .set("relay.example", dns::Type::A, status(dns::Status::Timeout)),
                     Status::Temp, "cannot check the PTR of 192.0.2.10: the DNS lookup timed out"});
    for (const Case& c : cases) {
        BOOST_TEST_CONTEXT(c.what) {
            const Check got = cli::doctor::check_ptr(c.q, kRelay, "192.0.2.10", {});
            BOOST_TEST(got.check == "ptr");
            BOOST_TEST(got.subject == "192.0.2.10");
            BOOST_TEST(cli::doctor::to_string(got.status) == cli::doctor::to_string(c.want), show(got));
            BOOST_TEST(got.found == c.found);
            const bool wants_fix = c.want == Status::Fail;
            BOOST_TEST(got.fix == (wants_fix ? fix : std::string()));
        }
    }
}

BOOST_AUTO_TEST_CASE(bounce_mx_check) {
    struct Case {
        const char* what;
        TableQuerier q;
        Status want;
        const char* found;
    };
    const char* bd = "bounces.customer-c.example";
    std::vector<Case> cases;
    cases.push_back({"MX is the HELO name", TableQuerier().set(bd, dns::Type::MX, ok({{10, "relay.example"}})),
                     Status::Pass, "MX relay.example is relay_helo_name"});
    cases.push_back({"MX resolves to a relay address",
                     TableQuerier()
                         .set(bd, dns::Type::MX, ok({{10, "mx1.relay.example"}}))
                         .set("mx1.relay.example", dns::Type::AAAA, names({"2001:db8:0::10"})),
                     Status::Pass, "MX mx1.relay.example resolves to 2001:db8::10, a relay_public_addresses address"});
    cases.push_back({"MX elsewhere",
                     TableQuerier()
                         .set(bd, dns::Type::MX, ok({{10, "mx.customer-c.example"}}))
                         .set("mx.customer-c.example", dns::Type::A, names({"198.51.100.25"})),
                     Status::Fail, "MX mx.customer-c.example (198.51.100.25) is not this relay: bounces go elsewhere"});
    cases.push_back({"no MX", TableQuerier().set(bd, dns::Type::MX, status(dns::Status::NoData)), Status::Fail,
                     "no MX record"});
    cases.push_back({"no such domain", TableQuerier(), Status::Fail, "the bounce domain does not exist (NXDOMAIN)"});
    cases.push_back({"null MX", TableQuerier().set(bd, dns::Type::MX, ok({{0, "."}})), Status::Fail,
                     "a null MX: the bounce domain accepts no mail"});
    cases.push_back({"time-out", TableQuerier().set(bd, dns::Type::MX, status(dns::Status::Timeout)), Status::Temp,
                     "cannot check the MX of bounces.customer-c.example: the DNS lookup timed out"});
    for (const Case& c : cases) {
        BOOST_TEST_CONTEXT(c.what) {
            const Check got = cli::doctor::check_bounce_mx(c.q, kRelay, domain(bd), {});
            BOOST_TEST(got.subject == bd);
            BOOST_TEST(cli::doctor::to_string(got.status) == cli::doctor::to_string(c.want), show(got));
            BOOST_TEST(got.found == c.found);
            BOOST_TEST(got.fix == (c.want == Status::Fail ? "bounces.customer-c.example. MX 10 relay.example." : ""));
        }
    }
    const Check none = cli::doctor::check_bounce_mx(TableQuerier(), kRelay, std::nullopt, {});
    BOOST_TEST(cli::doctor::to_string(none.status) == "FAIL");
    BOOST_TEST(none.fix == "add bounces.* to bounce_domains, or a line to milter_bounce_domain_maps");
}

BOOST_AUTO_TEST_CASE(reply_check_says_what_the_milter_says) {
    const auto d = domain("customer-c.example");
    const Check pass =
        cli::doctor::check_reply(TableQuerier().set(d.str(), dns::Type::MX, ok({{10, "mx.customer-c.example"}})), d, {});
    BOOST_TEST(show(pass) == "PASS  reply customer-c.example: domain customer-c.example receives mail (MX)");
    const Check fail = cli::doctor::check_reply(TableQuerier(), d, {});
    BOOST_TEST(show(fail) == "FAIL  reply customer-c.example: domain customer-c.example does not exist (NXDOMAIN)  ->  "
                             "publish the MX of the mail server that receives mail for customer-c.example, e.g. "
                             "customer-c.example. MX 10 MAIL-SERVER.");
    const Check temp =
        cli::doctor::check_reply(TableQuerier().set(d.str(), dns::Type::MX, status(dns::Status::Timeout)), d, {});
    BOOST_TEST(show(temp) == "TEMP  reply customer-c.example: cannot check domain customer-c.example: the DNS lookup "
                             "timed out");
}

BOOST_AUTO_TEST_CASE(relay_identity_must_be_set) {
    BOOST_TEST(cli::doctor::check_relay(kRelay).empty());
    const auto missing = cli::doctor::check_relay({});
    BOOST_REQUIRE(missing.size() == 2u);
    BOOST_TEST(missing[0].subject == "relay_public_addresses");
    BOOST_TEST(missing[1].subject == "relay_helo_name");
}

BOOST_AUTO_TEST_CASE(exit_status_fail_beats_temp_warn_passes) {
    const auto c = [](Status s) { return Check{"x", "y", s, "", ""}; };
    const std::pair<std::vector<Check>, int> cases[] = {
        {{}, 0},
        {{c(Status::Pass), c(Status::Warn)}, 0},
        {{c(Status::Pass), c(Status::Temp)}, 75},
        {{c(Status::Temp), c(Status::Fail)}, 1},
        {{c(Status::Fail), c(Status::Warn)}, 1},
    };
    for (const auto& [checks, want] : cases) BOOST_TEST(cli::doctor::exit_status(checks) == want);
}

BOOST_AUTO_TEST_CASE(json_report_and_untrusted_text) {
    cli::doctor::Report r{"customer-c.example", "bounces.customer-c.example",
                          {{"reply", "customer-c.example", Status::Pass, "ok", ""},
                           {"mx", "bounces.customer-c.example", Status::Fail, "no \"MX\"", "publish"}}};
    BOOST_TEST(cli::doctor::json_report(r) ==
               "{\"domain\":\"customer-c.example\",\"bounce_domain\":\"bounces.customer-c.example\",\"exit_status\":1,"
               "\"checks\":[{\"check\":\"reply\",\"subject\":\"customer-c.example\",\"status\":\"pass\",\"found\":"
               "\"ok\",\"fix\":null},{\"check\":\"mx\",\"subject\":\"bounces.customer-c.example\",\"status\":\"fail\","
               "\"found\":\"no \\\"MX\\\"\",\"fix\":\"publish\"}]}");
    r.bounce_domain.reset();
    BOOST_TEST(cli::doctor::json_report(r).find("\"bounce_domain\":null") != std::string::npos);
    // A record from DNS with a line break cannot forge a second line.
    const Check evil{"spf", "customer-c.example", Status::Fail, "v=spf1\nPASS  fake", ""};
    BOOST_TEST(show(evil).find('\n') == std::string::npos, show(evil));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(doctor_spf)

BOOST_AUTO_TEST_CASE(exactly_one_spf_record) {
    const std::string n = "bounces.customer-c.example";
    const auto txt = [](std::vector<std::string> v) { return names(std::move(v)); };
    struct Case {
        const char* what;
        TableQuerier q;
        std::string want;
    };
    std::vector<Case> cases;
    cases.push_back({"one, not authorising the relay",
                     TableQuerier().set(n, dns::Type::TXT, txt({"google-site-verification=x", "v=spf1 mx -all"})),
                     "FAIL  spf bounces.customer-c.example: \"v=spf1 mx -all\" does not authorise the relay's "
                     "192.0.2.10 (fail)  ->  bounces.customer-c.example. TXT \"v=spf1 include:spf.relay.example mx "
                     "-all\""});
    cases.push_back({"one, authorising both addresses",
                     TableQuerier().set(n, dns::Type::TXT,
                                        txt({"v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all"})),
                     "PASS  spf bounces.customer-c.example: \"v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all\" "
                     "authorises 192.0.2.10, 2001:db8::10"});
    {
        // RFC 7208 4.6.4: 11 DNS-querying mechanisms.
        TableQuerier q;
        std::string rec = "v=spf1";
        for (int i = 0; i < 11; ++i) {
            const std::string inc = "i" + std::to_string(i) + ".example";
            rec += " include:" + inc;
            q.set(inc, dns::Type::TXT, txt({"v=spf1 -all"}));
        }
        q.set(n, dns::Type::TXT, txt({rec + " -all"}));
        const Check got = cli::doctor::check_spf(q, kRelay, n, {});
        BOOST_TEST(got.found.find("needs more than 10 DNS lookups, a permerror (RFC 7208 4.6.4)") != std::string::npos,
                   show(got));
        BOOST_TEST(cli::doctor::to_string(got.status) == "FAIL");
    }
    cases.push_back({"two", TableQuerier().set(n, dns::Type::TXT, txt({"v=spf1 mx -all", "V=SPF1 a -all"})),
                     "FAIL  spf bounces.customer-c.example: 2 SPF records, a permerror (RFC 7208 4.5): \"V=SPF1 a "
                     "-all\" and \"v=spf1 mx -all\"  ->  publish one: bounces.customer-c.example. TXT \"v=spf1 "
                     "include:spf.relay.example -all\" (merge the others into it)"});
    cases.push_back({"none", TableQuerier().set(n, dns::Type::TXT, txt({"v=spf10 nonsense"})),
                     "FAIL  spf bounces.customer-c.example: no SPF record (v=spf1)  ->  bounces.customer-c.example. "
                     "TXT \"v=spf1 include:spf.relay.example -all\""});
    cases.push_back({"servfail", TableQuerier().set(n, dns::Type::TXT, status(dns::Status::ServFail)),
                     "TEMP  spf bounces.customer-c.example: cannot check the SPF record of bounces.customer-c.example: "
                     "DNS server failure (SERVFAIL)"});
    for (const Case& c : cases)
        BOOST_TEST(show(cli::doctor::check_spf(c.q, kRelay, n, {})) == c.want, c.what);
    cli::doctor::Relay no_include = kRelay;
    no_include.spf_include.clear();
    BOOST_TEST(cli::doctor::relay_spf_record(no_include) == "v=spf1 ip4:192.0.2.10 ip6:2001:db8::10 -all");
}

BOOST_AUTO_TEST_CASE(txt_records_are_cut_into_255_octet_strings) {
    BOOST_TEST(cli::doctor::txt_record("a.example", "v=spf1 -all") == "a.example. TXT \"v=spf1 -all\"");
    const std::string p(300, 'A');
    BOOST_TEST(cli::doctor::txt_record("s._domainkey.a.example", p) ==
               "s._domainkey.a.example. TXT \"" + std::string(255, 'A') + "\" \"" + std::string(45, 'A') + "\"");
}

BOOST_AUTO_TEST_SUITE_END()
