// test_milter_dkim.cc - which messages sendguard-milter signs, and why not
//
// Whole messages through milter::Session with DKIM signing configured: the
// key records come from a fake TXT Querier, the signatures are checked by
// libopendkim from a key-record file (DKIM_QUERY_FILE), never real DNS.
#include <boost/test/unit_test.hpp>

#include <string>
#include <utility>
#include <vector>

#include "common/address/forward_seal.h"
#include "common/address/verp.h"
#include "common/dkim/setup.h"
#include "tests/unit/test_dkim_support.h"
#include "tests/unit/test_milter_support.h"

using dkim_test::KeyKind;
using milter_test::describe;

namespace {

bool contains(const std::string& s, const std::string& sub) { return s.find(sub) != std::string::npos; }

struct Signing {
    dkim_test::Keys k;
    std::string rsa = k.file("a.rsa", KeyKind::Rsa2048);
    std::string ed = k.file("a.ed", KeyKind::Ed25519);
    std::string relay = k.file("relay.ed", KeyKind::Ed25519, 1);
    std::string net = k.file("net.ed", KeyKind::Ed25519, 2);
    std::string key_table = k.write("keys", "customer-a.example s1 " + rsa + "\ncustomer-a.example s2 " + ed +
                                                "\nrelay.example p1 " + relay + "\nexample.net n1 " + net + "\n");
    std::string signing_table = k.write("signing",
                                        "customer-a.example customer-a.example\n"
                                        "rsa-only@customer-a.example customer-a.example:s1\n"
                                        "example.net example.net\n");
    std::string config(const std::string& extra = "") const {
        return "dkim_key_table = " + key_table + "\ndkim_signing_table = " + signing_table + "\n" + extra;
    }
};

struct Fixture {
    explicit Fixture(const std::string& extra = "", bool publish = true) : f(s.config(extra)) {
        dns = std::make_shared<dkim_test::FakeTxt>();
        auto p = std::make_shared<milter::Policy>(*f.settings.policy);
        dkim::SetupOptions o;
        o.dns = dns;
        o.fixed_time = 1796126400;
        p->dkim = dkim::signing_from(config::Config::parse(f.text, "test.conf"), o);
        f.settings.policy = p;
        std::string records;
        for (const auto& key : p->dkim->all_keys()) {
            if (publish) dns->set(key->dns_name(), {key->key.record()});
            records += key->dns_name() + " " + key->key.record() + "\n";
        }
        dkim::LibraryOptions lo;
        lo.sign_headers = {"From", "To", "Subject"};
        lo.oversign_headers = {"From"};
        lo.query_file = s.k.write("records.txt", records, 0644);
        verifier = std::make_unique<dkim::Library>(lo);
    }
    Signing s;
    milter_test::Fixture f;
    std::shared_ptr<dkim_test::FakeTxt> dns;
    std::unique_ptr<dkim::Library> verifier;
};

struct Message {
    milter::ConnectInfo client = milter_test::smtp_client();
    std::string login = "alice@customer-a.example";
    std::string sender = "<news@customer-a.example>";
    std::vector<std::pair<std::string, std::string>> headers = {
        {"From", " News <news@customer-a.example>"}, {"To", " bob@example.org"}, {"Subject", " Hi"}};
    std::string body = "Hello\r\n";
};

struct Result {
    std::string reply;
    std::vector<std::string> signatures;
    std::string log;
};

Result run(Fixture& fx, const Message& m) {
    logging::clear_captured();
    milter::Session s = fx.f.session();
    s.connect(m.client);
    Result r;
    r.reply = describe(s.mail(m.sender, {}, m.login, "Q1").reply);
    if (r.reply != "continue") return r;
    s.rcpt("<bob@example.org>", "smtp");
    for (const auto& [n, v] : m.headers) s.header(n, v);
    r.reply = describe(s.end_of_headers("Q1").reply);
    if (r.reply != "continue") return r;
    s.body(m.body);
    const milter::Decision d = s.end_of_message("Q1");
    r.reply = describe(d.reply);
    r.signatures = d.insert_headers;
    r.log = logging::captured();
    return r;
}

std::string verified(const Fixture& fx, const Message& m, const std::vector<std::string>& sigs) {
    std::string text;
    for (const auto& sig : sigs) {
        std::string v;
        for (char c : sig) v += c == '\n' ? std::string("\r\n") : std::string(1, c);
        text += "DKIM-Signature: " + v + "\r\n";
    }
    for (const auto& [n, v] : m.headers) text += n + ":" + v + "\r\n";
    text += "\r\n" + m.body;
    std::string out;
    for (const auto& r : dkim::verify(*fx.verifier, text))
        out += (out.empty() ? "" : " ") + r.domain + "/" + r.selector + "=" + (r.pass ? "pass" : r.error);
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(milter_dkim)

BOOST_AUTO_TEST_CASE(signed_when_the_sender_check_passed) {
    Fixture fx;
    const Message m;
    const Result r = run(fx, m);
    BOOST_TEST(r.reply == "continue");
    BOOST_TEST(r.signatures.size() == 2u);
    BOOST_TEST(verified(fx, m, r.signatures) == "customer-a.example/s1=pass customer-a.example/s2=pass");
    BOOST_TEST(contains(r.log, "Q1: milter: action=signed, stage=eom, client=client.example[192.0.2.10], "
                               "login=alice@customer-a.example, from=<news@customer-a.example>, "
                               "address=<news@customer-a.example>, why=signing_table, "
                               "detail=d=customer-a.example s=s1 a=rsa-sha256,d=customer-a.example s=s2 "
                               "a=ed25519-sha256"),
               r.log);
}

BOOST_AUTO_TEST_CASE(address_row_and_provider_signature) {
    Fixture fx("dkim_provider_domain = relay.example\n");
    Message m;
    m.headers[0] = {"From", " rsa-only@customer-a.example"};
    const Result r = run(fx, m);
    BOOST_TEST(verified(fx, m, r.signatures) == "customer-a.example/s1=pass relay.example/p1=pass");
    BOOST_TEST(contains(r.log, "action=signed"), r.log);
    BOOST_TEST(contains(r.log, "d=relay.example s=p1 a=ed25519-sha256"), r.log);
}

BOOST_AUTO_TEST_CASE(local_submission_allowed_by_local_senders_is_signed) {
    Fixture fx;
    Message m;
    m.client = milter_test::local_submission();
    m.login = "";
    m.sender = "<www-data@customer-a.example>";
    const Result r = run(fx, m);
    BOOST_TEST(r.signatures.size() == 2u);
    BOOST_TEST(contains(r.log, "action=signed"), r.log);
}

BOOST_AUTO_TEST_CASE(unsigned_with_why) {
    struct Case {
        const char* name;
        std::string extra;
        bool publish;
        std::function<void(Message&)> change;
        std::string want;  // in the log line
    };
    const std::vector<Case> cases = {
        {"no rule", "", true,
         [](Message& m) {
             m.login = "alice@customer-c.example";
             m.sender = "<x@customer-c.example>";
             m.headers[0] = {"From", " x@customer-c.example"};
         },
         "action=unsigned, stage=eom, client=client.example[192.0.2.10], login=alice@customer-c.example, "
         "from=<x@customer-c.example>, address=<x@customer-c.example>, why=no_signing_rule"},
        {"subdomain has no rule", "", true,
         [](Message& m) { m.headers[0] = {"From", " x@sub.customer-a.example"}; m.login = "x@sub.customer-a.example";
                          m.sender = "<x@sub.customer-a.example>"; },
         "why=no_signing_rule"},
        {"not published", "", false, [](Message&) {},
         "why=key_not_published, detail=s1._domainkey.customer-a.example=missing "
         "s2._domainkey.customer-a.example=missing"},
        {"several From: mailboxes", "", true,
         [](Message& m) { m.headers[0] = {"From", " a@customer-a.example, b@customer-a.example"}; },
         "why=several_from, detail=2 mailboxes"},
        {"dry run refusal", "milter_dry_run = yes\n", true,
         [](Message& m) { m.headers[0] = {"From", " boss@customer-b.example"}; },
         "why=dry_run_refused"},
    };
    for (const Case& c : cases) {
        Fixture fx(c.extra, c.publish);
        Message m;
        c.change(m);
        const Result r = run(fx, m);
        BOOST_TEST_CONTEXT(c.name) {
            BOOST_TEST(r.reply == "continue");
            BOOST_TEST(r.signatures.empty());
            BOOST_TEST(contains(r.log, c.want), "got " << r.log << "\nwant " << c.want);
        }
    }
}

BOOST_AUTO_TEST_CASE(a_refused_message_is_neither_signed_nor_logged_as_unsigned) {
    Fixture fx;
    Message m;
    m.headers[0] = {"From", " boss@customer-b.example"};
    const Result r = run(fx, m);
    BOOST_TEST(r.reply.starts_with("reject 550 5.7.1"));
    BOOST_TEST(!contains(logging::captured(), "action=unsigned"), logging::captured());
}

BOOST_AUTO_TEST_CASE(sealed_forward_is_not_signed) {
    // A reply sendguard-bounce forwards: its From: is the replier's
    // (example.net has a signing rule here); it is never signed as them.
    Fixture fx;
    Message m;
    m.client = milter_test::local_submission();
    m.login = "";
    m.sender = "<>";
    const std::string from = "Alice <alice@example.net>";
    const std::string seal = address::seal_forward(address::VerpKeys::from_strings({milter_test::kKey}),
                                                   "bob@example.org", from, milter_test::kNow);
    m.headers = {{"From", from}, {"X-Sendguard-Forwarded", seal}};
    const Result r = run(fx, m);
    BOOST_TEST(r.signatures.empty());
    BOOST_TEST(contains(r.log, "why=sealed_forward"), r.log);
    BOOST_TEST(contains(r.log, "action=unsigned"), r.log);
}

BOOST_AUTO_TEST_CASE(signing_off_logs_nothing_about_dkim) {
    milter_test::Fixture f;
    milter::Session s = f.session();
    s.connect(milter_test::smtp_client());
    BOOST_TEST(!s.signs());
    s.mail("<news@customer-a.example>", {}, "alice@customer-a.example", "Q1");
    s.rcpt("<bob@example.org>", "smtp");
    s.header("From", " news@customer-a.example");
    s.end_of_headers("Q1");
    const milter::Decision d = s.end_of_message("Q1");
    BOOST_TEST(d.insert_headers.empty());
    BOOST_TEST(!contains(logging::captured(), "signed"), logging::captured());
}

BOOST_AUTO_TEST_CASE(configuration_errors) {
    Signing s;
    const auto error_of = [&](const std::string& extra) {
        try {
            milter_test::Fixture f(extra);
        } catch (const std::exception& e) {
            return std::string(e.what());
        }
        return std::string();
    };
    BOOST_TEST(error_of(s.config()) == "");
    BOOST_TEST(contains(error_of("dkim_signing_table = " + s.signing_table + "\n"),
                        ": invalid dkim_signing_table: " + s.signing_table +
                            " (dkim_key_table is empty: name the key table too)"));
    BOOST_TEST(contains(error_of(s.config("dkim_provider_domain = nokeys.example\n")),
                        "invalid dkim_provider_domain: nokeys.example (no key for it in the key table"));
    BOOST_TEST(contains(error_of(s.config("dkim_sign_headers = Subject, To\n")),
                        "invalid dkim_sign_headers: Subject, To (From must be signed (RFC 6376 5.4))"));
    BOOST_TEST(contains(error_of(s.config("dkim_oversign_headers = From, X-Other\n")),
                        "invalid dkim_oversign_headers: X-Other (not in dkim_sign_headers"));
    BOOST_TEST(contains(error_of(s.config("dkim_sign_headers = From, X-*\n")),
                        "invalid dkim_sign_headers: X-* (not a header field name)"));
    const std::string bad = s.k.write("bad-signing", "*.customer-a.example customer-a.example\n");
    BOOST_TEST(error_of("dkim_key_table = " + s.key_table + "\ndkim_signing_table = " + bad + "\n") ==
               bad + ":1: wildcard *.customer-a.example: the signing table names each From: domain or address");
}

// The preflight counts the milter's own signature: a published aligned key
// makes DMARC pass although SPF of the bounce domain fails; with the row's
// keys unpublished the refusal names the selectors to publish.
BOOST_AUTO_TEST_CASE(preflight_counts_our_own_signature) {
    const std::string preflight = "relay_public_addresses = 192.0.2.1\nrelay_spf_include = include:spf.relay.example\n";
    const auto zone = [](milter_test::FakeDns& d) {
        d.set("spf.relay.example", dns::Type::TXT, dns::Status::Ok, {"v=spf1 ip4:192.0.2.1 -all"});
        d.set("_dmarc.customer-a.example", dns::Type::TXT, dns::Status::Ok, {"v=DMARC1; p=reject"});
        d.set("bounces.customer-a.example", dns::Type::TXT, dns::Status::Ok, {"v=spf1 -all"});
    };
    {
        Fixture fx(preflight);
        zone(*fx.f.dns);
        const Result r = run(fx, Message{});
        BOOST_TEST(r.reply == "continue");
        BOOST_TEST(r.signatures.size() == 2u);
        BOOST_TEST(contains(r.log, "why=dmarc_pass"), r.log);
    }
    {
        Fixture fx(preflight, false);
        zone(*fx.f.dns);
        const Result r = run(fx, Message{});
        BOOST_TEST(r.reply == "reject 550 5.7.26 DMARC for customer-a.example will fail: add include:spf.relay.example "
                              "to the SPF record of bounces.customer-a.example, or publish DKIM selector s1 for "
                              "customer-a.example or selector s2 for customer-a.example",
                   r.reply);
    }
}

BOOST_AUTO_TEST_SUITE_END()
