// test_address.cc - RFC 5321 path/mailbox parsing and domain normalisation
#include <boost/test/unit_test.hpp>

#include <string>

#include "common/address/address.h"

namespace {

// "ok:<str()>", "null", or "error:<reason>": one string to compare.
std::string show(const address::Result<address::Address>& r) {
    if (!r) return "error:" + std::string(address::to_string(r.error()));
    return r->is_null() ? "null" : "ok:" + r->str();
}
std::string show(const address::Result<address::Domain>& r) {
    if (!r) return "error:" + std::string(address::to_string(r.error()));
    return "ok:" + r->str();
}

std::string label(char c, std::size_t n) { return std::string(n, c); }

struct Case {
    std::string in;
    std::string want;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(address_suite)

BOOST_AUTO_TEST_CASE(parse_path_table) {
    const Case cases[] = {
        {"<bob@example.net>", "ok:bob@example.net"},
        {"bob@example.net", "ok:bob@example.net"},
        {"  <bob@Example.NET.>  ", "ok:bob@example.net"},
        {"<Bob.Smith@EXAMPLE.net>", "ok:Bob.Smith@example.net"},
        {"<>", "null"},
        {"< >", "null"},
        {"<\"a b\"@example.com>", "ok:\"a b\"@example.com"},
        {"\"abc\"@example.com", "ok:abc@example.com"},
        {"\"a\\\"b\"@x.org", "ok:\"a\\\"b\"@x.org"},
        {"\"a\\\\b\"@x.org", "ok:\"a\\\\b\"@x.org"},
        {"\"a\\b\"@x.org", "ok:ab@x.org"},
        {"<@relay.example,@other.example:bob@example.net>", "ok:bob@example.net"},
        {"<@relay.example:bob@example.net>", "ok:bob@example.net"},
        {"<@[192.0.2.9]:bob@example.net>", "ok:bob@example.net"},
        {"<@[IPv6:2001:db8::9],@x.example:bob@example.net>", "ok:bob@example.net"},
        {"<@relay.example bob@example.net>", "error:syntax"},
        {"<@:bob@example.net>", "error:syntax"},
        {"<@relay.example:>", "error:syntax"},
        {"<@a,:bob@example.net>", "error:syntax"},
        {"<@a,b:bob@example.net>", "error:syntax"},
        {"<@a@b:bob@example.net>", "error:syntax"},
        {"<bob@example.net", "error:syntax"},
        {"bob@example.net>", "error:bad_domain"},
        {"<<bob@example.net>>", "error:syntax"},
        {"bob", "error:no_domain"},
        {"bob@", "error:no_domain"},
        {"\"bob\"", "error:no_domain"},
        {"\"bob\"x@example.net", "error:syntax"},
        {"\"bob@example.net", "error:syntax"},
        {"@example.net", "error:empty_local_part"},
        {"\"\"@example.net", "error:empty_local_part"},
        {"a b@example.net", "error:syntax"},
        {"a(b)@example.net", "error:syntax"},
        {"bo\x01" "b@example.net", "error:syntax"},
        {"bob@ example.net", "error:syntax"},
        {"bob@exa mple.net", "error:bad_domain"},
        {"bob@-example.net", "error:bad_domain"},
        {"bob@example-.net", "error:bad_domain"},
        {"bob@example..net", "error:bad_domain"},
        {"bob@example.net..", "error:bad_domain"},
        {"bob@.", "error:bad_domain"},
        {"bob@ex_ample.net", "error:bad_domain"},
        {"a@b@example.net", "error:bad_domain"},
        {"john..doe@example.com", "ok:\"john..doe\"@example.com"},
        {".bob@example.com", "ok:\".bob\"@example.com"},
        {"bob.@example.com", "ok:\"bob.\"@example.com"},
        {"!#$%&'*+-/=?^_`{|}~@example.com", "ok:!#$%&'*+-/=?^_`{|}~@example.com"},
        {"bob@[192.0.2.1]", "ok:bob@[192.0.2.1]"},
        {"bob@[IPv6:2001:DB8:0:0:0:0:0:1]", "ok:bob@[IPv6:2001:db8::1]"},
        {"bob@[ipv6:::1]", "ok:bob@[IPv6:::1]"},
        {"bob@[300.1.1.1]", "error:bad_address_literal"},
        {"bob@[192.0.2.1", "error:bad_address_literal"},
        {"bob@[]", "error:bad_address_literal"},
        {"bob@[IPv6:zz::1]", "error:bad_address_literal"},
        {"bob@[x-tag:Some.Thing]", "ok:bob@[x-tag:Some.Thing]"},
        {"bob@[x-tag:a b]", "error:bad_address_literal"},
        {"bob@b\xc3\xbc" "cher.example", "ok:bob@xn--bcher-kva.example"},
        {"bob@B\xc3\x9c" "CHER.Example.", "ok:bob@xn--bcher-kva.example"},
        {"bob@stra\xc3\x9f" "e.de", "ok:bob@xn--strae-oqa.de"},
        {"bob@\xff.example", "error:bad_utf8"},
        {"j\xc3\xb6rg@example.com", "ok:j\xc3\xb6rg@example.com"},
        {"\"j\xc3\xb6rg smith\"@example.com", "ok:\"j\xc3\xb6rg smith\"@example.com"},
        {"a\xc3@example.com", "error:bad_utf8"},
        {"", "error:empty"},
        {"   ", "error:empty"},
        {std::string(5000, 'a') + "@example.com", "error:input_too_long"},
    };
    for (const auto& c : cases) {
        const std::string got = show(address::parse_path(c.in));
        BOOST_TEST(got == c.want, "parse_path(" << c.in << "): got " << got << ", want " << c.want);
    }
}

BOOST_AUTO_TEST_CASE(parse_mailbox_table) {
    const Case cases[] = {
        {"bob@example.net", "ok:bob@example.net"},
        {" bob@example.net\t", "ok:bob@example.net"},
        {"<bob@example.net>", "error:syntax"},
        {"<>", "error:null_path"},
        {"\"x y\"@example.net", "ok:\"x y\"@example.net"},
    };
    for (const auto& c : cases) {
        const std::string got = show(address::parse_mailbox(c.in));
        BOOST_TEST(got == c.want, "parse_mailbox(" << c.in << "): got " << got << ", want " << c.want);
    }
}

// RFC 5321 4.5.3.1: 64 / 255 / 254 octets, labels 63 (RFC 1035).
BOOST_AUTO_TEST_CASE(limits) {
    const std::string d189 = label('a', 63) + "." + label('b', 63) + "." + label('c', 61);  // 189
    const std::string d253 = label('a', 63) + "." + label('b', 63) + "." + label('c', 63) + "." +
                             label('d', 61);  // 253
    const Case cases[] = {
        {label('x', 64) + "@example.com", "ok:" + label('x', 64) + "@example.com"},
        {label('x', 65) + "@example.com", "error:local_part_too_long"},
        // 62 octets unquoted, 64 with the quotes it needs: fits.
        {"\"" + label('x', 61) + " \"@example.com", "ok:\"" + label('x', 61) + " \"@example.com"},
        // 63 unquoted, 65 quoted: the wire form counts.
        {"\"" + label('x', 62) + " \"@example.com", "error:local_part_too_long"},
        {"bob@" + label('a', 63) + ".com", "ok:bob@" + label('a', 63) + ".com"},
        {"bob@" + label('a', 64) + ".com", "error:label_too_long"},
        {"bob@" + d253 + ".aa", "error:domain_too_long"},
        {"bob@" + d253, "error:mailbox_too_long"},
        {label('x', 64) + "@" + d189, "ok:" + label('x', 64) + "@" + d189},
        {label('x', 64) + "@" + d189 + "c", "error:mailbox_too_long"},
    };
    for (const auto& c : cases) {
        const std::string got = show(address::parse_path(c.in));
        BOOST_TEST(got == c.want, "parse_path(" << c.in.size() << " octets): got " << got
                                                 << ", want " << c.want);
    }
    BOOST_TEST(d189.size() == 189u);
    BOOST_TEST(d253.size() == 253u);
    const std::string got = show(address::normalise_domain(d253 + ".aa"));
    BOOST_TEST(got == "error:domain_too_long", "got " << got);
    BOOST_TEST(show(address::normalise_domain(d253 + ".a")) == "ok:" + d253 + ".a");
    BOOST_TEST(show(address::normalise_domain(d253)) == "ok:" + d253);
}

BOOST_AUTO_TEST_CASE(normalise_domain_table) {
    const Case cases[] = {
        {"Example.COM.", "ok:example.com"},
        {"example.com", "ok:example.com"},
        {" example.com ", "ok:example.com"},
        {"\xc3\xa4.example", "ok:xn--4ca.example"},
        {"\xc3\x84.example", "ok:xn--4ca.example"},
        {"m\xc3\xbcnchen.de", "ok:xn--mnchen-3ya.de"},
        {"M\xc3\xbcnchen.DE.", "ok:xn--mnchen-3ya.de"},
        {"XN--MNCHEN-3YA.de", "ok:xn--mnchen-3ya.de"},
        {"localhost", "ok:localhost"},
        {"[192.0.2.1]", "ok:[192.0.2.1]"},
        {"[IPv6:2001:db8::ff00:42:8329]", "ok:[IPv6:2001:db8::ff00:42:8329]"},
        {"[IPv6:::ffff:192.0.2.1]", "ok:[IPv6:::ffff:192.0.2.1]"},
        {"[192.0.2]", "error:bad_address_literal"},
        // An embedded NUL must not cut the name short for libidn2 / inet_pton.
        {std::string("\xc3\xbc.example\0.evil", 16), "error:bad_domain"},
        {std::string("[192.0.2.1\0junk]", 16), "error:bad_domain"},
        {"exa\tmple.com", "error:bad_domain"},
        {"", "error:empty"},
        {".", "error:bad_domain"},
        {"a..b", "error:bad_domain"},
        {".example.com", "error:bad_domain"},
        {"exa$mple.com", "error:bad_domain"},
        {"ex\xc3" "ample.com", "error:bad_utf8"},
        // A label may not start with a combining mark (RFC 5891 4.2.3.2).
        {"\xcc\x81" "abc.example", "error:idna"},
        {"a\xef\xbf\xbd" "b.example", "error:idna"},
        // IDNA2008 refuses a snowman; the transitional fall-back takes it.
        {"a\xe2\x98\x83" "b.example", "ok:xn--ab-fsx.example"},
        {"\xe4\xbe\x8b\xe3\x80\x82test", "ok:xn--fsq.test"},
    };
    for (const auto& c : cases) {
        const std::string got = show(address::normalise_domain(c.in));
        BOOST_TEST(got == c.want, "normalise_domain(" << c.in << "): got " << got << ", want " << c.want);
    }
    auto d = address::normalise_domain("[192.0.2.1]");
    BOOST_TEST((d && d->is_literal()));
    auto n = address::normalise_domain("example.com");
    BOOST_TEST((n && !n->is_literal()));
}

BOOST_AUTO_TEST_CASE(normalised_key) {
    const Case cases[] = {
        {"Bob.Smith@Example.NET", "bob.smith@example.net"},
        {"\"Bob Smith\"@x.org", "\"bob smith\"@x.org"},
        {"\"BOB\"@x.org", "bob@x.org"},
        {"J\xc3\x96RG@X.org", "j\xc3\x96rg@x.org"},
        {"<>", ""},
    };
    for (const auto& c : cases) {
        auto a = address::parse_path(c.in);
        BOOST_REQUIRE_MESSAGE(a, "parse_path(" << c.in << ") failed");
        const std::string got = a->normalised();
        BOOST_TEST(got == c.want, "normalised(" << c.in << "): got " << got << ", want " << c.want);
    }
    // Case is kept in the Address itself, and equality sees it.
    auto upper = address::parse_path("Bob@example.net");
    auto lower = address::parse_path("bob@EXAMPLE.net");
    BOOST_REQUIRE(upper);
    BOOST_REQUIRE(lower);
    BOOST_TEST(upper->local() == "Bob");
    BOOST_TEST(!(*upper == *lower));
    BOOST_TEST(upper->normalised() == lower->normalised());
    BOOST_TEST((upper->domain() == lower->domain()));
}

BOOST_AUTO_TEST_CASE(domain_of_table) {
    const Case cases[] = {
        {"<a@B.org>", "ok:b.org"},
        {"a@b\xc3\xbc" "cher.example", "ok:xn--bcher-kva.example"},
        {"<>", "error:null_path"},
        {"junk", "error:no_domain"},
    };
    for (const auto& c : cases) {
        const std::string got = show(address::domain_of(c.in));
        BOOST_TEST(got == c.want, "domain_of(" << c.in << "): got " << got << ", want " << c.want);
    }
}

BOOST_AUTO_TEST_CASE(make_address_table) {
    struct {
        std::string local, domain, want;
    } cases[] = {
        {"bob", "Example.net", "ok:bob@example.net"},
        {"a b", "x.org", "ok:\"a b\"@x.org"},
        {"a\"b", "x.org", "ok:\"a\\\"b\"@x.org"},
        {"", "x.org", "error:empty_local_part"},
        {"a\nb", "x.org", "error:syntax"},
        {"bob", "", "error:empty"},
        {"bob", "bad domain", "error:bad_domain"},
    };
    for (const auto& c : cases) {
        const std::string got = show(address::make_address(c.local, c.domain));
        BOOST_TEST(got == c.want, "make_address(" << c.local << ", " << c.domain << "): got " << got
                                                  << ", want " << c.want);
    }
    // str() output parses back to the same address.
    for (const auto& c : cases) {
        auto a = address::make_address(c.local, c.domain);
        if (!a) continue;
        auto b = address::parse_mailbox(a->str());
        BOOST_TEST((b && *b == *a), "round trip of " << a->str());
    }
}

BOOST_AUTO_TEST_CASE(is_dot_string_table) {
    const struct {
        std::string in;
        bool want;
    } cases[] = {
        {"bob", true}, {"bob.smith", true}, {"a+b=c", true}, {"j\xc3\xb6rg", true},
        {"", false}, {".bob", false}, {"bob.", false}, {"a..b", false}, {"a b", false},
        {"a\"b", false}, {"a\xc3", false},
    };
    for (const auto& c : cases) {
        const bool got = address::is_dot_string(c.in);
        BOOST_TEST(got == c.want, "is_dot_string(" << c.in << "): got " << got << ", want " << c.want);
    }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(address_suppression_key)

BOOST_AUTO_TEST_CASE(one_key_per_address_or_domain) {
    struct { std::string in, want; } ok[] = {
        {"Bob@Example.NET", "bob@example.net"},
        {"<bob@example.net>", "bob@example.net"},
        {"\"Bob Smith\"@Example.net", "\"bob smith\"@example.net"},
        {"@Example.COM.", "@example.com"},
        {"anna@b\xc3\xbc" "cher.example", "anna@xn--bcher-kva.example"},
    };
    for (auto& c : ok) {
        auto got = address::suppression_key(c.in);
        BOOST_REQUIRE_MESSAGE(got, c.in << ": " << address::to_string(got.error()));
        BOOST_TEST(*got == c.want, c.in << ": got " << *got << ", want " << c.want);
    }
    for (const char* bad : {"", "not an address", "@", "@-bad-.example", "bob@"})
        BOOST_TEST(!address::suppression_key(bad), bad << ": accepted");
}

BOOST_AUTO_TEST_SUITE_END()
