// test_dns.cc - DNS answer parsing (hand-built packets) and the retry plan
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <random>
#include <string>
#include <vector>

#include "common/dns/answer.h"
#include "common/dns/resolver.h"
#include "tests/unit/test_dns_packet.h"

namespace {

using namespace dns_test;
using namespace std::chrono_literals;

std::string str(dns::Status s) { return std::string(dns::to_string(s)); }

std::string records_of(const dns::Answer& a) {
    std::string out;
    for (const auto& r : a.records) {
        if (!out.empty()) out += ", ";
        out += (r.preference ? std::to_string(r.preference) + " " : std::string()) + r.value;
    }
    return out;
}

struct Case {
    const char* what;
    Bytes packet;
    const char* qname;
    dns::Type type;
    dns::Status want;
    const char* want_records;
    long long want_ttl;
};

// The packets of the table below.
Bytes two_mx() {
    return Packet(NoError)
        .question("example.com", dns::Type::MX)
        .answer("example.com", kMx, 300, mx_rdata(20, "mx2.example.com"))
        .answer("example.com", kMx, 120, mx_rdata(10, "mx1.example.com"))
        .bytes();
}
Bytes null_mx() {
    return Packet(NoError).question("example.net", dns::Type::MX).answer("example.net", kMx, 3600, mx_rdata(0, ".")).bytes();
}
Bytes cname_chain() {
    return Packet(NoError)
        .question("alias.example", dns::Type::MX)
        .answer("alias.example", kCname, 600, cname_rdata("mid.example"))
        .answer("target.example", kMx, 900, mx_rdata(5, "mx.target.example"))  // out of order on purpose
        .answer("mid.example", kCname, 60, cname_rdata("target.example"))
        .bytes();
}
Bytes cname_loop() {
    return Packet(NoError)
        .question("a.example", dns::Type::MX)
        .answer("a.example", kCname, 60, cname_rdata("b.example"))
        .answer("b.example", kCname, 60, cname_rdata("a.example"))
        .bytes();
}
Bytes cname_too_long() {
    Packet p(NoError);
    p.question("c0.example", dns::Type::A);
    for (int i = 0; i <= dns::kMaxCnames; ++i)
        p.answer("c" + std::to_string(i) + ".example", kCname, 60, cname_rdata("c" + std::to_string(i + 1) + ".example"));
    p.answer("c" + std::to_string(dns::kMaxCnames + 1) + ".example", kA, 60, a_rdata("192.0.2.1"));
    return p.bytes();
}
Bytes cname_to_nxdomain() {
    return Packet(NxDomain)
        .question("alias.example", dns::Type::MX)
        .answer("alias.example", kCname, 600, cname_rdata("gone.example"))
        .authority("example", kSoa, 900, soa_rdata(120))
        .bytes();
}
Bytes other_owner() {
    return Packet(NoError).question("example.com", dns::Type::MX).answer("evil.example", kMx, 60, mx_rdata(1, "mx.evil.example")).bytes();
}
Bytes mixed_case_owner() {
    return Packet(NoError).question("Example.COM", dns::Type::MX).answer("EXAMPLE.com", kMx, 60, mx_rdata(1, "MX.Example.COM")).bytes();
}
Bytes compressed_exchange() {
    Bytes rd = {0, 10, 3, 'm', 'x', '1'};
    const Bytes ptr = pointer(Packet::kQuestionName);
    rd.insert(rd.end(), ptr.begin(), ptr.end());
    return Packet(NoError).question("example.org", dns::Type::MX).answer_raw(pointer(Packet::kQuestionName), kMx, 60, rd).bytes();
}
Bytes nxdomain_soa() {
    return Packet(NxDomain).question("nosuch.example", dns::Type::MX).authority("example", kSoa, 3600, soa_rdata(300)).bytes();
}
Bytes nodata_soa() {
    return Packet(NoError).question("example.org", dns::Type::MX).authority("example.org", kSoa, 60, soa_rdata(900)).bytes();
}
Bytes nodata_bare() { return Packet(NoError).question("example.org", dns::Type::MX).bytes(); }
Bytes rcode_only(int rcode) { return Packet(rcode).question("example.org", dns::Type::MX).bytes(); }
Bytes a_records() {
    return Packet(NoError)
        .question("host.example", dns::Type::A)
        .answer("host.example", kA, 60, a_rdata("192.0.2.7"))
        .answer("host.example", kA, 60, Bytes{1, 2, 3, 4, 5})  // wrong size: skipped
        .answer("host.example", kAaaa, 60, aaaa_rdata("2001:db8::1"))  // other type
        .bytes();
}
Bytes aaaa_records() {
    return Packet(NoError).question("host.example", dns::Type::AAAA).answer("host.example", kAaaa, 45, aaaa_rdata("2001:db8::25")).bytes();
}
Bytes other_class() {
    return Packet(NoError).question("host.example", dns::Type::A).answer_raw(name_bytes("host.example"), kA, 60, a_rdata("192.0.2.1"), 3).bytes();
}
Bytes not_a_response() {
    return Packet(NoError, false, false).question("example.com", dns::Type::MX).answer("example.com", kMx, 60, mx_rdata(1, "mx.example.com")).bytes();
}
Bytes truncated_empty() { return Packet(NoError, true).question("example.com", dns::Type::MX).bytes(); }
Bytes truncated_with_records() {
    return Packet(NoError, true).question("example.com", dns::Type::MX).answer("example.com", kMx, 60, mx_rdata(1, "mx.example.com")).bytes();
}
Bytes counts_lie() {
    return Packet(NoError).question("example.com", dns::Type::MX).answer("example.com", kMx, 60, mx_rdata(1, "mx.example.com")).set_counts(1, 5, 0).bytes();
}
Bytes pointer_loop() {
    // The MX exchange points at itself.
    Packet p(NoError);
    p.question("example.com", dns::Type::MX);
    const uint16_t at = static_cast<uint16_t>(p.bytes().size() + name_bytes("example.com").size() + 10 + 2);
    Bytes rd = {0, 1};
    const Bytes self = pointer(at);
    rd.insert(rd.end(), self.begin(), self.end());
    return p.answer("example.com", kMx, 60, rd).bytes();
}
Bytes soa_short() {
    return Packet(NxDomain).question("nosuch.example", dns::Type::MX).authority("example", kSoa, 3600, Bytes{0, 0, 1, 2}).bytes();
}

Bytes txt_records() {
    return Packet(NoError)
        .question("example.com", dns::Type::TXT)
        .answer("example.com", kTxt, 300, txt_rdata({"v=spf1 ip4:192.0.2.0/24 ", "include:spf.example.net -all"}))
        .answer("example.com", kTxt, 200, txt_rdata({"google-site-verification=abc"}))
        .answer("example.com", kTxt, 60, Bytes{9, 'x'})  // string runs past the record: skipped
        .answer("example.com", kTxt, 60, Bytes{})        // no string at all: skipped
        .bytes();
}
Bytes txt_empty_string() {
    return Packet(NoError).question("example.com", dns::Type::TXT).answer("example.com", kTxt, 60, txt_rdata({""})).bytes();
}
Bytes txt_truncated() {
    return Packet(NoError, true).question("example.com", dns::Type::TXT).answer("example.com", kTxt, 60, txt_rdata({"v=spf1 -all"})).bytes();
}
Bytes ptr_record() {
    return Packet(NoError)
        .question("10.2.0.192.in-addr.arpa", dns::Type::PTR)
        .answer("10.2.0.192.in-addr.arpa", kPtr, 3600, name_bytes("Relay.Example.NET"))
        .bytes();
}
Bytes ptr_truncated() {
    return Packet(NoError, true).question("10.2.0.192.in-addr.arpa", dns::Type::PTR)
        .answer("10.2.0.192.in-addr.arpa", kPtr, 3600, name_bytes("relay.example.net")).bytes();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(dns_answer)

BOOST_AUTO_TEST_CASE(parse_table) {
    const Case cases[] = {
        {"two MX, ttl the smaller", two_mx(), "example.com", dns::Type::MX, dns::Status::Ok,
         "20 mx2.example.com, 10 mx1.example.com", 120},
        {"null MX (RFC 7505)", null_mx(), "example.net", dns::Type::MX, dns::Status::Ok, ".", 3600},
        {"CNAME chain, any order, ttl over the chain", cname_chain(), "alias.example", dns::Type::MX,
         dns::Status::Ok, "5 mx.target.example", 60},
        {"CNAME loop", cname_loop(), "a.example", dns::Type::MX, dns::Status::NoData, "", 0},
        {"CNAME chain past kMaxCnames", cname_too_long(), "c0.example", dns::Type::A, dns::Status::NoData, "", 0},
        {"CNAME to a name that does not exist", cname_to_nxdomain(), "alias.example", dns::Type::MX,
         dns::Status::NxDomain, "", 120},
        {"records of another owner", other_owner(), "example.com", dns::Type::MX, dns::Status::NoData, "", 0},
        {"owner case and trailing dot", mixed_case_owner(), "example.com.", dns::Type::MX, dns::Status::Ok,
         "1 mx.example.com", 60},
        {"compressed names", compressed_exchange(), "example.org", dns::Type::MX, dns::Status::Ok,
         "10 mx1.example.org", 60},
        {"NXDOMAIN, SOA TTL smaller", nxdomain_soa(), "nosuch.example", dns::Type::MX, dns::Status::NxDomain, "", 300},
        {"NODATA, SOA MINIMUM smaller", nodata_soa(), "example.org", dns::Type::MX, dns::Status::NoData, "", 60},
        {"NODATA without SOA", nodata_bare(), "example.org", dns::Type::MX, dns::Status::NoData, "", 0},
        {"SERVFAIL", rcode_only(ServFail), "example.org", dns::Type::MX, dns::Status::ServFail, "", 0},
        {"REFUSED", rcode_only(Refused), "example.org", dns::Type::MX, dns::Status::Error, "", 0},
        {"FORMERR", rcode_only(FormErr), "example.org", dns::Type::MX, dns::Status::Error, "", 0},
        {"A: bad size skipped, other types ignored", a_records(), "host.example", dns::Type::A, dns::Status::Ok,
         "192.0.2.7", 60},
        {"AAAA", aaaa_records(), "host.example", dns::Type::AAAA, dns::Status::Ok, "2001:db8::25", 45},
        {"class CHAOS ignored", other_class(), "host.example", dns::Type::A, dns::Status::NoData, "", 0},
        {"a query, not a response", not_a_response(), "example.com", dns::Type::MX, dns::Status::Error, "", 0},
        {"truncated, nothing usable", truncated_empty(), "example.com", dns::Type::MX, dns::Status::Error, "", 0},
        {"truncated, records kept", truncated_with_records(), "example.com", dns::Type::MX, dns::Status::Ok,
         "1 mx.example.com", 60},
        {"counts larger than the packet", counts_lie(), "example.com", dns::Type::MX, dns::Status::Error, "", 0},
        {"compression pointer loop", pointer_loop(), "example.com", dns::Type::MX, dns::Status::NoData, "", 0},
        {"SOA too short for MINIMUM", soa_short(), "nosuch.example", dns::Type::MX, dns::Status::NxDomain, "", 0},
        {"empty packet", Bytes{}, "example.com", dns::Type::MX, dns::Status::Error, "", 0},
        {"TXT: strings joined, one record per RR, broken rdata skipped", txt_records(), "example.com",
         dns::Type::TXT, dns::Status::Ok,
         "v=spf1 ip4:192.0.2.0/24 include:spf.example.net -all, google-site-verification=abc", 200},
        {"TXT: one empty string", txt_empty_string(), "example.com", dns::Type::TXT, dns::Status::Ok, "", 60},
        {"TXT truncated: the set may be incomplete", txt_truncated(), "example.com", dns::Type::TXT,
         dns::Status::Error, "", 0},
        {"PTR: lower case, no trailing dot", ptr_record(), "10.2.0.192.in-addr.arpa", dns::Type::PTR,
         dns::Status::Ok, "relay.example.net", 3600},
        {"PTR truncated", ptr_truncated(), "10.2.0.192.in-addr.arpa", dns::Type::PTR, dns::Status::Error, "", 0},
    };
    for (const Case& c : cases) {
        BOOST_TEST_CONTEXT(c.what) {
            const dns::Answer got = dns::parse_answer(c.packet, c.qname, c.type);
            BOOST_TEST(str(got.status) == str(c.want));
            BOOST_TEST(records_of(got) == c.want_records);
            BOOST_TEST(got.ttl.count() == c.want_ttl);
        }
    }
}

// Every proper prefix of a valid packet is a bad packet, never a crash or
// a partial answer taken for the whole.
BOOST_AUTO_TEST_CASE(truncated_packets_are_errors) {
    for (const Bytes& full : {two_mx(), cname_chain(), nxdomain_soa(), a_records()}) {
        for (size_t n = 0; n < full.size(); ++n) {
            const Bytes cut(full.begin(), full.begin() + static_cast<long>(n));
            const dns::Answer got = dns::parse_answer(cut, "example.com", dns::Type::MX);
            BOOST_TEST(str(got.status) == "error", "prefix of " << n << " of " << full.size() << " octets");
        }
    }
}

// Random and mutated packets: only "no crash, no sanitizer report" and
// that an Ok answer has records.
BOOST_AUTO_TEST_CASE(garbage_never_crashes) {
    std::mt19937 rng(20261201);
    const std::vector<Bytes> bases = {two_mx(), null_mx(), cname_chain(), nxdomain_soa(), compressed_exchange()};
    for (int i = 0; i < 20000; ++i) {
        Bytes p;
        if (i % 2) {
            p.resize(rng() % 600);
            for (auto& b : p) b = static_cast<unsigned char>(rng());
            if (p.size() > 3) p[2] |= 0x80;  // QR, so parsing goes on
        } else {
            p = bases[rng() % bases.size()];
            for (int k = 0, flips = 1 + static_cast<int>(rng() % 4); k < flips; ++k)
                p[12 + rng() % (p.size() - 12)] = static_cast<unsigned char>(rng());
        }
        for (dns::Type t : {dns::Type::MX, dns::Type::A, dns::Type::AAAA}) {
            const dns::Answer got = dns::parse_answer(p, "example.com", t);
            if (got.status == dns::Status::Ok) BOOST_TEST_REQUIRE(!got.records.empty());
            BOOST_TEST_REQUIRE(got.records.size() <= dns::kMaxRecords);
        }
    }
}

BOOST_AUTO_TEST_CASE(records_are_bounded) {
    Packet p(NoError);
    p.question("example.com", dns::Type::A);
    for (int i = 0; i < 200; ++i) p.answer("example.com", kA, 60, a_rdata("192.0.2.1"));
    BOOST_TEST(dns::parse_answer(p.bytes(), "example.com", dns::Type::A).records.size() == dns::kMaxRecords);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(dns_retry_plan)

BOOST_AUTO_TEST_CASE(plan_table) {
    struct Row {
        long long budget;
        int servers;
        dns::RetryPlan want;
        long long want_worst;
    };
    const Row rows[] = {
        {1, 1, {1, 1, 1}, 1},   // one try of one second
        {2, 1, {1, 2, 1}, 2},   // a lost packet is sent again
        {5, 1, {2, 2, 1}, 4},
        {5, 2, {1, 2, 2}, 4},
        {5, 3, {2, 1, 3}, 5},   // 2 + max(1, 4/3) + max(1, 8/3)
        {1, 3, {1, 1, 1}, 1},   // less budget than servers: the first only
        {2, 3, {1, 1, 2}, 2},
        {30, 3, {5, 2, 3}, 28}, // 2 * (5 + 10/3 + 20/3)
        {0, 1, {1, 1, 1}, 1},   // at least a second
    };
    for (const Row& r : rows) {
        BOOST_TEST_CONTEXT("budget " << r.budget << "s, " << r.servers << " servers") {
            const dns::RetryPlan got = dns::plan_retries(std::chrono::seconds(r.budget), r.servers);
            BOOST_TEST(got.retrans == r.want.retrans);
            BOOST_TEST(got.retry == r.want.retry);
            BOOST_TEST(got.servers == r.want.servers);
            BOOST_TEST(dns::worst_case(got).count() == r.want_worst);
        }
    }
}

BOOST_AUTO_TEST_CASE(every_plan_fits_its_budget) {
    for (long long b = 1; b <= 60; ++b)
        for (int n = 1; n <= dns::kMaxServers; ++n) {
            const dns::RetryPlan p = dns::plan_retries(std::chrono::seconds(b), n);
            BOOST_TEST(dns::worst_case(p).count() <= b, "budget " << b << "s, " << n << " servers");
            BOOST_TEST(p.servers >= 1);
            BOOST_TEST(p.servers <= n);
        }
}

BOOST_AUTO_TEST_SUITE_END()
