// test_throttle_reply.cc - policyd/reply_class.h: status-key parsing, the
// throttling classifier over providers' real replies, retry-after texts and
// the operator's pattern file
#include <boost/test/unit_test.hpp>

#include <optional>
#include <string>

#include "common/config/error.h"
#include "policyd/reply_class.h"
#include "policyd/reply_patterns.h"
#include "tests/support/temp_dir.h"

using policyd::RateKind;
using policyd::Signal;

namespace {

constexpr int64_t kS = 1'000'000;

std::string error_of(std::string_view text) {
    try {
        policyd::ReplyPatterns::parse(text, "replies");
    } catch (const config::Error& e) {
        return e.what();
    }
    return "(no error)";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(throttle_reply)

BOOST_AUTO_TEST_CASE(status_keys_parse) {
    struct Case {
        std::string_view key;
        std::string_view enhanced, host, ip, code, text;
        bool success;
    };
    const Case cases[] = {
        {"4.7.1 host mx.example[192.0.2.4] said: 451 4.7.1 try again later (in reply to RCPT TO command)",
         "4.7.1", "mx.example", "192.0.2.4", "451", "4.7.1 try again later", false},
        {"4.0.0 host MX1.Example.NET[192.0.2.5] said: 421 4.0.0 Server closing connection (in reply to RCPT TO command)",
         "4.0.0", "mx1.example.net", "192.0.2.5", "421", "4.0.0 Server closing connection", false},
        {"4.4.1 connect to mx.example[192.0.2.3]:25: Connection refused", "4.4.1", "mx.example", "192.0.2.3", "",
         "Connection refused", false},
        {"4.4.2 lost connection with mx.example[192.0.2.3] while receiving the initial server greeting", "4.4.2",
         "mx.example", "192.0.2.3", "", "while receiving the initial server greeting", false},
        {"4.4.2 conversation with mx.example[2001:db8::1] timed out while sending end of data -- message may be sent more than once",
         "4.4.2", "mx.example", "2001:db8::1", "", "timed out while sending end of data -- message may be sent more than once", false},
        {"2.0.0 250 2.0.0 Ok", "2.0.0", "", "", "250", "2.0.0 Ok", true},
        {"2.0.0 250 2.0.0 Ok: queued as 4XkQ2m1Zz9z", "2.0.0", "", "", "250", "2.0.0 Ok: queued as 4XkQ2m1Zz9z", true},
        {"5.1.1 host mx.example[192.0.2.4] said: 550-5.1.1 The email account does not exist (in reply to RCPT TO command)",
         "5.1.1", "mx.example", "192.0.2.4", "550", "5.1.1 The email account does not exist", false},
        {"4.4.3 Host or domain name not found. Name service error for name=example.invalid type=MX: Host not found, try again",
         "4.4.3", "", "", "", "Host or domain name not found. Name service error for name=example.invalid type=MX: Host not found, try again", false},
        {"4.4.1 delivery temporarily suspended: connect to mx.example[192.0.2.3]:25: Connection timed out", "4.4.1",
         "mx.example", "192.0.2.3", "", "Connection timed out", false},
        {"4.7.5", "4.7.5", "", "", "", "", false},
        {"4.7.0 host mx.example[192.0.2.4] refused to talk to me: 421 mwinf Trop de connexions", "4.7.0",
         "mx.example", "192.0.2.4", "421", "mwinf Trop de connexions", false},
        {"4.7.0 host weird said: 421 x", "4.7.0", "", "", "", "host weird said: 421 x", false},
    };
    for (const Case& c : cases) {
        const std::optional<policyd::StatusKey> k = policyd::parse_status_key(c.key);
        BOOST_TEST_CONTEXT("key \"" << c.key << "\"") {
            BOOST_TEST_REQUIRE(k.has_value());
            BOOST_TEST(k->enhanced == c.enhanced);
            BOOST_TEST(k->host == c.host);
            BOOST_TEST(k->ip == c.ip);
            BOOST_TEST(k->reply_code == c.code);
            BOOST_TEST(k->text == c.text);
            BOOST_TEST(k->success == c.success);
        }
    }
}

BOOST_AUTO_TEST_CASE(bad_status_keys) {
    for (std::string_view key : {"", "hello", "3.0.0 x", "4.7 x", "4.7.1x", "4..1 x", "4.1234.1 x", "44.7.1 x",
                                 "4.7.1000 x", "x4.7.1"}) {
        BOOST_TEST(!policyd::parse_status_key(key).has_value(), "key \"" << key << "\"");
        BOOST_TEST((policyd::classify_key(key).signal == Signal::Other), "key \"" << key << "\"");
    }
    const std::string huge = "4.7.1 " + std::string(policyd::kMaxStatusKey, 'a');
    BOOST_TEST(!policyd::parse_status_key(huge).has_value());
}

BOOST_AUTO_TEST_CASE(providers_replies) {
    struct Case {
        std::string_view key;
        Signal signal;
        RateKind kind;
    };
    const std::string h = "host mx.example[192.0.2.4] said: ";
    const std::string tail = " (in reply to RCPT TO command)";
    auto key = [&](std::string_view status, std::string_view reply) {
        return std::string(status) + " " + h + std::string(reply) + tail;
    };
    const struct {
        std::string key;
        Signal signal;
        RateKind kind;
    } cases[] = {
        // web.de / GMX, without enhanced codes.
        {key("4.0.0", "421 Rate limit reached. Please try again later"), Signal::RateLimit, RateKind::Rate},
        {key("4.0.0", "450 Too many messages have been received in a short period of time"), Signal::RateLimit, RateKind::Rate},
        {key("4.0.0", "421 gmx.net (mxgmx001) Nemesis ESMTP Service not available: Reject due to policy restrictions"),
         Signal::RateLimit, RateKind::Reputation},
        {key("4.0.0", "421 Too many connections"), Signal::RateLimit, RateKind::Connections},
        // Microsoft.
        {key("4.7.650", "451 4.7.650 The mail server [192.0.2.9] has been temporarily rate limited due to IP reputation. "
                        "For e-mail delivery information, see https://postmaster.example"),
         Signal::RateLimit, RateKind::Reputation},
        {key("4.7.651", "451 4.7.651 The mail server [192.0.2.9] has been temporarily rate limited due to IP reputation"),
         Signal::RateLimit, RateKind::Reputation},
        {key("4.7.500", "451 4.7.500 Server busy. Please try again later from [192.0.2.9]. (S77714) [host.example]"),
         Signal::Ordinary, RateKind::None},
        // Gmail.
        {key("4.7.28", "421-4.7.28 [192.0.2.9] Our system has detected an unusual rate of unsolicited mail originating "
                       "from your IP address"),
         Signal::RateLimit, RateKind::Rate},
        {key("4.7.0", "421-4.7.0 Try again later, closing connection. (EHLO) d2-20020a05.2 - gsmtp"), Signal::RateLimit,
         RateKind::Rate},
        {key("4.2.1", "450-4.2.1 The user you are trying to contact is receiving mail too quickly. Please resend your "
                      "message at a later time."),
         Signal::RateLimit, RateKind::Rate},
        {key("4.2.1", "450-4.2.1 The user you are trying to contact is receiving mail at a rate that prevents additional "
                      "messages from being delivered."),
         Signal::RateLimit, RateKind::Rate},
        {key("4.5.3", "452-4.5.3 Your message has too many recipients. For more information regarding Google's sending "
                      "limits, visit https://support.example"),
         Signal::Ordinary, RateKind::None},
        {key("4.2.2", "452-4.2.2 The email account that you tried to reach is over quota."), Signal::Ordinary,
         RateKind::None},
        // Yahoo / AOL.
        {key("4.7.0", "421 4.7.0 [TSS04] Messages from 192.0.2.9 temporarily deferred due to unexpected volume or user "
                      "complaints - 4.16.55.1; see https://postmaster.example/error-codes"),
         Signal::RateLimit, RateKind::Rate},
        // Apple.
        {key("4.7.1", "421 4.7.1 Messages to user@icloud.example deferred due to excessive volume. Try again later"),
         Signal::RateLimit, RateKind::Rate},
        // Orange.
        {key("4.0.0", "421 mwinf5c10 ME Trop de connexions, veuillez verifier votre configuration."),
         Signal::RateLimit, RateKind::Connections},
        // German and French wording.
        {key("4.7.0", "421 4.7.0 Zu viele Verbindungen von Ihrer IP-Adresse"), Signal::RateLimit, RateKind::Connections},
        {key("4.7.0", "450 4.7.0 Zu viele Nachrichten, bitte versuchen Sie es spaeter"), Signal::RateLimit, RateKind::Rate},
        {key("4.7.0", "450 4.7.0 Trop de messages, reessayez plus tard"), Signal::RateLimit, RateKind::Rate},
        {key("4.7.1", "451 4.7.1 You are being throttled, slow down"), Signal::RateLimit, RateKind::Rate},
        // T-Online blocks: permanent, by reputation.
        {key("5.0.0", "554 IP=192.0.2.9 - A problem occurred. (Ask your postmaster for help or to contact "
                      "tosa@rx.t-online.de to clarify.) (BL) None/bad reputation"),
         Signal::Permanent, RateKind::Reputation},
        // A rate wording on a 5xx is a block, not a slow-down.
        {key("5.7.1", "550 5.7.1 Rate limit exceeded, message refused"), Signal::Permanent, RateKind::Rate},
        {key("5.7.606", "550 5.7.606 Access denied, banned sending IP [192.0.2.9]"), Signal::Permanent,
         RateKind::Reputation},
        {key("5.1.1", "550 5.1.1 User unknown"), Signal::Permanent, RateKind::None},
        // Greylisting is never a rate limit, whatever it says about later.
        {key("4.2.0", "450 4.2.0 <bob@example.org>: Recipient address rejected: Greylisted, see "
                      "http://postgrey.example/help/example.org.html"),
         Signal::Ordinary, RateKind::None},
        {key("4.7.1", "451 4.7.1 Greylisting in action, please come back in 5 minutes"), Signal::Ordinary,
         RateKind::None},
        {key("4.7.1", "451 4.7.1 Please try again later"), Signal::Ordinary, RateKind::None},
        {key("4.2.0", "450 4.2.0 Try again in 5 minutes"), Signal::Ordinary, RateKind::None},
        {key("4.7.1", "451 4.7.1 Service unavailable - try again later"), Signal::Ordinary, RateKind::None},
        // Mailbox full, in any wording.
        {key("4.2.2", "452 4.2.2 Mailbox full"), Signal::Ordinary, RateKind::None},
        {key("4.0.0", "452 mailbox is full, too many messages in folder"), Signal::Ordinary, RateKind::None},
        // Postfix's own temporary failures: never a rate limit.
        {"4.4.1 connect to mx.example[192.0.2.3]:25: Connection refused", Signal::Ordinary, RateKind::None},
        {"4.4.2 lost connection with mx.example[192.0.2.3] while receiving the initial server greeting",
         Signal::Ordinary, RateKind::None},
        {"4.4.2 conversation with mx.example[192.0.2.3] timed out while receiving the initial server greeting",
         Signal::Ordinary, RateKind::None},
        {"4.4.3 Host or domain name not found. Name service error for name=x.example type=MX: Host not found, try again",
         Signal::Ordinary, RateKind::None},
        {"2.0.0 250 2.0.0 Ok", Signal::Success, RateKind::None},
        {"5.4.4 Host or domain name not found. Name service error for name=x.example type=A: Host not found",
         Signal::Permanent, RateKind::None},
    };
    for (const auto& c : cases) {
        const policyd::Classification got = policyd::classify_key(c.key);
        BOOST_TEST_CONTEXT("key \"" << c.key << "\": got " << policyd::signal_name(got.signal) << "/"
                                    << policyd::kind_name(got.kind) << " by \"" << got.pattern << "\"") {
            BOOST_TEST((got.signal == c.signal));
            BOOST_TEST((got.kind == c.kind));
            BOOST_TEST(!got.from_extra);
        }
    }
}

BOOST_AUTO_TEST_CASE(retry_after_texts) {
    const struct {
        std::string_view text;
        std::optional<int64_t> want_s;
    } cases[] = {
        {"try again in 10 minutes", 600},
        {"Please retry after 3600 seconds", 3600},
        {"retry in 60s", 60},
        {"please wait 30 s before reconnecting", 30},
        {"Bitte versuchen Sie es in 1 Stunde erneut", 3600},
        {"in 2 Stunden", 7200},
        {"reessayez dans 5 minutes", 300},
        {"try again in an hour", 3600},
        {"retry after 2 days", 2 * 86400},
        {"retry after 30 days", 7 * 86400},  // capped
        {"retry after 99999999999 seconds", std::nullopt},  // not a sane number
        {"try again later", std::nullopt},
        {"(in reply to RCPT TO command)", std::nullopt},
        {"retry after 0 seconds", std::nullopt},
        {"4.7.1 in 5", std::nullopt},
        {"", std::nullopt},
    };
    for (const auto& c : cases) {
        const std::optional<int64_t> got = policyd::retry_after(c.text);
        BOOST_TEST_CONTEXT("retry_after(\"" << c.text << "\")") {
            BOOST_TEST(got.has_value() == c.want_s.has_value());
            if (got && c.want_s) BOOST_TEST(*got == *c.want_s * kS);
        }
    }
    // A classified rate limit carries it.
    const policyd::Classification c = policyd::classify_key(
        "4.7.0 host mx.example[192.0.2.4] said: 421 4.7.0 Rate limit reached, try again in 15 minutes (in reply to MAIL FROM command)");
    BOOST_TEST((c.signal == Signal::RateLimit));
    BOOST_TEST(c.retry_after_us.has_value());
    BOOST_TEST(c.retry_after_us.value_or(0) == 900 * kS);
    // An ordinary failure does not.
    BOOST_TEST(!policyd::classify_key("4.2.0 450 4.2.0 Greylisted, try again in 5 minutes").retry_after_us);
}

BOOST_AUTO_TEST_CASE(operator_rows_come_first) {
    harness::TempDir dir("sg-replies-");
    const std::string path = dir.sub("replies");
    harness::write_file(path,
                        "# our provider's own wording\n"
                        "ratelimit:connections  Slot Limit Reached\n"
                        "ordinary               too many messages in folder\n"
                        "permanent:reputation   we do not like you\n"
                        "ratelimit              please pace\n"
                        "    your mail\n");
    const policyd::ReplyPatterns extra = policyd::ReplyPatterns::load(path);
    BOOST_TEST(extra.size() == 4u);
    const policyd::ReplyPatterns copy = extra;  // views stay valid in a copy
    const struct {
        std::string_view key;
        Signal signal;
        RateKind kind;
        bool from_extra;
    } cases[] = {
        {"4.0.0 421 slot limit reached", Signal::RateLimit, RateKind::Connections, true},
        {"4.0.0 450 Too many messages in folder", Signal::Ordinary, RateKind::None, true},
        {"4.0.0 450 Too many messages", Signal::RateLimit, RateKind::Rate, false},
        {"4.7.1 451 4.7.1 We do not like you", Signal::Permanent, RateKind::Reputation, true},
        {"4.0.0 421 please pace your mail", Signal::RateLimit, RateKind::Rate, true},
        {"4.0.0 421 please pace", Signal::Ordinary, RateKind::None, false},
    };
    for (const auto& c : cases) {
        const policyd::Classification got = policyd::classify_key(c.key, &copy);
        BOOST_TEST_CONTEXT("key \"" << c.key << "\"") {
            BOOST_TEST((got.signal == c.signal));
            BOOST_TEST((got.kind == c.kind));
            BOOST_TEST(got.from_extra == c.from_extra);
        }
    }
}

BOOST_AUTO_TEST_CASE(operator_file_errors) {
    const std::string_view cases[][2] = {
        {"ratelimit\n", "replies:1: expected \"key value\""},
        {"# c\nslowdown  text\n", "replies:2: unknown class \"slowdown\""},
        {"ratelimit:speed text\n", "replies:1: unknown kind \"speed\""},
        {"ordinary:rate text\n", "replies:1: an ordinary row has no kind"},
        {"ratelimit:  text\n", "replies:1: unknown kind \"\""},
    };
    for (const auto& c : cases) BOOST_TEST(error_of(c[0]).find(c[1]) != std::string::npos, error_of(c[0]));
    const std::string long_row = "ratelimit " + std::string(policyd::kMaxPatternText + 1, 'x') + "\n";
    BOOST_TEST(error_of(long_row).find("replies:1: reply text longer than 256 bytes") != std::string::npos,
               error_of(long_row));
    BOOST_CHECK_THROW(policyd::ReplyPatterns::load("/nonexistent/replies"), config::Error);
}

BOOST_AUTO_TEST_CASE(shipped_table_is_well_formed) {
    BOOST_TEST(policyd::kReplyPatterns.size() > 50u);
    for (const policyd::ReplyPattern& p : policyd::kReplyPatterns) {
        BOOST_TEST((!p.text.empty() || !p.status.empty()));
        for (char c : p.text) BOOST_TEST(!(c >= 'A' && c <= 'Z'), "row \"" << p.text << "\" is not lower case");
        if (p.cls == policyd::PatternClass::RateLimit) BOOST_TEST((p.kind != RateKind::None), p.text);
    }
}

BOOST_AUTO_TEST_SUITE_END()
