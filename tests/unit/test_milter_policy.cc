// test_milter_policy.cc - the milter as a client of sendguard-policyd
// (milter_policy_service): which mail asks, the requests it sends, and what
// each answer does, with a fake service (milter/quota.h, session.h)
#include <boost/test/unit_test.hpp>

#include <deque>
#include <string>
#include <vector>

#include "common/config/config.h"
#include "common/policy/request.h"
#include "milter/quota.h"
#include "tests/unit/test_milter_support.h"

using milter::Reply;
using milter_test::describe;
using milter_test::Fixture;

namespace {

bool contains(const std::string& s, const std::string& sub) { return s.find(sub) != std::string::npos; }

// Answers from a script; "!text" is a failure with that error text.
struct FakeService {
    std::deque<std::string> answers;
    std::vector<std::string> requests;  // wire form
    std::vector<policy::Request> seen;

    policy::Asked ask(const policy::Request& r) {
        requests.push_back(policy::format_request(r));
        seen.push_back(r);
        std::string a = answers.empty() ? "DUNNO" : answers.front();
        if (!answers.empty()) answers.pop_front();
        if (!a.empty() && a[0] == '!') return {std::nullopt, a.substr(1)};
        return {a, {}};
    }
};

// A fixture whose policy service is f (the configured one replaced).
struct Site {
    explicit Site(const std::string& extra = "") : f("milter_policy_service = unix:/nonexistent/policy.sock\n" + extra) {
        auto p = std::make_shared<milter::Policy>(*f.settings.policy);
        auto ps = std::make_shared<milter::PolicyService>(*p->policy_service);
        ps->ask = [this](const policy::Request& r) { return service.ask(r); };
        p->policy_service = ps;
        f.settings.policy = p;
    }
    Fixture f;
    FakeService service;
};

struct Outcome {
    std::vector<std::string> rcpt;  // describe() of each RCPT reply
    std::string eom;                // describe() of the EOM reply
    std::string quarantine;
};

// A local submission (sendmail(1)) of www-data@customer-a.example to rcpts.
Outcome local_message(Site& s, const std::vector<std::string>& rcpts, const std::string& qid = "LQ1") {
    milter::Session session = s.f.session();
    session.connect(milter_test::local_submission());
    Outcome o;
    BOOST_TEST(describe(session.mail("www-data@customer-a.example", {}, "", qid).reply) == "continue");
    for (const std::string& r : rcpts) o.rcpt.push_back(describe(session.rcpt("<" + r + ">", "smtp").reply));
    session.header("From", " www-data@customer-a.example");
    session.header("Subject", " form");
    BOOST_TEST(describe(session.end_of_headers(qid).reply) == "continue");
    session.body("hello\r\n");
    const milter::Decision d = session.end_of_message(qid);
    o.eom = describe(d.reply);
    o.quarantine = d.quarantine;
    session.abort();
    return o;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(milter_policy)

// The RCPT and END-OF-MESSAGE requests of a local submission carry what
// smtpd's would, with policy_context and a per-transaction instance.
BOOST_AUTO_TEST_CASE(requests_of_a_local_submission) {
    Site s("milter_policy_context = web-forms\n");
    const Outcome o = local_message(s, {"dest@remote.example"});
    BOOST_TEST(o.eom == "continue");
    BOOST_TEST_REQUIRE(s.service.requests.size() == 2u);
    BOOST_TEST(s.service.requests[0] ==
               "request=smtpd_access_policy\nprotocol_state=RCPT\nclient_address=127.0.0.1\n"
               "client_name=localhost\nreverse_client_name=localhost\nhelo_name=\n"
               "sender=www-data@customer-a.example\nrecipient=dest@remote.example\nrecipient_count=0\n"
               "queue_id=LQ1\ninstance=inst1\nsize=0\nsasl_username=\npolicy_context=web-forms\n\n");
    const policy::Request& eom = s.service.seen[1];
    BOOST_TEST(eom.protocol_state() == "END-OF-MESSAGE");
    BOOST_TEST(eom.instance() == "inst1");
    BOOST_TEST(eom.recipient() == "dest@remote.example");  // exactly one recipient
    BOOST_TEST(eom.recipient_count() == 1u);
    // "From: www-data@customer-a.example" CRLF, "Subject: form" CRLF, body.
    BOOST_TEST(eom.size() == 36u + 16u + 7u);
    BOOST_TEST(eom.queue_id() == "LQ1");

    // The next transaction is another instance; with two recipients the
    // END-OF-MESSAGE names none and counts both.
    const Outcome two = local_message(s, {"a@remote.example", "b@remote.example"}, "LQ2");
    BOOST_TEST(two.eom == "continue");
    BOOST_TEST_REQUIRE(s.service.seen.size() == 5u);
    BOOST_TEST(s.service.seen[2].instance() == "inst2");
    BOOST_TEST(s.service.seen[3].recipient_count() == 1u);  // recipients before this one
    BOOST_TEST(s.service.seen[4].recipient().empty());
    BOOST_TEST(s.service.seen[4].recipient_count() == 2u);
}

// Each answer at RCPT, for a local submission: the RCPT itself always
// passes (cleanup(8) would take its refusal as a configuration error), the
// message gets the refusal; END-OF-MESSAGE is sent only for accepted mail.
BOOST_AUTO_TEST_CASE(answers_at_rcpt_of_a_local_submission) {
    struct Case {
        std::string action;
        std::string eom;         // describe() of the EOM reply
        std::string quarantine;  // the hold reason
        size_t requests;         // RCPT (+ END-OF-MESSAGE)
        std::string log;         // in the log
    };
    const Case cases[] = {
        {"DUNNO", "continue", "", 2, "action=verp"},
        {"OK", "continue", "", 2, ""},
        {"permit", "continue", "", 2, ""},
        {"DEFER_IF_PERMIT 4.7.1 rule local: 2/h for local reached; try again in 1800s",
         "tempfail 450 4.7.1 rule local: 2/h for local reached; try again in 1800s", "", 1,
         "action=tempfail, stage=eom, client=localhost[127.0.0.1], login=local, "
         "from=<www-data@customer-a.example>, address=<dest@remote.example>, why=policy_defer"},
        {"DEFER", "tempfail 450 4.7.1 Service unavailable", "", 1, "why=policy_defer"},
        {"451 4.3.5 busy", "tempfail 451 4.3.5 busy", "", 1, "why=policy_defer"},
        {"REJECT 5.7.1 rule local: 100/d reached", "reject 554 5.7.1 rule local: 100/d reached", "", 1,
         "action=refuse, stage=eom"},
        {"550 over quota", "reject 550 5.7.1 over quota", "", 1, "why=policy_reject"},
        {"HOLD rule local: 2/h for local reached", "continue", "rule local: 2/h for local reached", 2,
         "action=hold, stage=eom"},
        {"FILTER smtp:[127.0.0.1]:10025", "continue", "", 2, "why=policy_action_ignored"},
        {"DEFER_IF_REJECT maybe", "continue", "", 2, "why=policy_action_ignored"},
    };
    for (const Case& c : cases) {
        Site s;
        s.service.answers = {c.action};
        logging::clear_captured();
        const Outcome o = local_message(s, {"dest@remote.example"});
        BOOST_TEST_CONTEXT(c.action) {
            BOOST_TEST(o.rcpt == std::vector<std::string>{"continue"}, boost::test_tools::per_element());
            BOOST_TEST(o.eom == c.eom);
            BOOST_TEST(o.quarantine == c.quarantine);
            BOOST_TEST(s.service.requests.size() == c.requests);
            BOOST_TEST(contains(logging::captured(), c.log), logging::captured());
        }
    }
}

// A refused recipient of a local submission: later recipients are not
// asked (the message is refused whole), and nothing counts.
BOOST_AUTO_TEST_CASE(after_a_refusal_no_more_asks) {
    Site s;
    s.service.answers = {"DUNNO", "DEFER_IF_PERMIT 4.7.1 full", "DUNNO"};
    const Outcome o = local_message(s, {"a@remote.example", "b@remote.example", "c@remote.example"});
    BOOST_TEST(o.rcpt == (std::vector<std::string>{"continue", "continue", "continue"}),
               boost::test_tools::per_element());
    BOOST_TEST(o.eom == "tempfail 450 4.7.1 full");
    BOOST_TEST(s.service.requests.size() == 2u);
}

// An answer at END-OF-MESSAGE applies too (as smtpd_end_of_data_restrictions).
BOOST_AUTO_TEST_CASE(answer_at_end_of_message) {
    Site s;
    s.service.answers = {"DUNNO", "HOLD held at eom"};
    Outcome o = local_message(s, {"dest@remote.example"});
    BOOST_TEST(o.eom == "continue");
    BOOST_TEST(o.quarantine == "held at eom");
    s.service.answers = {"DUNNO", "REJECT 5.7.1 no"};
    o = local_message(s, {"dest@remote.example"});
    BOOST_TEST(o.eom == "reject 554 5.7.1 no");
}

// milter_dry_run: the refusal is logged (would_tempfail) and the message
// goes on, counted (END-OF-MESSAGE sent); a HOLD is not applied.
BOOST_AUTO_TEST_CASE(dry_run_logs_and_counts) {
    Site s("milter_dry_run = yes\n");
    s.service.answers = {"DEFER_IF_PERMIT 4.7.1 full"};
    logging::clear_captured();
    Outcome o = local_message(s, {"dest@remote.example"});
    BOOST_TEST(o.eom == "continue");
    BOOST_TEST(s.service.requests.size() == 2u);
    BOOST_TEST(contains(logging::captured(), "action=would_tempfail, stage=eom"), logging::captured());
    s.service.answers = {"HOLD full"};
    o = local_message(s, {"dest@remote.example"});
    BOOST_TEST(o.quarantine.empty());
    BOOST_TEST(contains(logging::captured(), "action=would_hold"), logging::captured());
}

// Mail of SMTP clients is smtpd's to ask about (milter_policy_submissions =
// local); with "all" its RCPT is refused at once, and its login is the
// sasl_username.
BOOST_AUTO_TEST_CASE(smtp_clients_ask_only_with_all) {
    {
        Site s;
        milter::Session session = s.f.session();
        session.connect(milter_test::smtp_client("127.0.0.1"));
        BOOST_TEST(describe(session.mail("<a@customer-a.example>", {}, "alice@customer-a.example", "S1").reply) ==
                   "continue");
        BOOST_TEST(describe(session.rcpt("<dest@remote.example>", "smtp").reply) == "continue");
        BOOST_TEST(s.service.requests.empty());
    }
    Site s("milter_policy_submissions = all\n");
    s.service.answers = {"DUNNO", "DEFER_IF_PERMIT 4.7.1 rule quota: 2/h for alice@customer-a.example reached"};
    milter::Session session = s.f.session();
    session.connect(milter_test::smtp_client("192.0.2.10"));
    BOOST_TEST(describe(session.mail("<a@customer-a.example>", {}, "alice@customer-a.example", "S2").reply) ==
               "continue");
    BOOST_TEST(describe(session.rcpt("<one@remote.example>", "smtp").reply) == "continue");
    BOOST_TEST(describe(session.rcpt("<two@remote.example>", "smtp").reply) ==
               "tempfail 450 4.7.1 rule quota: 2/h for alice@customer-a.example reached");
    BOOST_TEST_REQUIRE(s.service.seen.size() == 2u);
    BOOST_TEST(s.service.seen[0].sasl_username() == "alice@customer-a.example");
    BOOST_TEST(s.service.seen[0].client_address() == "192.0.2.10");
    BOOST_TEST(s.service.seen[0].client_name() == "client.example");
    BOOST_TEST(s.service.seen[0].policy_context() == "local");
}

// A service that fails lets the message pass, is not asked again for it,
// and warns at most once a minute.
BOOST_AUTO_TEST_CASE(failing_service_fails_open) {
    Site s;
    s.service.answers = {"!unix:/nonexistent/policy.sock: connect: No such file or directory"};
    logging::clear_captured();
    Outcome o = local_message(s, {"a@remote.example", "b@remote.example"});
    BOOST_TEST(o.eom == "continue");
    BOOST_TEST(o.rcpt == (std::vector<std::string>{"continue", "continue"}), boost::test_tools::per_element());
    BOOST_TEST(s.service.requests.size() == 1u);  // not asked for b, no END-OF-MESSAGE
    BOOST_TEST(contains(logging::captured(), "action=pass, stage=rcpt"), logging::captured());
    BOOST_TEST(contains(logging::captured(), "why=policy_unreachable, detail=unix:/nonexistent/policy.sock: connect"),
               logging::captured());
    BOOST_TEST(contains(logging::captured(), "LQ1: warning: milter: policy_service=unix:/nonexistent/policy.sock"),
               logging::captured());

    // Within the minute: no warning; after it, one with the count.
    logging::clear_captured();
    s.service.answers = {"!timed out after 5s"};
    s.f.steady += std::chrono::seconds(30);
    local_message(s, {"a@remote.example"}, "LQ2");
    BOOST_TEST(!contains(logging::captured(), "warning:"), logging::captured());
    BOOST_TEST(contains(logging::captured(), "why=policy_unreachable, detail=timed out after 5s"), logging::captured());
    s.service.answers = {"!timed out after 5s"};
    s.f.steady += std::chrono::seconds(31);
    local_message(s, {"a@remote.example"}, "LQ3");
    BOOST_TEST(contains(logging::captured(), "suppressed=1"), logging::captured());
}

// The parameters: checked when the service is off too, errors naming them.
BOOST_AUTO_TEST_CASE(settings_are_checked) {
    Fixture f;
    const auto error = [&](const std::string& line) {
        try {
            milter::Settings::from(config::Config::parse(f.text + line, "t.conf"));
        } catch (const std::exception& e) {
            return std::string(e.what());
        }
        return std::string();
    };
    BOOST_TEST(contains(error("milter_policy_service = tcp:x\n"), "t.conf:7: invalid milter_policy_service"),
               error("milter_policy_service = tcp:x\n"));
    BOOST_TEST(contains(error("milter_policy_service = inet:127.0.0.1:0\n"), "invalid milter_policy_service"));
    BOOST_TEST(contains(error("milter_policy_submissions = some\n"), "invalid milter_policy_submissions"),
               error("milter_policy_submissions = some\n"));
    BOOST_TEST(contains(error("milter_policy_timeout = 60s\n"), "milter_policy_timeout"));
    BOOST_TEST(error("milter_policy_service = inet:127.0.0.1:10031\n").empty());
    BOOST_TEST(!milter::Settings::from(config::Config::parse(f.text, "t.conf")).policy->policy_service);
}

BOOST_AUTO_TEST_SUITE_END()
