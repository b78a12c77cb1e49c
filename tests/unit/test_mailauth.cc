// test_mailauth.cc - common/mailauth: alignment, SPF over our DNS layer,
// DMARC records, preflight verdicts and fix-it texts, as tables
//
// DNS is a fake Querier (never real DNS); the public suffix list is
// Debian's file (publicsuffix), the one the milter loads.
#include <boost/test/unit_test.hpp>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/address/address.h"
#include "common/mailauth/align.h"
#include "common/mailauth/dmarc.h"
#include "common/mailauth/fixit.h"
#include "common/mailauth/preflight.h"
#include "common/mailauth/psl.h"
#include "common/mailauth/spf.h"

namespace {

using namespace std::chrono_literals;
using mailauth::AlignMode;
using mailauth::Spf;

// Answers by (name, type); a name not set is NXDOMAIN.
class Zone final : public dns::Querier {
public:
    Zone& txt(const std::string& name, std::vector<std::string> values) {
        return set(name, dns::Type::TXT, dns::Status::Ok, std::move(values));
    }
    Zone& set(const std::string& name, dns::Type t, dns::Status st, std::vector<std::string> values = {}) {
        dns::Answer a;
        a.status = st;
        for (auto& v : values) a.records.push_back({0, std::move(v)});
        answers_[{name, t}] = std::move(a);
        known_.emplace(name, 0);
        return *this;
    }
    dns::Answer query(std::string_view name, dns::Type type, std::chrono::seconds) const override {
        asked.push_back(std::string(dns::to_string(type)) + " " + std::string(name));
        if (auto it = answers_.find({std::string(name), type}); it != answers_.end()) return it->second;
        return {known_.count(std::string(name)) ? dns::Status::NoData : dns::Status::NxDomain};
    }
    mutable std::vector<std::string> asked;

private:
    std::map<std::pair<std::string, dns::Type>, dns::Answer> answers_;
    std::map<std::string, int> known_;
};

const mailauth::Psl& psl() {
    static const auto p = mailauth::Psl::load();
    return *p;
}

std::string normalised(const std::string& d) { return address::normalise_domain(d)->str(); }

}  // namespace

BOOST_AUTO_TEST_SUITE(mailauth_tests)

BOOST_AUTO_TEST_CASE(psl_is_debians_file) {
    BOOST_TEST(psl().from_file());
    BOOST_TEST(psl().organisational_domain("mail.example.co.uk") == "example.co.uk");
    BOOST_TEST(psl().organisational_domain("co.uk") == "co.uk");
    BOOST_TEST(psl().organisational_domain("bounces.customer-c.example") == "customer-c.example");
}

BOOST_AUTO_TEST_CASE(alignment) {
    struct Case {
        AlignMode mode;
        std::string auth, from;
        bool want;
    };
    const Case cases[] = {
        {AlignMode::Relaxed, "bounces.customer-c.example", "customer-c.example", true},
        {AlignMode::Strict, "bounces.customer-c.example", "customer-c.example", false},
        {AlignMode::Strict, "Customer-C.EXAMPLE", "customer-c.example", true},
        {AlignMode::Strict, "customer-c.example.", "customer-c.example", true},
        {AlignMode::Relaxed, "customer-c.example", "news.customer-c.example", true},
        {AlignMode::Relaxed, "bounce.example.co.uk", "example.co.uk", true},
        // OpenDMARC 1.4.2 says aligned here.
        {AlignMode::Strict, "bounce.example.co.uk", "example.co.uk", false},
        {AlignMode::Relaxed, "example.co.uk", "other.co.uk", false},
        {AlignMode::Relaxed, "co.uk", "example.co.uk", false},
        {AlignMode::Relaxed, "customer-c.example", "customer-d.example", false},
        {AlignMode::Relaxed, "bounces.example.com", "example.org", false},
        {AlignMode::Strict, normalised("bücher.example"), "XN--BCHER-KVA.example", true},
        {AlignMode::Relaxed, normalised("bounces.bücher.example"), normalised("bücher.example"), true},
        {AlignMode::Relaxed, "", "customer-c.example", false},
        {AlignMode::Strict, "", "", false},
    };
    for (const Case& c : cases)
        BOOST_TEST(mailauth::aligned(c.mode, c.auth, c.from, psl()) == c.want,
                   "aspf=" << mailauth::to_string(c.mode) << " " << c.auth << " vs " << c.from << ": got "
                           << !c.want << ", want " << c.want);
}

BOOST_AUTO_TEST_CASE(spf_through_our_dns_layer) {
    Zone z;
    z.txt("pass.example", {"some other text", "v=spf1 ip4:192.0.2.1 ip6:2001:db8::/32 -all"});
    z.txt("soft.example", {"v=spf1 ~all"});
    z.txt("neutral.example", {"v=spf1 ?all"});
    z.txt("inc.example", {"v=spf1 include:spf.relay.example -all"});
    z.txt("spf.relay.example", {"v=spf1 ip4:192.0.2.0/24 -all"});
    z.txt("mx.example", {"v=spf1 mx -all"});
    z.set("mx.example", dns::Type::MX, dns::Status::Ok, {"mail.mx.example"});
    z.set("mail.mx.example", dns::Type::A, dns::Status::Ok, {"192.0.2.1"});
    std::string many = "v=spf1";
    for (int i = 1; i <= 11; ++i) {
        many += " include:i" + std::to_string(i) + ".example";
        z.txt("i" + std::to_string(i) + ".example", {"v=spf1 ?all"});
    }
    z.txt("many.example", {many + " -all"});
    z.txt("void.example", {"v=spf1 a:n1.example a:n2.example a:n3.example -all"});
    z.txt("macro.example", {"v=spf1 exists:%{i}._spf.%{d} -all"});
    z.set("192.0.2.1._spf.macro.example", dns::Type::A, dns::Status::Ok, {"127.0.0.2"});
    z.set("slow.example", dns::Type::TXT, dns::Status::Timeout);
    z.txt("slowinc.example", {"v=spf1 include:servfail.example -all"});
    z.set("servfail.example", dns::Type::TXT, dns::Status::ServFail);
    z.txt("two.example", {"v=spf1 -all", "v=spf1 +all"});
    z.txt("broken.example", {"v=spf1 ip4:not-an-address -all"});
    z.txt("long.example", {"v=spf1 " + std::string(3000, 'a') + " -all"});
    z.set("nospf.example", dns::Type::TXT, dns::Status::NoData);

    struct Case {
        std::string ip, domain;
        Spf want;
    };
    const Case cases[] = {
        {"192.0.2.1", "pass.example", Spf::Pass},
        {"2001:db8::25", "pass.example", Spf::Pass},
        {"192.0.2.2", "pass.example", Spf::Fail},
        {"192.0.2.1", "soft.example", Spf::SoftFail},
        {"192.0.2.1", "neutral.example", Spf::Neutral},
        {"192.0.2.77", "inc.example", Spf::Pass},
        {"198.51.100.1", "inc.example", Spf::Fail},
        {"192.0.2.1", "mx.example", Spf::Pass},
        {"192.0.2.9", "mx.example", Spf::Fail},
        {"192.0.2.1", "many.example", Spf::PermError},  // 11 includes: the 10-lookup limit
        {"192.0.2.1", "void.example", Spf::PermError},  // three void lookups
        {"192.0.2.1", "macro.example", Spf::Pass},
        {"192.0.2.2", "macro.example", Spf::Fail},
        {"192.0.2.1", "slow.example", Spf::TempError},
        {"192.0.2.1", "slowinc.example", Spf::TempError},
        {"192.0.2.1", "two.example", Spf::PermError},
        {"192.0.2.1", "broken.example", Spf::PermError},
        {"192.0.2.1", "long.example", Spf::PermError},
        {"192.0.2.1", "nospf.example", Spf::None},
        {"192.0.2.1", "nosuch.example", Spf::None},
        {"127.0.0.1", "pass.example", Spf::PermError},  // libspf2 would pass loopback
        {"::1", "pass.example", Spf::PermError},
        {"not-an-ip", "pass.example", Spf::PermError},
    };
    for (const Case& c : cases) {
        const mailauth::SpfResult r = mailauth::evaluate(z, c.ip, c.domain, "relay.example", mailauth::Deadline(5s));
        BOOST_TEST((r.result == c.want), c.ip << " for " << c.domain << ": got " << mailauth::to_string(r.result)
                                             << " (" << r.explanation << "), want " << mailauth::to_string(c.want));
    }
    const auto r = mailauth::evaluate(z, "192.0.2.1", "pass.example", "relay.example", mailauth::Deadline(5s));
    BOOST_TEST(r.record_text == "v=spf1 ip4:192.0.2.1 ip6:2001:db8::/32 -all");
}

BOOST_AUTO_TEST_CASE(spf_time_bound) {
    Zone z;
    z.txt("inc.example", {"v=spf1 include:spf.relay.example -all"});
    z.txt("spf.relay.example", {"v=spf1 ip4:192.0.2.0/24 -all"});
    // A clock that moves 5s per query: the include's query finds no time left.
    auto now = std::make_shared<std::chrono::steady_clock::time_point>();
    struct Slow final : dns::Querier {
        const Zone& z;
        std::shared_ptr<std::chrono::steady_clock::time_point> now;
        Slow(const Zone& zz, std::shared_ptr<std::chrono::steady_clock::time_point> n) : z(zz), now(std::move(n)) {}
        dns::Answer query(std::string_view name, dns::Type t, std::chrono::seconds b) const override {
            *now += 5s;
            return z.query(name, t, b);
        }
    } slow(z, now);
    const mailauth::Deadline d(5s, [now] { return *now; });
    const auto r = mailauth::evaluate(slow, "192.0.2.1", "inc.example", "relay.example", d);
    BOOST_TEST(mailauth::to_string(r.result) == "temperror");
    BOOST_TEST(r.explanation.find("longer than allowed") != std::string::npos, r.explanation);
    BOOST_TEST(z.asked.size() == 1u);
}

BOOST_AUTO_TEST_CASE(dmarc_fetch_and_parse) {
    Zone z;
    z.txt("_dmarc.customer-c.example", {"v=DMARC1; p=reject; aspf=s; adkim=s; pct=50"});
    z.txt("_dmarc.customer-d.example", {"v=DMARC1; p=quarantine; sp=reject"});
    z.txt("_dmarc.example.co.uk", {"v=DMARC1; p=reject"});
    z.txt("_dmarc.bogus.example", {"v=DMARC1; p=bogus"});
    z.txt("_dmarc.other.example", {"some verification token", "v=spf1 -all"});
    z.txt("_dmarc.twice.example", {"v=DMARC1; p=reject", "v=DMARC1; p=none"});
    z.set("_dmarc.slow.example", dns::Type::TXT, dns::Status::Timeout);
    struct Case {
        std::string from;
        std::string want;  // status[:domain:p:sp:adkim:aspf:pct]
    };
    const Case cases[] = {
        {"customer-c.example", "found:customer-c.example:reject:reject:s:s:50"},
        {"news.customer-c.example", "found:customer-c.example:reject:reject:s:s:50"},
        {"news.customer-d.example", "found:customer-d.example:quarantine:reject:r:r:100"},
        {"mail.example.co.uk", "found:example.co.uk:reject:reject:r:r:100"},
        {"bogus.example", "broken"},
        {"other.example", "none"},
        {"twice.example", "none"},
        {"nosuch.example", "none"},
        {"slow.example", "temperror"},
    };
    for (const Case& c : cases) {
        const mailauth::DmarcLookup l = mailauth::fetch_dmarc(z, c.from, psl(), mailauth::Deadline(5s));
        std::string got(mailauth::to_string(l.status));
        if (l.record) {
            const auto& r = *l.record;
            got += ":" + r.domain + ":" + std::string(mailauth::to_string(r.p)) + ":" +
                   std::string(mailauth::to_string(r.sp)) + ":" + std::string(mailauth::to_string(r.adkim)) + ":" +
                   std::string(mailauth::to_string(r.aspf)) + ":" + std::to_string(r.pct);
        }
        BOOST_TEST(got == c.want, c.from << ": got " << got << ", want " << c.want << " " << l.detail);
    }
    // The fallback goes to the organisational domain, never the suffix.
    z.asked.clear();
    mailauth::fetch_dmarc(z, "a.b.example.co.uk", psl(), mailauth::Deadline(5s));
    BOOST_TEST(z.asked == (std::vector<std::string>{"TXT _dmarc.a.b.example.co.uk", "TXT _dmarc.example.co.uk"}),
               boost::test_tools::per_element());
    // sp= applies below the record's domain only.
    const auto r = mailauth::parse_dmarc("v=DMARC1; p=none; sp=reject", "customer-d.example");
    BOOST_REQUIRE(r);
    BOOST_TEST(mailauth::to_string(mailauth::effective_policy(*r, "customer-d.example")) == "none");
    BOOST_TEST(mailauth::to_string(mailauth::effective_policy(*r, "x.customer-d.example")) == "reject");
}

BOOST_AUTO_TEST_CASE(preflight_verdicts_and_fix_it_texts) {
    const mailauth::Relay relay{{"192.0.2.1"}, "relay.example", "include:spf.relay.example"};
    const mailauth::Relay bare{{"192.0.2.1", "2001:db8::1"}, "relay.example", ""};
    Zone z;
    z.txt("spf.relay.example", {"v=spf1 ip4:192.0.2.1 -all"});
    z.txt("_dmarc.customer-c.example", {"v=DMARC1; p=reject"});
    z.txt("bounces.customer-c.example", {"v=spf1 -all"});
    z.txt("_dmarc.customer-ok.example", {"v=DMARC1; p=reject"});
    z.txt("bounces.customer-ok.example", {"v=spf1 include:spf.relay.example -all"});
    z.txt("_dmarc.customer-n.example", {"v=DMARC1; p=quarantine"});
    z.set("bounces.customer-n.example", dns::Type::MX, dns::Status::Ok, {"mx.customer-n.example"});
    z.txt("_dmarc.customer-s.example", {"v=DMARC1; p=reject; aspf=s"});
    z.txt("_dmarc.customer-none.example", {"v=DMARC1; p=none"});
    z.set("_dmarc.customer-slow.example", dns::Type::TXT, dns::Status::ServFail);
    z.txt("_dmarc.customer-t.example", {"v=DMARC1; p=reject"});
    z.set("bounces.customer-t.example", dns::Type::TXT, dns::Status::Timeout);
    z.txt("_dmarc.customer-p.example", {"v=DMARC1; p=reject"});
    z.txt("bounces.customer-p.example", {"v=spf1 include:nosuch.example -all"});
    struct Case {
        const char* what;
        mailauth::Relay relay;
        mailauth::PreflightInput in;
        std::string want;  // verdict, then ": " fix-it text when will_fail
    };
    const std::vector<mailauth::DkimCandidate> s1{{"s1", "customer-c.example"}};
    const Case cases[] = {
        {"SPF of the bounce domain lacks the relay", relay,
         {"customer-c.example", "bounces.customer-c.example", {"", s1}},
         "will_fail: DMARC for customer-c.example will fail: add include:spf.relay.example to the SPF record of "
         "bounces.customer-c.example, or publish DKIM selector s1 for customer-c.example"},
        {"bounce domain SPF includes the relay", relay,
         {"customer-ok.example", "bounces.customer-ok.example", {}}, "will_pass"},
        {"no SPF record at the bounce domain", relay,
         {"customer-n.example", "bounces.customer-n.example", {}},
         "will_fail: DMARC for customer-n.example will fail: publish \"v=spf1 include:spf.relay.example -all\" at "
         "bounces.customer-n.example, or set up DKIM signing for customer-n.example"},
        {"no include configured: the relay's addresses", bare,
         {"customer-n.example", "bounces.customer-n.example", {}},
         "will_fail: DMARC for customer-n.example will fail: publish \"v=spf1 ip4:192.0.2.1 ip6:2001:db8::1 -all\" "
         "at bounces.customer-n.example, or set up DKIM signing for customer-n.example"},
        {"aspf=s with a bounce subdomain", relay,
         {"customer-s.example", "bounces.customer-s.example", {"other.example", {}}},
         "will_fail: DMARC for customer-s.example will fail: aspf=s: the envelope domain bounces.customer-s.example "
         "cannot align; relax aspf in the DMARC record of customer-s.example, or sign with a DKIM key of "
         "customer-s.example (d=other.example does not align)"},
        {"envelope domain of another organisation", relay,
         {"customer-c.example", "bounces.relay.example", {}},
         "will_fail: DMARC for customer-c.example will fail: the envelope domain bounces.relay.example is not in the "
         "organisational domain of customer-c.example: use a bounce domain below customer-c.example, or set up "
         "DKIM signing for customer-c.example"},
        {"broken SPF record", relay,
         {"customer-p.example", "bounces.customer-p.example", {}},
         "will_fail: DMARC for customer-p.example will fail: repair the SPF record of bounces.customer-p.example "
         "(permerror) and add include:spf.relay.example to it, or set up DKIM signing for customer-p.example"},
        {"aligned DKIM: SPF not asked", relay,
         {"customer-c.example", "bounces.customer-c.example", {"customer-c.example", {}}}, "will_pass"},
        {"p=none", relay, {"customer-none.example", "bounces.customer-none.example", {}}, "no_policy"},
        {"no DMARC record", relay, {"nosuch.example", "bounces.nosuch.example", {}}, "no_policy"},
        {"DMARC lookup fails", relay, {"customer-slow.example", "bounces.customer-slow.example", {}}, "unknown"},
        {"SPF lookup times out", relay, {"customer-t.example", "bounces.customer-t.example", {}}, "unknown"},
    };
    for (const Case& c : cases) {
        const mailauth::PreflightResult r = mailauth::preflight(z, psl(), c.relay, c.in, mailauth::Deadline(5s));
        std::string got(mailauth::to_string(r.verdict));
        if (!r.fix_it.empty()) got += ": " + r.fix_it;
        BOOST_TEST(got == c.want, c.what << ":\n got  " << got << "\n want " << c.want << "\n (" << r.detail << ")");
    }
}

BOOST_AUTO_TEST_SUITE_END()
