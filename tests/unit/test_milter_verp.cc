// test_milter_verp.cc - the new envelope sender at end of message
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include <stdexcept>

#include "common/address/verp_setup.h"
#include "milter/return_path.h"
#include "tests/unit/test_milter_support.h"

using milter_test::describe;
using milter_test::Fixture;

namespace {

struct Message {
    std::string sender = "<news@customer-a.example>";
    std::vector<std::string> args{};
    std::vector<std::pair<std::string, std::string>> rcpts{{"<bob@remote.example>", "smtp"}};
};

// MAIL, RCPTs, From, end of headers, end of message, all accepted.
milter::Decision run(Fixture& f, const Message& m, milter::ConnectInfo client = milter_test::smtp_client()) {
    milter::Session s = f.session();
    s.connect(client);
    const std::string login = milter::is_local_submission(client) ? "" : "alice@customer-a.example";
    BOOST_REQUIRE_EQUAL(describe(s.mail(m.sender, m.args, login, "Q1").reply), "continue");
    for (const auto& [r, mailer] : m.rcpts) BOOST_REQUIRE_EQUAL(describe(s.rcpt(r, mailer).reply), "continue");
    s.header("From", "news@customer-a.example");
    BOOST_REQUIRE_EQUAL(describe(s.end_of_headers("Q1").reply), "continue");
    return s.end_of_message("Q1");
}

address::Decoded decode(const Fixture& f, const std::string& a) {
    const auto d = address::parse_path(a);
    BOOST_REQUIRE(d);
    const auto codec = f.settings.policy->bounce_domains.codec(d->domain());
    BOOST_REQUIRE(codec);
    return codec->decode(a, std::chrono::floor<std::chrono::days>(milter_test::kNow));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(milter_verp)

// One recipient: form "r" on bounces.<sender domain>, RET and ENVID kept.
BOOST_AUTO_TEST_CASE(one_recipient_form_r_keeps_ret_and_envid) {
    Fixture f;
    Message m;
    m.args = {"SIZE=1000", "RET=HDRS", "envid=abc+2Bx", "BODY=8BITMIME"};
    const milter::Decision d = run(f, m);
    BOOST_REQUIRE(d.change_from);
    BOOST_TEST(d.change_from->address.ends_with("@bounces.customer-a.example"), d.change_from->address);
    BOOST_TEST(d.change_from->address.starts_with("bounce+r"), d.change_from->address);
    BOOST_TEST(d.change_from->esmtp_args == "RET=HDRS envid=abc+2Bx");
    const address::Decoded dec = decode(f, d.change_from->address);
    BOOST_TEST(address::to_string(dec.status) == "ok");
    BOOST_TEST(dec.recipient.str() == "bob@remote.example");
    BOOST_REQUIRE_EQUAL(f.recorded.size(), 1u);
    BOOST_TEST(f.recorded[0].first == "r:bob@remote.example:bounces.customer-a.example");
    BOOST_TEST(f.recorded[0].second.recipients == std::vector<std::string>{"bob@remote.example"});
    BOOST_TEST(logging::captured().find("Q1: milter: action=verp, stage=eom") != std::string::npos,
               logging::captured());
}

// A recipient too long for a local part: a token, recorded in the send log.
BOOST_AUTO_TEST_CASE(long_recipient_gets_a_token) {
    Fixture f;
    Message m;
    const std::string rcpt = std::string(60, 'r') + "@remote.example";
    m.rcpts = {{"<" + rcpt + ">", "smtp"}};
    const milter::Decision d = run(f, m);
    BOOST_REQUIRE(d.change_from);
    const address::Decoded dec = decode(f, d.change_from->address);
    BOOST_TEST(dec.is_token);
    BOOST_TEST(dec.token == "tok1");
    BOOST_REQUIRE_EQUAL(f.recorded.size(), 1u);
    BOOST_TEST(f.recorded[0].first == "tok1");
    BOOST_TEST(f.recorded[0].second.recipients == std::vector<std::string>{rcpt});
}

// Several recipients (milter_verp_recipients = token): one token whose entry
// lists every recipient, the original sender and the queue id.
BOOST_AUTO_TEST_CASE(several_recipients_one_token) {
    Fixture f;
    Message m;
    m.rcpts = {{"<Bob@remote.example>", "smtp"}, {"<carol@other.example>", "smtp"}, {"<dave@here.example>", "local"}};
    const milter::Decision d = run(f, m);
    BOOST_REQUIRE(d.change_from);
    BOOST_TEST(decode(f, d.change_from->address).token == "tok1");
    BOOST_REQUIRE_EQUAL(f.recorded.size(), 1u);
    const store::SendLogEntry& e = f.recorded[0].second;
    BOOST_TEST(e.recipients == (std::vector<std::string>{"bob@remote.example", "carol@other.example",
                                                         "dave@here.example"}));
    BOOST_TEST(e.sender == "news@customer-a.example");
    BOOST_TEST(e.queue_id == "Q1");
    // As long as the tag is accepted: through its day + verp_max_age, and a
    // day more for a bouncing host whose clock is behind.
    const auto today = std::chrono::floor<std::chrono::days>(milter_test::kNow);
    BOOST_TEST(e.expiry == std::chrono::sys_seconds(today).time_since_epoch().count() + (60 + 2) * 86400);
    BOOST_TEST(e.expiry > milter_test::kNow.time_since_epoch().count() + 61 * 86400);
}

// Every rewritten message is recorded; form "r" under
// store::recipient_key(recipient, bounce domain), with the message's
// Message-ID and milter_sendlog_headers values. A header value is unfolded,
// trimmed and cut; the second occurrence and unlisted fields are not kept.
BOOST_AUTO_TEST_CASE(send_log_keeps_message_id_and_listed_headers) {
    const std::string at_limit(store::kSendLogMaxString, 'c');
    using Headers = std::vector<std::pair<std::string, std::string>>;
    struct Case {
        std::string what;
        Headers in;
        std::string want_message_id;
        Headers want;
    };
    const Case cases[] = {
        {"both kept, in the configured order",
         {{"List-Id", "News <news.customer-a.example>"}, {"Message-ID", "<m1@customer-a.example>"},
          {"Feedback-ID", "42:news:esp"}},
         "<m1@customer-a.example>",
         {{"Feedback-ID", "42:news:esp"}, {"List-Id", "News <news.customer-a.example>"}}},
        {"folded and padded", {{"feedback-id", " 42:\r\n\tnews \r\n"}, {"Message-Id", "\n <m2@x>  "}}, "<m2@x>",
         {{"Feedback-ID", "42:\tnews"}}},
        {"no Message-ID", {{"Feedback-ID", "1"}}, "", {{"Feedback-ID", "1"}}},
        {"not configured", {{"X-Campaign", "spring"}, {"Subject", "hello"}}, "", {}},
        {"second occurrence ignored",
         {{"Feedback-ID", "first"}, {"Feedback-ID", "second"}, {"Message-ID", "<a@x>"}, {"Message-ID", "<b@x>"}},
         "<a@x>", {{"Feedback-ID", "first"}}},
        {"over-long value cut", {{"Feedback-ID", at_limit + "dddd"}}, "", {{"Feedback-ID", at_limit}}},
        {"cut at a UTF-8 boundary", {{"Feedback-ID", std::string(store::kSendLogMaxString - 1, 'c') + "\xc3\xa9"}},
         "", {{"Feedback-ID", std::string(store::kSendLogMaxString - 1, 'c')}}},
    };
    for (const Case& c : cases) {
        for (const bool token : {false, true}) {
            Fixture f;
            milter::Session s = f.session();
            s.connect(milter_test::smtp_client());
            BOOST_REQUIRE_EQUAL(describe(s.mail("<news@customer-a.example>", {}, "alice@customer-a.example", "Q1").reply),
                                "continue");
            BOOST_REQUIRE_EQUAL(describe(s.rcpt("<Bob@Remote.example>", "smtp").reply), "continue");
            if (token) BOOST_REQUIRE_EQUAL(describe(s.rcpt("<carol@remote.example>", "smtp").reply), "continue");
            s.header("From", "news@customer-a.example");
            for (const auto& [name, value] : c.in) s.header(name, value);
            BOOST_REQUIRE_EQUAL(describe(s.end_of_headers("Q1").reply), "continue");
            const milter::Decision d = s.end_of_message("Q1");
            BOOST_REQUIRE(d.change_from);
            BOOST_REQUIRE_EQUAL(f.recorded.size(), 1u);
            const auto& [key, e] = f.recorded[0];
            BOOST_TEST(key == (token ? "tok1" : "r:bob@remote.example:bounces.customer-a.example"), c.what);
            BOOST_TEST(e.message_id == c.want_message_id, c.what << ": got " << e.message_id);
            BOOST_TEST((e.headers == c.want), c.what);
            BOOST_TEST(e.sender == "news@customer-a.example");
            BOOST_TEST(e.queue_id == "Q1");
            BOOST_TEST(e.recipients.size() == (token ? 2u : 1u));
        }
    }
}

// A form-"r" entry the store cannot take costs the message's names only:
// the message is rewritten and the line says so. A token's entry cannot be
// done without (the caller turns the exception into milter_error_action).
BOOST_AUTO_TEST_CASE(send_log_failure_for_form_r_is_logged_not_fatal) {
    Fixture f;
    milter::Services svc = f.services();
    svc.record = [](const std::string&, const store::SendLogEntry&) { throw std::runtime_error("map full"); };
    milter::Session s(f.settings.policy, svc);
    s.connect(milter_test::smtp_client());
    BOOST_REQUIRE_EQUAL(describe(s.mail("<news@customer-a.example>", {}, "alice@customer-a.example", "Q1").reply),
                        "continue");
    BOOST_REQUIRE_EQUAL(describe(s.rcpt("<bob@remote.example>", "smtp").reply), "continue");
    s.header("From", "news@customer-a.example");
    BOOST_REQUIRE_EQUAL(describe(s.end_of_headers("Q1").reply), "continue");
    const milter::Decision d = s.end_of_message("Q1");
    BOOST_TEST(d.change_from.has_value());
    BOOST_TEST(logging::captured().find("action=verp, stage=eom") != std::string::npos, logging::captured());
    BOOST_TEST(logging::captured().find("detail=send log not written: map full") != std::string::npos,
               logging::captured());
    BOOST_TEST(describe(s.rcpt("<carol@remote.example>", "smtp").reply) == "continue");
    BOOST_CHECK_THROW(s.end_of_message("Q1"), std::runtime_error);
}

// milter_sendlog_headers: header field names, each once.
BOOST_AUTO_TEST_CASE(sendlog_headers_parameter) {
    BOOST_TEST((Fixture().settings.policy->sendlog_headers == std::vector<std::string>{"Feedback-ID", "List-Id"}));
    BOOST_TEST((Fixture("milter_sendlog_headers = X-Campaign, Message-ID\n").settings.policy->sendlog_headers ==
                std::vector<std::string>{"X-Campaign"}));
    for (const char* bad : {"X:Campaign", "feedback-id, Feedback-ID", "X-\xc3\xa9"}) {
        try {
            Fixture f(std::string("milter_sendlog_headers = ") + bad + "\n");
            BOOST_ERROR("accepted: " << bad);
        } catch (const config::Error& e) {
            BOOST_TEST(std::string(e.what()).find("invalid milter_sendlog_headers") != std::string::npos, e.what());
        }
    }
}

// milter_verp_recipients = split: 452 4.5.3 for the second RCPT of a
// VERP-tracked sender; not for local submissions (cleanup(8) would keep
// the mail queued), not for an untracked (null) sender.
BOOST_AUTO_TEST_CASE(split_defers_the_second_recipient) {
    struct Case {
        milter::ConnectInfo client;
        std::string sender;
        std::string second_mailer;
        std::string want;
    };
    const Case cases[] = {
        {milter_test::smtp_client(), "<news@customer-a.example>", "smtp",
         "tempfail 452 4.5.3 one recipient per message: send the next one in a new transaction"},
        {milter_test::smtp_client(), "<news@customer-a.example>", "local", "continue"},
        {milter_test::smtp_client(), "<>", "smtp", "continue"},
        {milter_test::local_submission(), "<news@customer-a.example>", "", "continue"},
    };
    for (const Case& c : cases) {
        Fixture f("milter_verp_recipients = split\n");
        milter::Session s = f.session();
        s.connect(c.client);
        const std::string login = milter::is_local_submission(c.client) ? "" : "alice@customer-a.example";
        BOOST_REQUIRE_EQUAL(describe(s.mail(c.sender, {}, login, "Q1").reply), "continue");
        BOOST_TEST(describe(s.rcpt("<a@remote.example>", "smtp").reply) == "continue");
        BOOST_TEST(describe(s.rcpt("<b@remote.example>", c.second_mailer).reply) == c.want,
                   c.sender << " " << c.second_mailer);
    }
}

// Not rewritten: every recipient local, VERP off, no bounce domain.
BOOST_AUTO_TEST_CASE(not_rewritten) {
    struct Case {
        std::string config;
        Message m;
        std::string why;
    };
    Message local;
    local.rcpts = {{"<a@here.example>", "local"}, {"<b@here.example>", "virtual"}};
    const Case cases[] = {
        {"", local, "why=local_recipients"},
        {"milter_local_mailers = relay\n", Message{.rcpts = {{"<a@x.example>", "relay"}}}, "why=local_recipients"},
        {"milter_verp = no\n", Message{}, "why=verp_off"},
        {"bounce_domains =\n", Message{}, "why=no_bounce_domain"},
    };
    for (const Case& c : cases) {
        Fixture f(c.config);
        const milter::Decision d = run(f, c.m);
        BOOST_TEST(!d.change_from, c.config << c.why);
        BOOST_TEST(logging::captured().find(c.why) != std::string::npos, logging::captured());
    }
}

BOOST_AUTO_TEST_CASE(no_bounce_domain_refuse) {
    Fixture f("bounce_domains =\nmilter_no_bounce_domain_action = refuse\n");
    milter::Session s = f.session();
    s.connect(milter_test::smtp_client());
    BOOST_TEST(describe(s.mail("<news@customer-a.example>", {}, "alice@customer-a.example", "Q1").reply) ==
               "reject 550 5.7.1 sender domain customer-a.example has no bounce domain");
}

// milter_bounce_domain_maps picks a sender domain's bounce domain, which
// bounce_domains must accept (else sendguard-bounce would not trust it).
BOOST_AUTO_TEST_CASE(bounce_domain_map) {
    {
        Fixture probe;
        harness::write_file(probe.dir.sub("bounce-map"), "Customer-A.example  rt.mail-host.example\n");
        Fixture f("bounce_domains = bounces.*, rt.mail-host.example\nmilter_bounce_domain_maps = " +
                  probe.dir.sub("bounce-map") + "\n");
        const milter::Decision d = run(f, Message{});
        BOOST_REQUIRE(d.change_from);
        BOOST_TEST(d.change_from->address.ends_with("@rt.mail-host.example"), d.change_from->address);
    }
    Fixture probe;
    harness::write_file(probe.dir.sub("bounce-map"), "customer-a.example rt.mail-host.example\n");
    try {
        Fixture f("milter_bounce_domain_maps = " + probe.dir.sub("bounce-map") + "\n");
        BOOST_FAIL("a bounce domain bounce_domains does not accept loads");
    } catch (const config::Error& e) {
        BOOST_TEST(std::string(e.what()).find("bounce-map:1: bounce domain rt.mail-host.example is not accepted "
                                              "by bounce_domains") != std::string::npos,
                   e.what());
    }
}

// bounce_domains patterns: what the milter signs on is what the bounce
// transport accepts, and a tag only verifies at the domain it was made for.
BOOST_AUTO_TEST_CASE(bounce_domain_patterns) {
    Fixture f("bounce_domains = bounces.*, fixed.example\n");
    const address::BounceDomains& b = f.settings.policy->bounce_domains;
    const auto dom = [](const char* d) { return *address::normalise_domain(d); };
    BOOST_TEST(b.accepts(dom("bounces.customer-a.example")));
    BOOST_TEST(b.accepts(dom("BOUNCES.customer-b.example")));
    BOOST_TEST(b.accepts(dom("fixed.example")));
    BOOST_TEST(!b.accepts(dom("bounces")));
    BOOST_TEST(!b.accepts(dom("customer-a.example")));
    BOOST_TEST(!b.accepts(dom("xbounces.customer-a.example")));
    BOOST_TEST(b.for_sender(dom("customer-a.example"))->str() == "bounces.customer-a.example");
    const auto a = b.codec(dom("bounces.customer-a.example"));
    const auto other = b.codec(dom("bounces.customer-b.example"));
    BOOST_REQUIRE(a);
    BOOST_REQUIRE(other);
    const auto today = std::chrono::floor<std::chrono::days>(milter_test::kNow);
    const auto e = a->encode(*address::parse_path("<bob@remote.example>"), {}, today);
    BOOST_REQUIRE(e);
    BOOST_TEST(address::to_string(a->decode(e->address, today).status) == "ok");
    std::string moved = e->address.substr(0, e->address.find('@')) + "@bounces.customer-b.example";
    BOOST_TEST(address::to_string(other->decode(moved, today).status) == "bad_mac");
    BOOST_CHECK_THROW(Fixture("bounce_domains = a.b.*\n"), config::Error);
}

BOOST_AUTO_TEST_SUITE_END()
