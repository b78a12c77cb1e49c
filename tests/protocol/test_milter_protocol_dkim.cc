// test_milter_protocol_dkim.cc - the real sendguard-milter signs with DKIM
//
// sendguard-milter with a key table (RSA-2048 and Ed25519) and a signing
// table; the key records come from a DnsStub on 127.0.0.1 (dns_servers),
// never real DNS. Over the milter protocol it asks for the body, inserts
// DKIM-Signature fields at the top (SMFIR_INSHEADER, index 0), and the
// message as the MTA would write it verifies with libopendkim
// (DKIM_QUERY_FILE).
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "common/dkim/key_table.h"
#include "common/dkim/signer.h"
#include "tests/support/dns_stub.h"
#include "tests/support/milter_client.h"
#include "tests/support/sendguard_milter.h"
#include "tests/unit/test_dkim_support.h"

namespace {

std::string crlf(const std::string& v) {
    std::string o;
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (v[i] == '\n' && (i == 0 || v[i - 1] != '\r')) o += '\r';
        o += v[i];
    }
    return o;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(milter_protocol_dkim)

BOOST_AUTO_TEST_CASE(inserts_signatures_that_verify) {
    dkim_test::Keys k;
    const std::string key_table = k.write("dkim-keys", "customer-a.example rsa " +
                                                           k.file("a.rsa", dkim_test::KeyKind::Rsa2048) +
                                                           "\ncustomer-a.example ed " +
                                                           k.file("a.ed", dkim_test::KeyKind::Ed25519) + "\n");
    const std::string signing_table = k.write("dkim-signing", "customer-a.example customer-a.example\n");
    const dkim::KeyTable keys = dkim::KeyTable::load(key_table);
    std::map<std::string, std::string> records;
    std::string query_file_text;
    for (const auto& key : keys.keys()) {
        records[key->dns_name()] = key->key.record();
        query_file_text += key->dns_name() + " " + key->key.record() + "\n";
    }
    harness::DnsStub dns(records);
    harness::SendguardMilter milter({.extra = "dns_servers = 127.0.0.1:" + std::to_string(dns.port()) +
                                              "\ndkim_key_table = " + key_table +
                                              "\ndkim_signing_table = " + signing_table + "\n"});
    milter.start();

    harness::MilterClient c = milter.client();
    const harness::MilterNegotiated& n = c.negotiate();
    BOOST_TEST(!n.has(harness::milter_bits::kNoBody), "signing needs the body");
    harness::MilterTransaction t = harness::allowed_transaction("QDKIM1");
    t.headers.push_back({"To", " dest@remote.example"});
    t.body = "Hello,\n\nthis is signed.\n";
    const harness::MilterTranscript tr = c.transaction(t);
    const auto ins = tr.mods(harness::MilterAct::InsHeader);
    BOOST_REQUIRE_MESSAGE(ins.size() == 2u, tr.str() << "\n" << milter.err());

    std::string message;
    for (const auto& m : ins) {
        BOOST_TEST(m.index == 0u);
        BOOST_REQUIRE(m.args.size() == 2u);
        BOOST_TEST(m.args[0] == "DKIM-Signature");
        message = "DKIM-Signature: " + crlf(m.args[1]) + "\r\n" + message;  // each inserted at the top
    }
    for (const auto& h : t.headers) message += h.name + ":" + crlf(h.value) + "\r\n";
    message += "\r\n" + crlf(t.body);
    dkim::LibraryOptions lo;
    lo.sign_headers = {"From"};
    lo.query_file = k.write("records.txt", query_file_text, 0644);
    const dkim::Library verifier(lo);
    std::string got;
    for (const auto& r : dkim::verify(verifier, message))
        got += (got.empty() ? "" : " ") + r.selector + "=" + (r.pass ? "pass" : r.error);
    BOOST_TEST((got == "rsa=pass ed=pass" || got == "ed=pass rsa=pass"), got);
    BOOST_TEST(milter.logged("action=signed", std::chrono::seconds(5)), milter.err());
    BOOST_TEST(dns.queries() >= 2);
}

BOOST_AUTO_TEST_CASE(no_signing_no_body) {
    harness::SendguardMilter milter;
    milter.start();
    harness::MilterClient c = milter.client();
    BOOST_TEST(c.negotiate().has(harness::milter_bits::kNoBody));
}

BOOST_AUTO_TEST_SUITE_END()
