// test_senders.cc - who may send as whom: sender tables, the default rule,
// local submission, bounce domains, and pattern errors with file:line
#include <boost/test/unit_test.hpp>

#include <string>

#include "tests/unit/test_senders_support.h"

using senders_test::Case;
using senders_test::decide;
using senders_test::error_of;

namespace {

// Two sender tables, merged: bob is in both.
const senders_test::Setup kHosting{
    .senders =
        {
            "# customer A's login may also send for B, C, D's subdomains and one address of X\n"
            "alice@customer-a.example  customer-b.example, @customer-c.example "
            "*.customer-d.example,\n"
            "    news@customer-x.example\n"
            "bob     customer-b.example\n"
            "Carol@Example.ORG  B\xC3\xBC"
            "cher.example, \"News.Letter\"@Customer-Y.Example, *.example.com\n"
            "reseller  @r1.example\n",
            "bob  customer-e.example\n"
            "reseller  r2.example\n",
        },
};

}  // namespace

BOOST_AUTO_TEST_SUITE(senders_suite)

BOOST_AUTO_TEST_CASE(login_decisions) {
    const auto rules = senders_test::build(kHosting);
    const std::string alice = "login:alice@customer-a.example";
    const std::string alice_may_not = "login alice@customer-a.example may not send as ";
    const Case cases[] = {
        // a domain, written bare or as @domain: the domain itself, not its subdomains
        {alice, "x@customer-b.example", "allowed:sender_table"},
        {alice, "x@Customer-B.EXAMPLE.", "allowed:sender_table"},
        {alice, "x@sub.customer-b.example",
         "refused:not_granted:" + alice_may_not + "x@sub.customer-b.example"},
        {alice, "x@customer-c.example", "allowed:sender_table"},
        {alice, "x@a.customer-c.example",
         "refused:not_granted:" + alice_may_not + "x@a.customer-c.example"},
        // *.domain: strict subdomains at any depth, not the domain
        {alice, "x@a.customer-d.example", "allowed:sender_table"},
        {alice, "x@b.a.customer-d.example", "allowed:sender_table"},
        {alice, "x@customer-d.example",
         "refused:not_granted:" + alice_may_not + "x@customer-d.example"},
        {alice, "x@acustomer-d.example",
         "refused:not_granted:" + alice_may_not + "x@acustomer-d.example"},
        // one address: local part case and quoting do not matter, the rest of the domain does
        {alice, "news@customer-x.example", "allowed:sender_table"},
        {alice, "NEWS@Customer-X.example", "allowed:sender_table"},
        {alice, "\"news\"@customer-x.example", "allowed:sender_table"},
        {alice, "news2@customer-x.example",
         "refused:not_granted:" + alice_may_not + "news2@customer-x.example"},
        {alice, "news@sub.customer-x.example",
         "refused:not_granted:" + alice_may_not + "news@sub.customer-x.example"},
        // the default rule: the login's own domain
        {alice, "boss@customer-a.example", "allowed:login_domain"},
        {alice, "Boss@CUSTOMER-A.example", "allowed:login_domain"},
        {alice, "boss@sub.customer-a.example",
         "refused:not_granted:" + alice_may_not + "boss@sub.customer-a.example"},
        // what stops one hosting customer sending as another
        {"login:bob", "boss@customer-a.example",
         "refused:not_granted:login bob may not send as boss@customer-a.example"},
        // merged tables: bob and reseller get the lines of both files
        {"login:bob", "x@customer-b.example", "allowed:sender_table"},
        {"login:bob", "x@customer-e.example", "allowed:sender_table"},
        {"login:reseller", "x@r1.example", "allowed:sender_table"},
        {"login:reseller", "x@r2.example", "allowed:sender_table"},
        // IDN: the table's U-label matches the sender's A-label and U-label
        {"login:Carol@Example.ORG", "x@xn--bcher-kva.example", "allowed:sender_table"},
        {"login:Carol@Example.ORG",
         "x@b\xC3\xBC"
         "cher.example",
         "allowed:sender_table"},
        {"login:Carol@Example.ORG", "x@BÜCHER.example", "allowed:sender_table"},
        {"login:Carol@Example.ORG", "news.letter@customer-y.example", "allowed:sender_table"},
        {"login:Carol@Example.ORG", "x@example.org", "allowed:login_domain"},
        // logins are compared as the SASL server gives them
        {"login:carol@example.org", "x@mail.example.com",
         "refused:unknown_login:login carol@example.org may not send as x@mail.example.com"},
        {"login:Carol@Example.ORG", "x@mail.example.com", "allowed:sender_table"},
        // a login in no table still has its own domain, and nothing else
        {"login:dave@customer-z.example", "x@customer-z.example", "allowed:login_domain"},
        {"login:dave@customer-z.example", "x@customer-b.example",
         "refused:unknown_login:login dave@customer-z.example may not send as "
         "x@customer-b.example"},
        // a login without a domain has no default grant
        {"login:bob", "bob@bob", "refused:not_granted:login bob may not send as bob@bob"},
        {"login:eve", "eve@eve", "refused:unknown_login:login eve may not send as eve@eve"},
        {"login:eve@", "x@example.net",
         "refused:unknown_login:login eve@ may not send as x@example.net"},
        {"login:@example.net", "x@example.net",
         "refused:unknown_login:login @example.net may not send as x@example.net"},
        {"login:eve@[192.0.2.1]", "eve@[192.0.2.1]",
         "refused:unknown_login:login eve@[192.0.2.1] may not send as eve@[192.0.2.1]"},
        // the refusal text is one printable line
        {"login:evil\r\n250 ok", "x@example.net",
         "refused:unknown_login:login evil??250 ok may not send as x@example.net"},
    };
    for (const Case& c : cases) BOOST_TEST_CONTEXT(c.client << " as " << c.sender) {
            BOOST_TEST(decide(*rules, c.client, c.sender) == c.want);
        }
}

BOOST_AUTO_TEST_CASE(default_rule_off_leaves_the_tables) {
    senders_test::Setup s = kHosting;
    s.owns = false;
    const auto rules = senders_test::build(s);
    const Case cases[] = {
        {"login:alice@customer-a.example", "boss@customer-a.example",
         "refused:not_granted:login alice@customer-a.example may not send as "
         "boss@customer-a.example"},
        {"login:alice@customer-a.example", "x@customer-b.example", "allowed:sender_table"},
        {"login:dave@customer-z.example", "x@customer-z.example",
         "refused:unknown_login:login dave@customer-z.example may not send as "
         "x@customer-z.example"},
    };
    for (const Case& c : cases) BOOST_TEST_CONTEXT(c.client << " as " << c.sender) {
            BOOST_TEST(decide(*rules, c.client, c.sender) == c.want);
        }
}

BOOST_AUTO_TEST_CASE(bounce_domains_are_never_granted) {
    senders_test::Setup s = kHosting;
    s.bounce_domains = {"Bounces.Example.COM", "mail-bounces.example.net"};
    s.senders.push_back("mallory@example.net  example.net, *.example.net, bounces.example.com\n");
    s.local = {"*.example.com"};
    const auto rules = senders_test::build(s);
    const Case cases[] = {
        // bounce_domains, whatever the table says
        {"login:mallory@example.net", "bounce+x@mail-bounces.example.net",
         "refused:bounce_address:bounce+x@mail-bounces.example.net is a bounce address"},
        {"login:mallory@example.net", "x@bounces.example.com",
         "refused:bounce_address:x@bounces.example.com is a bounce address"},
        {"login:Carol@Example.ORG", "x@bounces.example.com",
         "refused:bounce_address:x@bounces.example.com is a bounce address"},
        {"local", "x@bounces.example.com",
         "refused:bounce_address:x@bounces.example.com is a bounce address"},
        // a bounce domain's subdomains are no bounce domains
        {"login:Carol@Example.ORG", "x@a.bounces.example.com", "allowed:sender_table"},
        // bounces.<domain>: the bounce domain derived for any sender domain, the login's own too
        {"login:mallory@example.net", "x@bounces.example.net",
         "refused:bounce_address:x@bounces.example.net is a bounce address"},
        {"login:alice@customer-a.example", "x@bounces.customer-a.example",
         "refused:bounce_address:x@bounces.customer-a.example is a bounce address"},
        {"login:alice@customer-a.example", "x@Bounces.Customer-D.example",
         "refused:bounce_address:x@bounces.customer-d.example is a bounce address"},
        {"login:mallory@example.net", "x@nobounces.example.net", "allowed:sender_table"},
    };
    for (const Case& c : cases) BOOST_TEST_CONTEXT(c.client << " as " << c.sender) {
            BOOST_TEST(decide(*rules, c.client, c.sender) == c.want);
        }

    s.bounce_labels = {};
    const auto without = senders_test::build(s);
    BOOST_TEST(decide(*without, "login:mallory@example.net", "x@bounces.example.net") ==
               "allowed:sender_table");
    BOOST_TEST(decide(*without, "login:mallory@example.net", "x@mail-bounces.example.net") ==
               "refused:bounce_address:x@mail-bounces.example.net is a bounce address");
}

BOOST_AUTO_TEST_CASE(local_submission_uses_its_own_list) {
    const auto none = senders_test::build(kHosting);
    BOOST_TEST(decide(*none, "local", "www-data@customer-a.example") ==
               "refused:no_local_senders:locally submitted mail may not use sender "
               "www-data@customer-a.example");

    senders_test::Setup s = kHosting;
    s.local = {"www.customer-a.example", "Cron@Customer-A.example", "*.apps.example"};
    const auto rules = senders_test::build(s);
    const Case cases[] = {
        {"local", "form@www.customer-a.example", "allowed:local_senders"},
        {"local", "cron@customer-a.example", "allowed:local_senders"},
        {"local", "x@shop.apps.example", "allowed:local_senders"},
        {"local", "root@customer-a.example",
         "refused:not_granted:locally submitted mail may not use sender root@customer-a.example"},
        {"local", "x@apps.example",
         "refused:not_granted:locally submitted mail may not use sender x@apps.example"},
        // logins do not get the local list, nor local submission a login's grants
        {"login:bob", "x@www.customer-a.example",
         "refused:not_granted:login bob may not send as x@www.customer-a.example"},
        {"local", "x@customer-b.example",
         "refused:not_granted:locally submitted mail may not use sender x@customer-b.example"},
    };
    for (const Case& c : cases) BOOST_TEST_CONTEXT(c.client << " as " << c.sender) {
            BOOST_TEST(decide(*rules, c.client, c.sender) == c.want);
        }
}

BOOST_AUTO_TEST_CASE(null_sender_is_refused_as_no_address) {
    const auto rules = senders_test::build(kHosting);
    BOOST_TEST(decide(*rules, "login:bob", "<>") ==
               "refused:null_sender:the null sender has no address to check");
}

// Each bad line is an error naming the file, the line and the pattern.
BOOST_AUTO_TEST_CASE(bad_patterns_name_file_and_line) {
    struct Bad {
        std::string table;
        std::string want;
    };
    const Bad cases[] = {
        {"alice ok.example\nbob customer-a..example\n",
         "t1:2: invalid grant customer-a..example for login bob: expected a domain, @domain, "
         "*.domain or an "
         "address (bad_domain)"},
        {"alice *\n",
         "t1:1: invalid grant * for login alice: '*' is allowed only as a leading \"*.\" "
         "(subdomains)"},
        {"alice a*.example\n",
         "t1:1: invalid grant a*.example for login alice: '*' is allowed only as a leading \"*.\" "
         "(subdomains)"},
        {"alice *.*.example\n",
         "t1:1: invalid grant *.*.example for login alice: expected a domain, @domain, *.domain or "
         "an address "
         "(bad_domain)"},
        {"alice @\n",
         "t1:1: invalid grant @ for login alice: expected a domain, @domain, *.domain or an "
         "address (empty)"},
        {"alice @@x.example\n",
         "t1:1: invalid grant @@x.example for login alice: expected a domain, @domain, *.domain or "
         "an address "
         "(bad_domain)"},
        {"alice x@\n",
         "t1:1: invalid grant x@ for login alice: expected a domain, @domain, *.domain or an "
         "address (no_domain)"},
        {"alice a@b@c.example\n",
         "t1:1: invalid grant a@b@c.example for login alice: expected a domain, @domain, *.domain "
         "or an address "
         "(bad_domain)"},
        {"alice @[192.0.2.1]\n",
         "t1:1: invalid grant @[192.0.2.1] for login alice: an address literal is no sender "
         "domain"},
        {"alice x@[192.0.2.1]\n",
         "t1:1: invalid grant x@[192.0.2.1] for login alice: an address literal is no sender "
         "domain"},
        {"alice *.[192.0.2.1]\n",
         "t1:1: invalid grant *.[192.0.2.1] for login alice: an address literal is no sender "
         "domain"},
        {"alice " + std::string(64, 'l') + ".example\n",
         "t1:1: invalid grant " + std::string(64, 'l').substr(0, 100) +
             ".example for login alice: expected a domain, "
             "@domain, *.domain or an address (label_too_long)"},
        // TableFile's own errors: a login given twice in one file, a line without grants
        {"alice a.example\nbob b.example\nalice c.example\n",
         "t1:3: duplicate key alice (first at line 1)"},
        {"alice\n", "t1:1: expected \"key value\", got only alice"},
        {std::string(600, 'a') + " x.example\n",
         "t1:1: key longer than 512 bytes: " + std::string(100, 'a') + "..."},
    };
    for (const Bad& c : cases) BOOST_TEST_CONTEXT(c.table) {
            BOOST_TEST(error_of([&] { (void)senders_test::build({.senders = {c.table}}); }) ==
                       c.want);
        }

    // The second file's line numbers, and a pattern on a continuation line.
    BOOST_TEST(
        error_of([] {
            (void)senders_test::build(
                {.senders = {"alice a.example\n", "# x\nbob b.example,\n  c..example\n"}});
        }) ==
        "t2:2: invalid grant c..example for login bob: expected a domain, @domain, *.domain or an "
        "address (bad_domain)");
    BOOST_TEST(error_of([] {
                   (void)senders_test::build({.local = {"ok.example", "no..example"}});
               }) ==
               "sendguard.conf:1: invalid milter_local_senders: no..example: expected a domain, "
               "@domain, *.domain or "
               "an address (bad_domain)");
}

// A reseller's login with 10^4 domains is as cheap to check as one with one
// domain; the count shows the index holds each grant once.
BOOST_AUTO_TEST_CASE(many_domains_on_one_login) {
    std::string line = "reseller ";
    for (int i = 0; i < 10000; ++i)
        line += "d" + std::to_string(i) + ".example, *.w" + std::to_string(i) + ".example ";
    const auto rules = senders_test::build({.senders = {line + "\n", "reseller d0.example\n"}});
    BOOST_TEST(rules->stats().logins == 1u);
    BOOST_TEST(rules->stats().grants == 20000u);
    BOOST_TEST(decide(*rules, "login:reseller", "x@d9999.example") == "allowed:sender_table");
    BOOST_TEST(decide(*rules, "login:reseller", "x@a.w5000.example") == "allowed:sender_table");
    BOOST_TEST(decide(*rules, "login:reseller", "x@w5000.example") ==
               "refused:not_granted:login reseller may not send as x@w5000.example");
    BOOST_TEST(decide(*rules, "login:reseller", "x@d10000.example") ==
               "refused:not_granted:login reseller may not send as x@d10000.example");
}

// The indexes under the rules: ids are dense and stable while the tables
// grow, a name is found only as written, and every key inserted is there.
BOOST_AUTO_TEST_CASE(indexes_keep_what_was_added) {
    senders::NameIndex names;
    BOOST_TEST(!names.find("a.example"));
    for (int i = 0; i < 5000; ++i)
        BOOST_TEST(names.intern("n" + std::to_string(i) + ".example") == uint32_t(i));
    BOOST_TEST(names.intern("n42.example") == 42u);
    BOOST_TEST(names.intern("") == 5000u);
    BOOST_TEST(names.size() == 5001u);
    for (int i = 0; i < 5000; i += 7) {
        const std::string n = "n" + std::to_string(i) + ".example";
        BOOST_TEST(names.find(n).value_or(~0u) == uint32_t(i));
        BOOST_TEST(names.name(uint32_t(i)) == n);
    }
    BOOST_TEST(names.find("").value_or(~0u) == 5000u);
    BOOST_TEST(!names.find("n5000.example"));
    BOOST_TEST(!names.find("N42.example"));

    senders::KeySet keys;
    BOOST_TEST(!keys.contains(0));
    for (uint64_t k = 0; k < 100000; k += 3) keys.insert(k << 32);
    keys.insert(0);
    BOOST_TEST(keys.size() == 33334u);
    for (uint64_t k = 0; k < 100000; ++k) {
        if (keys.contains(k << 32) != (k % 3 == 0)) BOOST_TEST(false, "key " << k);
    }
}

BOOST_AUTO_TEST_CASE(reason_tokens_are_stable) {
    using senders::Reason;
    const std::pair<Reason, std::string_view> want[] = {
        {Reason::SenderTable, "sender_table"},       {Reason::LoginDomain, "login_domain"},
        {Reason::NetworkTable, "network_table"},     {Reason::LocalSenders, "local_senders"},
        {Reason::NotGranted, "not_granted"},         {Reason::UnknownLogin, "unknown_login"},
        {Reason::UnknownNetwork, "unknown_network"}, {Reason::NoLocalSenders, "no_local_senders"},
        {Reason::BounceAddress, "bounce_address"},   {Reason::NullSender, "null_sender"},
    };
    for (const auto& [r, name] : want) BOOST_TEST(senders::to_string(r) == name);
}

BOOST_AUTO_TEST_SUITE_END()
