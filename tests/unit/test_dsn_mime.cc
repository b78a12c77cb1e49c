// test_dsn_mime.cc - the structural MIME scanner (common/dsn/mime_scan.h)
// and the MIME view built on it (common/dsn/mime.h): header fields,
// Content-Type parameters, multipart splitting, nesting limits and the lazy,
// zero-copy decoding of parts.
#define BOOST_TEST_NO_MAIN
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "tests/unit/test_dsn_support.h"
#include "common/dsn/dsn.h"
#include "common/dsn/mime.h"
#include "common/dsn/mime_scan.h"

namespace {

std::string fields_of(std::string_view entity, std::string* body = nullptr) {
    dsn::scan::FieldReader r(entity);
    dsn::scan::Field f;
    std::string out;
    while (r.next(f)) out += std::string(f.name) + "=" + dsn::scan::unfold(f.value) + "|";
    if (body) *body = std::string(r.body());
    return out;
}

std::string join(const std::vector<std::string_view>& v) {
    std::string out;
    for (size_t i = 0; i < v.size(); ++i) out += (i ? "|" : "") + std::string(v[i]);
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(dsn_mime)

BOOST_AUTO_TEST_CASE(header_fields) {
    struct {
        const char* in;
        const char* fields;
        const char* body;
    } const rows[] = {
        {"A: 1\nB: 2\n\nbody\n", "A=1|B=2|", "body\n"},
        {"A: 1\r\nB: 2\r\n\r\nbody\r\n", "A=1|B=2|", "body\r\n"},
        {"Subject: one\n two\n\tthree\nX: y\n\nb", "Subject=one two\tthree|X=y|", "b"},
        // A line that is no field is skipped, as GMime does.
        {"A: 1\nnot a field\nB: 2\n\nb", "A=1|B=2|", "b"},
        {"A: 1\nbad name: x\nB: 2\n\nb", "A=1|B=2|", "b"},
        {"Name : obsolete\n\nb", "Name=obsolete|", "b"},
        {" orphan continuation\nA: 1\n\nb", "A=1|", "b"},
        {"\nbody only", "", "body only"},
        {"A: 1\nB: no empty line", "A=1|B=no empty line|", ""},
        {"", "", ""},
        {"A:\n\n", "A=|", ""},
    };
    for (const auto& row : rows) {
        std::string body;
        std::string got = fields_of(row.in, &body);
        BOOST_TEST(got == row.fields, "fields of " << row.in << ": got " << got << ", want " << row.fields);
        BOOST_TEST(body == row.body, "body of " << row.in << ": got [" << body << "], want [" << row.body << "]");
    }
}

BOOST_AUTO_TEST_CASE(content_type_parameters) {
    struct {
        const char* value;
        const char* type;
        const char* subtype;
        const char* name;
        const char* want;  // nullptr: absent
    } const rows[] = {
        {"multipart/report; report-type=delivery-status; boundary=\"a b;c\"", "multipart", "report",
         "boundary", "a b;c"},
        {"multipart/report; report-type=delivery-status; boundary=\"a b;c\"", "multipart", "report",
         "report-type", "delivery-status"},
        {"multipart/mixed; boundary=----=_Part_1", "multipart", "mixed", "boundary", "----=_Part_1"},
        {"multipart/report;\r\n\tboundary=\"X\"", "multipart", "report", "boundary", "X"},
        {"Multipart/Mixed; BOUNDARY=x", "Multipart", "Mixed", "boundary", "x"},
        {"text/plain; charset*=us-ascii'en'utf%2D8", "text", "plain", "charset", "utf-8"},
        {"multipart/mixed; boundary*0=\"ab\"; boundary*1=\"cd\"", "multipart", "mixed", "boundary", "abcd"},
        {"multipart/mixed; boundary*0*=utf-8''a%20b; boundary*1=c", "multipart", "mixed", "boundary", "a bc"},
        {"multipart/mixed; boundary=\"a\\\"b\"", "multipart", "mixed", "boundary", "a\"b"},
        {"multipart/mixed; boundary=\"unterminated", "multipart", "mixed", "boundary", "unterminated"},
        {"multipart/mixed; boundary=", "multipart", "mixed", "boundary", ""},
        {"multipart/mixed", "multipart", "mixed", "boundary", nullptr},
        {"multipart/mixed; boundaryx=1", "multipart", "mixed", "boundary", nullptr},
        // Junk among the parameters (an encoded-word, "=x") is skipped.
        {"multipart/report; report-type=From: =?UTF-8?Q?x?= <y; boundary=\"b\"", "multipart", "report",
         "boundary", "b"},
        {"text/plain; =x; ; charset=latin1", "text", "plain", "charset", "latin1"},
        {"text", "text", "", "charset", nullptr},
        {"", "", "", "charset", nullptr},
        {" ; charset=x", "", "", "charset", "x"},
    };
    for (const auto& row : rows) {
        dsn::scan::ContentType ct = dsn::scan::parse_content_type(row.value);
        BOOST_TEST(ct.type == row.type, "type of " << row.value << ": got " << ct.type << ", want " << row.type);
        BOOST_TEST(ct.subtype == row.subtype,
                   "subtype of " << row.value << ": got " << ct.subtype << ", want " << row.subtype);
        auto got = dsn::scan::param(ct.params, row.name);
        if (!row.want) {
            BOOST_TEST(!got.has_value(), row.name << " of " << row.value << ": got " << got.value_or("")
                                                  << ", want none");
        } else {
            BOOST_TEST((got && *got == row.want), row.name << " of " << row.value << ": got "
                                                           << got.value_or("<none>") << ", want " << row.want);
        }
    }
}

BOOST_AUTO_TEST_CASE(multipart_split) {
    struct {
        const char* body;
        const char* boundary;
        const char* want;
    } const rows[] = {
        {"preamble\n--b\nA\n--b\nB\n--b--\nepilogue\n", "b", "A|B"},
        {"--b\r\nA\r\n--b\r\nB\r\n--b--\r\n", "b", "A|B"},
        {"--b\nA\n--b\nB\n", "b", "A|B\n"},           // no close delimiter
        {"--b  \nA\n--b--\t\n", "b", "A"},            // trailing white space
        {"--b\nA\n\n--b--", "b", "A\n"},              // only the delimiter's line break is cut
        {"x--b\nA\n--b--", "b", ""},                  // not at the start of a line
        {"--bb\nA\n--bb--", "b", ""},                 // another boundary
        {"--b--\n--b\nA\n", "b", ""},                 // closed before it opened
        {"--b\n--b\n--b--", "b", "|"},                // empty parts
        {"--b\nA\n--b-x\nB\n--b--", "b", "A\n--b-x\nB"},
        {"--b\nA", "", ""},                           // no boundary, no parts
        {"--b\nA\n--b\nB\n--b\nC\n--b--", "b", "A|B"},  // at most max (2)
    };
    for (const auto& row : rows) {
        std::vector<std::string_view> parts;
        dsn::scan::split_multipart(row.body, row.boundary, parts, 2);
        std::string got = join(parts);
        BOOST_TEST(got == row.want, "split of [" << row.body << "]: got [" << got << "], want [" << row.want << "]");
    }
}

BOOST_AUTO_TEST_CASE(mail_structure) {
    const std::string msg =
        "From: MAILER-DAEMON@mx.example.org\r\n"
        "Subject: =?ISO-8859-1?Q?Unzustellbar:_M=FCller?=\r\n"
        "Content-Type: multipart/report; report-type=Delivery-Status;\r\n boundary=\"outer\"\r\n"
        "\r\n"
        "--outer\r\n"
        "Content-Type: multipart/alternative; boundary=inner\r\n\r\n"
        "--inner\r\n"
        "Content-Type: text/plain; charset=us-ascii\r\n\r\n"
        "plain ascii\r\n"
        "--inner\r\n"
        "Content-Type: text/plain; charset=iso-8859-1\r\n"
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        "M=FCller\r\n"
        "--inner--\r\n"
        "--outer\r\n"
        "Content-Type: message/delivery-status\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n"
        "RmluYWwtUmVjaXBpZW50OiByZmM4MjI7IGFAYi5leGFtcGxl\r\n"
        "--outer\r\n"
        "Content-Type: message/rfc822\r\n\r\n"
        "From: news@example.org\r\nTo: a@b.example\r\nMessage-ID: <m1@example.org>\r\n\r\nhello\r\n"
        "--outer--\r\n";
    const dsn::Mail mail = dsn_test::read_mail(msg);
    BOOST_TEST(mail.top_type == "multipart/report");
    BOOST_TEST(mail.report_type == "delivery-status");
    BOOST_TEST(dsn::header_value(mail.headers, "Subject") == "Unzustellbar: Müller",
               "subject: got " << dsn::header_value(mail.headers, "Subject"));
    struct {
        const char* type;
        int depth;
        const char* text;
    } const want[] = {
        {"text/plain", 2, "plain ascii"},
        {"text/plain", 2, "Müller"},
        {"message/delivery-status", 1, "Final-Recipient: rfc822; a@b.example"},
        {"message/rfc822", 1, ""},
    };
    BOOST_TEST_REQUIRE(mail.parts.size() == std::size(want), "parts: got " << mail.parts.size());
    for (size_t i = 0; i < std::size(want); ++i) {
        const auto& p = mail.parts[i];
        BOOST_TEST(p.type == want[i].type, "part " << i << " type: got " << p.type << ", want " << want[i].type);
        BOOST_TEST(p.depth == want[i].depth, "part " << i << " depth: got " << p.depth << ", want " << want[i].depth);
        BOOST_TEST(p.text() == want[i].text, "part " << i << " text: got [" << p.text() << "], want [" << want[i].text << "]");
    }
    // 7bit ASCII is not copied: the text is a view of the message.
    std::string_view t = mail.parts[0].text();
    BOOST_TEST((t.data() >= msg.data() && t.data() + t.size() <= msg.data() + msg.size()),
               "ascii part text was copied");
    BOOST_TEST(mail.has_original);
    BOOST_TEST(dsn::header_value(mail.original, "Message-ID") == "<m1@example.org>");
}

BOOST_AUTO_TEST_CASE(mail_report_inside_a_message) {
    // A gateway's wrapper around a report: read as if it were ours.
    const std::string msg =
        "From: postmaster@gw.example\nContent-Type: multipart/mixed; boundary=w\n\n"
        "--w\nContent-Type: message/rfc822\n\n"
        "From: MAILER-DAEMON@mx.example\nContent-Type: multipart/report; report-type=delivery-status; boundary=r\n\n"
        "--r\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example\n\n"
        "Final-Recipient: rfc822; x@y.example\nAction: failed\nStatus: 5.1.1\n\n--r--\n"
        "--w--\n";
    const dsn::Mail mail = dsn_test::read_mail(msg);
    BOOST_TEST(mail.nested == 1);
    BOOST_TEST_REQUIRE(mail.parts.size() == 1u);
    BOOST_TEST(mail.parts[0].type == "message/delivery-status");
    const dsn::Report r = dsn_test::parse(msg);
    BOOST_TEST_REQUIRE(r.recipients.size() == 1u);
    BOOST_TEST(r.recipients[0].address == "x@y.example");
}

BOOST_AUTO_TEST_CASE(mail_limits_and_fallbacks) {
    // 1000 nested multiparts: read to the depth limit, then ignored.
    std::string deep = "Content-Type: multipart/mixed; boundary=b0\n\n";
    for (int i = 0; i < 1000; ++i)
        deep += "--b" + std::to_string(i) + "\nContent-Type: multipart/mixed; boundary=b" + std::to_string(i + 1) + "\n\n";
    deep += "--b1000\nContent-Type: text/plain\n\ndeepest\n";
    const dsn::Mail d = dsn_test::read_mail(deep);
    for (const auto& p : d.parts) BOOST_TEST(p.depth <= 17, "depth: got " << p.depth);

    // 10,000 parts: at most kMaxParts are kept.
    std::string many = "Content-Type: multipart/mixed; boundary=m\n\n";
    for (int i = 0; i < 10000; ++i) many += "--m\nContent-Type: image/png\n\nx\n";
    BOOST_TEST(dsn_test::read_mail(many).parts.size() <= dsn::kMaxParts + 1);

    // A boundary that never occurs: the raw body is the text.
    const dsn::Mail b = dsn_test::read_mail("Content-Type: multipart/mixed; boundary=nope\n\nJust text.\n");
    BOOST_TEST_REQUIRE(!b.parts.empty());
    BOOST_TEST(b.parts.back().text() == "Just text.\n");

    // Undecodable base64 and an unknown charset give a value, not a crash.
    const dsn::Mail g = dsn_test::read_mail(
        "Content-Type: text/plain; charset=x-no-such-charset\nContent-Transfer-Encoding: base64\n\n"
        "!!!!\xff\xfe====\n");
    BOOST_TEST(g.parts.size() >= 1u);
}

BOOST_AUTO_TEST_SUITE_END()
