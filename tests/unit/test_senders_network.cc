// test_senders_network.cc - unauthenticated clients: network tables, CIDR
// edges in IPv4 and IPv6, mapped addresses, and network errors
#include <boost/test/unit_test.hpp>

#include <string>

#include "tests/unit/test_senders_support.h"

using senders_test::Case;
using senders_test::decide;
using senders_test::error_of;

BOOST_AUTO_TEST_SUITE(senders_network)

BOOST_AUTO_TEST_CASE(address_parsing) {
    struct P {
        std::string in;
        std::string want;  // str(), or "-" for none
    };
    const P cases[] = {
        {"192.0.2.1", "192.0.2.1"},
        {"2001:DB8:0:0::1", "2001:db8::1"},
        {"IPv6:2001:db8::1", "2001:db8::1"},
        {"ipv6:2001:db8::1", "2001:db8::1"},
        {"::ffff:192.0.2.1", "192.0.2.1"},
        {"::ffff:c000:201", "192.0.2.1"},
        {"::192.0.2.1", "::192.0.2.1"},  // IPv4-compatible (deprecated) is plain IPv6
        {"::1", "::1"},
        {"", "-"},
        {"192.0.2", "-"},
        {"192.0.2.256", "-"},
        {"192.0.2.1/32", "-"},
        {"[192.0.2.1]", "-"},
        {"IPv6:192.0.2.1", "192.0.2.1"},
        {"localhost", "-"},
        {std::string(100, '1'), "-"},
    };
    for (const P& c : cases) {
        const auto a = senders::IpAddress::parse(c.in);
        BOOST_TEST_CONTEXT(c.in) {
            BOOST_TEST((a ? a->str() : "-") == c.want);
        }
    }
    BOOST_TEST(!senders::Client::address("not-an-ip"));
    BOOST_TEST(senders_test::client("ip:::ffff:198.51.100.7").name() == "198.51.100.7");
}

BOOST_AUTO_TEST_CASE(network_parsing) {
    struct P {
        std::string in;
        std::string want;  // str(), or "error: why"
    };
    const P cases[] = {
        {"192.0.2.0/24", "192.0.2.0/24"},
        {"192.0.2.7", "192.0.2.7/32"},
        {"0.0.0.0/0", "0.0.0.0/0"},
        {"2001:db8::/32", "2001:db8::/32"},
        {"2001:db8::1", "2001:db8::1/128"},
        {"::/0", "::/0"},
        {"::ffff:192.0.2.0/120", "192.0.2.0/24"},
        {"::ffff:0:0/96", "0.0.0.0/0"},
        {"::ffff:192.0.2.9", "192.0.2.9/32"},
        {"::/80", "::/80"},  // holds the mapped range, but is IPv6
        {"192.0.2.1/24",
         "error: address bits set past the /24 prefix (the network is 192.0.2.0/24)"},
        {"2001:db8::1/32",
         "error: address bits set past the /32 prefix (the network is 2001:db8::/32)"},
        {"192.0.2.0/33", "error: bad prefix length /33 (0 to 32)"},
        {"2001:db8::/129", "error: bad prefix length /129 (0 to 128)"},
        {"192.0.2.0/", "error: bad prefix length / (0 to 32)"},
        {"192.0.2.0/-1", "error: bad prefix length /-1 (0 to 32)"},
        {"192.0.2.0/24x", "error: bad prefix length /24x (0 to 32)"},
        {"192.0.2.0/0024", "error: bad prefix length /0024 (0 to 32)"},
        {"example.com",
         "error: expected an IPv4 or IPv6 address or network, like 192.0.2.0/24 or 2001:db8::/32"},
        {"IPv6:2001:db8::/32",
         "error: expected an IPv4 or IPv6 address or network, like 192.0.2.0/24 or 2001:db8::/32"},
        {"192.0.2/24",
         "error: expected an IPv4 or IPv6 address or network, like 192.0.2.0/24 or 2001:db8::/32"},
    };
    for (const P& c : cases) {
        std::string why;
        const auto n = senders::Network::parse(c.in, why);
        BOOST_TEST_CONTEXT(c.in) {
            BOOST_TEST((n ? n->str() : "error: " + why) == c.want);
        }
    }
}

BOOST_AUTO_TEST_CASE(network_decisions) {
    const auto rules = senders_test::build({
        .networks =
            {
                "192.0.2.0/24      customer-n.example\n"
                "192.0.2.128/25    customer-m.example\n"
                "198.51.100.7      single.example\n"
                "2001:db8::/32     v6.example\n"
                "2001:db8:1::1     v6host.example\n"
                "::ffff:203.0.113.0/120  mapped.example\n",
                // the second file adds to a network of the first, written differently
                "::ffff:192.0.2.0/120  also-n.example\n",
            },
    });
    const Case cases[] = {
        {"ip:192.0.2.1", "x@customer-n.example", "allowed:network_table"},
        {"ip:192.0.2.0", "x@customer-n.example", "allowed:network_table"},
        {"ip:192.0.2.1", "x@also-n.example", "allowed:network_table"},
        {"ip:192.0.2.1", "x@customer-m.example",
         "refused:not_granted:client 192.0.2.1 may not send as x@customer-m.example"},
        // in both networks: the union
        {"ip:192.0.2.128", "x@customer-m.example", "allowed:network_table"},
        {"ip:192.0.2.255", "x@customer-m.example", "allowed:network_table"},
        {"ip:192.0.2.255", "x@customer-n.example", "allowed:network_table"},
        {"ip:192.0.2.127", "x@customer-m.example",
         "refused:not_granted:client 192.0.2.127 may not send as x@customer-m.example"},
        // just outside
        {"ip:192.0.3.0", "x@customer-n.example",
         "refused:unknown_network:client 192.0.3.0 may not send as x@customer-n.example"},
        {"ip:192.0.1.255", "x@customer-n.example",
         "refused:unknown_network:client 192.0.1.255 may not send as x@customer-n.example"},
        // /32
        {"ip:198.51.100.7", "x@single.example", "allowed:network_table"},
        {"ip:198.51.100.6", "x@single.example",
         "refused:unknown_network:client 198.51.100.6 may not send as x@single.example"},
        // a mapped client is its IPv4 address; a mapped network its IPv4 network
        {"ip:::ffff:192.0.2.5", "x@customer-n.example", "allowed:network_table"},
        {"ip:::ffff:192.0.2.5", "x@v6.example",
         "refused:not_granted:client 192.0.2.5 may not send as x@v6.example"},
        {"ip:203.0.113.77", "x@mapped.example", "allowed:network_table"},
        // IPv6 and /128
        {"ip:2001:db8:ffff::1", "x@v6.example", "allowed:network_table"},
        {"ip:IPv6:2001:db8::5", "x@v6.example", "allowed:network_table"},
        {"ip:2001:db8:1::1", "x@v6host.example", "allowed:network_table"},
        {"ip:2001:db8:1::1", "x@v6.example", "allowed:network_table"},
        {"ip:2001:db8:1::2", "x@v6host.example",
         "refused:not_granted:client 2001:db8:1::2 may not send as x@v6host.example"},
        {"ip:2001:db9::1", "x@v6.example",
         "refused:unknown_network:client 2001:db9::1 may not send as x@v6.example"},
        // an IPv6 client is not in an IPv4 network with the same bits
        {"ip:c000:200::", "x@customer-n.example",
         "refused:unknown_network:client c000:200:: may not send as x@customer-n.example"},
        // networks do not reach logins
        {"login:192.0.2.1", "x@customer-n.example",
         "refused:unknown_login:login 192.0.2.1 may not send as x@customer-n.example"},
    };
    for (const Case& c : cases) BOOST_TEST_CONTEXT(c.client << " as " << c.sender) {
            BOOST_TEST(decide(*rules, c.client, c.sender) == c.want);
        }
    BOOST_TEST(rules->stats().networks == 6u);  // ::ffff:192.0.2.0/120 is 192.0.2.0/24
}

BOOST_AUTO_TEST_CASE(zero_prefixes_hold_one_family) {
    const auto rules =
        senders_test::build({.networks = {"0.0.0.0/0 any4.example\n::/0 any6.example\n"}});
    const Case cases[] = {
        {"ip:203.0.113.9", "x@any4.example", "allowed:network_table"},
        {"ip:0.0.0.0", "x@any4.example", "allowed:network_table"},
        {"ip:255.255.255.255", "x@any4.example", "allowed:network_table"},
        {"ip:203.0.113.9", "x@any6.example",
         "refused:not_granted:client 203.0.113.9 may not send as x@any6.example"},
        {"ip:::ffff:203.0.113.9", "x@any4.example", "allowed:network_table"},
        {"ip:2001:db8::1", "x@any6.example", "allowed:network_table"},
        {"ip:::", "x@any6.example", "allowed:network_table"},
        {"ip:ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "x@any6.example", "allowed:network_table"},
        {"ip:2001:db8::1", "x@any4.example",
         "refused:not_granted:client 2001:db8::1 may not send as x@any4.example"},
    };
    for (const Case& c : cases) BOOST_TEST_CONTEXT(c.client << " as " << c.sender) {
            BOOST_TEST(decide(*rules, c.client, c.sender) == c.want);
        }
}

BOOST_AUTO_TEST_CASE(no_network_tables_refuse_every_client) {
    const auto rules = senders_test::build({.senders = {"alice a.example\n"}});
    BOOST_TEST(decide(*rules, "ip:127.0.0.1", "x@a.example") ==
               "refused:unknown_network:client 127.0.0.1 may not send as x@a.example");
}

BOOST_AUTO_TEST_CASE(bad_networks_name_file_and_line) {
    struct Bad {
        std::string table;
        std::string want;
    };
    const Bad cases[] = {
        {"192.0.2.0/24 a.example\n192.0.2.1/24 b.example\n",
         "n1:2: invalid network 192.0.2.1/24: address bits set past the /24 prefix (the network is "
         "192.0.2.0/24)"},
        {"mx.example.com a.example\n",
         "n1:1: invalid network mx.example.com: expected an IPv4 or IPv6 address or network, like "
         "192.0.2.0/24 or "
         "2001:db8::/32"},
        {"2001:db8::/129 a.example\n",
         "n1:1: invalid network 2001:db8::/129: bad prefix length /129 (0 to 128)"},
        {"192.0.2.0/24 a..example\n",
         "n1:1: invalid grant a..example for network 192.0.2.0/24: expected a domain, @domain, "
         "*.domain or an "
         "address (bad_domain)"},
        {"192.0.2.0/24 a.example\n192.0.2.0/24 b.example\n",
         "n1:2: duplicate key 192.0.2.0/24 (first at line 1)"},
    };
    for (const Bad& c : cases) BOOST_TEST_CONTEXT(c.table) {
            BOOST_TEST(error_of([&] { (void)senders_test::build({.networks = {c.table}}); }) ==
                       c.want);
        }
}

BOOST_AUTO_TEST_SUITE_END()
