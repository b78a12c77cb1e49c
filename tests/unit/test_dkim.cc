// test_dkim.cc - DKIM key files, the key table and the signing table
//
// Tables of cases: each line of a table either loads or fails with the
// file:line text the operator will see.
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "common/config/error.h"
#include "common/dkim/key.h"
#include "common/dkim/key_table.h"
#include "common/dkim/signing_table.h"
#include "tests/unit/test_dkim_support.h"

using dkim_test::KeyKind;

namespace {

std::string error_of(const std::function<void()>& fn) {
    try {
        fn();
    } catch (const std::exception& e) {
        return e.what();
    }
    return "";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(dkim_keys)

BOOST_AUTO_TEST_CASE(key_files) {
    dkim_test::Keys k;
    struct Case {
        const char* name;
        std::string text;
        mode_t mode;
        std::string want;  // "" loads
        dkim::Algorithm alg = dkim::Algorithm::RsaSha256;
    };
    const std::vector<Case> cases = {
        {"rsa2048", dkim_test::pem(KeyKind::Rsa2048), 0600, ""},
        {"rsa1024", dkim_test::pem(KeyKind::Rsa1024), 0640, ""},
        {"rsa-trad", dkim_test::traditional_rsa(dkim_test::pem(KeyKind::Rsa2048)), 0600, ""},
        {"ed25519", dkim_test::pem(KeyKind::Ed25519), 0600, "", dkim::Algorithm::Ed25519Sha256},
        {"rsa512", dkim_test::pem(KeyKind::Rsa512), 0600, "RSA key of 512 bits (minimum 1024, RFC 8301)"},
        {"ec", dkim_test::pem(KeyKind::EcP256), 0600, "unsupported key type EC"},
        {"dsa", dkim_test::pem(KeyKind::Dsa), 0600, "unsupported key type DSA"},
        {"garbage", "not a key\n", 0600, "cannot read a PEM private key"},
        {"two", dkim_test::pem(KeyKind::Ed25519) + dkim_test::pem(KeyKind::Ed25519, 1), 0600,
         "more than one private key in the file"},
        {"world", dkim_test::pem(KeyKind::Ed25519), 0644,
         "refusing a key file that others can read or write (mode 0644); run: chmod o-rwx"},
        {"worldw", dkim_test::pem(KeyKind::Ed25519), 0602, "others can read or write (mode 0602)"},
    };
    for (const Case& c : cases) {
        const std::string path = k.write(c.name, c.text, c.mode);
        std::optional<dkim::PrivateKey> key;
        const std::string got = error_of([&] { key.emplace(dkim::PrivateKey::load_file(path)); });
        BOOST_TEST_CONTEXT(c.name) {
            if (c.want.empty()) {
                BOOST_TEST(got == "");
                BOOST_REQUIRE(key);
                BOOST_TEST((key->algorithm() == c.alg));
                BOOST_TEST(key->pem().starts_with("-----BEGIN PRIVATE KEY-----"));
            } else {
                BOOST_TEST(got.starts_with(path + ": "), "got " << got);
                BOOST_TEST(got.find(c.want) != std::string::npos, "got " << got << ", want " << c.want);
            }
        }
    }
    const std::string missing = k.dir.sub("nosuch");
    BOOST_TEST(error_of([&] { dkim::PrivateKey::load_file(missing); }) ==
               missing + ": cannot open: No such file or directory");
}

BOOST_AUTO_TEST_CASE(records_to_publish) {
    dkim_test::Keys k;
    const auto ed = dkim::PrivateKey::load_file(k.file("e", KeyKind::Ed25519));
    const auto rsa = dkim::PrivateKey::load_file(k.file("r", KeyKind::Rsa2048));
    // Ed25519: the raw 32-byte key (RFC 8463 4), 44 base64 characters.
    BOOST_TEST(ed.record().starts_with("v=DKIM1; k=ed25519; p="));
    BOOST_TEST(ed.public_base64().size() == 44u);
    BOOST_TEST(dkim::base64_decode(ed.public_base64())->size() == 32u);
    // RSA: the DER SubjectPublicKeyInfo, which starts "MII".
    BOOST_TEST(rsa.record().starts_with("v=DKIM1; k=rsa; p=MII"));
    BOOST_TEST(rsa.matches(*dkim::base64_decode(rsa.public_base64())));
    BOOST_TEST(!rsa.matches(*dkim::base64_decode(ed.public_base64())));
}

BOOST_AUTO_TEST_CASE(base64) {
    struct Case {
        std::string in;
        std::optional<std::string> want;
    };
    const std::vector<Case> cases = {
        {"", std::string()},        {"Zg==", std::string("f")},  {"Zm8=", std::string("fo")},
        {"Zm9v", std::string("foo")}, {"Zm 9v\r\n", std::string("foo")}, {"Zm9", std::string("fo")}  /* padding may be left out */,
        {"Z===", std::nullopt},     {"Zg==Zg", std::nullopt},    {"Zm9v!", std::nullopt},
    };
    for (const Case& c : cases) BOOST_TEST((dkim::base64_decode(c.in) == c.want), "input " << c.in);
    BOOST_TEST(dkim::base64_encode("fo") == "Zm8=");
    BOOST_TEST(dkim::base64_encode("foob") == "Zm9vYg==");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(dkim_tables)

struct Tables {
    dkim_test::Keys k;
    std::string rsa = k.file("a.rsa", KeyKind::Rsa2048);
    std::string ed = k.file("a.ed", KeyKind::Ed25519);
    std::string open = k.file("open", KeyKind::Ed25519, 0, 0644);
    std::string bad = k.write("bad", "junk\n");
    std::string ec = k.file("ec", KeyKind::EcP256);
};

BOOST_AUTO_TEST_CASE(key_table_cases) {
    Tables t;
    struct Case {
        std::string text;
        std::string want;  // "" loads; else the message (t: is the table name)
    };
    const std::vector<Case> cases = {
        {"customer-a.example s1 " + t.rsa + "\ncustomer-a.example s2 " + t.ed + "\n# comment\n\n", ""},
        {"Customer-A.Example. S1 " + t.rsa + "\n", ""},
        {"bücher.example s1 " + t.ed + "\n", ""},
        {"customer-a.example s1\n", "t:1: expected \"DOMAIN SELECTOR KEYFILE\", got 2 words"},
        {"customer-a.example s1 " + t.rsa + " extra\n", "t:1: expected \"DOMAIN SELECTOR KEYFILE\", got 4 words"},
        {"customer-a.example s1 " + t.rsa + "\ncustomer-a.example S1 " + t.ed + "\n",
         "t:2: duplicate key: domain customer-a.example selector s1 (first at line 1)"},
        {"bad..example s1 " + t.rsa + "\n", "t:1: invalid domain bad..example"},
        {"customer-a.example s/1 " + t.rsa + "\n", "t:1: invalid selector s/1"},
        {"customer-a.example s1 relative.pem\n", "t:1: key file relative.pem is not an absolute path"},
        {"customer-a.example s1 " + t.open + "\n",
         "t:1: key file " + t.open + ": refusing a key file that others can read or write (mode 0644); run: chmod o-rwx " + t.open},
        {"customer-a.example s1 " + t.bad + "\n", "t:1: key file " + t.bad + ": cannot read a PEM private key"},
        {"customer-a.example s1 " + t.ec + "\n", "t:1: key file " + t.ec + ": unsupported key type EC"},
        {"\n\ncustomer-a.example s1 " + t.k.dir.sub("nosuch") + "\n",
         "t:3: key file " + t.k.dir.sub("nosuch") + ": cannot open: No such file or directory"},
    };
    for (const Case& c : cases) {
        const std::string got = error_of([&] { dkim::KeyTable::parse(c.text, "t"); });
        BOOST_TEST_CONTEXT(c.text) {
            if (c.want.empty()) BOOST_TEST(got == "");
            else BOOST_TEST(got.starts_with(c.want), "got " << got << ", want " << c.want);
        }
    }
    const dkim::KeyTable kt = dkim::KeyTable::parse(cases[0].text, "t");
    BOOST_TEST(kt.keys().size() == 2u);
    BOOST_TEST(kt.of("customer-a.example").size() == 2u);
    BOOST_TEST((kt.find("customer-a.example", "s2")->key.algorithm() == dkim::Algorithm::Ed25519Sha256));
    BOOST_TEST(kt.find("customer-a.example", "s1")->dns_name() == "s1._domainkey.customer-a.example");
    BOOST_TEST(kt.find("customer-a.example", "s1")->where == "t:1");
    const dkim::KeyTable idn = dkim::KeyTable::parse(cases[2].text, "t");
    BOOST_TEST(idn.of("xn--bcher-kva.example").size() == 1u);
}

BOOST_AUTO_TEST_CASE(signing_table_cases) {
    Tables t;
    const dkim::KeyTable keys = dkim::KeyTable::parse("customer-a.example s1 " + t.rsa + "\ncustomer-a.example s2 " +
                                                          t.ed + "\nrelay.example p1 " + t.ed + "\n",
                                                      "keys");
    struct Case {
        std::string text;
        std::string want;
    };
    const std::vector<Case> cases = {
        {"customer-a.example customer-a.example\nnews@customer-a.example customer-a.example:s2\n"
         "@sub.customer-a.example customer-a.example:s1,s2\n",
         ""},
        {"*.customer-a.example customer-a.example\n",
         "s:1: wildcard *.customer-a.example: the signing table names each From: domain or address"},
        {"* customer-a.example\n", "s:1: wildcard"},
        {"customer-a.example customer-a.example:*\n", "s:1: wildcard"},
        {"customer-b.example customer-a.example\n",
         "s:1: key domain customer-a.example is neither From: domain customer-b.example nor a parent of it"},
        {"customer-a.example.evil customer-a.example\n", "s:1: key domain customer-a.example is neither"},
        {"xcustomer-a.example customer-a.example\n", "s:1: key domain customer-a.example is neither"},
        {"a.relay.example relay.example:p1\ncustomer-b.example customer-b.example\n",
         "s:2: key domain customer-b.example has no key in the key table keys"},
        {"customer-a.example customer-a.example:s9\n",
         "s:1: no key for domain customer-a.example selector s9 in the key table keys"},
        {"customer-a.example customer-a.example:s1,s1\n", "s:1: selector s1 given twice"},
        {"customer-a.example customer-a.example\n@Customer-A.example customer-a.example\n",
         "s:2: duplicate From: customer-a.example (first at line 1)"},
        {"customer-a.example customer-a.example\ncustomer-a.example customer-a.example:s1\n",
         "s:2: duplicate key customer-a.example"},
        {"bad@@x customer-a.example\n", "s:1: invalid From: address bad@@x"},
        {"customer-a.example customer-a.example extra\n", "s:1: expected \"FROM KEYDOMAIN[:SELECTOR,...]\""},
        {"customer-a.example\n", "s:1: expected \"key value\""},
    };
    for (const Case& c : cases) {
        const std::string got = error_of([&] { dkim::SigningTable::parse(c.text, "s", keys); });
        BOOST_TEST_CONTEXT(c.text) {
            if (c.want.empty()) BOOST_TEST(got == "");
            else BOOST_TEST(got.starts_with(c.want), "got " << got << ", want " << c.want);
        }
    }
    const dkim::SigningTable st = dkim::SigningTable::parse(cases[0].text, "s", keys);
    const auto rule = [&](const char* a) { return st.find(*address::parse_mailbox(a)); };
    BOOST_REQUIRE(rule("bob@customer-a.example"));
    BOOST_TEST(rule("bob@customer-a.example")->keys.size() == 2u);
    BOOST_TEST(rule("News@Customer-A.example")->keys.size() == 1u);  // the address row wins
    BOOST_TEST(rule("news@customer-a.example")->keys.front()->selector == "s2");
    BOOST_TEST(rule("x@sub.customer-a.example")->where == "s:3");
    BOOST_TEST(!rule("x@deeper.sub.customer-a.example"));  // no subdomains without their own row
    BOOST_TEST(!rule("x@customer-b.example"));
}

BOOST_AUTO_TEST_SUITE_END()
