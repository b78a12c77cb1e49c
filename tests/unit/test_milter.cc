// test_milter.cc - sendguard-milter's decisions (milter/session.h) as tables
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "common/address/verp_setup.h"
#include "tests/unit/test_milter_support.h"

using milter::Reply;
using milter_test::describe;
using milter_test::Fixture;

namespace {

bool contains(const std::string& s, const std::string& sub) { return s.find(sub) != std::string::npos; }

struct Who {
    milter::ConnectInfo client;
    std::string login;
};

Who login(std::string l) { return {milter_test::smtp_client(), std::move(l)}; }

}  // namespace

BOOST_AUTO_TEST_SUITE(milter_session)

// The envelope sender at MAIL: login vs address, unauthenticated and local
// clients, our bounce domains, malformed senders.
BOOST_AUTO_TEST_CASE(envelope_sender_at_mail) {
    struct Case {
        Who who;
        std::string sender;
        std::string want;  // describe() of the reply
    };
    const Case cases[] = {
        {login("alice@customer-a.example"), "<bob@customer-a.example>", "continue"},
        {login("alice@customer-a.example"), "<Bob@CUSTOMER-A.example.>", "continue"},
        {login("ALICE@Customer-A.Example"), "<x@customer-a.example>", "continue"},
        {login("alice@customer-a.example"), "<boss@customer-b.example>",
         "reject 550 5.7.1 login alice@customer-a.example may not send as boss@customer-b.example"},
        {login("alice@customer-a.example"), "<boss@sub.customer-a.example>",
         "reject 550 5.7.1 login alice@customer-a.example may not send as boss@sub.customer-a.example"},
        {login("alice@bücher.example"), "<x@xn--bcher-kva.example>", "continue"},
        {login("alice"), "<alice@customer-a.example>",
         "reject 550 5.7.1 login alice may not send as alice@customer-a.example"},
        {login("alice@customer-a.example"), "<\"a b\"@customer-a.example>", "continue"},
        {{milter_test::smtp_client("192.0.2.7"), ""}, "<x@customer-a.example>",
         "reject 550 5.7.1 client 192.0.2.7 may not send as x@customer-a.example"},
        {{milter_test::smtp_client("127.0.0.1"), ""}, "<x@customer-a.example>",
         "reject 550 5.7.1 client 127.0.0.1 may not send as x@customer-a.example"},
        {{milter_test::local_submission(), ""}, "<www-data@customer-a.example>", "continue"},
        {login("alice@bounces.customer-a.example"), "<x@bounces.customer-a.example>",
         "reject 550 5.7.1 x@bounces.customer-a.example is a bounce address"},
        {{milter_test::local_submission(), ""}, "<www-data@customer-b.example>",
         "reject 550 5.7.1 locally submitted mail may not use sender www-data@customer-b.example"},
        {login("alice@customer-a.example"), "<>", "continue"},
        {login("alice@customer-a.example"), "<no-domain>",
         "reject 550 5.7.1 sender <no-domain> is not a valid address"},
    };
    for (const Case& c : cases) {
        Fixture f;
        milter::Session s = f.session();
        s.connect(c.who.client);
        const milter::Decision d = s.mail(c.sender, {}, c.who.login, "Q1");
        BOOST_TEST(describe(d.reply) == c.want, "login " << c.who.login << ", " << c.sender << ": got "
                                                         << describe(d.reply) << ", want " << c.want);
    }
}

// From: and Sender: at the end of headers, after an accepted MAIL.
BOOST_AUTO_TEST_CASE(header_addresses_at_end_of_headers) {
    using H = std::vector<std::pair<std::string, std::string>>;
    struct Case {
        H headers;
        std::string want;
    };
    const Case cases[] = {
        {{{"From", "Alice <alice@customer-a.example>"}}, "continue"},
        {{{"from", "alice@customer-a.example (Alice)"}, {"Subject", "hi"}}, "continue"},
        {{{"From", "\"A\" <x@customer-a.example>, \"Boss\" <boss@customer-b.example>"}},
         "reject 550 5.7.1 login alice@customer-a.example may not send as boss@customer-b.example"},
        {{{"From", "team: x@customer-a.example, y@customer-a.example;"}}, "continue"},
        {{{"Subject", "no from"}}, "reject 550 5.6.0 message has no From: header field"},
        {{{"From", "x@customer-a.example"}, {"From", "boss@customer-b.example"}},
         "reject 550 5.6.0 message has 2 From: header fields"},
        {{{"From", "undisclosed-recipients:;"}}, "reject 550 5.6.0 From: header field holds no valid address"},
        {{{"From", "not an address"}},
         "reject 550 5.6.0 From: header field holds an address that cannot be read (syntax)"},
        // An entry the parser cannot read, or one past the limit, is never
        // left unchecked: a mail reader may show exactly that one.
        {{{"From", "x@customer-a.example, Boss <boss@customer-b..example>"}},
         "reject 550 5.6.0 From: header field holds an address that cannot be read (bad_domain)"},
        {{{"From", [] {
              std::string v;
              for (std::size_t i = 0; i < milter::kMaxFromMailboxes; ++i) v += "x@customer-a.example, ";
              return v + "boss@customer-b.example";
          }()}},
         "reject 550 5.6.0 From: header field lists more than 100 mailboxes"},
        {{{"From", [] {
              std::string v = "boss@customer-b.example";
              for (std::size_t i = 1; i < milter::kMaxFromMailboxes; ++i) v += ", x@customer-a.example";
              return v;
          }()}},
         "reject 550 5.7.1 login alice@customer-a.example may not send as boss@customer-b.example"},
        {{{"From", "x@customer-a.example"}, {"Sender", "boss@customer-b.example"}},
         "reject 550 5.7.1 login alice@customer-a.example may not send as boss@customer-b.example"},
        {{{"From", "x@customer-a.example"}, {"Sender", "y@customer-a.example"}}, "continue"},
        {{{"From", "x@customer-a.example"}, {"Sender", "y@customer-a.example"}, {"SENDER", "z@customer-a.example"}},
         "reject 550 5.6.0 message has 2 Sender: header fields"},
        {{{"From", std::string(address::kMaxHeaderInput + 1, 'a')}},
         "reject 550 5.6.0 From: header field is too long"},
        {{{"From", "x@bounces.customer-a.example"}},
         "reject 550 5.7.1 x@bounces.customer-a.example is a bounce address"},
    };
    for (const Case& c : cases) {
        Fixture f;
        milter::Session s = f.session();
        s.connect(milter_test::smtp_client());
        BOOST_REQUIRE(describe(s.mail("<x@customer-a.example>", {}, "alice@customer-a.example", "Q1").reply) ==
                      "continue");
        for (const auto& [n, v] : c.headers) s.header(n, v);
        const std::string got = describe(s.end_of_headers("Q1").reply);
        BOOST_TEST(got == c.want, "headers " << (c.headers.empty() ? "" : c.headers.front().second.substr(0, 60))
                                             << ": got " << got << ", want " << c.want);
    }
}

// The null sender passes MAIL and is judged by its From.
BOOST_AUTO_TEST_CASE(null_sender_needs_a_passing_from) {
    const std::pair<std::string, std::string> cases[] = {
        {"postmaster@customer-a.example", "continue"},
        {"postmaster@customer-b.example",
         "reject 550 5.7.1 login alice@customer-a.example may not send as postmaster@customer-b.example"},
    };
    for (const auto& [from, want] : cases) {
        Fixture f;
        milter::Session s = f.session();
        s.connect(milter_test::smtp_client());
        BOOST_TEST(describe(s.mail("<>", {}, "alice@customer-a.example", "Q1").reply) == "continue");
        BOOST_TEST(describe(s.rcpt("<x@remote.example>", "smtp").reply) == "continue");
        s.header("From", from);
        BOOST_TEST(describe(s.end_of_headers("Q1").reply) == want, from);
        if (want == "continue") {
            const milter::Decision d = s.end_of_message("Q1");
            BOOST_TEST(!d.change_from, "the null sender is never rewritten");
            BOOST_TEST(contains(logging::captured(), "Q1: milter: action=pass, stage=eom"), logging::captured());
            BOOST_TEST(contains(logging::captured(), "why=null_sender"), logging::captured());
        }
    }
}

// Locally submitted mail has no login; it may not use our bounce domains.
BOOST_AUTO_TEST_CASE(local_submission) {
    Fixture f;
    milter::Session s = f.session();
    s.connect(milter_test::local_submission());
    BOOST_TEST(s.local());
    BOOST_TEST(describe(s.mail("<www-data@customer-a.example>", {}, "", "Q2").reply) == "continue");
    BOOST_TEST(describe(s.rcpt("<a@remote.example>", "").reply) == "continue");
    s.header("From", "x@bounces.customer-b.example");
    BOOST_TEST(describe(s.end_of_headers("Q2").reply) ==
               "reject 550 5.7.1 x@bounces.customer-b.example is a bounce address");
    BOOST_TEST(contains(logging::captured(), "Q2: milter: action=refuse, stage=header, client=localhost[127.0.0.1], "
                                             "login=local, from=<www-data@customer-a.example>"),
               logging::captured());
}

BOOST_AUTO_TEST_CASE(local_submission_is_port_zero_localhost) {
    struct Case {
        milter::ConnectInfo c;
        bool want;
    };
    const Case cases[] = {
        {milter_test::local_submission(), true},
        {{"localhost", "127.0.0.1", 36000, "mx"}, false},  // an SMTP client on loopback
        {{"client.example", "192.0.2.1", 0, "mx"}, false},
        {{"localhost", "::1", 0, "mx"}, false},
    };
    for (const Case& c : cases)
        BOOST_TEST(milter::is_local_submission(c.c) == c.want,
                   c.c.client_name << "[" << c.c.client_addr << "]:" << c.c.client_port);
}

// One decision line per refusal, with the queue id and the keys of
// sendguard-milter(8) DIAGNOSTICS.
BOOST_AUTO_TEST_CASE(refusal_is_one_line) {
    Fixture f;
    milter::Session s = f.session();
    s.connect(milter_test::smtp_client());
    (void)s.mail("<boss@customer-b.example>", {}, "alice@customer-a.example", "4XkQ2m1Zz9z");
    BOOST_TEST(logging::captured() ==
               "4XkQ2m1Zz9z: milter: action=refuse, stage=mail, client=client.example[192.0.2.10], "
               "login=alice@customer-a.example, from=<boss@customer-b.example>, "
               "address=<boss@customer-b.example>, why=unknown_login, "
               "detail=login alice@customer-a.example may not send as boss@customer-b.example\n");
}

// The sender tables (common/senders) are what authorise() asks: a line
// granting a login another domain lets it use that domain, at MAIL and in
// From:, and the log names the library's reason.
BOOST_AUTO_TEST_CASE(sender_table_grants) {
    harness::TempDir d("sg-milter-tables-");
    harness::write_file(d.sub("senders"), "alice@customer-a.example  customer-c.example, @customer-d.example\n");
    Fixture f("milter_sender_tables = " + d.sub("senders") + "\n");
    milter::Session s = f.session();
    s.connect(milter_test::smtp_client());
    BOOST_TEST(describe(s.mail("<x@customer-c.example>", {}, "alice@customer-a.example", "Q5").reply) == "continue");
    s.header("From", "a@customer-a.example, b@customer-d.example");
    BOOST_TEST(describe(s.end_of_headers("Q5").reply) == "continue");
    BOOST_TEST(describe(s.mail("<x@customer-b.example>", {}, "alice@customer-a.example", "Q6").reply) ==
               "reject 550 5.7.1 login alice@customer-a.example may not send as x@customer-b.example");
    BOOST_TEST(logging::captured().find("why=not_granted") != std::string::npos, logging::captured());
}

BOOST_AUTO_TEST_CASE(dry_run_logs_and_lets_through) {
    Fixture f("milter_dry_run = yes\n");
    milter::Session s = f.session();
    s.connect(milter_test::smtp_client());
    BOOST_TEST(describe(s.mail("<boss@customer-b.example>", {}, "alice@customer-a.example", "Q3").reply) ==
               "continue");
    s.header("From", "boss@customer-b.example");
    BOOST_TEST(describe(s.end_of_headers("Q3").reply) == "continue");
    const std::string log = logging::captured();
    BOOST_TEST(contains(log, "Q3: milter: action=would_refuse, stage=mail"), log);
    BOOST_TEST(contains(log, "Q3: milter: action=would_refuse, stage=header"), log);
    BOOST_TEST(!contains(log, "action=refuse"), log);
}

BOOST_AUTO_TEST_CASE(error_action) {
    const std::pair<std::string, std::string> cases[] = {
        {"tempfail", "tempfail 451 4.3.0 internal error in the sender check, try again later"},
        {"accept", "accept"},
        {"reject", "reject 554 5.3.0 internal error in the sender check"},
    };
    for (const auto& [action, want] : cases) {
        Fixture f("milter_error_action = " + action + "\n");
        milter::Session s = f.session();
        s.connect(milter_test::smtp_client());
        BOOST_TEST(describe(s.error("eom", "store: write: disk full", "Q4").reply) == want, action);
        BOOST_TEST(contains(logging::captured(), "Q4: milter: action=" + action + ", stage=eom"), logging::captured());
        BOOST_TEST(contains(logging::captured(), "detail=store: write: disk full"), logging::captured());
    }
    BOOST_CHECK_THROW(Fixture("milter_error_action = bounce\n"), config::Error);
}

BOOST_AUTO_TEST_SUITE_END()
