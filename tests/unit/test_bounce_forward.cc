// test_bounce_forward.cc - which replies to a bounce address are forwarded
// to the original sender, and how
//
// forward_refusal() as a table; the header scan; the per-sender counter;
// then bounce::Transport with a fake bounce_forward_command (a shell script
// that keeps its argv and standard input) against a real LMDB store.
#include <boost/test/unit_test.hpp>

#include <sysexits.h>

#include <chrono>
#include <filesystem>

#include "bounce-pipe/forward.h"
#include "bounce-pipe/transport.h"
#include "common/address/forward_seal.h"
#include "common/address/verp_setup.h"
#include "common/config/config.h"
#include "common/log/log.h"
#include "common/store/forwards.h"
#include "common/store/sendlog.h"
#include "tests/support/samples.h"
#include "tests/support/temp_dir.h"

namespace ts = testing_support;
using namespace std::chrono;

namespace {

constexpr int64_t kNow = 1795000000;
const char* const kKey = "0123456789abcdef0123456789abcdef";
const std::string kSender = "news@example.org";
const std::string kReplier = "alice@example.net";

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

std::string reply(const std::string& to, const std::string& extra_headers = "") {
    return "Return-Path: <" + kReplier + ">\n"
           "From: Alice <" + kReplier + ">\n"
           "To: " + to + "\n"
           "Subject: Re: our November offer\n"
           "Message-ID: <reply-1@example.net>\n" + extra_headers +
           "\n"
           "Yes please, call me back.\n";
}

struct Fixture {
    harness::TempDir dir{"sg-forward-"};
    std::shared_ptr<store::Env> env;
    bounce::Settings settings;
    std::string argv_file = dir.sub("argv");
    std::string stdin_file = dir.sub("stdin");
    int deliveries = 0;

    Fixture() {
        logging::open("test", logging::Sink::None);
        logging::clear_captured();
        store::EnvOptions o;
        o.map_size = 1 << 20;
        o.max_readers = 126;
        env = store::Env::open(dir.sub("lmdb"), o);
        settings = bounce::Settings::from(config::Config::defaults());
        settings.quarantine_dir = dir.sub("quarantine");
        settings.event_log = dir.sub("events.jsonl");
        command(0);
    }
    // The fake sendmail: keeps argv (one per line) and stdin, exits status.
    void command(int status) {
        const std::string path = dir.sub("sendmail");
        harness::write_file(path,
                            "#!/bin/sh\nfor a in \"$@\"; do printf '[%s]\\n' \"$a\"; done > " + argv_file +
                                "\ncat > " + stdin_file + "\necho 'fake sendmail says hello'\nexit " +
                                std::to_string(status) + "\n",
                            0755);
        settings.forward_command = path;
    }
    static address::VerpCodec codec() {
        const address::VerpConfig vc = address::verp_config(config::Config::defaults(), "bounces.example.org");
        return address::VerpCodec(vc, address::VerpKeys::from_strings({kKey}));
    }
    // A recipient-form return address of a message kSender sent to rcpt,
    // with the send-log entry the milter writes for it.
    std::string verp(const std::string& rcpt, const std::string& sender = kSender) {
        auto e = codec().encode(*address::parse_mailbox(rcpt), {}, floor<days>(sys_seconds(seconds(kNow))));
        BOOST_REQUIRE(e);
        if (!sender.empty()) {
            store::SendLogEntry entry;
            entry.expiry = kNow + 86400;
            entry.sender = sender;
            entry.queue_id = "4XkQ0orig";
            entry.recipients = {rcpt};
            store::SendLog(env).put(store::recipient_key(rcpt, "bounces.example.org"), entry);
        }
        return e->address;
    }
    bounce::Verdict deliver(const std::string& to, const std::string& msg, const std::string& sender = kReplier,
                            int64_t now = kNow) {
        bounce::Transport t(settings, env, {codec()});
        const std::string qid = "4XkQ5r" + std::to_string(++deliveries);
        return t.deliver({sender, to, to, qid}, msg, false, now);
    }
    std::string forwarded() const { return harness::file_text(stdin_file); }
    std::string events() const { return harness::file_text(settings.event_log); }
    size_t quarantined() const {
        std::error_code ec;
        size_t n = 0;
        for (auto it = std::filesystem::directory_iterator(settings.quarantine_dir, ec);
             !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
            ++n;
        return n;
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(bounce_forward)

BOOST_AUTO_TEST_CASE(forward_or_not_table) {
    bounce::ForwardFacts good;
    good.enabled = true;
    good.signed_ok = true;
    good.envelope_sender = kReplier;
    good.kind = dsn::Kind::None;
    good.from_count = 1;
    good.original_sender = kSender;
    struct Case {
        std::string what;
        std::function<void(bounce::ForwardFacts&)> change;
        std::string want;
    } cases[] = {
        {"a person's reply", [](auto&) {}, ""},
        {"turned off", [](auto& f) { f.enabled = false; }, "off"},
        {"unsigned or forged tag", [](auto& f) { f.signed_ok = false; }, "unsigned"},
        {"null sender", [](auto& f) { f.envelope_sender = ""; }, "null-sender"},
        {"null sender as <>", [](auto& f) { f.envelope_sender = "<>"; }, "null-sender"},
        {"null sender as pipe(8)'s default", [](auto& f) { f.envelope_sender = "MAILER-DAEMON"; }, "null-sender"},
        {"a DSN", [](auto& f) { f.kind = dsn::Kind::Dsn; }, "report"},
        {"an NDR", [](auto& f) { f.kind = dsn::Kind::Ndr; }, "report"},
        {"an auto-reply", [](auto& f) { f.kind = dsn::Kind::AutoReply; }, "report"},
        {"automatic mail", [](auto& f) { f.automatic = "precedence"; }, "automatic"},
        {"carries our seal", [](auto& f) { f.sealed = true; }, "sealed"},
        {"no From:", [](auto& f) { f.from_count = 0; }, "no-from"},
        {"two From:", [](auto& f) { f.from_count = 2; }, "no-from"},
        {"a From: the milter would refuse as too long",
         [](auto& f) { f.from_size = address::kMaxHeaderInput + 1; }, "long-from"},
        {"the longest From: the milter reads", [](auto& f) { f.from_size = address::kMaxHeaderInput; }, ""},
        {"no send-log entry", [](auto& f) { f.original_sender.reset(); }, "no-sender"},
        {"entry without sender", [](auto& f) { f.original_sender = ""; }, "no-sender"},
    };
    for (const auto& c : cases) {
        bounce::ForwardFacts f = good;
        c.change(f);
        const std::string got(bounce::forward_refusal(f));
        BOOST_TEST(got == c.want, c.what << ": got \"" << got << "\", want \"" << c.want << "\"");
    }
}

BOOST_AUTO_TEST_CASE(automatic_signals_of_the_parser) {
    // One implementation: the parser says what marks mail as automatic.
    const dsn::Limits limits{1000, 1024};
    struct Case {
        std::string headers, want;
    } cases[] = {
        {"", ""},
        {"Auto-Submitted: no\n", ""},
        {"Auto-Submitted: auto-generated\n", "auto-submitted"},
        {"Auto-Submitted: auto-forwarded\n", "auto-submitted"},
        {"Precedence: bulk\n", "precedence"},
        {"Precedence: junk\n", "precedence"},
        {"Precedence: list\n", "precedence"},
        {"X-Autoreply: yes\n", "autoreply"},
        {"List-Id: <news.example.org>\n", "list"},
        {"List-Unsubscribe: <mailto:u@example.org>\n", "list"},
    };
    for (const auto& c : cases) {
        const dsn::Report r = dsn::parse(reply("bounce@bounces.example.org", c.headers), limits);
        BOOST_TEST(r.automatic == c.want, c.headers << ": got \"" << r.automatic << "\", want \"" << c.want << "\"");
    }
}

BOOST_AUTO_TEST_CASE(reply_headers_are_read_from_the_header_block) {
    const auto h = bounce::read_reply_headers("Subject: x\nFrom: Alice\n <a@example.net>\nX-Other: 1\n\nFrom: body\n");
    BOOST_TEST(h.from == "Alice <a@example.net>");
    BOOST_TEST(h.from_count == 1);
    BOOST_TEST(!h.sealed);
    const auto s = bounce::read_reply_headers("x-sendguard-forwarded: v=1\r\nFrom: a@b\r\nfrom: c@d\r\n\r\n");
    BOOST_TEST(s.sealed);
    BOOST_TEST(s.from_count == 2);
    BOOST_TEST(s.from == "a@b");
}

BOOST_AUTO_TEST_CASE(counter_limits_per_sender_and_window) {
    Fixture f;
    store::Forwards c(f.env);
    BOOST_TEST(c.take("a@x", kNow, 2, 3600).allowed);
    BOOST_TEST(c.take("a@x", kNow + 1, 2, 3600).count == 2u);
    const auto third = c.take("a@x", kNow + 2, 2, 3600);
    BOOST_TEST(!third.allowed);
    BOOST_TEST(third.count == 2u);
    BOOST_TEST(c.take("b@x", kNow + 2, 2, 3600).allowed, "another sender has its own count");
    c.give_back("a@x", kNow + 3);
    BOOST_TEST(c.count("a@x", kNow + 3) == 1u);
    BOOST_TEST(c.take("a@x", kNow + 3600, 2, 3600).count == 1u, "a new window starts afresh");
    // Ended windows are swept as new ones start: the DB stays bounded.
    for (int i = 0; i < 50; ++i) c.take("s" + std::to_string(i) + "@x", kNow, 5, 60);
    c.take("zz@x", kNow + 7200, 5, 60);
    c.take("aa@x", kNow + 7200, 5, 60);
    size_t left = 0;
    {
        const MDB_dbi db = f.env->dbi("forwards");
        store::ReadTxn r = f.env->read();
        store::Cursor cur = r.cursor(db);
        for (auto kv = cur.first(); kv; kv = cur.next()) ++left;
    }
    BOOST_TEST(left < 50u, left << " entries left of 54, most of them ended");
}

BOOST_AUTO_TEST_CASE(reply_is_forwarded_sealed_to_the_original_sender) {
    Fixture f;
    const std::string to = f.verp("bob@example.net");
    const bounce::Verdict v = f.deliver(to, reply(to));
    BOOST_TEST(v.exit_code == EX_OK, v.reply);
    BOOST_TEST(harness::file_text(f.argv_file) == "[-G]\n[-i]\n[-f]\n[]\n[--]\n[" + kSender + "]\n");
    const std::string m = f.forwarded();
    BOOST_TEST(m.starts_with("X-Sendguard-Forwarded: v=1; t=1795000000; s="), m);
    BOOST_TEST(contains(m, "\nAuto-Submitted: auto-forwarded\n"), m);
    BOOST_TEST(contains(m, "\nResent-To: <" + kSender + ">\n"), m);
    BOOST_TEST(contains(m, "\nResent-From: <" + to + ">\n"), m);
    BOOST_TEST(m.ends_with(reply(to)), "the reply itself is unchanged: " << m);
    // The seal is what the milter will verify: for the forward's recipient
    // and the reply's From:.
    const std::string seal = m.substr(23, m.find('\n') - 23);
    BOOST_TEST((address::verify_forward_seal(address::VerpKeys::from_strings({kKey}), seal, kSender,
                                             "Alice <" + kReplier + ">",
                                             sys_seconds(seconds(kNow + 60))) == address::SealStatus::Ok),
               "the seal does not verify");
    BOOST_TEST(f.quarantined() == 0u);
    BOOST_TEST(contains(logging::captured(), "bounce: action=forward, rcpt=<" + kSender + ">, verp=<" + to +
                                                 ">, signed=yes, status=-, class=-, reason=-, count=1, threshold=20"),
               logging::captured());
    BOOST_TEST(contains(f.events(), "\"action\":\"forward\""), f.events());
    BOOST_TEST(contains(f.events(), "\"forward_to\":\"" + kSender + "\""), f.events());
}

BOOST_AUTO_TEST_CASE(token_form_tag_finds_its_sender) {
    Fixture f;
    auto e = Fixture::codec().encode_token("tok123", floor<days>(sys_seconds(seconds(kNow))));
    BOOST_REQUIRE(e);
    store::SendLogEntry entry;
    entry.expiry = kNow + 86400;
    entry.sender = "boss@example.org";
    entry.recipients = {"a@example.net", "b@example.net"};
    store::SendLog(f.env).put("tok123", entry);
    const bounce::Verdict v = f.deliver(e->address, reply(e->address));
    BOOST_TEST(v.exit_code == EX_OK, v.reply);
    BOOST_TEST(contains(harness::file_text(f.argv_file), "[boss@example.org]"), harness::file_text(f.argv_file));
}

BOOST_AUTO_TEST_CASE(what_is_not_forwarded_keeps_its_old_fate) {
    struct Case {
        std::string what;
        bool log_entry;  // the send log knows the tag
        std::string sender, extra_headers;
        bool autoreply;
        size_t quarantined;
        std::string forward_key;  // the event's "forward" (why not)
    } cases[] = {
        {"no send-log entry", false, kReplier, "", false, 1, "no-sender"},
        {"null sender", true, "", "", false, 1, "null-sender"},
        {"automatic mail", true, kReplier, "Precedence: bulk\n", false, 1, "automatic"},
        {"a forward that came back", true, kReplier, "X-Sendguard-Forwarded: v=1; t=1; s=0\n", false, 1, "sealed"},
        {"an auto-reply", true, kReplier, "", true, 0, ""},
    };
    for (const auto& c : cases) {
        Fixture f;
        const std::string to = f.verp("bob@example.net", c.log_entry ? kSender : "");
        const std::string msg = c.autoreply ? ts::make_autoreply(to, "Out of office") : reply(to, c.extra_headers);
        const bounce::Verdict v = f.deliver(to, msg, c.sender);
        BOOST_TEST(v.exit_code == EX_OK, c.what << ": " << v.reply);
        BOOST_TEST(!std::filesystem::exists(f.stdin_file), c.what << ": forwarded");
        BOOST_TEST(f.quarantined() == c.quarantined, c.what);
        if (!c.forward_key.empty())
            BOOST_TEST(contains(f.events(), "\"forward\":\"" + c.forward_key + "\""), c.what << ": " << f.events());
    }
}

BOOST_AUTO_TEST_CASE(forward_replies_no_quarantines_as_before) {
    Fixture f;
    f.settings.forward_replies = false;
    const std::string to = f.verp("bob@example.net");
    BOOST_TEST(f.deliver(to, reply(to)).exit_code == EX_OK);
    BOOST_TEST(!std::filesystem::exists(f.stdin_file));
    BOOST_TEST(f.quarantined() == 1u);
    BOOST_TEST(contains(logging::captured(), "action=quarantine"), logging::captured());
}

BOOST_AUTO_TEST_CASE(over_the_limit_is_quarantined) {
    Fixture f;
    f.settings.forward_limit = 1;
    const std::string to = f.verp("bob@example.net");
    BOOST_TEST(f.deliver(to, reply(to)).exit_code == EX_OK);
    BOOST_TEST(f.quarantined() == 0u);
    std::filesystem::remove(f.stdin_file);
    BOOST_TEST(f.deliver(to, reply(to)).exit_code == EX_OK);
    BOOST_TEST(!std::filesystem::exists(f.stdin_file), "the second reply went out");
    BOOST_TEST(f.quarantined() == 1u);
    BOOST_TEST(contains(logging::captured(), "action=quarantine, rcpt=<" + kSender + ">"), logging::captured());
    BOOST_TEST(contains(logging::captured(), "count=1, threshold=1, why=forward-limit"), logging::captured());
    // A new window forwards again.
    BOOST_TEST(f.deliver(to, reply(to), kReplier, kNow + 3600).exit_code == EX_OK);
    BOOST_TEST(std::filesystem::exists(f.stdin_file));
}

BOOST_AUTO_TEST_CASE(command_failures) {
    struct Case {
        std::string what;
        int status;          // of the fake command; -1: no such command
        int want_exit;
        size_t quarantined;
        std::string reply;   // the defer's text
    } cases[] = {
        {"EX_TEMPFAIL defers", EX_TEMPFAIL, EX_TEMPFAIL, 0, "exited with status 75: fake sendmail says hello"},
        {"EX_OSERR defers", EX_OSERR, EX_TEMPFAIL, 0, "exited with status 71"},
        {"status 1 (Postfix's sendmail on a fatal error) defers", 1, EX_TEMPFAIL, 0, "exited with status 1"},
        {"EX_CONFIG defers", EX_CONFIG, EX_TEMPFAIL, 0, "exited with status 78"},
        {"no such command defers", -1, EX_TEMPFAIL, 0, "cannot run bounce_forward_command"},
        {"a permanent refusal is quarantined", EX_NOUSER, EX_OK, 1, ""},
    };
    for (const auto& c : cases) {
        Fixture f;
        if (c.status < 0)
            f.settings.forward_command = f.dir.sub("nosuch");
        else
            f.command(c.status);
        const std::string to = f.verp("bob@example.net");
        const bounce::Verdict v = f.deliver(to, reply(to));
        BOOST_TEST(v.exit_code == c.want_exit, c.what << ": " << v.reply);
        BOOST_TEST(contains(v.reply, c.reply), c.what << ": " << v.reply);
        BOOST_TEST(f.quarantined() == c.quarantined, c.what);
        BOOST_TEST(store::Forwards(f.env).count(kSender, kNow) == 0u, c.what << ": a failed forward stays counted");
        if (c.quarantined)
            BOOST_TEST(contains(logging::captured(), "why=forward-failed, file="), c.what << ": " << logging::captured());
    }
}

// A command that exits 0 without reading the whole message did not take
// it: the delivery defers and nothing is counted.
BOOST_AUTO_TEST_CASE(a_command_that_reads_part_of_the_message_defers) {
    Fixture f;
    harness::write_file(f.dir.sub("part"), "#!/bin/sh\nhead -c 50 >/dev/null\nexit 0\n", 0755);
    f.settings.forward_command = f.dir.sub("part");
    const std::string to = f.verp("bob@example.net");
    const bounce::Verdict v = f.deliver(to, reply(to));
    BOOST_TEST(v.exit_code == EX_TEMPFAIL, v.reply);
    BOOST_TEST(contains(v.reply, "exited with status 0 before it read the whole message"), v.reply);
    BOOST_TEST(store::Forwards(f.env).count(kSender, kNow) == 0u);
}

BOOST_AUTO_TEST_CASE(a_command_that_hangs_is_killed) {
    Fixture f;
    harness::write_file(f.dir.sub("hang"), "#!/bin/sh\nexec sleep 30\n", 0755);
    f.settings.forward_command = f.dir.sub("hang");
    f.settings.forward_time_limit = seconds(1);
    const std::string to = f.verp("bob@example.net");
    const auto t0 = steady_clock::now();
    const bounce::Verdict v = f.deliver(to, reply(to));
    BOOST_TEST(v.exit_code == EX_TEMPFAIL);
    BOOST_TEST(contains(v.reply, "took longer than bounce_forward_time_limit (1s)"), v.reply);
    BOOST_TEST((steady_clock::now() - t0 < seconds(10)), "the hung command was not killed in time");
}

BOOST_AUTO_TEST_SUITE_END()
