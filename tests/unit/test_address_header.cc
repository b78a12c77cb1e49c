// test_address_header.cc - mailboxes from RFC 5322 header values
#include <boost/test/unit_test.hpp>

#include <string>

#include "common/address/address.h"

namespace {

std::string show(const address::Result<address::Address>& r) {
    if (!r) return "error:" + std::string(address::to_string(r.error()));
    return "ok:" + r->str();
}

std::string show_all(const address::Result<std::vector<address::Address>>& r) {
    if (!r) return "error:" + std::string(address::to_string(r.error()));
    std::string s;
    for (const auto& a : *r) s += (s.empty() ? "" : " ") + a.str();
    return s;
}

struct Case {
    std::string in;
    std::string want;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(address_header_suite)

BOOST_AUTO_TEST_CASE(extract_first) {
    const Case cases[] = {
        {"\"Bob Smith\" <bob@example.net>", "ok:bob@example.net"},
        {"Bob Smith <bob@example.net>", "ok:bob@example.net"},
        {"Bob Q. Smith <bob@example.net>", "ok:bob@example.net"},
        {"bob@example.net (Bob Smith)", "ok:bob@example.net"},
        {"(Bob) bob@example.net", "ok:bob@example.net"},
        {"  bob@Example.NET  ", "ok:bob@example.net"},
        {"bob@example.net <bob@example.org>", "ok:bob@example.org"},
        {"=?utf-8?q?J=C3=B6rg?= <jorg@example.de>", "ok:jorg@example.de"},
        {"\"J\xc3\xb6rg\" <j\xc3\xb6rg@b\xc3\xbc" "cher.example>", "ok:j\xc3\xb6rg@xn--bcher-kva.example"},
        // RFC 3464 2.3.2 typed addresses in DSN fields.
        {"rfc822; bob@example.net", "ok:bob@example.net"},
        {"RFC822;<bob@example.net>", "ok:bob@example.net"},
        {"rfc822;Bob@Example.NET", "ok:Bob@example.net"},
        {"rfc822 ; \"a b\"@example.net", "ok:\"a b\"@example.net"},
        {"utf-8; j\\x{F6}rg@example.de", "ok:j\xc3\xb6rg@example.de"},
        {"UTF-8; j\xc3\xb6rg@example.de", "ok:j\xc3\xb6rg@example.de"},
        {"utf-8; j\\x{D800}rg@example.de", "error:bad_utf8"},
        {"utf-8; j\\x{}rg@example.de", "error:syntax"},
        {"x400; /C=US/ADMD=x/", "error:unsupported_address_type"},
        // RFC 5322 3.4 groups.
        {"team: alice@example.org, bob@example.net;", "ok:alice@example.org"},
        {"undisclosed-recipients:;", "error:no_address"},
        // Unquoted comma in a display name: the first entry fails, the second is it.
        {"Doe, John <john@example.com>", "ok:john@example.com"},
        {"\"Doe, John\" <john@example.com>", "ok:john@example.com"},
        {"\"Doe <x@y.z>\" <john@example.com>", "ok:john@example.com"},
        // Folding (RFC 5322 2.2.3).
        {"Bob\r\n <bob@example.net>", "ok:bob@example.net"},
        {"<@relay.example:bob@example.net>", "ok:bob@example.net"},
        {"Bob <@relay.example,@r2.example:bob@example.net>", "ok:bob@example.net"},
        // Obsolete CFWS around dots and "@" (RFC 5322 4.4).
        {"bob (x) . smith @ example . net", "ok:bob.smith@example.net"},
        {"(nested (comment \\) here)) bob@example.net", "ok:bob@example.net"},
        {"\"quoted local\"@example.net", "ok:\"quoted local\"@example.net"},
        {"bob@[192.0.2.1]", "ok:bob@[192.0.2.1]"},
        {"Name <bob@example.net> trailing", "error:syntax"},
        {"John Doe bob@example.net", "error:syntax"},
        {"\"unclosed <bob@example.net>", "error:syntax"},
        {"Name <bob@example.net", "error:syntax"},
        {"bob", "error:no_domain"},
        {"<>", "error:null_path"},
        {"", "error:empty"},
        {"\r\n ", "error:empty"},
        {"bob@example.net)", "error:syntax"},
        {std::string(40, '(') + "x" + std::string(40, ')') + " bob@example.net", "error:syntax"},
        {std::string(70000, ' ') + "bob@example.net", "error:input_too_long"},
    };
    for (const auto& c : cases) {
        const std::string got = show(address::extract_from_header(c.in));
        BOOST_TEST(got == c.want, "extract_from_header(" << c.in.substr(0, 80) << "): got " << got
                                                         << ", want " << c.want);
    }
}

BOOST_AUTO_TEST_CASE(extract_all) {
    const struct {
        std::string in;
        std::size_t max;
        std::string want;
    } cases[] = {
        {"a@b.c, <d@e.f>, \"g h\"@i.j, grp: k@l.m, Bad Entry;, n@o.p", 100,
         "a@b.c d@e.f \"g h\"@i.j k@l.m n@o.p"},
        {"a@b.c, d@e.f, g@h.i", 2, "a@b.c d@e.f"},
        {"a@b.c,,, d@e.f,", 10, "a@b.c d@e.f"},
        {"bob@example.net,\r\n\tcarol@example.org", 10, "bob@example.net carol@example.org"},
        {"x, y", 10, "error:no_domain"},
        {"empty:;", 10, "error:no_address"},
        {"x400; whatever", 10, "error:unsupported_address_type"},
    };
    for (const auto& c : cases) {
        const std::string got = show_all(address::extract_all_from_header(c.in, c.max));
        BOOST_TEST(got == c.want, "extract_all(" << c.in << "): got " << got << ", want " << c.want);
    }
    // Many mailboxes in one long value.
    std::string many;
    for (int i = 0; i < 2000; ++i) many += "u" + std::to_string(i) + "@example.com, ";
    auto r = address::extract_all_from_header(many);
    BOOST_REQUIRE(r);
    BOOST_TEST(r->size() == 1000u);
    BOOST_TEST(r->back().str() == "u999@example.com");
}

BOOST_AUTO_TEST_SUITE_END()
