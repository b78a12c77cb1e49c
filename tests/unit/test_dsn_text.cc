// test_dsn_text.cc - the scanners and the reason rules behind dsn_test::parse()
#define BOOST_TEST_NO_MAIN
#include <boost/test/unit_test.hpp>

#include <string>

#include "tests/unit/test_dsn_support.h"
#include "common/dsn/classify.h"
#include "common/dsn/reason_table.h"
#include "common/dsn/text.h"
#include "common/sys/ascii.h"
#include "common/sys/utf8.h"

namespace text = dsn::text;

BOOST_AUTO_TEST_CASE(dsn_find_status) {
    struct {
        const char* in;
        const char* want;
    } const rows[] = {
        {"550 5.1.1 <a@b.example>: User unknown", "5.1.1"},
        {"Sorry (#5.5.0)", "5.5.0"},
        {"host 192.0.2.25 said: 550 5.7.26 DMARC", "5.7.26"},   // not "2.0.2" from the IP
        {"Exim 4.92.3 said nothing", ""},                       // a version number
        {"Status: 4.4.7.", "4.4.7"},
        {"5.0.910", "5.0.910"},
        {"1.2.3.4", ""},
        {"3.1.1 wrong class", ""},
        {"", ""},
    };
    for (const auto& row : rows)
        BOOST_TEST(text::find_status(row.in) == row.want,
                   "find_status(" << row.in << "): got " << text::find_status(row.in) << ", want " << row.want);
}

BOOST_AUTO_TEST_CASE(dsn_find_reply_code) {
    struct {
        const char* in;
        const char* want;
    } const rows[] = {
        {"550 5.1.1 user unknown", "550"},
        {"said: 452-4.2.2 over quota", "452"},
        {"id 2550 and 1550x", ""},
        {"#550", ""},
        {"554", "554"},
        {"999 nine", ""},
    };
    for (const auto& row : rows)
        BOOST_TEST(text::find_reply_code(row.in) == row.want,
                   "find_reply_code(" << row.in << "): got " << text::find_reply_code(row.in) << ", want " << row.want);
}

BOOST_AUTO_TEST_CASE(dsn_addresses) {
    struct {
        const char* in;
        const char* want;
    } const rows[] = {
        {"rfc822; Bob@Example.NET", "Bob@example.net"},
        {"<alice@example.com>", "alice@example.com"},
        {"RFC822;<x@y.example>", "x@y.example"},
        {"utf-8; jürgen@müller.example", "jürgen@xn--mller-kva.example"},  // A-labels, as the key,
        {"\"carol@example.org\"", "carol@example.org"},
        {"not an address", ""},
        {"two words@example.com", ""},
    };
    for (const auto& row : rows)
        BOOST_TEST(text::mailbox(row.in) == row.want,
                   "normalize(" << row.in << "): got " << text::mailbox(row.in) << ", want " << row.want);

    auto f = text::find_address("delivering your mail to <dan@mx.example.org>.");
    BOOST_TEST_REQUIRE(f.has_value());
    BOOST_TEST(f->addr == "dan@mx.example.org");
    BOOST_TEST(!text::find_address("user@localhost and @example.com").has_value());
    BOOST_TEST(text::mailbox("Bob <bob@example.net>") == "bob@example.net");
}

BOOST_AUTO_TEST_CASE(dsn_ifind) {
    constexpr size_t npos = std::string_view::npos;
    struct {
        const char* hay;
        const char* needle;
        size_t from, want;
    } const rows[] = {
        {"Mailbox FULL here", "mailbox full", 0, 0},
        {"xx User Unknown", "user unknown", 0, 3},
        {"short", "much longer needle", 0, npos},
        {"abc", "", 0, 0},
        {"abc", "", 4, npos},
        // Candidates of both cases, in turns: each is tried in order.
        {"uUuser uSER", "user", 0, 2},
        {"USu uSe USER", "user", 0, 8},
        {"user USER", "user", 1, 5},
        {"user", "user", 1, npos},
        {"no match here at all", "user", 0, npos},
        {"-- 1 --", "1 --", 0, 3},  // no case to a digit
        {"ends with Use", "user", 0, npos},
    };
    for (const auto& r : rows)
        BOOST_TEST(text::ifind(r.hay, r.needle, r.from) == r.want,
                   "ifind(\"" << r.hay << "\", \"" << r.needle << "\", " << r.from << "): got "
                               << text::ifind(r.hay, r.needle, r.from) << ", want " << r.want);
}

BOOST_AUTO_TEST_CASE(dsn_squeeze) {
    struct {
        const char* in;
        size_t max;
        const char* want;
    } const rows[] = {
        {"  a \r\n b\t\tc  ", 100, "a b c"},
        {"", 10, ""},
        {" \n ", 10, ""},
        {"abc def", 0, ""},
        {"abc def", 3, "abc"},
        {"abc def", 4, "abc"},   // no space without the word after it
        {"abc def", 5, "abc d"},
        {"abcdef", 4, "abcd"},
        {"ab \xc3\xbc", 4, "ab "},  // no half UTF-8 sequence at the cut (the space stays)
        {"ab \xc3\xbc", 5, "ab \xc3\xbc"},
    };
    for (const auto& r : rows)
        BOOST_TEST(text::squeeze(r.in, r.max) == r.want,
                   "squeeze(\"" << r.in << "\", " << r.max << "): got \"" << text::squeeze(r.in, r.max)
                                 << "\", want \"" << r.want << "\"");
}

// reason_from_text() indexes the rules by their first two bytes and reads
// the first kReasonTextBytes of a text.
BOOST_AUTO_TEST_CASE(dsn_reason_text_limits) {
    for (const auto& rule : dsn::kReasonRules) {
        BOOST_TEST(rule.pattern.size() >= 2u, "pattern \"" << rule.pattern << "\" is shorter than 2 bytes");
        BOOST_TEST(sys::to_lower_ascii(rule.pattern) == rule.pattern, "pattern \"" << rule.pattern << "\" is not lower case");
    }
    const std::string pad(dsn::kReasonTextBytes - 13, 'x');
    BOOST_TEST((dsn::reason_from_text(pad + " mailbox full") == dsn::Reason::MailboxFull));  // ends at the limit
    BOOST_TEST(!dsn::reason_from_text(pad + "  mailbox full").has_value());                  // one byte past it
    BOOST_TEST((dsn::reason_from_text("MAILBOX FULL") == dsn::Reason::MailboxFull));
    // The lowest row wins wherever it is found.
    BOOST_TEST((dsn::reason_from_text("mailbox full; sender rejected") == dsn::Reason::Blocked));
}

// The sys helpers the parser is built on (common/sys/ascii.h, utf8.h).
BOOST_AUTO_TEST_CASE(dsn_sys_helpers) {
    BOOST_TEST(sys::iequals("Final-Recipient", "final-RECIPIENT"));
    BOOST_TEST(!sys::iequals("\xc3\x9c", "\xc3\xbc"));  // only ASCII letters fold
    BOOST_TEST(sys::istarts_with("Diagnostic-Code: smtp", "diagnostic-code"));
    BOOST_TEST(sys::trim(" \t x y \r\n") == "x y");
    BOOST_TEST(sys::to_lower_ascii("Bob@Example.NET") == "bob@example.net");
    BOOST_TEST(sys::ifind("aaA", "aa", 1) == 1u);
    struct { std::string in; size_t want; } cut[] = {
        {"plain", 5}, {"ab\xc3", 2}, {"ab\xc3\xbc", 4}, {"\xe2\x82", 0}, {"x\xe2\x82\xac", 4},
        {"\xf0\x9f\x93", 0}, {"", 0},
    };
    for (const auto& c : cut)
        BOOST_TEST(sys::utf8_complete(c.in) == c.want, "utf8_complete: got " << sys::utf8_complete(c.in)
                                                           << ", want " << c.want);
}

BOOST_AUTO_TEST_CASE(dsn_reason_rules) {
    using R = dsn::Reason;
    struct {
        const char* status;
        const char* diag;
        R want;
    } const rows[] = {
        {"5.1.1", "550 5.1.1 <a@b.example>... User unknown", R::UserUnknown},
        {"", "550 No such user here", R::UserUnknown},
        {"", "Requested action not taken: mailbox unavailable", R::UserUnknown},
        {"", "Das Postfach existiert nicht", R::UserUnknown},
        {"", "Empfänger unbekannt", R::UserUnknown},
        {"", "552 Postfach voll", R::MailboxFull},
        {"5.2.2", "Mailbox quota exceeded", R::MailboxFull},
        {"5.1.2", "", R::HostUnknown},
        {"5.4.7", "", R::Expired},
        {"4.4.7", "", R::Expired},
        {"5.3.4", "", R::MesgTooBig},
        {"5.7.1", "client host blocked using zen.spamhaus.org", R::Blocked},
        {"5.7.1", "Message rejected as spam", R::SpamDetected},
        {"5.7.1", "Relay access denied", R::NoRelaying},
        {"5.7.26", "Unauthenticated email is not accepted due to domain's DMARC policy", R::SecurityError},
        {"4.7.0", "Rate limit exceeded, try again later", R::RateLimited},
        {"5.1.6", "", R::HasMoved},
        {"5.1.10", "", R::NotAccept},
        {"5.1.8", "Domain of sender address does not exist", R::Blocked},
        {"5.0.0", "", R::Undefined},
        {"2.0.0", "250 ok", R::Delivered},
        {"", "all relevant MX records point to non-existent hosts", R::HostUnknown},
        {"", "The screen name you sent to is not valid, or the member has cancelled the account.", R::UserUnknown},
        {"5.0.0", "The e-mail address could not be found.", R::UserUnknown},
        {"", "alice.wood wasn't found at contoso.example.", R::UserUnknown},
        {"", "554: delivery error: dd Not a valid recipient - atlas321", R::UserUnknown},
    };
    for (const auto& row : rows) {
        dsn::Evidence e;
        e.status = row.status;
        e.diagnostic = row.diag;
        e.action = dsn::Action::Failed;
        R got = dsn::decide_reason(e);
        BOOST_TEST((got == row.want), row.status << " '" << row.diag << "': got " << dsn::to_string(got) << ", want "
                                               << dsn::to_string(row.want));
    }
    // A recipient refused only after DATA was filtered, not unknown.
    dsn::Evidence e;
    e.status = "5.0.0";
    e.diagnostic = "550 Unknown user x@example.net";
    e.context = "(in reply to end of DATA command)";
    e.action = dsn::Action::Failed;
    BOOST_TEST((dsn::decide_reason(e) == R::Filtered));
}

// Rules that weigh the wording against the code, the reply code and the
// SMTP command the reply answered (classify.cc decide_reason()).
BOOST_AUTO_TEST_CASE(dsn_reason_evidence) {
    using R = dsn::Reason;
    struct {
        const char* status;
        const char* diag;
        const char* context;
        R want;
    } const rows[] = {
        // X.2.1 names a disabled mailbox: "user unknown" counts only at RCPT.
        {"5.2.1", "550 5.2.1 <amy@example.org>... User unknown", "", R::Suspend},
        {"5.2.1", "550 5.2.1 <amy@example.org>... User unknown", "(in reply to RCPT TO command)", R::UserUnknown},
        {"5.2.1", "550 5.2.1 no such user", "Received: (ORCPT rfc822;amy@example.org)", R::Suspend},
        // X.7.y is a policy refusal: a filter's canned "unknown user".
        {"5.7.1", "550 5.7.1 Unknown user: ben@example.org", "", R::Filtered},
        {"5.7.1", "553 Invalid recipient ben@example.org", ">>> RCPT TO:<ben@example.org>", R::UserUnknown},
        {"5.7.1", "553 sorry, no such user", "192.0.2.8 does not like recipient.", R::UserUnknown},
        // A refusal of MAIL FROM with no other cause refused our sender.
        {"5.7.0", "SMTP error from remote mail server after MAIL FROM:<me@example.com>: 550 5.7.0 go away", "",
         R::Blocked},
        // Unknown host with a transient code: a DNS failure, not a verdict.
        {"4.0.0", "DNS lookup of mx for example.invalid: domain not found", "", R::NetworkError},
        {"5.1.2", "Host or domain name not found", "", R::HostUnknown},
        // Time-outs that ended a delivery mean the queue gave up.
        {"", "connect to mx.example.org[192.0.2.9]:25: Connection timed out", "", R::Expired},
        {"4.4.1", "the far server did not accept our requests to connect", "", R::Expired},
        {"", "Could not deliver for the last 86400 seconds. Giving up.", "", R::Expired},
        {"4.4.7", "Message has been delayed for 2 days", "", R::Expired},
        {"4.4.7", "OpenSMTPD-style notice: Envelope expired", "", R::Expired},
        // Sendmail's transient DNS failure, with a transient code.
        {"4.0.0", "cat.example.net: host name lookup failure", "", R::NetworkError},
        {"5.0.0", "was rejected due to spam classification; set up SPF for your domain", "", R::SpamDetected},
        {"5.7.0", "552-5.7.0 blocked because its content presents a potential security issue", "",
         R::PolicyViolation},
        {"4.2.1", "421 4.2.1 Service refused, please try later", "", R::Blocked},
        // qmail's "Giving up on <ip>." follows a permanent refusal.
        {"5.7.1", "192.0.2.7 does not like recipient. Remote host said: 550 5.7.1 Access denied. Giving up on 192.0.2.7.",
         "", R::Blocked},
        {"5.7.1", "550 5.7.1 Message content rejected, bulk mail suspected", "", R::SpamDetected},
        {"5.7.1", "554 5.7.1 we are not configured to relay mail for that domain", "", R::NoRelaying},
        {"5.0.0", "530 Please enable SMTP authentication in your client", "", R::SecurityError},
        // "mime" inside a host or product name is no content error.
        {"5.0.0", "554 see https://help.mimecastle.example/554", "", R::Undefined},
    };
    for (const auto& row : rows) {
        dsn::Evidence e;
        e.status = row.status;
        e.diagnostic = row.diag;
        e.context = row.context;
        e.action = dsn::Action::Failed;
        R got = dsn::decide_reason(e);
        BOOST_TEST((got == row.want), row.status << " '" << row.diag << "' [" << row.context << "]: got "
                                               << dsn::to_string(got) << ", want " << dsn::to_string(row.want));
    }
}

// A delay warning is not an expiry, whatever the time-out wording.
BOOST_AUTO_TEST_CASE(dsn_delayed_time_out) {
    using R = dsn::Reason;
    struct {
        const char* status;
        const char* diag;
        dsn::Action action;
        R want;
    } const rows[] = {
        {"4.4.1", "connect to mx.example.org[192.0.2.9]:25: Connection timed out", dsn::Action::Delayed,
         R::NetworkError},
        {"4.4.1", "connect to mx.example.org[192.0.2.9]:25: Connection timed out", dsn::Action::Failed, R::Expired},
        {"4.4.1", "Message has been delayed for 2 days", dsn::Action::Delayed, R::Expired},
        // X.4.7 says the queue time ran out, whatever the last attempt did.
        {"4.4.7", "still undelivered after 3 days; last try: connection timed out", dsn::Action::Delayed,
         R::Expired},
    };
    for (const auto& row : rows) {
        dsn::Evidence e;
        e.status = row.status;
        e.diagnostic = row.diag;
        e.action = row.action;
        R got = dsn::decide_reason(e);
        BOOST_TEST((got == row.want), "'" << row.diag << "' " << dsn::to_string(row.action) << ": got "
                                          << dsn::to_string(got) << ", want " << dsn::to_string(row.want));
    }
}
