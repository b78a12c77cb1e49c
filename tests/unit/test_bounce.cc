// test_bounce.cc - what sendguard-bounce decides for each kind of report
//
// Drives bounce::Transport with hand-made reports against a real LMDB store
// in a temporary directory and checks the store, the event log and the
// quarantine afterwards.
#include <boost/test/unit_test.hpp>
#include <boost/property_tree/json_parser.hpp>
#include <boost/property_tree/ptree.hpp>

#include <sys/stat.h>
#include <sysexits.h>

#include <algorithm>
#include <filesystem>
#include <functional>

#include "bounce-pipe/evidence.h"
#include "bounce-pipe/local_origin.h"
#include "bounce-pipe/transport.h"
#include "common/address/verp_setup.h"
#include "common/config/load.h"
#include "common/store/record_format.h"
#include "common/store/sendlog.h"
#include "common/log/log.h"
#include "tests/support/samples.h"
#include "tests/support/temp_dir.h"

namespace ts = testing_support;
using namespace std::chrono;

namespace {

constexpr int64_t kNow = 1795000000;  // 2026-11-18
const char* const kKey = "0123456789abcdef0123456789abcdef";

struct Fixture {
    harness::TempDir dir{"sg-bounce-"};
    std::shared_ptr<store::Env> env;
    bounce::Settings settings;

    explicit Fixture(bool accept_unsigned = false) {
        logging::open("test", logging::Sink::None);
        store::EnvOptions o;
        o.map_size = 1 << 20;
        o.max_readers = 126;
        env = store::Env::open(dir.sub("lmdb"), o);
        // The shipped defaults, as a site without a bounce_* line runs.
        settings = bounce::Settings::from(config::Config::defaults());
        settings.accept_unsigned = accept_unsigned;
        settings.quarantine_dir = dir.sub("quarantine");
        settings.event_log = dir.sub("events.jsonl");
    }
    static address::VerpCodec codec() {
        const address::VerpConfig vc = address::verp_config(config::Config::defaults(), "bounces.example.org");
        return address::VerpCodec(vc, address::VerpKeys::from_strings({kKey}));
    }
    std::string verp(const std::string& rcpt) const {
        auto a = address::parse_mailbox(rcpt);
        auto e = codec().encode(*a, {}, floor<days>(sys_seconds(seconds(kNow))));
        BOOST_REQUIRE(e);
        return e->address;
    }
    // Each call is a new report with its own queue id (4XkQ3b7Lq2z, then
    // 4XkQ3b7Lq2z1, ...), as Postfix would give it.
    bounce::Verdict deliver(const std::string& to, const std::string& msg, bool oversized = false,
                            int64_t now = kNow) {
        std::vector<address::VerpCodec> codecs{codec()};
        bounce::Transport t(settings, env, std::move(codecs));
        std::string qid = "4XkQ3b7Lq2z" + (deliveries ? std::to_string(deliveries) : std::string());
        ++deliveries;
        return t.deliver({"", to, to, qid}, msg, oversized, now);
    }
    int deliveries = 0;
    std::optional<store::Record> check(const std::string& a, int64_t now = kNow) const {
        return store::SuppressionList(env).check(a, now);
    }
    std::string events() const {
        return std::filesystem::exists(settings.event_log) ? harness::file_text(settings.event_log) : "";
    }
};

bool contains(const std::string& hay, const std::string& needle) {
    return hay.find(needle) != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(bounce_transport)

BOOST_AUTO_TEST_CASE(signed_hard_bounce_suppresses) {
    Fixture f;
    auto v = f.deliver(f.verp("bob@example.net"), ts::make_dsn({}));
    BOOST_TEST(v.exit_code == EX_OK);
    auto r = f.check("bob@example.net");
    BOOST_REQUIRE_MESSAGE(r, "bob@example.net not suppressed after a signed 5.1.1");
    BOOST_TEST(store::to_string(r->klass) == "hard");
    BOOST_TEST(r->reason == "userunknown");
    BOOST_TEST(r->status == "5.1.1");
    BOOST_TEST(r->evidence == "4XkQ3b7Lq2z");
    auto ev = f.events();
    BOOST_TEST(contains(ev, "\"verp\":\"ok\""), ev);
    BOOST_TEST(contains(ev, "\"action\":\"suppress\""), ev);
    BOOST_TEST(contains(logging::captured(), "action=suppress, rcpt=<bob@example.net>"), logging::captured());
}

BOOST_AUTO_TEST_CASE(verp_recipient_is_authoritative) {
    // The report names someone else (an alias expansion); the signed tag wins.
    Fixture f;
    ts::DsnSpec s;
    s.recipient = "forwarded@elsewhere.example";
    f.deliver(f.verp("carol@example.net"), ts::make_dsn(s));
    BOOST_TEST(f.check("carol@example.net").has_value());
    BOOST_TEST(!f.check("forwarded@elsewhere.example").has_value());
}

BOOST_AUTO_TEST_CASE(forged_and_unsigned_reports_suppress_nothing) {
    Fixture f;
    std::string good = f.verp("bob@example.net");
    std::string forged = good;
    auto at = forged.find('@');
    forged[at - 1] = forged[at - 1] == 'a' ? 'b' : 'a';  // flip one MAC/tag character
    auto v = f.deliver(forged, ts::make_dsn({}));
    BOOST_TEST(v.exit_code == EX_OK);
    BOOST_TEST(!f.check("bob@example.net").has_value());
    v = f.deliver("postmaster@bounces.example.org", ts::make_dsn({}));
    BOOST_TEST(v.exit_code == EX_OK);
    BOOST_TEST(!f.check("bob@example.net").has_value());
    auto ev = f.events();
    BOOST_TEST(contains(ev, "\"action\":\"ignore\",\"why\":\"forged\""), ev);
    BOOST_TEST(contains(ev, "\"action\":\"ignore\",\"why\":\"unsigned\""), ev);
}

BOOST_AUTO_TEST_CASE(unsigned_reports_trusted_when_configured) {
    Fixture f(true);
    f.deliver("postmaster@bounces.example.org", ts::make_dsn({}));
    BOOST_TEST(f.check("bob@example.net").has_value());
}

BOOST_AUTO_TEST_CASE(expired_tag_suppresses_nothing) {
    Fixture f;
    std::string addr = f.verp("bob@example.net");
    f.deliver(addr, ts::make_dsn({}), false, kNow + 400 * 86400);
    BOOST_TEST(!f.check("bob@example.net", kNow + 400 * 86400).has_value());
    BOOST_TEST(contains(f.events(), "\"verp\":\"expired\""), f.events());
}

BOOST_AUTO_TEST_CASE(soft_bounces_suppress_after_threshold) {
    Fixture f;
    ts::DsnSpec s;
    s.status = "4.2.2";
    s.action = "failed";
    s.diagnostic = "smtp; 452 4.2.2 Mailbox full";
    std::string addr = f.verp("bob@example.net");
    for (int i = 0; i < 2; ++i) {
        f.deliver(addr, ts::make_dsn(s), false, kNow + i * 3600);
        BOOST_TEST(!f.check("bob@example.net", kNow + i * 3600).has_value(), "suppressed after " << i + 1);
    }
    f.deliver(addr, ts::make_dsn(s), false, kNow + 7200);
    auto r = f.check("bob@example.net", kNow + 7200);
    BOOST_REQUIRE_MESSAGE(r, "not suppressed after 3 soft bounces");
    BOOST_TEST(r->reason == "mailboxfull");
}

BOOST_AUTO_TEST_CASE(reason_expiry_overrides_class_expiry) {
    Fixture f;
    f.settings.policy.soft_threshold = 1;
    f.settings.policy.reason_expiry["mailboxfull"] = std::chrono::seconds(14 * 86400);
    ts::DsnSpec s;
    s.status = "5.2.2";
    s.diagnostic = "smtp; 552 5.2.2 Mailbox full";
    f.deliver(f.verp("bob@example.net"), ts::make_dsn(s));
    auto r = f.check("bob@example.net");
    BOOST_REQUIRE(r);
    BOOST_TEST(r->expiry == kNow + 14 * 86400);
    BOOST_TEST(!f.check("bob@example.net", kNow + 15 * 86400).has_value());
}

BOOST_AUTO_TEST_CASE(reputation_blocks_never_suppress) {
    Fixture f;
    ts::DsnSpec s;
    s.status = "5.7.1";
    s.diagnostic = "smtp; 554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org";
    f.deliver(f.verp("bob@example.net"), ts::make_dsn(s));
    BOOST_TEST(!f.check("bob@example.net").has_value());
    auto b = store::SuppressionList(f.env).block("example.net");
    BOOST_REQUIRE_MESSAGE(b, "no block event for example.net");
    BOOST_TEST(b->count == 1u);
}

BOOST_AUTO_TEST_CASE(success_reports_change_nothing) {
    Fixture f;
    ts::DsnSpec s;
    s.recipient = "alias-target@elsewhere.example";  // not the VERP recipient
    s.action = "delivered";
    s.status = "2.0.0";
    s.diagnostic = "smtp; 250 2.0.0 Ok";
    f.deliver(f.verp("bob@example.net"), ts::make_dsn(s));
    BOOST_TEST(store::SuppressionList(f.env).stats(kNow).total == 0u, f.events());
}

BOOST_AUTO_TEST_CASE(delays_and_autoreplies_change_nothing) {
    Fixture f;
    ts::DsnSpec s;
    s.action = "delayed";
    s.status = "4.4.1";
    s.diagnostic = "X-Postfix; connect to mx.example.net: Connection timed out";
    std::string addr = f.verp("bob@example.net");
    f.deliver(addr, ts::make_dsn(s));
    f.deliver(addr, ts::make_autoreply(addr, "Abwesenheitsnotiz: Urlaub"));
    f.deliver(addr, ts::make_autoreply(addr, "Out of Office"));
    BOOST_TEST(!f.check("bob@example.net").has_value());
    BOOST_TEST(store::SuppressionList(f.env).stats(kNow).total == 0u);
}

BOOST_AUTO_TEST_CASE(complaint_suppresses_at_once) {
    Fixture f;
    f.deliver(f.verp("dave@example.net"), ts::make_arf("news@example.org", "dave@example.net"));
    auto r = f.check("dave@example.net");
    BOOST_REQUIRE(r);
    BOOST_TEST(store::to_string(r->klass) == "complaint");
    BOOST_TEST(store::to_string(r->source) == "arf");
}

BOOST_AUTO_TEST_CASE(signed_report_naming_nobody_uses_verp_recipient) {
    Fixture f;
    std::string msg = "From: MAILER-DAEMON@mx.example.net\nSubject: Mail delivery failed\n"
                      "Content-Type: text/plain\n\nThe message could not be delivered.\n"
                      "550 5.1.1 mailbox unavailable\n";
    f.deliver(f.verp("erin@example.net"), msg);
    // Recognised as a failure: it is about erin, whoever it names. Not
    // recognised: kept in the quarantine for a human. Never dropped.
    auto ev = f.events();
    BOOST_TEST((contains(ev, "\"address\":\"erin@example.net\"") ||
                contains(ev, "\"action\":\"quarantine\"")), ev);
    std::string dsn = ts::make_dsn({});
    auto cut = dsn.find("Final-Recipient");
    dsn.erase(cut, dsn.find("Action:") - cut);  // a DSN without recipient fields
    f.deliver(f.verp("frank@example.net"), dsn);
    BOOST_TEST(f.check("frank@example.net").has_value(), f.events());
}

BOOST_AUTO_TEST_CASE(oversized_and_unusable_reports_are_quarantined) {
    Fixture f(true);
    auto v = f.deliver("postmaster@bounces.example.org", std::string(1000, 'x'), true);
    BOOST_TEST(v.exit_code == EX_OK);
    auto files = [&] {
        size_t n = 0;
        for (auto& e : std::filesystem::directory_iterator(f.settings.quarantine_dir))
            n += e.path().extension() == ".eml";
        return n;
    };
    BOOST_TEST(files() == 1u);
    ts::DsnSpec s;
    s.recipient = "not-an-address";  // a report whose only recipient is unusable
    std::string nobody = ts::make_dsn(s);
    f.deliver("postmaster@bounces.example.org", nobody);
    BOOST_TEST(files() == 2u, f.events());
    BOOST_TEST(contains(f.events(), "\"action\":\"quarantine\",\"why\":\"no-recipient\""), f.events());
}

BOOST_AUTO_TEST_CASE(quarantine_is_bounded) {
    harness::TempDir d("sg-q-");
    // A temporary file of a transport killed mid-write, an hour ago.
    harness::make_dirs(d.sub("q"));
    harness::write_file(d.sub("q/1795000000.QIDX.77.Ab12Cd"), "partial");
    std::filesystem::last_write_time(d.sub("q/1795000000.QIDX.77.Ab12Cd"),
                                     std::filesystem::file_time_type::clock::now() - std::chrono::hours(1));
    bounce::QuarantineLimits limits{.max_bytes = 1u << 20, .max_files = 3};
    bounce::Quarantine q(d.sub("q"), limits);
    for (int i = 0; i < 6; ++i) q.keep("message " + std::to_string(i), "QID" + std::to_string(i), kNow + i);
    size_t n = 0;
    bool newest = false;
    for (auto& e : std::filesystem::directory_iterator(d.sub("q"))) {
        ++n;
        newest |= e.path().filename().string().find("QID5") != std::string::npos;
    }
    BOOST_TEST(n == 3u);
    BOOST_TEST(newest, "the newest file was trimmed");
    BOOST_TEST(!std::filesystem::exists(d.sub("q/1795000000.QIDX.77.Ab12Cd")), "stale temporary file kept");
}

BOOST_AUTO_TEST_CASE(store_full_propagates_for_tempfail) {
    Fixture f;
    harness::TempDir d("sg-full-");
    store::EnvOptions o;
    o.map_size = 64 * 1024;
    o.max_map_size = 64 * 1024;
    o.max_readers = 126;
    auto env = store::Env::open(d.sub("lmdb"), o);
    std::vector<address::VerpCodec> codecs{Fixture::codec()};
    bounce::Transport t(f.settings, env, std::move(codecs));
    bool threw = false;
    try {
        for (int i = 0; i < 5000; ++i) {
            ts::DsnSpec s;
            s.recipient = "user" + std::to_string(i) + "@example.net";
            t.deliver({"", f.verp(s.recipient), "", "Q"}, ts::make_dsn(s), false, kNow);
        }
    } catch (const store::Error& e) {
        threw = e.kind() == store::Error::Kind::MapFull;
    }
    BOOST_TEST(threw, "a full store must surface as store::Error MapFull");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(record_format)

BOOST_AUTO_TEST_CASE(csv_round_trip) {
    store::Record r;
    r.klass = store::Class::Hard;
    r.suppressed = true;
    r.reason = "userunknown";
    r.status = "5.1.1";
    r.diagnostic = "550 \"quoted\", with comma\nand line";
    r.remote_mta = "=HYPERLINK(\"http://x.example\")";
    r.first_seen = 10;
    r.last_seen = 20;
    r.count = 2;
    std::string line = store::record_csv("bob@example.net", r, 15);
    auto header = store::split_csv(store::csv_header());
    BOOST_REQUIRE(header);
    auto got = store::parse_import_line(store::ImportFormat::Csv, line, *header);
    BOOST_TEST(got.error == "");
    BOOST_REQUIRE(got.record);
    BOOST_TEST(got.address == "bob@example.net");
    BOOST_TEST(got.record->diagnostic == r.diagnostic);
    BOOST_TEST(got.record->remote_mta == r.remote_mta);
    BOOST_TEST(line.find("'=HYPERLINK") != std::string::npos, "formula not defused: " << line);
    BOOST_TEST(got.record->count == 2u);
    BOOST_TEST(store::to_string(got.record->klass) == "hard");
}

BOOST_AUTO_TEST_CASE(json_round_trip_and_errors) {
    store::Record r;
    r.klass = store::Class::Complaint;
    r.source = store::Source::Arf;
    r.suppressed = true;
    r.reason = "feedback";
    r.diagnostic = "tab\there \"q\"";
    auto line = store::record_json("dave@example.net", r, 0);
    auto got = store::parse_import_line(store::ImportFormat::Json, line, {});
    BOOST_REQUIRE_MESSAGE(got.record, got.error);
    BOOST_TEST(got.record->diagnostic == r.diagnostic);
    BOOST_TEST(store::to_string(got.record->source) == "arf");
    struct { std::string line; std::string want; } bad[] = {
        {"{\"address\":\"a@b\",\"class\":\"weird\"}", "bad value for \"class\": weird"},
        {"not json", "not a JSON object"},
        {"{\"class\":\"hard\"}", "no address"},
    };
    for (auto& c : bad) {
        auto g = store::parse_import_line(store::ImportFormat::Json, c.line, {});
        BOOST_TEST(g.error == c.want, "got " << g.error << ", want " << c.want);
    }
    BOOST_TEST(store::parse_import_line(store::ImportFormat::Plain, "  # comment", {}).skip);
    BOOST_TEST(!store::split_csv("\"open,field").has_value());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(bounce_tokens)

BOOST_AUTO_TEST_CASE(token_form_resolves_through_the_send_log) {
    Fixture f;
    // A recipient too long for a VERP local part is signed as a token.
    std::string rcpt = std::string(60, 'l') + "@example.net";
    auto codec = Fixture::codec();
    auto e = codec.encode(*address::parse_mailbox(rcpt), [] { return std::string("tok123"); },
                          floor<days>(sys_seconds(seconds(kNow))));
    BOOST_REQUIRE(e);
    BOOST_REQUIRE(e->is_token);
    store::SendLog(f.env).put("tok123", rcpt, kNow + 86400);
    ts::DsnSpec s;
    s.recipient = "someone-else@example.net";  // the token decides, not the report
    f.deliver(e->address, ts::make_dsn(s));
    BOOST_TEST(f.check(rcpt).has_value(), f.events());
    BOOST_TEST(!f.check("someone-else@example.net").has_value());

    // An expired send-log entry: the token is unknown, nobody is suppressed.
    store::SendLog(f.env).put("tok999", rcpt + ".old", kNow - 1);
    auto e2 = codec.encode(*address::parse_mailbox(rcpt), [] { return std::string("tok999"); },
                           floor<days>(sys_seconds(seconds(kNow))));
    f.deliver(e2->address, ts::make_dsn({}));
    BOOST_TEST(!f.check("bob@example.net").has_value(), f.events());
    BOOST_TEST(store::SendLog(f.env).purge_expired(kNow) == 1u);
}

// A token the milter signed for a message with several recipients: a
// report may suppress only recipients of that message.
BOOST_AUTO_TEST_CASE(message_token_accepts_only_its_recipients) {
    Fixture f;
    auto e = Fixture::codec().encode_token("msgtok1", floor<days>(sys_seconds(seconds(kNow))));
    BOOST_REQUIRE(e);
    store::SendLog(f.env).put("msgtok1", {.expiry = kNow + 86400,
                                          .sender = "news@example.org",
                                          .queue_id = "4XkQ2m1Zz9z",
                                          .recipients = {"bob@example.net", "carol@example.com"}});
    ts::DsnSpec mine;
    mine.recipient = "carol@example.com";
    f.deliver(e->address, ts::make_dsn(mine));
    BOOST_TEST(f.check("carol@example.com").has_value(), f.events());
    ts::DsnSpec stranger;
    stranger.recipient = "someone-else@example.net";
    f.deliver(e->address, ts::make_dsn(stranger));
    BOOST_TEST(!f.check("someone-else@example.net").has_value(), f.events());
    BOOST_TEST(!f.check("bob@example.net").has_value(), "bob did not bounce");
}

// bounce_domains = bounces.*: a tag the milter made on bounces.<sender
// domain> verifies there, for any sender domain, without a list.
BOOST_AUTO_TEST_CASE(pattern_bounce_domain_verifies) {
    Fixture f;
    harness::write_file(f.dir.sub("verp.keys"), std::string(kKey) + "\n", 0600);
    const config::Config cfg = config::Config::parse(
        "config_directory = " + f.dir.path() + "\nbounce_domains = bounces.*\n", "test.conf");
    const address::BounceDomains domains = address::BounceDomains::from(cfg);
    const auto sender_domain = address::normalise_domain("customer-a.example");
    const auto bounce = domains.for_sender(*sender_domain);
    BOOST_REQUIRE(bounce);
    const auto codec = domains.codec(*bounce);
    BOOST_REQUIRE(codec);
    const auto e = codec->encode(*address::parse_mailbox("bob@example.net"), {},
                                 floor<days>(sys_seconds(seconds(kNow))));
    BOOST_REQUIRE(e);
    BOOST_TEST(e->address.ends_with("@bounces.customer-a.example"), e->address);
    bounce::Transport t(f.settings, f.env, address::verp_codecs(cfg), domains);
    ts::DsnSpec s;
    s.to = e->address;
    const bounce::Verdict v = t.deliver({"", e->address, e->address, "4XkQ9"}, ts::make_dsn(s), false, kNow);
    BOOST_TEST(v.exit_code == EX_OK);
    BOOST_TEST(f.check("bob@example.net").has_value(), f.events());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(bounce_setup)

BOOST_AUTO_TEST_CASE(every_accepted_verp_setting_builds_a_codec) {
    // What the parameter table accepts, the codec must accept too: a value
    // the table lets through but the codec refuses would defer every bounce.
    harness::TempDir d("sg-setup-");
    harness::write_file(d.sub("k"), std::string(kKey) + "\n", 0600);
    for (const char* age : {"1d", "60d", "1000d"})
        for (const char* delim : {"+", "-"}) {
            std::string text = "verp_key_file = " + d.sub("k") + "\nbounce_domains = b.example, c.example\n" +
                               "verp_max_age = " + age + "\nverp_delimiter = " + delim + "\n";
            auto cfg = config::Config::parse(text, "t.conf");
            std::vector<address::VerpCodec> codecs;
            BOOST_CHECK_NO_THROW(codecs = address::verp_codecs(cfg));
            BOOST_TEST(codecs.size() == 2u);
        }
    BOOST_CHECK_THROW(config::Config::parse("verp_max_age = 1001d\n", "t.conf"), config::Error);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(bounce_retries)

BOOST_AUTO_TEST_CASE(a_retried_delivery_counts_once) {
    // Postfix retries a delivery that exited 75 after a commit (time limit,
    // a later recipient's store error), and a Sendmail alias or a master.cf
    // without -q gives no queue id: the same report must not count twice.
    // It is identified by the queue id, else its own Message-ID, else a
    // digest of the message.
    Fixture f;
    ts::DsnSpec s;
    s.status = "4.2.2";
    s.diagnostic = "smtp; 452 4.2.2 Mailbox full";
    std::string addr = f.verp("bob@example.net");
    std::vector<address::VerpCodec> codecs{Fixture::codec()};
    bounce::Transport t(f.settings, f.env, std::move(codecs));
    struct Case {
        std::string what;
        std::function<std::string(int)> qid;     // of the n-th distinct report
        std::function<std::string(int)> report;
        std::string evidence_prefix;
    } cases[] = {
        {"queue id", [](int n) { return "QID" + std::to_string(n); }, [&](int) { return ts::make_dsn(s); }, "QID"},
        {"Message-ID", [](int) { return std::string(); },
         [&](int n) { return "Message-ID: <d" + std::to_string(n) + "@relay.example.org>\n" + ts::make_dsn(s); }, "<d"},
        {"digest", [](int) { return std::string(); },
         [&](int n) { return "Date: Mon, 23 Nov 2026 10:0" + std::to_string(n) + ":00 +0000\n" + ts::make_dsn(s); },
         "sha256:"},
    };
    for (auto& c : cases) {
        store::SuppressionList(f.env).remove("bob@example.net");
        for (int i = 0; i < 3; ++i) t.deliver({"", addr, addr, c.qid(1)}, c.report(1), false, kNow + i);
        BOOST_TEST(!f.check("bob@example.net", kNow + 3).has_value(), c.what << ": one report counted three times");
        t.deliver({"", addr, addr, c.qid(2)}, c.report(2), false, kNow + 10);
        t.deliver({"", addr, addr, c.qid(3)}, c.report(3), false, kNow + 20);
        auto r = f.check("bob@example.net", kNow + 21);
        BOOST_REQUIRE_MESSAGE(r, c.what << ": three reports did not suppress");
        BOOST_TEST(r->evidence.rfind(c.evidence_prefix, 0) == 0u, c.what << ": evidence " << r->evidence);
    }
}

BOOST_AUTO_TEST_CASE(an_unknown_token_suppresses_nobody) {
    Fixture f;
    auto e = Fixture::codec().encode(*address::parse_mailbox(std::string(60, 'x') + "@example.net"),
                                     [] { return std::string("nosuchtoken"); },
                                     floor<days>(sys_seconds(seconds(kNow))));
    BOOST_REQUIRE(e && e->is_token);
    ts::DsnSpec s;
    s.recipient = "victim@example.org";  // what a forger would list
    f.deliver(e->address, ts::make_dsn(s));
    BOOST_TEST(!f.check("victim@example.org").has_value());
    BOOST_TEST(f.events().find("\"why\":\"unknown-token\"") != std::string::npos, f.events());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(bounce_store_damage)

BOOST_AUTO_TEST_CASE(an_unreadable_record_quarantines_instead_of_deferring_forever) {
    Fixture f;
    MDB_dbi db = f.env->dbi("suppress");
    f.env->write([&](store::WriteTxn& w) { w.put(db, "bob@example.net", std::string("\x09garbage", 8)); });
    auto v = f.deliver(f.verp("bob@example.net"), ts::make_dsn({}));
    BOOST_TEST(v.exit_code == EX_OK);
    BOOST_TEST(f.events().find("\"why\":\"store-unreadable\"") != std::string::npos, f.events());
    BOOST_TEST(f.events().find("\"detail\":\"suppression store: decode: ") != std::string::npos, f.events());
    // The line says what failed once: not "suppression store: store: ...".
    BOOST_TEST(logging::captured().find("store: store:") == std::string::npos, logging::captured());
    BOOST_TEST(logging::captured().find("why=store-unreadable, file=") != std::string::npos, logging::captured());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(bounce_evidence)

BOOST_AUTO_TEST_CASE(evidence_prefers_the_queue_id_then_the_reports_own_message_id) {
    std::string dsn = ts::make_dsn({});  // names the returned message's <n1@example.org> only
    struct Case { std::string qid, message, want; } cases[] = {
        {"4XkQ3b7Lq2z", "Message-ID: <a@b>\n\nx", "4XkQ3b7Lq2z"},
        {"", "Subject: x\nMessage-Id:\n  <folded@relay.example>\n\nbody", "<folded@relay.example>"},
        {"", "message-id: <a@b>\r\n\r\nbody", "<a@b>"},
        {"", "Subject: x\n\nMessage-ID: <in-the-body@x>\n", ""},
    };
    for (auto& c : cases) {
        std::string got = bounce::evidence_id(c.qid, c.message);
        if (c.want.empty())
            BOOST_TEST(got.rfind("sha256:", 0) == 0u, "got " << got << ", want a digest");
        else
            BOOST_TEST(got == c.want, "got " << got << ", want " << c.want);
    }
    std::string e = bounce::evidence_id("", dsn);
    BOOST_TEST(e.rfind("sha256:", 0) == 0u, "a returned message's Message-ID taken: " << e);
    BOOST_TEST(e == bounce::evidence_id("", dsn), "digest not stable");
    BOOST_TEST(e != bounce::evidence_id("", dsn + "x"));
}

BOOST_AUTO_TEST_CASE(queue_ids_are_cleaned_before_any_use) {
    struct Case { std::string raw, want; } cases[] = {
        {"4XkQ3b7Lq2z", "4XkQ3b7Lq2z"},
        {"0B1KXq3a012345", "0B1KXq3a012345"},
        {"", ""},
        {"4XkQ\nNOQUEUE: forged", "4XkQ_NOQUEUE__forged"},
        {std::string(100, 'A'), std::string(64, 'A')},
    };
    for (auto& c : cases) {
        std::string got = bounce::clean_queue_id(c.raw);
        BOOST_TEST(got == c.want, "got " << got << ", want " << c.want);
    }
    Fixture f;
    logging::clear_captured();
    std::vector<address::VerpCodec> codecs{Fixture::codec()};
    bounce::Transport t(f.settings, f.env, std::move(codecs));
    std::string to = f.verp("bob@example.net");
    t.deliver({"", to, to, "Q1\nNOQUEUE: bounce: action=forged"}, ts::make_dsn({}), false, kNow);
    auto log = logging::captured();
    BOOST_TEST(log.find("\nNOQUEUE: bounce: action=forged") == std::string::npos, log);
    BOOST_TEST(log.rfind("NOQUEUE: bounce: action=forged", 0) != 0u, log);
    auto r = f.check("bob@example.net");
    BOOST_REQUIRE(r);
    BOOST_TEST(r->evidence == "Q1_NOQUEUE__bounce__action_forged");
    BOOST_TEST(contains(f.events(), "\"queue_id\":\"Q1_NOQUEUE__bounce__action_forged\""), f.events());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(bounce_files)

BOOST_AUTO_TEST_CASE(quarantine_and_event_log_modes_ignore_the_umask) {
    Fixture f(true);
    mode_t old = ::umask(0);
    auto v = f.deliver("postmaster@bounces.example.org", std::string(1000, 'x'), true);
    ::umask(old);
    BOOST_TEST(v.exit_code == EX_OK);
    struct stat st {};
    BOOST_REQUIRE(::stat(f.settings.quarantine_dir.c_str(), &st) == 0);
    BOOST_TEST((st.st_mode & 07777) == 0750u, "quarantine directory mode " << std::oct << (st.st_mode & 07777));
    size_t files = 0;
    for (auto& e : std::filesystem::directory_iterator(f.settings.quarantine_dir)) {
        ++files;
        BOOST_REQUIRE(::stat(e.path().c_str(), &st) == 0);
        BOOST_TEST((st.st_mode & 07777) == 0600u, e.path() << " mode " << std::oct << (st.st_mode & 07777));
    }
    BOOST_TEST(files == 1u);
    BOOST_REQUIRE(::stat(f.settings.event_log.c_str(), &st) == 0);
    BOOST_TEST((st.st_mode & 07777) == 0640u, "event log mode " << std::oct << (st.st_mode & 07777));
}

// pipe(8) runs the transport under umask 077: the event log it creates is
// still 0640, so the reader group can read it.
BOOST_AUTO_TEST_CASE(event_log_created_under_umask_077_is_0640) {
    Fixture f(true);
    mode_t old = ::umask(077);
    auto v = f.deliver("postmaster@bounces.example.org", std::string(1000, 'x'), true);
    ::umask(old);
    BOOST_TEST(v.exit_code == EX_OK);
    struct stat st {};
    BOOST_REQUIRE(::stat(f.settings.event_log.c_str(), &st) == 0);
    BOOST_TEST((st.st_mode & 07777) == 0640u, "event log mode " << std::oct << (st.st_mode & 07777));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(bounce_classes)

BOOST_AUTO_TEST_CASE(one_mapping_from_report_class_to_store_class) {
    struct Case { dsn::Class in; std::optional<store::Class> want; } cases[] = {
        {dsn::Class::Hard, store::Class::Hard},
        {dsn::Class::Soft, store::Class::Soft},
        {dsn::Class::Complaint, store::Class::Complaint},
        {dsn::Class::AutoReply, std::nullopt},
        {dsn::Class::Other, std::nullopt},
    };
    for (auto& c : cases) {
        auto got = bounce::store_class(c.in);
        BOOST_TEST((got == c.want), dsn::to_string(c.in) << ": got "
                                        << (got ? store::to_string(*got) : "none") << ", want "
                                        << (c.want ? store::to_string(*c.want) : "none"));
    }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(bounce_config)

BOOST_AUTO_TEST_CASE(load_requires_the_file_and_names_it) {
    harness::TempDir d("sg-load-");
    std::string missing = d.sub("nosuch.conf");
    try {
        config::load(missing, {});
        BOOST_FAIL("a missing file loaded");
    } catch (const config::Error& e) {
        std::string want = "cannot read configuration file " + missing +
                           ": No such file or directory; create it or name another with -c";
        BOOST_TEST(e.what() == want, "got " << e.what() << ", want " << want);
    }
    const char* old = std::getenv("SENDGUARD_CONFIG");
    std::string saved = old ? old : "";
    ::setenv("SENDGUARD_CONFIG", missing.c_str(), 1);
    BOOST_CHECK_THROW(config::load("", {}), config::Error);  // no silent defaults
    harness::write_file(d.sub("ok.conf"), "bounce_soft_threshold = 4\n");
    ::setenv("SENDGUARD_CONFIG", d.sub("ok.conf").c_str(), 1);
    BOOST_TEST(config::load("", {}).integer("bounce_soft_threshold") == 4);
    if (old) ::setenv("SENDGUARD_CONFIG", saved.c_str(), 1);
    else ::unsetenv("SENDGUARD_CONFIG");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(bounce_examples)

BOOST_AUTO_TEST_CASE(the_examples_pass_the_queue_id) {
    // The queue id is what keeps a retried report from counting twice.
    const std::string dir = std::string(SENDGUARD_SOURCE_DIR) + "/conf-examples/";
    struct Case { std::string file, want; } cases[] = {
        {"master.cf", "argv=/usr/sbin/sendguard-bounce -c /etc/sendguard/sendguard.conf\n    -q ${queue_id} "},
        {"sendmail.mc", "A=sendguard-bounce -c /etc/sendguard/sendguard.conf -q $i "},
    };
    for (auto& c : cases) {
        std::string text = harness::file_text(dir + c.file);
        BOOST_TEST(contains(text, c.want), c.file << " lacks " << c.want);
    }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(bounce_log_lines)

// One delivery, and the one line it logged: exactly one, whatever it decided.
std::string one_line(Fixture& f, const std::string& to, const std::string& msg, bool oversized = false,
                     int64_t now = kNow) {
    logging::clear_captured();
    f.deliver(to, msg, oversized, now);
    std::string log = logging::captured();
    size_t lines = static_cast<size_t>(std::count(log.begin(), log.end(), '\n'));
    BOOST_TEST(lines == 1u, "want one line per decision, got " << lines << ":\n" << log);
    if (!log.empty() && log.back() == '\n') log.pop_back();
    return log;
}

BOOST_AUTO_TEST_CASE(every_decision_is_one_line_with_the_same_keys) {
    Fixture f;
    const std::string bob = f.verp("bob@example.net");
    const std::string unsigned_to = "postmaster@bounces.example.org";
    std::string forged = bob;
    const size_t at = forged.find('@');
    forged[at - 1] = forged[at - 1] == 'a' ? 'b' : 'a';
    ts::DsnSpec soft;
    soft.status = "4.2.2";
    soft.diagnostic = "smtp; 452 4.2.2 Mailbox full";
    ts::DsnSpec block;
    block.recipient = "carl@example.com";
    block.status = "5.7.1";
    block.diagnostic = "smtp; 554 5.7.1 Client host [192.0.2.1] blocked using zen.spamhaus.org";
    ts::DsnSpec delayed;
    delayed.action = "delayed";
    delayed.status = "4.4.1";
    delayed.diagnostic = "X-Postfix; connect to mx.example.net: Connection timed out";
    const std::string person = "From: Erin <erin@example.net>\nSubject: Re: news\n\nPlease stop.\n";
    struct Case {
        std::string what, to, msg;
        bool oversized;
        int64_t now;
        std::string want;  // the whole line, up to ", file=" for a quarantine
    } cases[] = {
        {"suppress", bob, ts::make_dsn({}), false, kNow,
         "action=suppress, rcpt=<bob@example.net>, verp=<" + bob +
             ">, signed=yes, status=5.1.1, class=hard, reason=userunknown"},
        {"count", f.verp("sam@example.net"), [&] { auto s = soft; s.recipient = "sam@example.net"; return ts::make_dsn(s); }(),
         false, kNow,
         "action=count, rcpt=<sam@example.net>, verp=<" + f.verp("sam@example.net") +
             ">, signed=yes, status=4.2.2, class=soft, reason=mailboxfull, count=1, threshold=3"},
        {"block", f.verp("carl@example.com"), ts::make_dsn(block), false, kNow,
         "action=block, rcpt=<carl@example.com>, verp=<" + f.verp("carl@example.com") +
             ">, signed=yes, status=5.7.1, class=soft, reason=blocked, domain=example.com"},
        {"unsigned", unsigned_to, ts::make_dsn({}), false, kNow,
         "action=ignore, rcpt=<bob@example.net>, verp=<" + unsigned_to +
             ">, signed=no, status=5.1.1, class=hard, reason=userunknown, why=unsigned"},
        {"forged", forged, ts::make_dsn({}), false, kNow,
         "action=ignore, rcpt=<bob@example.net>, verp=<" + forged +
             ">, signed=no, status=5.1.1, class=hard, reason=userunknown, why=forged"},
        {"expired", bob, ts::make_dsn({}), false, kNow + 400 * 86400,
         "action=ignore, rcpt=<bob@example.net>, verp=<" + bob +
             ">, signed=no, status=5.1.1, class=hard, reason=userunknown, why=expired-tag"},
        {"delayed", bob, ts::make_dsn(delayed), false, kNow,
         "action=ignore, rcpt=<bob@example.net>, verp=<" + bob +
             ">, signed=yes, status=4.4.1, class=soft, reason=networkerror, why=delayed"},
        {"autoreply", bob, ts::make_autoreply(bob, "Out of Office"), false, kNow,
         "action=ignore, rcpt=<bob@example.net>, verp=<" + bob +
             ">, signed=yes, status=-, class=autoreply, reason=vacation, why=autoreply"},
        {"signed person", bob, person, false, kNow,
         "action=quarantine, rcpt=<bob@example.net>, verp=<" + bob +
             ">, signed=yes, status=-, class=-, reason=-, why=not-a-report"},
        {"unsigned person", unsigned_to, person, false, kNow,
         "action=quarantine, rcpt=<>, verp=<" + unsigned_to + ">, signed=no, status=-, class=-, reason=-, why=not-a-report"},
        {"too large", bob, std::string(1000, 'x'), true, kNow,
         "action=quarantine, rcpt=<bob@example.net>, verp=<" + bob +
             ">, signed=yes, status=-, class=-, reason=-, why=too-large"},
    };
    for (auto& c : cases) {
        std::string got = one_line(f, c.to, c.msg, c.oversized, c.now);
        got = got.substr(got.find(": ") + 2);  // the queue id
        BOOST_REQUIRE_MESSAGE(got.rfind("bounce: ", 0) == 0, c.what << ": " << got);
        got = got.substr(8);
        if (c.want.rfind("action=quarantine", 0) == 0) {
            BOOST_TEST(got.rfind(c.want + ", file=" + f.settings.quarantine_dir + "/", 0) == 0,
                       c.what << ": got " << got << ", want " << c.want << ", file=...");
        } else {
            BOOST_TEST(got == c.want, c.what << ": got " << got << ", want " << c.want);
        }
    }
    // Nothing that is not a report was dropped: each is in the quarantine.
    size_t kept = 0;
    for (auto& e : std::filesystem::directory_iterator(f.settings.quarantine_dir)) kept += e.path().extension() == ".eml";
    BOOST_TEST(kept == 3u);
}

BOOST_AUTO_TEST_CASE(an_unsigned_report_accepted_says_signed_no) {
    Fixture f(true);
    std::string got = one_line(f, "postmaster@bounces.example.org", ts::make_dsn({}));
    BOOST_TEST(contains(got, "bounce: action=suppress, rcpt=<bob@example.net>, "
                             "verp=<postmaster@bounces.example.org>, signed=no, status=5.1.1"),
               got);
    BOOST_TEST(contains(f.events(), "\"trust\":\"accept_unsigned\""), f.events());
}

BOOST_AUTO_TEST_CASE(an_unknown_token_is_one_ignore_line) {
    Fixture f;
    auto e = Fixture::codec().encode(*address::parse_mailbox(std::string(60, 'x') + "@example.net"),
                                     [] { return std::string("nosuchtoken"); },
                                     floor<days>(sys_seconds(seconds(kNow))));
    BOOST_REQUIRE(e && e->is_token);
    std::string got = one_line(f, e->address, ts::make_dsn({}));
    BOOST_TEST(contains(got, "action=ignore, rcpt=<bob@example.net>, verp=<" + e->address +
                                 ">, signed=yes, status=5.1.1, class=hard, reason=userunknown, why=unknown-token"),
               got);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(bounce_event_log)

namespace pt = boost::property_tree;

BOOST_AUTO_TEST_CASE(every_event_line_follows_the_schema) {
    // The keys sendguard-bounce(8) EVENT LOG documents, on every line.
    Fixture f;
    const std::string bob = f.verp("bob@example.net");
    ts::DsnSpec soft;
    soft.status = "4.2.2";
    soft.diagnostic = "smtp; 452 4.2.2 Mailbox full";
    f.deliver(bob, ts::make_dsn({}));                                      // suppress
    f.deliver(bob, ts::make_dsn(soft));                                    // count
    f.deliver("postmaster@bounces.example.org", ts::make_dsn({}));         // ignore, unsigned
    f.deliver(bob, "Subject: hi\n\nhello\n");                              // quarantine
    f.deliver(bob, std::string(100, 'x'), true);                           // quarantine, too large
    std::istringstream in(f.events());
    std::string line;
    std::vector<std::string> actions;
    while (std::getline(in, line)) {
        pt::ptree t;
        std::istringstream j(line);
        BOOST_REQUIRE_NO_THROW(pt::read_json(j, t));
        // time: RFC 3339 UTC; time_unix: the same instant in epoch seconds.
        BOOST_TEST(t.get<std::string>("time") == "2026-11-18T11:06:40Z", line);
        BOOST_TEST(t.get<long long>("time_unix") == kNow, line);
        for (const char* k : {"queue_id", "sender", "recipient", "verp", "signed", "action"})
            BOOST_TEST(t.count(k) == 1u, "no \"" << k << "\" in " << line);
        const std::string a = t.get<std::string>("action");
        actions.push_back(a);
        if (a == "ignore" || a == "quarantine") BOOST_TEST(!t.get<std::string>("why").empty(), line);
        if (a == "quarantine") BOOST_TEST(!t.get<std::string>("file").empty(), line);
        BOOST_TEST(t.count("decision") == 0u, "the old key: " << line);
        BOOST_REQUIRE_MESSAGE(t.count("decisions") == 1u, line);
        for (auto& [_, d] : t.get_child("decisions")) {
            for (const char* k : {"address", "action", "status", "class", "reason"})
                BOOST_TEST(d.count(k) == 1u, "no decisions[].\"" << k << "\" in " << line);
        }
        // The report's own Action field never goes by our key.
        if (t.count("report"))
            for (auto& [_, r] : t.get_child("report")) BOOST_TEST(r.count("action") == 0u, line);
    }
    std::vector<std::string> want{"suppress", "suppress", "ignore", "quarantine", "quarantine"};
    // bob is suppressed already when the soft bounce comes: it stays so.
    BOOST_TEST(actions == want, "got " << actions.size() << " lines: " << f.events());
}

BOOST_AUTO_TEST_CASE(iso_times_round_trip) {
    struct Case { int64_t t; std::string want; } cases[] = {
        {0, "1970-01-01T00:00:00Z"},
        {1795000000, "2026-11-18T11:06:40Z"},
        {1798230600, "2026-12-25T20:30:00Z"},
        {951782400, "2000-02-29T00:00:00Z"},
        {-5, "1969-12-31T23:59:55Z"},
    };
    for (auto& c : cases) {
        BOOST_TEST(store::iso_time(c.t) == c.want, "got " << store::iso_time(c.t) << ", want " << c.want);
        auto back = store::parse_iso_time(c.want);
        BOOST_TEST((back && *back == c.t), c.want << " read back as " << (back ? *back : -1));
    }
    for (const char* bad : {"", "2026-11-18", "2026-11-18T11:06:40", "2026-02-30T00:00:00Z", "2026-11-18T24:00:00Z",
                            "2026-11-18 11:06:40Z", "2026-11-18T11:06:40+01:00", "1795000000"})
        BOOST_TEST(!store::parse_iso_time(bad).has_value(), bad << " was accepted");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(bounce_local_reports)

const std::string kLocalDsn =
    "Received: by mx1.example.org (Postfix)\n\tid 4XkQ2m1Zz9z; Mon, 3 Mar 2025 10:00:01 +0100 (CET)\n" +
    ts::make_dsn({});

std::string with_received(const std::string& received) {
    return "Received: " + received + "\n" + ts::make_dsn({});
}

BOOST_AUTO_TEST_CASE(local_rule_table) {
    const std::vector<std::string> names{"mx1.example.org"};
    struct Case { std::string what, message, reporting_mta, qid; std::vector<std::string> names; bool want; } cases[] = {
        {"made here", kLocalDsn, "mx1.example.org", "4XkQ2m1Zz9z", names, true},
        {"names in any case, trailing dot", kLocalDsn, "MX1.Example.ORG.", "4XkQ2m1Zz9z", names, true},
        {"no -q: a forwarded message looks the same", kLocalDsn, "mx1.example.org", "", names, false},
        {"no names configured", kLocalDsn, "mx1.example.org", "4XkQ2m1Zz9z", {}, false},
        {"Reporting-MTA elsewhere", kLocalDsn, "relay.example.org", "4XkQ2m1Zz9z", names, false},
        {"other queue id", kLocalDsn, "mx1.example.org", "4XkQ3b7Lq2z", names, false},
        {"came in over SMTP",
         with_received("from attacker.example (attacker.example [198.51.100.7])\n\tby mx1.example.org (Postfix) "
                       "with ESMTP id 4XkQ2m1Zz9z; Mon, 3 Mar 2025 10:00:01 +0100"),
         "mx1.example.org", "4XkQ2m1Zz9z", names, false},
        {"local submission",
         with_received("by mx1.example.org (Postfix, from userid 1000) id 4XkQ2m1Zz9z; Mon, 3 Mar 2025"),
         "mx1.example.org", "4XkQ2m1Zz9z", names, false},
        {"another host's Postfix", with_received("by mx2.example.org (Postfix) id 4XkQ2m1Zz9z; Mon, 3 Mar 2025"),
         "mx1.example.org", "4XkQ2m1Zz9z", names, false},
        {"no Received", ts::make_dsn({}), "mx1.example.org", "4XkQ2m1Zz9z", names, false},
        {"forged Received below ours",
         "Received: from a.example by mx1.example.org (Postfix) with SMTP id 4XkQ2m1Zz9z; x\n" + kLocalDsn,
         "mx1.example.org", "4XkQ2m1Zz9z", names, false},
    };
    for (auto& c : cases) {
        bool got = bounce::is_local_report(c.message, c.reporting_mta, c.names, c.qid);
        BOOST_TEST(got == c.want, c.what << ": got " << got << ", want " << c.want);
    }
}

BOOST_AUTO_TEST_CASE(a_local_report_is_trusted_an_outside_one_is_not) {
    Fixture f;
    f.settings.local_mta_names = {"mx1.example.org"};
    // make_dsn's Reporting-MTA is relay.example.org: name it too.
    f.settings.local_mta_names.push_back("relay.example.org");
    const std::string local = "Received: by relay.example.org (Postfix) id 4XkQ3b7Lq2z; Mon, 3 Mar 2025\n" +
                              ts::make_dsn({});
    std::string got = bounce_log_lines::one_line(f, "postmaster@bounces.example.org", local);
    BOOST_TEST(contains(got, "action=suppress, rcpt=<bob@example.net>, verp=<postmaster@bounces.example.org>, "
                             "signed=no"),
               got);
    BOOST_TEST(contains(f.events(), "\"trust\":\"local\""), f.events());

    Fixture g;
    g.settings.local_mta_names = {"relay.example.org"};
    const std::string outside =
        "Received: from attacker.example (attacker.example [198.51.100.7])\n\tby relay.example.org (Postfix) with "
        "ESMTP id 4XkQ3b7Lq2z; Mon, 3 Mar 2025\n" + ts::make_dsn({});
    got = bounce_log_lines::one_line(g, "postmaster@bounces.example.org", outside);
    BOOST_TEST(contains(got, "action=ignore, rcpt=<bob@example.net>"), got);
    BOOST_TEST(contains(got, "why=unsigned"), got);
    BOOST_TEST(!g.check("bob@example.net").has_value());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(bounce_hostile_input)

namespace {

size_t quarantined(const Fixture& f) {
    size_t n = 0;
    std::error_code ec;
    for (auto it = std::filesystem::directory_iterator(f.settings.quarantine_dir, ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
        ++n;
    return n;
}

// The stored record of key, pending or not (check() gives active ones only).
std::optional<store::Record> stored(const Fixture& f, const std::string& key) {
    std::optional<store::Record> out;
    store::SuppressionList(f.env).for_each([&](std::string_view k, const store::Record& r) {
        if (k == key) out = r;
        return !out;
    });
    return out;
}

}  // namespace

// A delivery-status part longer than the parser reads loses the record it
// cuts; the notice text must not stand in for it (it would count a guess).
BOOST_AUTO_TEST_CASE(a_cut_status_part_is_quarantined_not_read_from_the_notice) {
    Fixture f;
    std::string m = ts::make_dsn({});
    const std::string field = "Diagnostic-Code: smtp; 550 5.1.1 ";
    const size_t at = m.find(field);
    BOOST_REQUIRE(at != std::string::npos);
    m.insert(at + field.size(), std::string(3u << 19, 'x'));  // 1.5 MiB in one field
    const dsn::Report report = dsn::parse(m, f.settings.limits);
    BOOST_TEST(report.status_cut, "the cut went unnoticed");
    logging::clear_captured();
    auto v = f.deliver(f.verp("bob@example.net"), m);
    BOOST_TEST(v.exit_code == EX_OK);
    BOOST_TEST(store::SuppressionList(f.env).stats(kNow).total == 0u, "a cut report was counted: " << f.events());
    BOOST_TEST(contains(f.events(), "\"action\":\"quarantine\",\"why\":\"status-cut\""), f.events());
    BOOST_TEST(contains(logging::captured(), "bounce: action=quarantine, rcpt=<bob@example.net>"), logging::captured());
    BOOST_TEST(contains(logging::captured(), "why=status-cut"), logging::captured());
    BOOST_TEST(quarantined(f) == 1u);
}

// An event log that cannot be opened defers before the store or the
// quarantine is touched: the retry finds nothing done.
BOOST_AUTO_TEST_CASE(an_event_log_that_cannot_be_opened_defers_before_anything_changes) {
    Fixture f;
    harness::write_file(f.dir.sub("file"), "x");
    f.settings.event_log = f.dir.sub("file") + "/events.jsonl";  // ENOTDIR, root or not
    const std::string addr = f.verp("bob@example.net");
    bounce::Transport t(f.settings, f.env, {Fixture::codec()});
    auto v = t.deliver({"", addr, addr, "QID1"}, ts::make_dsn({}), false, kNow);
    BOOST_TEST(v.exit_code == EX_TEMPFAIL);
    BOOST_TEST(contains(v.reply, f.settings.event_log), v.reply);
    BOOST_TEST(contains(v.reply, "bounce_event_log"), v.reply);
    BOOST_TEST(!f.check("bob@example.net").has_value(), "stored although the delivery deferred");
    v = t.deliver({"", addr, addr, "QID2"}, "Subject: hello\n\nhi\n", false, kNow);
    BOOST_TEST(v.exit_code == EX_TEMPFAIL);
    BOOST_TEST(quarantined(f) == 0u, "quarantined although the delivery deferred");
}

// An event line that cannot be written after the store committed defers
// too; the retries change nothing more: a soft bounce counts once, a block
// once, and the quarantine keeps one copy.
BOOST_AUTO_TEST_CASE(an_event_log_write_failure_defers_and_retries_count_once) {
    if (!std::filesystem::exists("/dev/full")) {
        BOOST_TEST_MESSAGE("no /dev/full: write failures not tested");
        return;
    }
    Fixture f;
    const std::string good = f.settings.event_log;
    ts::DsnSpec soft;
    soft.status = "4.2.2";
    soft.diagnostic = "smtp; 452 4.2.2 Mailbox full";
    ts::DsnSpec block;
    block.recipient = "carl@example.com";
    block.status = "5.7.1";
    block.diagnostic = "smtp; 554 5.7.1 Client host [192.0.2.1] blocked using zen.spamhaus.org";
    const std::string bob = f.verp("bob@example.net"), carl = f.verp("carl@example.com");
    auto all = [&](const std::string& log) {
        f.settings.event_log = log;
        bounce::Transport t(f.settings, f.env, {Fixture::codec()});
        return std::vector<int>{t.deliver({"", bob, bob, "QS"}, ts::make_dsn(soft), false, kNow).exit_code,
                                t.deliver({"", carl, carl, "QB"}, ts::make_dsn(block), false, kNow).exit_code,
                                t.deliver({"", bob, bob, "QN"}, "Subject: hello\n\nhi\n", false, kNow).exit_code};
    };
    for (int i = 0; i < 3; ++i) {
        const auto codes = all("/dev/full");
        for (int c : codes) BOOST_TEST(c == EX_TEMPFAIL, "attempt " << i << ": exit " << c);
    }
    logging::clear_captured();
    const auto codes = all(good);
    for (int c : codes) BOOST_TEST(c == EX_OK);
    const auto r = stored(f, "bob@example.net");
    BOOST_REQUIRE(r);
    BOOST_TEST(r->count == 1u, "one soft bounce counted " << r->count << " times");
    const auto b = store::SuppressionList(f.env).block("example.com");
    BOOST_REQUIRE(b);
    BOOST_TEST(b->count == 1u, "one block counted " << b->count << " times");
    BOOST_TEST(quarantined(f) == 1u);
    // The deliveries that finally went through say they were recorded before.
    BOOST_TEST(contains(logging::captured(), "action=count, rcpt=<bob@example.net>, verp=<" + bob +
                                                 ">, signed=yes, status=4.2.2, class=soft, reason=mailboxfull, "
                                                 "count=1, threshold=3, repeat=yes"),
               logging::captured());
    BOOST_TEST(contains(logging::captured(), "reason=blocked, domain=example.com, repeat=yes"), logging::captured());
}

// A retried report logs its decision again, saying it was recorded before,
// so a count of action=suppress lines is a count of reports.
BOOST_AUTO_TEST_CASE(a_retried_report_says_it_was_recorded_already) {
    Fixture f;
    const std::string addr = f.verp("bob@example.net");
    bounce::Transport t(f.settings, f.env, {Fixture::codec()});
    const std::string want = "bounce: action=suppress, rcpt=<bob@example.net>, verp=<" + addr +
                             ">, signed=yes, status=5.1.1, class=hard, reason=userunknown";
    std::string lines[2];
    for (auto& l : lines) {
        logging::clear_captured();
        t.deliver({"", addr, addr, "QID1"}, ts::make_dsn({}), false, kNow);
        l = logging::captured();
    }
    BOOST_TEST(contains(lines[0], want + "\n"), lines[0]);
    BOOST_TEST(contains(lines[1], want + ", repeat=yes\n"), lines[1]);
    BOOST_TEST(contains(f.events(), "\"reason\":\"userunknown\",\"repeat\":true"), f.events());
}

BOOST_AUTO_TEST_SUITE_END()
