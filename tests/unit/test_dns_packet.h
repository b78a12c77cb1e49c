// test_dns_packet.h - hand-built DNS responses for the common/dns tests
//
//   Packet p(Rcode::NoError);                 // a response: QR, RD, RA set
//   p.question("example.com", dns::Type::MX)
//    .answer("example.com", 15, 300, mx_rdata(10, "mx1.example.com"))
//    .authority("example.com", 6, 60, soa_rdata(30));
//   dns::parse_answer(p.bytes(), "example.com", dns::Type::MX);
//
// Names are written uncompressed unless given as pointer(offset). Header
// counts follow the records added; set_counts() overrides them to lie.
#pragma once

#include <arpa/inet.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/dns/answer.h"

namespace dns_test {

using Bytes = std::vector<unsigned char>;

enum Rcode : int { NoError = 0, FormErr = 1, ServFail = 2, NxDomain = 3, NotImp = 4, Refused = 5 };

// RFC 1035 §3.1: length-prefixed labels, then the root's 0.
inline Bytes name_bytes(std::string_view name) {
    Bytes out;
    while (!name.empty() && name != ".") {
        const size_t dot = name.find('.');
        const std::string_view label = name.substr(0, dot);
        out.push_back(static_cast<unsigned char>(label.size()));
        out.insert(out.end(), label.begin(), label.end());
        name = dot == std::string_view::npos ? std::string_view() : name.substr(dot + 1);
    }
    out.push_back(0);
    return out;
}

// A compression pointer (RFC 1035 §4.1.4) to a name at offset.
inline Bytes pointer(uint16_t offset) {
    return {static_cast<unsigned char>(0xC0 | (offset >> 8)), static_cast<unsigned char>(offset & 0xFF)};
}

inline void put16(Bytes& b, uint32_t v) {
    b.push_back(static_cast<unsigned char>(v >> 8));
    b.push_back(static_cast<unsigned char>(v));
}
inline void put32(Bytes& b, uint32_t v) {
    put16(b, v >> 16);
    put16(b, v & 0xFFFF);
}

inline Bytes mx_rdata(uint16_t preference, std::string_view exchange) {
    Bytes b;
    put16(b, preference);
    const Bytes n = name_bytes(exchange);
    b.insert(b.end(), n.begin(), n.end());
    return b;
}
inline Bytes a_rdata(const char* ipv4) {
    Bytes b(4);
    ::inet_pton(AF_INET, ipv4, b.data());
    return b;
}
inline Bytes aaaa_rdata(const char* ipv6) {
    Bytes b(16);
    ::inet_pton(AF_INET6, ipv6, b.data());
    return b;
}
inline Bytes cname_rdata(std::string_view target) { return name_bytes(target); }
// RFC 1035 §3.3.14: each string length-prefixed.
inline Bytes txt_rdata(std::initializer_list<std::string_view> strings) {
    Bytes b;
    for (std::string_view s : strings) {
        b.push_back(static_cast<unsigned char>(s.size()));
        b.insert(b.end(), s.begin(), s.end());
    }
    return b;
}
// RFC 1035 §3.3.13; only MINIMUM matters here.
inline Bytes soa_rdata(uint32_t minimum) {
    Bytes b = name_bytes("ns.example.com");
    const Bytes r = name_bytes("hostmaster.example.com");
    b.insert(b.end(), r.begin(), r.end());
    for (uint32_t v : {2024010101u, 7200u, 3600u, 1209600u}) put32(b, v);
    put32(b, minimum);
    return b;
}

class Packet {
public:
    explicit Packet(int rcode, bool truncated = false, bool response = true) {
        put16(head_, 0x1234);  // ID
        // QR, opcode 0, AA 0, TC, RD | RA, Z 0, RCODE
        head_.push_back(static_cast<unsigned char>((response ? 0x80 : 0) | (truncated ? 0x02 : 0) | 0x01));
        head_.push_back(static_cast<unsigned char>(0x80 | (rcode & 0x0F)));
    }
    Packet& question(std::string_view name, dns::Type type) {
        append(q_, name_bytes(name));
        put16(q_, static_cast<uint16_t>(type));
        put16(q_, 1);
        ++qd_;
        return *this;
    }
    Packet& answer(std::string_view name, uint16_t type, uint32_t ttl, const Bytes& rdata) {
        return answer_raw(name_bytes(name), type, ttl, rdata);
    }
    Packet& answer_raw(const Bytes& owner, uint16_t type, uint32_t ttl, const Bytes& rdata, uint16_t cls = 1) {
        rr(an_, owner, type, ttl, rdata, cls);
        ++an_count_;
        return *this;
    }
    Packet& authority(std::string_view name, uint16_t type, uint32_t ttl, const Bytes& rdata) {
        rr(ns_, name_bytes(name), type, ttl, rdata, 1);
        ++ns_count_;
        return *this;
    }
    Packet& set_counts(uint16_t qd, uint16_t an, uint16_t ns) {
        forced_ = {qd, an, ns};
        return *this;
    }
    Bytes bytes() const {
        Bytes b = head_;
        const auto c = forced_.value_or(Counts{qd_, an_count_, ns_count_});
        put16(b, c.qd);
        put16(b, c.an);
        put16(b, c.ns);
        put16(b, 0);  // ARCOUNT
        append(b, q_);
        append(b, an_);
        append(b, ns_);
        return b;
    }
    // Where the first question's name starts, for pointer().
    static constexpr uint16_t kQuestionName = 12;

private:
    struct Counts {
        uint16_t qd, an, ns;
    };
    static void append(Bytes& to, const Bytes& from) { to.insert(to.end(), from.begin(), from.end()); }
    static void rr(Bytes& to, const Bytes& owner, uint16_t type, uint32_t ttl, const Bytes& rdata, uint16_t cls) {
        append(to, owner);
        put16(to, type);
        put16(to, cls);
        put32(to, ttl);
        put16(to, static_cast<uint16_t>(rdata.size()));
        append(to, rdata);
    }
    Bytes head_, q_, an_, ns_;
    uint16_t qd_ = 0, an_count_ = 0, ns_count_ = 0;
    std::optional<Counts> forced_;
};

inline constexpr uint16_t kA = 1, kCname = 5, kSoa = 6, kPtr = 12, kMx = 15, kTxt = 16, kAaaa = 28;

}  // namespace dns_test
