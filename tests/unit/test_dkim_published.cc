// test_dkim_published.cc - is a key's public half in DNS? (safe rotation)
//
// check_published against a fake TXT Querier, and KeyStatus's cache with a
// fake clock: only a Match signs, a TempFail keeps a recent Match signing.
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "common/dkim/published.h"
#include "tests/unit/test_dkim_support.h"

using dkim_test::KeyKind;

namespace {

struct Fixture {
    dkim_test::Keys k;
    dkim::KeyTable table = dkim::KeyTable::parse(
        "example.com rsa " + k.file("r", KeyKind::Rsa2048) + "\nexample.com ed " + k.file("e", KeyKind::Ed25519) + "\n",
        "keys");
    const dkim::Key& rsa = *table.find("example.com", "rsa");
    const dkim::Key& ed = *table.find("example.com", "ed");
    dkim_test::FakeTxt dns;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(dkim_published)

BOOST_AUTO_TEST_CASE(key_records) {
    struct Case {
        std::string text;
        bool ok;
        std::string k, p;
    };
    const std::vector<Case> cases = {
        {"v=DKIM1; k=rsa; p=MIIB", true, "rsa", "MIIB"},
        {"p=MIIB", true, "rsa", "MIIB"},
        {"v=DKIM1;k=ed25519;p=abc=;", true, "ed25519", "abc="},
        {" v = DKIM1 ; h = sha256 ; t = y ; p = ", true, "rsa", ""},
        {"k=RSA; p=x", true, "rsa", "x"},
        {"k=rsa; v=DKIM1; p=x", false, "", ""},  // v= must come first
        {"v=DKIM2; p=x", false, "", ""},
        {"v=spf1 -all", false, "", ""},
        {"v=DKIM1; k=rsa", false, "", ""},      // no p=
        {"p=x; p=y", false, "", ""},            // a tag twice
        {"v=DKIM1; garbage; p=x", false, "", ""},
    };
    for (const Case& c : cases) {
        const auto r = dkim::parse_key_record(c.text);
        BOOST_TEST_CONTEXT(c.text) {
            BOOST_TEST(r.has_value() == c.ok);
            if (r && c.ok) {
                BOOST_TEST(r->k == c.k);
                BOOST_TEST(r->p == c.p);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(outcomes) {
    Fixture f;
    const std::string name = f.rsa.dns_name();
    const std::string good = f.rsa.key.record();
    // The same key as a bare RSAPublicKey would be accepted too; another key is not.
    dkim_test::Keys other;
    const auto rsa2 = dkim::PrivateKey::load_file(other.file("r2", KeyKind::Rsa2048, 1));
    struct Case {
        const char* name;
        std::vector<std::string> txt;
        dns::Status status;
        dkim::Outcome want;
    };
    const std::vector<Case> cases = {
        {"match", {good}, dns::Status::Ok, dkim::Outcome::Match},
        {"match, split p", {"v=DKIM1; k=rsa; p=" + f.rsa.key.public_base64().substr(0, 100) + " " +
                            f.rsa.key.public_base64().substr(100)}, dns::Status::Ok, dkim::Outcome::Match},
        {"match beside spf", {"v=spf1 -all", good}, dns::Status::Ok, dkim::Outcome::Match},
        {"nxdomain", {}, dns::Status::NxDomain, dkim::Outcome::Missing},
        {"nodata", {}, dns::Status::NoData, dkim::Outcome::Missing},
        {"no dkim record", {"hello"}, dns::Status::Ok, dkim::Outcome::Missing},
        {"revoked", {"v=DKIM1; k=rsa; p="}, dns::Status::Ok, dkim::Outcome::Revoked},
        {"mismatch", {rsa2.record()}, dns::Status::Ok, dkim::Outcome::Mismatch},
        {"not base64", {"v=DKIM1; p=!!!"}, dns::Status::Ok, dkim::Outcome::Mismatch},
        {"two records, one other", {good, rsa2.record()}, dns::Status::Ok, dkim::Outcome::Mismatch},
        {"k= mismatch", {"v=DKIM1; k=ed25519; p=" + f.rsa.key.public_base64()}, dns::Status::Ok,
         dkim::Outcome::KeyTypeMismatch},
        {"servfail", {}, dns::Status::ServFail, dkim::Outcome::TempFail},
        {"timeout", {}, dns::Status::Timeout, dkim::Outcome::TempFail},
    };
    for (const Case& c : cases) {
        f.dns.set(name, c.txt, c.status);
        const dkim::KeyCheck got = dkim::check_published(f.dns, f.rsa, std::chrono::seconds(5));
        BOOST_TEST_CONTEXT(c.name) {
            BOOST_TEST(dkim::to_string(got.outcome) == dkim::to_string(c.want));
            BOOST_TEST(got.expected_record == good);
        }
    }
    // Ed25519: p= is the raw key; k= must say ed25519.
    f.dns.set(f.ed.dns_name(), {f.ed.key.record()});
    BOOST_TEST(dkim::to_string(dkim::check_published(f.dns, f.ed, std::chrono::seconds(5)).outcome) == "match");
    f.dns.set(f.ed.dns_name(), {"v=DKIM1; p=" + f.ed.key.public_base64()});  // k= defaults to rsa
    BOOST_TEST(dkim::to_string(dkim::check_published(f.dns, f.ed, std::chrono::seconds(5)).outcome) ==
               "key_type_mismatch");
}

BOOST_AUTO_TEST_CASE(warning_text) {
    Fixture f;
    f.dns.set(f.ed.dns_name(), {"v=DKIM1; k=ed25519; p="});
    const dkim::KeyCheck c = dkim::check_published(f.dns, f.ed, std::chrono::seconds(5));
    const std::string want = "dkim key ed._domainkey.example.com (file " + f.ed.file +
                             "): public key not published in DNS: the published key is revoked (empty p=); found "
                             "\"v=DKIM1; k=ed25519; p=\"; publish \"" + f.ed.key.record() + "\"; not signing with it";
    BOOST_TEST(dkim::describe(c, f.ed) == want);
}

BOOST_AUTO_TEST_CASE(cache_and_recheck) {
    Fixture f;
    auto now = std::chrono::steady_clock::time_point{} + std::chrono::hours(100);
    dkim::KeyStatus status(std::chrono::seconds(3600), [&] { return now; });
    const auto use = [&] { return status.usable(f.dns, f.rsa, std::chrono::seconds(5)); };
    const std::string name = f.rsa.dns_name();

    f.dns.set(name, {f.rsa.key.record()});
    BOOST_TEST(use().sign);
    BOOST_TEST(f.dns.queries == 1);
    now += std::chrono::seconds(3599);
    BOOST_TEST(use().sign);  // cached
    BOOST_TEST(f.dns.queries == 1);

    // The record is replaced: seen after the interval, not before.
    dkim_test::Keys other;
    f.dns.set(name, {dkim::PrivateKey::load_file(other.file("x", KeyKind::Rsa2048, 1)).record()});
    BOOST_TEST(use().sign);
    now += std::chrono::seconds(1);
    BOOST_TEST(!use().sign);
    BOOST_TEST(dkim::to_string(use().outcome) == "mismatch");
    BOOST_TEST(f.dns.queries == 2);

    // Published again: a Match, then DNS fails. The recent Match keeps
    // signing through the failure, for twice the interval from the Match.
    now += std::chrono::seconds(3600);
    f.dns.set(name, {f.rsa.key.record()});
    BOOST_TEST(use().sign);
    const auto matched = now;
    now += std::chrono::seconds(3600);
    f.dns.fail(name, dns::Status::ServFail);
    BOOST_TEST(use().sign);
    BOOST_TEST(dkim::to_string(use().outcome) == "tempfail");
    const int asked = f.dns.queries;
    now += dkim::kTempFailRetry - std::chrono::seconds(1);
    (void)use();
    BOOST_TEST(f.dns.queries == asked);  // a TempFail is cached for kTempFailRetry
    now += std::chrono::seconds(1);
    (void)use();
    BOOST_TEST(f.dns.queries == asked + 1);  // then retried
    now = matched + std::chrono::seconds(2 * 3600) - std::chrono::seconds(1);
    BOOST_TEST(use().sign);
    now = matched + std::chrono::seconds(2 * 3600);
    BOOST_TEST(!use().sign);

    // A key never seen to match does not sign on a TempFail.
    now += std::chrono::hours(10);
    BOOST_TEST(!status.usable(f.dns, f.ed, std::chrono::seconds(5)).sign);  // NXDOMAIN
    f.dns.fail(f.ed.dns_name(), dns::Status::Timeout);
    now += std::chrono::hours(2);
    BOOST_TEST(!status.usable(f.dns, f.ed, std::chrono::seconds(5)).sign);

    // No budget left: nothing is asked.
    dkim::KeyStatus fresh(std::chrono::seconds(3600), [&] { return now; });
    const int before = f.dns.queries;
    BOOST_TEST(!fresh.usable(f.dns, f.rsa, std::chrono::seconds(0)).sign);
    BOOST_TEST(f.dns.queries == before);
}

BOOST_AUTO_TEST_CASE(background_refresh) {
    Fixture f;
    auto now = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
    dkim::KeyStatus status(std::chrono::seconds(600), [&] { return now; });
    f.dns.set(f.rsa.dns_name(), {f.rsa.key.record()});
    f.dns.set(f.ed.dns_name(), {f.ed.key.record()});
    status.refresh_due(f.dns, f.table.keys(), std::chrono::seconds(5));
    BOOST_TEST(f.dns.queries == 2);
    status.refresh_due(f.dns, f.table.keys(), std::chrono::seconds(5));
    BOOST_TEST(f.dns.queries == 2);  // nothing stale
    BOOST_TEST(status.usable(f.dns, f.ed, std::chrono::seconds(5)).sign);
    BOOST_TEST(f.dns.queries == 2);  // from the background pass's result
    now += std::chrono::seconds(600);
    status.refresh_due(f.dns, f.table.keys(), std::chrono::seconds(5));
    BOOST_TEST(f.dns.queries == 4);
    BOOST_TEST(dkim::to_string(status.last(f.rsa)->outcome) == "match");
}

BOOST_AUTO_TEST_SUITE_END()
