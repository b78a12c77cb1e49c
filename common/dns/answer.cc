// answer.cc - see answer.h
#include "common/dns/answer.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <resolv.h>

#include <algorithm>
#include <optional>

namespace dns {
namespace {

// Presentation names compare without regard to ASCII case (RFC 4343) and
// with or without the trailing dot of the root.
std::string canonical(std::string_view name) {
    if (!name.empty() && name.back() == '.' && name.size() > 1) name.remove_suffix(1);
    std::string out(name);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

uint32_t get32(const unsigned char* p) {
    return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

// A domain name in rdata, expanded; nullopt if it does not parse or runs
// past the record.
std::optional<std::string> rdata_name(const ns_msg& msg, const unsigned char* at, const unsigned char* rd_end,
                                      const unsigned char** after = nullptr) {
    char buf[NS_MAXDNAME];
    const int n = ::dn_expand(ns_msg_base(msg), ns_msg_end(msg), at, buf, sizeof buf);
    if (n < 0 || at + n > rd_end) return std::nullopt;
    if (after) *after = at + n;
    return std::string(buf[0] ? buf : ".");
}

// RFC 2308 §5: a negative answer lives min(SOA TTL, SOA MINIMUM).
std::chrono::seconds negative_ttl(ns_msg& msg) {
    const int count = ns_msg_count(msg, ns_s_ns);
    for (int i = 0; i < count; ++i) {
        ns_rr rr;
        if (::ns_parserr(&msg, ns_s_ns, i, &rr) < 0) break;
        if (ns_rr_type(rr) != ns_t_soa || ns_rr_class(rr) != ns_c_in) continue;
        const unsigned char* p = ns_rr_rdata(rr);
        const unsigned char* end = p + ns_rr_rdlen(rr);
        if (!rdata_name(msg, p, end, &p) || !rdata_name(msg, p, end, &p)) continue;  // MNAME, RNAME
        if (end - p < 20) continue;  // SERIAL REFRESH RETRY EXPIRE MINIMUM
        const uint32_t minimum = get32(p + 16);
        return std::chrono::seconds(std::min<uint32_t>(ns_rr_ttl(rr), minimum));
    }
    return std::chrono::seconds(0);
}

// The record of the asked type in rr, or nullopt (wrong size, bad name).
std::optional<Record> record_of(const ns_msg& msg, const ns_rr& rr, Type type) {
    const unsigned char* rd = ns_rr_rdata(rr);
    const size_t len = ns_rr_rdlen(rr);
    char text[INET6_ADDRSTRLEN];
    switch (type) {
    case Type::A:
        if (len != 4 || !::inet_ntop(AF_INET, rd, text, sizeof text)) return std::nullopt;
        return Record{0, text};
    case Type::AAAA:
        if (len != 16 || !::inet_ntop(AF_INET6, rd, text, sizeof text)) return std::nullopt;
        return Record{0, text};
    case Type::MX: {  // RFC 1035 §3.3.9: PREFERENCE, EXCHANGE
        if (len < 3) return std::nullopt;
        auto host = rdata_name(msg, rd + 2, rd + len);
        if (!host) return std::nullopt;
        return Record{static_cast<uint16_t>((rd[0] << 8) | rd[1]), canonical(*host)};
    }
    case Type::PTR: {  // RFC 1035 §3.3.12: PTRDNAME
        auto host = rdata_name(msg, rd, rd + len);
        if (!host) return std::nullopt;
        return Record{0, canonical(*host)};
    }
    case Type::TXT: {  // RFC 1035 §3.3.14: one or more <character-string>s
        std::string joined;
        for (size_t at = 0; at < len;) {
            const size_t n = rd[at];
            if (at + 1 + n > len) return std::nullopt;
            joined.append(reinterpret_cast<const char*>(rd + at + 1), n);
            at += 1 + n;
        }
        if (len == 0) return std::nullopt;
        return Record{0, std::move(joined)};
    }
    }
    return std::nullopt;
}

}  // namespace

std::string_view to_string(Status s) noexcept {
    switch (s) {
    case Status::Ok: return "ok";
    case Status::NxDomain: return "nxdomain";
    case Status::NoData: return "nodata";
    case Status::ServFail: return "servfail";
    case Status::Timeout: return "timeout";
    case Status::Error: return "error";
    }
    return "error";
}

std::string_view to_string(Type t) noexcept {
    switch (t) {
    case Type::A: return "A";
    case Type::PTR: return "PTR";
    case Type::MX: return "MX";
    case Type::TXT: return "TXT";
    case Type::AAAA: return "AAAA";
    }
    return "?";
}

Answer parse_answer(std::span<const unsigned char> packet, std::string_view qname, Type type) {
    Answer out;
    ns_msg msg;
    if (packet.size() > 65535 || ::ns_initparse(packet.data(), static_cast<int>(packet.size()), &msg) < 0)
        return out;
    if (!ns_msg_getflag(msg, ns_f_qr)) return out;
    const int rcode = ns_msg_getflag(msg, ns_f_rcode);
    if (rcode == ns_r_servfail) return {Status::ServFail};
    if (rcode != ns_r_noerror && rcode != ns_r_nxdomain) return out;

    // The answer section: CNAMEs from qname on, then the records of the type.
    std::string owner = canonical(qname);
    uint32_t ttl = UINT32_MAX;
    const int count = ns_msg_count(msg, ns_s_an);
    for (int hop = 0; hop < kMaxCnames; ++hop) {
        bool moved = false;
        for (int i = 0; i < count && !moved; ++i) {
            ns_rr rr;
            if (::ns_parserr(&msg, ns_s_an, i, &rr) < 0) return out;
            if (ns_rr_type(rr) != ns_t_cname || ns_rr_class(rr) != ns_c_in) continue;
            if (canonical(ns_rr_name(rr)) != owner) continue;
            auto target = rdata_name(msg, ns_rr_rdata(rr), ns_rr_rdata(rr) + ns_rr_rdlen(rr));
            if (!target) return out;
            owner = canonical(*target);
            ttl = std::min(ttl, ns_rr_ttl(rr));
            moved = true;
        }
        if (!moved) break;
    }
    for (int i = 0; i < count && out.records.size() < kMaxRecords; ++i) {
        ns_rr rr;
        if (::ns_parserr(&msg, ns_s_an, i, &rr) < 0) return out;
        if (ns_rr_type(rr) != static_cast<uint16_t>(type) || ns_rr_class(rr) != ns_c_in) continue;
        if (canonical(ns_rr_name(rr)) != owner) continue;
        if (auto r = record_of(msg, rr, type)) {
            out.records.push_back(std::move(*r));
            ttl = std::min(ttl, ns_rr_ttl(rr));
        }
    }

    const bool whole_set_needed = type == Type::TXT || type == Type::PTR;
    if (ns_msg_getflag(msg, ns_f_tc) && whole_set_needed) return {Status::Error};
    if (!out.records.empty()) {
        out.status = Status::Ok;
        out.ttl = std::chrono::seconds(ttl);
        return out;
    }
    // RFC 6604 §3: with CNAMEs, the RCODE is about the end of the chain.
    if (rcode == ns_r_nxdomain) {
        out.status = Status::NxDomain;
    } else if (ns_msg_getflag(msg, ns_f_tc)) {
        return out;  // the records may be in the part cut off: nothing is known
    } else {
        out.status = Status::NoData;
    }
    out.ttl = negative_ttl(msg);
    return out;
}

}  // namespace dns
