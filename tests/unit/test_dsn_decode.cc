// test_dsn_decode.cc - transfer encodings, charsets and RFC 2047 words
#include <boost/test/unit_test.hpp>

#include "tests/unit/test_dsn_support.h"
#include "common/dsn/decode.h"

namespace decode = dsn::decode;

BOOST_AUTO_TEST_SUITE(dsn_decode)

BOOST_AUTO_TEST_CASE(header_text_rfc2047) {
    struct { std::string in, want; } cases[] = {
        {"plain ascii", "plain ascii"},
        {"=?UTF-8?B?VW56dXN0ZWxsYmFy?=", "Unzustellbar"},
        {"=?iso-8859-1?Q?Nicht_zustellbar:_M=FCller?=", "Nicht zustellbar: M\xc3\xbcller"},
        // §6.2: space between adjacent encoded-words goes, space before text stays
        {"=?utf-8?q?Out_of?= =?utf-8?q?_Office?= reply", "Out of Office reply"},
        {"Re: =?utf-8?b?w6Q=?=", "Re: \xc3\xa4"},
        // words split inside an ISO-2022-JP shift sequence are joined first
        {"=?ISO-2022-JP?B?GyRCJUAbKEI=?= =?ISO-2022-JP?B?GyRCJUAbKEI=?=", "\xe3\x83\x80\xe3\x83\x80"},
        // not encoded-words: kept as written
        {"=?utf-8?x?abc?=", "=?utf-8?x?abc?="},
        {"price =? 5", "price =? 5"},
        {"=?utf-8?q?broken", "=?utf-8?q?broken"},
        // RFC 2231 language suffix
        {"=?utf-8*de?q?Gr=C3=BC=C3=9Fe?=", "Gr\xc3\xbc\xc3\x9f" "e"},
        // raw Latin-1 in a header (RFC 2047 ignored) becomes UTF-8
        {"Abwesenheitsnotiz f\xfcr Mai", "Abwesenheitsnotiz f\xc3\xbcr Mai"},
        // unknown charset: the bytes as they are
        {"=?x-unknown-cs?q?abc?=", "abc"},
    };
    for (auto& c : cases) {
        auto got = decode::header_text(c.in);
        BOOST_TEST(got == c.want, "header_text(" << c.in << "): got " << got << ", want " << c.want);
    }
}

BOOST_AUTO_TEST_CASE(to_utf8_marks_bad_bytes_and_caps) {
    struct { std::string in, charset; size_t max; std::string want; } cases[] = {
        {"M\xfcller", "iso-8859-1", 100, "M\xc3\xbcller"},
        {"M\xfcller", "latin1", 100, "M\xc3\xbcller"},           // alias via GMime's table
        {"\x82\xa0", "shift_jis", 100, "\xe3\x81\x82"},
        {"ok\x81", "shift_jis", 100, "ok\xef\xbf\xbd"},           // cut-off sequence
        {"abcdef", "iso-8859-1", 3, "abc"},
        {"a\xfc\xfc", "iso-8859-1", 4, "a\xc3\xbc"},                // no half character
        {"already \xc3\xa4", "utf-8", 100, "already \xc3\xa4"},
    };
    for (auto& c : cases) {
        auto got = decode::to_utf8(c.in, c.charset, c.max);
        BOOST_TEST(got == c.want, "to_utf8(" << c.charset << "): got " << got << ", want " << c.want);
    }
}

BOOST_AUTO_TEST_CASE(transfer_encodings) {
    BOOST_TEST(decode::transfer("SGVsbG8gV29ybGQ=\n", decode::Cte::Base64, 100) == "Hello World");
    BOOST_TEST(decode::transfer("Gr=C3=BC=\nsse", decode::Cte::QuotedPrintable, 100) == "Gr\xc3\xbcsse");
    BOOST_TEST(decode::transfer("SGVsbG8gV29ybGQ=", decode::Cte::Base64, 5) == "Hello");
    BOOST_TEST(decode::transfer("%%%not base64%%%", decode::Cte::Base64, 100).size() < 16u);
    BOOST_TEST((decode::cte_from(" Base64 ") == decode::Cte::Base64));
    BOOST_TEST((decode::cte_from("7bit") == decode::Cte::Identity));
}

BOOST_AUTO_TEST_SUITE_END()
