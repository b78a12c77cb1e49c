// test_senders_setup.cc - sender rules from the configuration: the
// parameters, files that cannot be read, limits, reloads, and defaults that
// hold a hosting provider's tables
#include <boost/test/unit_test.hpp>

#include <string>

#include "common/config/config.h"
#include "common/senders/setup.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/test_senders_support.h"

using senders_test::decide;
using senders_test::error_of;

namespace {

std::shared_ptr<const senders::Rules> load(const std::string& conf) {
    return senders::load_rules(config::Config::parse(conf, "sendguard.conf"));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(senders_setup)

BOOST_AUTO_TEST_CASE(rules_from_the_parameters) {
    harness::TempDir dir("sg-senders-");
    harness::write_file(dir.sub("panel"),
                        "alice@customer-a.example customer-b.example\nbob b.example\n");
    harness::write_file(dir.sub("manual"),
                        "# kept by hand\nalice@customer-a.example news@customer-x.example\n");
    harness::write_file(dir.sub("networks"), "192.0.2.0/24 printer.example\n");
    const auto rules = load("milter_sender_tables = " + dir.sub("panel") + ", " +
                            dir.sub("manual") + "\nmilter_network_tables = " + dir.sub("networks") +
                            "\nmilter_local_senders = www.customer-a.example\n"
                            "bounce_domains = bounces.example.com, VERP.Example.NET, bounces.*\n");
    const senders_test::Case cases[] = {
        {"login:alice@customer-a.example", "x@customer-b.example", "allowed:sender_table"},
        {"login:alice@customer-a.example", "news@customer-x.example", "allowed:sender_table"},
        {"login:alice@customer-a.example", "x@customer-a.example", "allowed:login_domain"},
        {"ip:192.0.2.9", "scan@printer.example", "allowed:network_table"},
        {"local", "form@www.customer-a.example", "allowed:local_senders"},
        {"login:alice@customer-a.example", "x@verp.example.net",
         "refused:bounce_address:x@verp.example.net is a bounce address"},
        // the bounces.* pattern
        {"login:alice@customer-a.example", "x@bounces.customer-a.example",
         "refused:bounce_address:x@bounces.customer-a.example is a bounce address"},
    };
    for (const auto& c : cases) BOOST_TEST_CONTEXT(c.client << " as " << c.sender) {
            BOOST_TEST(decide(*rules, c.client, c.sender) == c.want);
        }
    BOOST_TEST(rules->stats().logins == 2u);
}

BOOST_AUTO_TEST_CASE(defaults_refuse_all_but_the_login_domain) {
    const auto rules = load("");
    BOOST_TEST(decide(*rules, "login:alice@customer-a.example", "x@customer-a.example") ==
               "allowed:login_domain");
    BOOST_TEST(decide(*rules, "ip:192.0.2.1", "x@customer-a.example") ==
               "refused:unknown_network:client 192.0.2.1 may not send as x@customer-a.example");
    BOOST_TEST(decide(*rules, "local", "root@customer-a.example") ==
               "refused:no_local_senders:locally submitted mail may not use sender "
               "root@customer-a.example");
    const auto off = load("milter_login_owns_domain = no\n");
    BOOST_TEST(decide(*off, "login:alice@customer-a.example", "x@customer-a.example") ==
               "refused:unknown_login:login alice@customer-a.example may not send as "
               "x@customer-a.example");
}

BOOST_AUTO_TEST_CASE(bounce_domain_patterns) {
    const auto folded = load("bounce_domains = Return.*, verp.*\n");
    BOOST_TEST(decide(*folded, "login:a@example.com", "x@return.example.com") ==
               "refused:bounce_address:x@return.example.com is a bounce address");
    BOOST_TEST(decide(*folded, "login:a@example.com", "x@verp.example.com") ==
               "refused:bounce_address:x@verp.example.com is a bounce address");
    BOOST_TEST(decide(*folded, "login:a@bounces.example.com", "x@bounces.example.com") ==
               "allowed:login_domain");
    // The default (bounces.*) keeps customers off every bounces. subdomain;
    // an empty list names none.
    const auto dflt = load("");
    BOOST_TEST(decide(*dflt, "login:a@bounces.example.com", "x@bounces.example.com") ==
               "refused:bounce_address:x@bounces.example.com is a bounce address");
    const auto off = load("bounce_domains =\n");
    BOOST_TEST(decide(*off, "login:a@bounces.example.com", "x@bounces.example.com") ==
               "allowed:login_domain");
}

BOOST_AUTO_TEST_CASE(errors_name_the_file_or_the_parameter) {
    harness::TempDir dir("sg-senders-");
    harness::write_file(dir.sub("bad"), "alice a.example\n\nbob b..example\n");
    harness::write_file(dir.sub("big"), std::string(2000, '#') + "\n");
    harness::write_file(dir.sub("long"), "alice " + std::string(1100, 'a') + "\n");
    harness::write_file(dir.sub("ok"), "alice a.example\n");
    struct Bad {
        std::string conf;
        std::string want;
    };
    const Bad cases[] = {
        {"milter_sender_tables = " + dir.sub("bad") + "\n",
         dir.sub("bad") + ":3: invalid grant b..example for login bob: expected a domain, @domain, "
                          "*.domain or an "
                          "address (bad_domain)"},
        {"milter_network_tables = " + dir.sub("ok") + "\n",
         dir.sub("ok") +
             ":1: invalid network alice: expected an IPv4 or IPv6 address or network, like "
             "192.0.2.0/24 or 2001:db8::/32"},
        {"\nmilter_sender_tables = " + dir.sub("ok") + " " + dir.sub("missing") + "\n",
         "sendguard.conf:2: milter_sender_tables: open " + dir.sub("missing") +
             ": No such file or directory"},
        {"milter_network_tables = networks\n",
         "sendguard.conf:1: invalid milter_network_tables: networks: a table file is named by its "
         "absolute path"},
        {"milter_table_max_size = 1k\nmilter_sender_tables = " + dir.sub("big") + "\n",
         dir.sub("big") + ": file too large (max 1024 bytes)"},
        {"milter_table_max_line = 1k\nmilter_sender_tables = " + dir.sub("long") + "\n",
         dir.sub("long") + ":1: line too long (max 1024 bytes)"},
        {"milter_table_max_entries = 1\nmilter_sender_tables = " + dir.sub("bad") + "\n",
         dir.sub("bad") + ":3: more than 1 entries"},
        {"milter_local_senders = ok.example, *\n",
         "sendguard.conf:1: invalid milter_local_senders: *: '*' is allowed only as a leading "
         "\"*.\" (subdomains)"},
        {"bounce_domains = b..example\n",
         "sendguard.conf:1: invalid bounce_domains: b..example: bad_domain"},
        {"bounce_domains = a.b.*\n",
         "sendguard.conf:1: invalid bounce_domains: a.b.*: expected LABEL.* with one DNS label, like "
         "bounces.*"},
    };
    for (const Bad& c : cases) BOOST_TEST_CONTEXT(c.conf) {
            BOOST_TEST(error_of([&] { (void)load(c.conf); }) == c.want);
        }
}

// The milter's SIGHUP: a new set is built; when that throws, the old one
// (held through its shared_ptr) keeps answering as before.
BOOST_AUTO_TEST_CASE(reload_builds_a_new_set_and_a_broken_file_leaves_the_old) {
    harness::TempDir dir("sg-senders-");
    const std::string conf = "milter_sender_tables = " + dir.sub("senders") + "\n";
    harness::write_file(dir.sub("senders"), "bob b.example\n");
    std::shared_ptr<const senders::Rules> current = load(conf);

    harness::write_file(dir.sub("senders"), "bob b.example c.example\n");
    current = load(conf);
    BOOST_TEST(decide(*current, "login:bob", "x@c.example") == "allowed:sender_table");

    harness::write_file(dir.sub("senders"), "bob b.example\nbob d.example\n");
    BOOST_TEST(error_of([&] { current = load(conf); }) ==
               dir.sub("senders") + ":2: duplicate key bob (first at line 1)");
    BOOST_TEST(decide(*current, "login:bob", "x@c.example") == "allowed:sender_table");
}

// The defaults of milter_table_max_* hold 10^5 logins and a reseller's
// login with 10^4 domains.
BOOST_AUTO_TEST_CASE(defaults_hold_a_hosting_provider) {
    harness::TempDir dir("sg-senders-");
    std::string text;
    for (int i = 0; i < 100000; ++i) {
        const std::string n = std::to_string(i);
        text += "webmaster" + n + "@customer" + n + ".example  customer" + n +
                ".example, *.customer" + n + ".example, @alias" + n + ".example\n";
    }
    text += "reseller-with-many-customers@hosting.example";
    for (int i = 0; i < 10000; ++i)
        text += " reseller-customer-domain-" + std::to_string(i) + ".example,";
    text += "\n";
    harness::write_file(dir.sub("senders"), text);
    const auto rules = load("milter_sender_tables = " + dir.sub("senders") + "\n");
    BOOST_TEST(rules->stats().logins == 100001u);
    BOOST_TEST(rules->stats().grants == 310000u);
    BOOST_TEST(decide(*rules, "login:webmaster77@customer77.example", "x@www.customer77.example") ==
               "allowed:sender_table");
    BOOST_TEST(decide(*rules, "login:webmaster77@customer77.example", "x@customer78.example") ==
               "refused:not_granted:login webmaster77@customer77.example may not send as "
               "x@customer78.example");
    BOOST_TEST(decide(*rules, "login:reseller-with-many-customers@hosting.example",
                      "x@reseller-customer-domain-9999.example") == "allowed:sender_table");
}

BOOST_AUTO_TEST_SUITE_END()
