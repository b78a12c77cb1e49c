// test_dkim_sign.cc - signing with libopendkim, verified by libopendkim
//
// Messages are signed with MessageSigner and verified by dkim::verify with
// DKIM_QUERY_FILE (key records from a file, never DNS): RSA-2048, Ed25519,
// both at once; From: oversigned; relaxed canonicalisation; a long body
// streamed in chunks.
#include <boost/test/unit_test.hpp>

#include <string>
#include <utility>
#include <vector>

#include "common/dkim/signer.h"
#include "tests/unit/test_dkim_support.h"

using dkim_test::KeyKind;

namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

const Headers kHeaders = {
    {"Received", " from client.example by relay.example;\n\tWed, 2 Dec 2026 06:00:00 +0000"},
    {"From", " Customer A <news@customer-a.example>"},
    {"To", " bob@example.net"},
    {"Subject", " Hello"},
    {"Date", " Wed, 2 Dec 2026 06:00:00 +0000"},
    {"Message-ID", " <1@customer-a.example>"},
};

struct Fixture {
    dkim_test::Keys k;
    dkim::KeyTable table = dkim::KeyTable::parse("customer-a.example rsa " + k.file("r", KeyKind::Rsa2048) +
                                                     "\ncustomer-a.example ed " + k.file("e", KeyKind::Ed25519) + "\n",
                                                 "keys");
    std::string query_file = [this] {
        std::string text;
        for (const auto& key : table.keys()) text += key->dns_name() + " " + key->key.record() + "\n";
        return k.write("keys.txt", text, 0644);
    }();
    dkim::LibraryOptions options() const {
        dkim::LibraryOptions o;
        o.sign_headers = {"From", "To", "Subject", "Date", "Message-ID"};
        o.oversign_headers = {"From"};
        o.fixed_time = 1796126400;
        o.query_file = query_file;
        return o;
    }
    dkim::Library lib{options()};
    std::vector<std::shared_ptr<const dkim::Key>> keys(const std::vector<const char*>& sels) const {
        std::vector<std::shared_ptr<const dkim::Key>> out;
        for (const char* s : sels) out.push_back(table.find("customer-a.example", s));
        return out;
    }
};

std::vector<dkim::Signature> sign(const dkim::Library& lib, const std::vector<std::shared_ptr<const dkim::Key>>& keys,
                                  const Headers& headers, const std::vector<std::string>& chunks) {
    dkim::MessageSigner s(lib, keys, "QID1");
    for (const auto& [n, v] : headers) s.header(n, v);
    s.eoh();
    for (const auto& c : chunks) s.body(c);
    auto out = s.finish();
    BOOST_TEST(s.ok(), s.error());
    return out;
}

// The message as the recipient gets it: signatures first (the milter
// inserts them at the top), folds as CRLF.
std::string message(const std::vector<dkim::Signature>& sigs, const Headers& headers, const std::string& body) {
    const auto crlf = [](const std::string& v) {
        std::string o;
        for (std::size_t i = 0; i < v.size(); ++i) {
            if (v[i] == '\n' && (i == 0 || v[i - 1] != '\r')) o += '\r';
            o += v[i];
        }
        return o;
    };
    std::string m;
    for (const auto& s : sigs) m += "DKIM-Signature: " + crlf(s.value) + "\r\n";
    for (const auto& [n, v] : headers) m += n + ":" + crlf(v) + "\r\n";
    return m + "\r\n" + body;
}

std::string results(const std::vector<dkim::VerifyResult>& rs) {
    std::string s;
    for (const auto& r : rs) s += (s.empty() ? "" : " ") + r.selector + "=" + (r.pass ? "pass" : "fail(" + r.error + ")");
    return s;
}

const std::string kBody = "Hello Bob,\r\n\r\nthis is a test.\r\n";

}  // namespace

BOOST_AUTO_TEST_SUITE(dkim_sign)

BOOST_AUTO_TEST_CASE(rsa_ed25519_and_both) {
    Fixture f;
    struct Case {
        std::vector<const char*> keys;
        std::string want;
    };
    const std::vector<Case> cases = {
        {{"rsa"}, "rsa=pass"},
        {{"ed"}, "ed=pass"},
        {{"rsa", "ed"}, "rsa=pass ed=pass"},
    };
    for (const Case& c : cases) {
        const auto sigs = sign(f.lib, f.keys(c.keys), kHeaders, {kBody});
        BOOST_TEST_CONTEXT(c.want) {
            BOOST_TEST(sigs.size() == c.keys.size());
            std::string got = results(dkim::verify(f.lib, message(sigs, kHeaders, kBody)));
            BOOST_TEST(got == c.want);
        }
    }
    const auto sigs = sign(f.lib, f.keys({"rsa", "ed"}), kHeaders, {kBody});
    BOOST_TEST(sigs[0].value.find("a=rsa-sha256") != std::string::npos);
    BOOST_TEST(sigs[1].value.find("a=ed25519-sha256") != std::string::npos);
    BOOST_TEST(sigs[0].value.find("c=relaxed/relaxed") != std::string::npos);
    BOOST_TEST(sigs[0].value.find("d=customer-a.example") != std::string::npos);
    BOOST_TEST(sigs[0].value.find("t=1796126400") != std::string::npos);  // FIXEDTIME
    BOOST_TEST(sigs[0].value.find("\n\t") != std::string::npos);  // folded with bare LF, for the milter
    BOOST_TEST(sigs[0].value.find('\r') == std::string::npos);
    BOOST_TEST(sigs[0].selector == "rsa");
}

BOOST_AUTO_TEST_CASE(from_is_oversigned) {
    Fixture f;
    const auto sigs = sign(f.lib, f.keys({"rsa", "ed"}), kHeaders, {kBody});
    // h= names From twice: once for the field, once for the one not there.
    const std::string& v = sigs[0].value;
    const std::string h = v.substr(v.find("h=", v.find("bh=") + 3));
    const std::string list = h.substr(0, h.find(';'));
    BOOST_TEST(list == "h=From:To:Subject:Date:Message-ID:From");
    Headers added = kHeaders;
    added.insert(added.begin() + 2, {"From", " ceo@customer-a.example"});
    BOOST_TEST(results(dkim::verify(f.lib, message(sigs, added, kBody))).find("pass") == std::string::npos);
    // A header field that is not signed may be added.
    Headers other = kHeaders;
    other.push_back({"X-Added", " yes"});
    BOOST_TEST(results(dkim::verify(f.lib, message(sigs, other, kBody))) == "rsa=pass ed=pass");
    // A changed body fails.
    BOOST_TEST(results(dkim::verify(f.lib, message(sigs, kHeaders, kBody + "P.S.\r\n"))).find("pass") ==
               std::string::npos);
}

BOOST_AUTO_TEST_CASE(relaxed_canonicalisation) {
    Fixture f;
    const auto sigs = sign(f.lib, f.keys({"rsa", "ed"}), kHeaders, {kBody});
    Headers refolded = kHeaders;
    refolded[1] = {"FROM", "   Customer A\n\t <news@customer-a.example>  "};
    refolded[3] = {"subject", "\tHello"};
    const std::string body = "Hello  Bob,  \r\n\r\nthis is a test.\r\n\r\n\r\n";  // WSP runs, trailing empty lines
    BOOST_TEST(results(dkim::verify(f.lib, message(sigs, refolded, body))) == "rsa=pass ed=pass");
}

BOOST_AUTO_TEST_CASE(long_body_streamed) {
    Fixture f;
    // 10 MB in 64 KiB chunks, cut anywhere (also inside CRLF).
    std::string line = "0123456789 abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789\r\n";
    std::string body;
    while (body.size() < 10u * 1000 * 1000) body += line;
    std::vector<std::string> chunks;
    for (std::size_t i = 0; i < body.size(); i += 65536 + 1) chunks.push_back(body.substr(i, 65536 + 1));
    const auto sigs = sign(f.lib, f.keys({"rsa", "ed"}), kHeaders, chunks);
    BOOST_TEST(results(dkim::verify(f.lib, message(sigs, kHeaders, body))) == "rsa=pass ed=pass");
}

BOOST_AUTO_TEST_CASE(header_lists_must_name_from) {
    dkim::LibraryOptions o;
    o.sign_headers = {"Subject"};
    BOOST_CHECK_THROW(dkim::Library{o}, std::runtime_error);
}

BOOST_AUTO_TEST_SUITE_END()
