// test_milter_forward.cc - sendguard-bounce's sealed forwards pass the
// milter; forged, altered and misplaced seals change nothing
#include <boost/test/unit_test.hpp>

#include <chrono>

#include "common/address/forward_seal.h"
#include "common/address/verp.h"
#include "tests/unit/test_milter_support.h"

namespace {

using milter_test::describe;
using milter_test::Fixture;

const std::string kFrom = "Alice <alice@example.net>";
const std::string kTo = "news@customer-a.example";
const std::string kRefused = "reject 550 5.7.1 locally submitted mail may not use sender alice@example.net";

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

std::string seal(const std::string& key = milter_test::kKey, const std::string& to = kTo,
                 const std::string& from = kFrom, std::chrono::sys_seconds at = milter_test::kNow) {
    return address::seal_forward(address::VerpKeys::from_strings({key}), to, from, at);
}

struct Message {
    milter::ConnectInfo client = milter_test::local_submission();
    std::string sender = "<>";
    std::vector<std::string> rcpts = {"<" + kTo + ">"};
    std::vector<std::pair<std::string, std::string>> headers;
};

std::string run(Fixture& f, const Message& m) {
    milter::Session s = f.session();
    s.connect(m.client);
    const std::string at_mail = describe(s.mail(m.sender, {}, "", "Q7").reply);
    if (at_mail != "continue") return at_mail;
    for (const auto& r : m.rcpts) s.rcpt(r, "smtp");
    for (const auto& [n, v] : m.headers) s.header(n, v);
    return describe(s.end_of_headers("Q7").reply);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(milter_forward)

BOOST_AUTO_TEST_CASE(sealed_forward_passes) {
    Fixture f;
    Message m;
    m.headers = {{"From", kFrom}, {"X-Sendguard-Forwarded", seal()}, {"Auto-Submitted", "auto-forwarded"}};
    BOOST_TEST(run(f, m) == "continue");
    BOOST_TEST(contains(logging::captured(), "Q7: milter: action=pass, stage=header, client=localhost[127.0.0.1], "
                                             "login=local, from=<>, address=<" + kTo + ">, why=sealed_forward"),
               logging::captured());
}

// cleanup(8) gives non_smtpd_milters the null sender as an empty string,
// without the brackets smtpd(8) sends (seen with Postfix 3.7).
BOOST_AUTO_TEST_CASE(null_sender_without_brackets_is_the_null_sender) {
    Fixture f;
    Message m;
    m.sender = "";
    m.headers = {{"From", kFrom}, {"X-Sendguard-Forwarded", seal()}};
    BOOST_TEST(run(f, m) == "continue");
    BOOST_TEST(contains(logging::captured(), "why=sealed_forward"), logging::captured());
}

BOOST_AUTO_TEST_CASE(seal_as_cleanup_passes_a_folded_from) {
    // cleanup(8) hands the milter a folded value with its line break.
    Fixture f;
    Message m;
    m.headers = {{"From", "Alice\n <alice@example.net>"}, {"X-Sendguard-Forwarded", seal()}};
    BOOST_TEST(run(f, m) == "continue");
}

BOOST_AUTO_TEST_CASE(bad_seals_change_nothing) {
    struct Case {
        std::string what;
        Message m;
        std::string want;
    };
    auto with = [](std::function<void(Message&)> change) {
        Message m;
        m.headers = {{"From", kFrom}, {"X-Sendguard-Forwarded", seal()}};
        change(m);
        return m;
    };
    const Case cases[] = {
        {"no seal", with([](Message& m) { m.headers.pop_back(); }), kRefused},
        {"another key", with([](Message& m) { m.headers.back().second = seal("another-key-0123456789abcdef"); }),
         kRefused},
        {"From: altered", with([](Message& m) { m.headers.front().second = "Alice <alice@example.com>"; }),
         "reject 550 5.7.1 locally submitted mail may not use sender alice@example.com"},
        {"sealed for someone else", with([](Message& m) { m.rcpts = {"<boss@customer-a.example>"}; }), kRefused},
        {"a second recipient", with([](Message& m) { m.rcpts.push_back("<x@remote.example>"); }), kRefused},
        {"a second recipient the parser cannot read",
         with([](Message& m) { m.rcpts.push_back("<" + std::string(300, 'a') + "@remote.example>"); }), kRefused},
        {"a second, null recipient", with([](Message& m) { m.rcpts.push_back("<>"); }), kRefused},
        {"two seals", with([](Message& m) { m.headers.emplace_back("X-Sendguard-Forwarded", seal()); }), kRefused},
        {"expired", with([](Message& m) { m.headers.back().second = seal(milter_test::kKey, kTo, kFrom,
                                                                         milter_test::kNow - std::chrono::hours(25)); }),
         kRefused},
        {"garbage", with([](Message& m) { m.headers.back().second = "v=1; t=1; s=zz"; }), kRefused},
        {"not the null sender", with([](Message& m) { m.sender = "<www-data@customer-a.example>"; }),
         "reject 550 5.7.1 locally submitted mail may not use sender alice@example.net"},
        {"over SMTP", with([](Message& m) { m.client = milter_test::smtp_client(); }),
         "reject 550 5.7.1 client 192.0.2.10 may not send as alice@example.net"},
    };
    for (const auto& c : cases) {
        Fixture f;
        const std::string got = run(f, c.m);
        BOOST_TEST(got == c.want, c.what << ": got " << got << ", want " << c.want);
        BOOST_TEST(!contains(logging::captured(), "sealed_forward"), c.what << ": " << logging::captured());
    }
}

BOOST_AUTO_TEST_SUITE_END()
