// test_throttle_rules.cc - policyd/rules.h: the rate-rules table, its
// errors with file:line and the field at fault, and bucket keys
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "common/config/error.h"
#include "policyd/rules.h"
#include "tests/support/temp_dir.h"

using policyd::KeyPart;
using policyd::Rule;

namespace {

constexpr int64_t kS = 1'000'000;

std::string error_of(std::string_view text) {
    try {
        policyd::parse_rules(text, "rate_rules");
    } catch (const config::Error& e) {
        return e.what();
    }
    return "(no error)";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(throttle_rules)

BOOST_AUTO_TEST_CASE(file_loads) {
    harness::TempDir dir("sg-rules-");
    const std::string path = dir.sub("rate_rules");
    harness::write_file(path,
                        "# per customer login, per destination provider\n"
                        "customer  key=sasl_username+provider count=recipients  600/h burst 20, 10000/day\n"
                        "\n"
                        "gmail     key=provider provider=gmail action=filter:slow-gmail:[smtp.example]:587\n"
                        "          3000/h burst 50\n"
                        "others    provider=default key=provider action=hold 100/min\n"
                        "ctx       key=policy_context+client_address+sender_domain action=reject 5/s\n"
                        "global    10000/h\n"
                        "late      action=filter:relay: 1/d\n");
    const std::vector<Rule> rules = policyd::load_rules(path);
    BOOST_TEST_REQUIRE(rules.size() == 6u);

    const Rule& c = rules[0];
    BOOST_TEST(c.name == "customer");
    BOOST_TEST((c.key == std::vector<KeyPart>{KeyPart::SaslUsername, KeyPart::Provider}));
    BOOST_TEST(c.provider == "");
    BOOST_TEST((c.count == Rule::Count::Recipients));
    BOOST_TEST((c.action == Rule::Action::Defer));
    BOOST_TEST(c.limits.size() == 2u);
    BOOST_TEST(policyd::format_limits(c.limits) == "600/h burst 20, 10000/d");
    BOOST_TEST(c.line == 2);

    const Rule& g = rules[1];
    BOOST_TEST(g.provider == "gmail");
    BOOST_TEST((g.action == Rule::Action::Filter));
    BOOST_TEST(g.filter == "slow-gmail:[smtp.example]:587");
    BOOST_TEST(policyd::format_limits(g.limits) == "3000/h burst 50");
    BOOST_TEST(g.line == 4);

    BOOST_TEST(rules[2].provider == "default");
    BOOST_TEST((rules[2].action == Rule::Action::Hold));
    BOOST_TEST(rules[2].line == 6);
    BOOST_TEST((rules[3].key == std::vector<KeyPart>{KeyPart::PolicyContext, KeyPart::ClientAddress,
                                                      KeyPart::SenderDomain}));
    BOOST_TEST((rules[3].action == Rule::Action::Reject));
    BOOST_TEST(rules[4].key.empty());
    BOOST_TEST((rules[4].count == Rule::Count::Messages));
    BOOST_TEST(rules[4].limits[0].period_us == 3600 * kS);
    BOOST_TEST(rules[5].filter == "relay:");
    BOOST_TEST(policyd::action_name(rules[5].action) == "filter");
    BOOST_TEST(policyd::count_name(rules[0].count) == "recipients");
}

BOOST_AUTO_TEST_CASE(mistakes_name_line_and_field) {
    const std::string_view cases[][2] = {
        {"a 10/h\na 20/h\n", "rate_rules:2: rule \"a\": duplicate name (first at line 1)"},
        {"a\n", "rate_rules:1: expected \"key value\""},
        {"a key=sasl_username\n", "rate_rules:1: rule \"a\": no limits after the options"},
        {"a keys=provider 1/h\n", "rate_rules:1: rule \"a\": unknown option \"keys=\""},
        {"a Key=provider 1/h\n", "rate_rules:1: rule \"a\": unknown option \"Key=\""},
        {"a key=provider+recipient 1/h\n", "rate_rules:1: rule \"a\": key=: unknown key part \"recipient\""},
        {"a key=provider+ 1/h\n", "rate_rules:1: rule \"a\": key=: unknown key part \"\""},
        {"a key= 1/h\n", "rate_rules:1: rule \"a\": key=: unknown key part \"\""},
        {"a key=provider+provider 1/h\n", "rate_rules:1: rule \"a\": key=: provider given twice"},
        {"a key=provider key=sasl_username 1/h\n", "rate_rules:1: rule \"a\": option key= given twice"},
        {"a provider= 1/h\n", "rate_rules:1: rule \"a\": provider=: bad provider name \"\""},
        {"a provider=g/mail 1/h\n", "rate_rules:1: rule \"a\": provider=: bad provider name \"g/mail\""},
        {"a count=bytes 1/h\n", "rate_rules:1: rule \"a\": count=: unknown value \"bytes\""},
        {"a action=discard 1/h\n", "rate_rules:1: rule \"a\": action=: unknown action \"discard\""},
        {"a action=filter: 1/h\n", "rate_rules:1: rule \"a\": action=: bad filter target \"filter:\""},
        {"a action=filter:smtp 1/h\n", "rate_rules:1: rule \"a\": action=: bad filter target"},
        {"a action=filter::x 1/h\n", "rate_rules:1: rule \"a\": action=: bad filter target"},
        {"# x\n\na 600/week\n", "rate_rules:3: rule \"a\": limits: window \"600/week\": unknown unit \"week\""},
        {"a 600/h burst 0\n", "rate_rules:1: rule \"a\": limits: window \"600/h burst 0\": burst must be at least 1"},
        {"a 600/h key=provider\n", "rate_rules:1: rule \"a\": limits: window \"600/h key=provider\": unexpected"},
        {"a/b 1/h\n", "rate_rules:1: bad rule name \"a/b\""},
        {"  1/h\n", "rate_rules:1: continuation line without a preceding entry"},
    };
    for (const auto& c : cases) {
        const std::string got = error_of(c[0]);
        BOOST_TEST(got.find(c[1]) != std::string::npos, "text \"" << c[0] << "\": got \"" << got << "\"");
    }
    // provider= without provider in key= is fine (one bucket for that provider).
    BOOST_TEST(error_of("a provider=gmail 1/h\n") == "(no error)");
    const std::string name(policyd::kMaxRuleName + 1, 'n');
    BOOST_TEST(error_of(name + " 1/h\n").find("key longer than") != std::string::npos);
    BOOST_CHECK_THROW(policyd::load_rules("/nonexistent/rate_rules"), config::Error);
}

BOOST_AUTO_TEST_CASE(bucket_keys) {
    const std::vector<Rule> rules = policyd::parse_rules(
        "login    key=sasl_username 1/h\n"
        "dest     key=sasl_username+provider 1/h\n"
        "ctx      key=policy_context+client_address+sender_domain 1/h\n"
        "global   1/h\n"
        "gmail    provider=gmail 1/h\n"
        "default  provider=default key=provider 1/h\n",
        "rate_rules");
    const policyd::RequestValues alice{.sasl_username = "alice",
                                       .sender_domain = "shop.example",
                                       .client_address = "192.0.2.7",
                                       .policy_context = "submission",
                                       .provider = "gmail",
                                       .recipient_domain = "gmail.example"};
    policyd::RequestValues anon = alice;
    anon.sasl_username = "";
    policyd::RequestValues other = alice;
    other.provider = "default";
    other.recipient_domain = "small.example";
    policyd::RequestValues unknown = alice;
    unknown.provider = "";
    policyd::RequestValues pipes = alice;
    pipes.sasl_username = "a|b%c";
    policyd::RequestValues bounce = alice;  // the null sender
    bounce.sender_domain = "";
    policyd::RequestValues nocontext = alice;
    nocontext.policy_context = "";

    const struct {
        size_t rule;
        const policyd::RequestValues* req;
        bool applies;
        std::optional<std::string> key;
    } cases[] = {
        {0, &alice, true, "alice"},
        {0, &anon, true, std::nullopt},  // not authenticated: the rule does not apply
        {1, &alice, true, "alice|gmail"},
        {1, &other, true, "alice|small.example"},
        {1, &unknown, true, std::nullopt},
        {1, &pipes, true, "a%7Cb%25c|gmail"},
        {2, &alice, true, "submission|192.0.2.7|shop.example"},
        {2, &anon, true, "submission|192.0.2.7|shop.example"},
        {2, &bounce, true, std::nullopt},     // no sender domain: never one shared bucket
        {2, &nocontext, true, std::nullopt},
        {3, &alice, true, ""},
        {4, &alice, true, ""},
        {4, &other, false, ""},
        {4, &unknown, false, ""},
        {5, &other, true, "small.example"},
        {5, &alice, false, "gmail"},
    };
    for (const auto& c : cases) {
        const Rule& r = rules[c.rule];
        BOOST_TEST_CONTEXT("rule " << r.name << " provider " << c.req->provider << " login " << c.req->sasl_username) {
            BOOST_TEST(policyd::rule_applies(r, *c.req) == c.applies);
            const std::optional<std::string> got = policyd::rule_key(r, *c.req);
            BOOST_TEST(got.has_value() == c.key.has_value());
            if (got && c.key) BOOST_TEST(*got == *c.key);
        }
    }
    // Long keys are cut and end in a hash of the whole: still distinct.
    policyd::RequestValues big1 = alice, big2 = alice;
    const std::string long1(600, 'x'), long2 = std::string(599, 'x') + "y";
    big1.sasl_username = long1;
    big2.sasl_username = long2;
    const std::string k1 = policyd::rule_key(rules[0], big1).value();
    const std::string k2 = policyd::rule_key(rules[0], big2).value();
    BOOST_TEST(k1.size() == policyd::kMaxBucketKey);
    BOOST_TEST(k2.size() == policyd::kMaxBucketKey);
    BOOST_TEST(k1 != k2);
    BOOST_TEST(k1[policyd::kMaxBucketKey - 17] == '#');
    BOOST_TEST(policyd::key_part_name(KeyPart::PolicyContext) == "policy_context");
}

BOOST_AUTO_TEST_SUITE_END()
