// test_dsn_text.cc - the scanners and the reason rules behind dsn::parse()
#define BOOST_TEST_NO_MAIN
#include <boost/test/unit_test.hpp>

#include <string>

#include "common/dsn/classify.h"
#include "common/dsn/text.h"

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
        {"utf-8; jürgen@müller.example", "jürgen@müller.example"},
        {"\"carol@example.org\"", "carol@example.org"},
        {"not an address", ""},
        {"two words@example.com", ""},
    };
    for (const auto& row : rows)
        BOOST_TEST(text::normalize_address(row.in) == row.want,
                   "normalize(" << row.in << "): got " << text::normalize_address(row.in) << ", want " << row.want);

    auto f = text::find_address("delivering your mail to <dan@mx.example.org>.");
    BOOST_TEST_REQUIRE(f.has_value());
    BOOST_TEST(f->addr == "dan@mx.example.org");
    BOOST_TEST(!text::find_address("user@localhost and @example.com").has_value());
    BOOST_TEST(text::address_in_header("Bob <bob@example.net>") == "bob@example.net");
}

BOOST_AUTO_TEST_CASE(dsn_ifind) {
    BOOST_TEST(text::ifind("Mailbox FULL here", "mailbox full") == 0u);
    BOOST_TEST(text::ifind("xx User Unknown", "user unknown") == 3u);
    BOOST_TEST(text::ifind("short", "much longer needle") == std::string_view::npos);
    BOOST_TEST(text::ifind("abc", "") == 0u);
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
