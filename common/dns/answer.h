// answer.h - DNS answers for mail: MX, A, AAAA, TXT and PTR, parsed
//
// DESCRIPTION
//   parse_answer(packet, qname, type) reads one DNS response (RFC 1035 §4.1)
//   with libresolv's ns_initparse/ns_parserr and returns what a mail sender
//   needs to know about qname:
//
//     Ok        records of the asked type (MX: preference and exchange;
//               A/AAAA: the address as text; TXT: the record's
//               character-strings joined with nothing between them, as
//               SPF (RFC 7208 §3.3) and DKIM (RFC 6376 §3.6.2.2) read them,
//               one Record per TXT record; PTR: the name), ttl = the
//               smallest TTL of the records used, CNAMEs included
//     NxDomain  RCODE 3: the name does not exist
//     NoData    RCODE 0 without records of the type (RFC 2308 §2.2)
//     ServFail  RCODE 2
//     Error     any other RCODE (REFUSED, NOTIMP, ...), a packet that is not
//               a response, or one that does not parse; also a truncated
//               answer (TC) that holds no usable record, and any truncated
//               TXT or PTR answer (a record set cut short would read as
//               another policy: one SPF record of two, a DKIM key missing)
//
//   CNAMEs are followed as the resolver returns them (RFC 1034 §3.6.2): from
//   qname along the CNAME records of the answer section, at most kMaxCnames
//   hops; the records counted are those owned by the end of the chain.
//   Records of other owners or classes are ignored. A record whose data has
//   the wrong size (an A record that is not 4 octets) is skipped.
//
//   A negative answer's ttl comes from the SOA in the authority section
//   (RFC 2308 §5: the smaller of the SOA record's TTL and its MINIMUM); with
//   no SOA it is 0 (the cache then applies its minimum).
//
//   Timeout is never produced here: it is the resolver's (resolver.h).
//
// ERRORS
//   Bad packets are values (Status::Error); only std::bad_alloc escapes.
//
// THREAD SAFETY
//   Reentrant.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dns {

// The record types asked for (RFC 1035 §3.2.2, RFC 3596 §2.1).
enum class Type : uint16_t { A = 1, PTR = 12, MX = 15, TXT = 16, AAAA = 28 };

enum class Status { Ok, NxDomain, NoData, ServFail, Timeout, Error };

// CNAME hops followed within one answer.
inline constexpr int kMaxCnames = 8;
// Records kept from one answer; the rest are ignored.
inline constexpr std::size_t kMaxRecords = 64;

struct Record {
    uint16_t preference = 0;  // MX only
    std::string value;        // MX, PTR: a name ("." for the root); A/AAAA:
                              // address; TXT: the strings joined
    bool operator==(const Record&) const = default;
};

struct Answer {
    Status status = Status::Error;
    std::vector<Record> records{};
    std::chrono::seconds ttl{0};
    // Permanent facts (Ok, NxDomain, NoData) as opposed to failures.
    bool is_definite() const noexcept {
        return status == Status::Ok || status == Status::NxDomain || status == Status::NoData;
    }
};

// "ok", "nxdomain", "nodata", "servfail", "timeout", "error".
std::string_view to_string(Status s) noexcept;
// "A", "PTR", "MX", "TXT", "AAAA".
std::string_view to_string(Type t) noexcept;

// See DESCRIPTION. qname is compared without regard to ASCII case and a
// trailing dot.
Answer parse_answer(std::span<const unsigned char> packet, std::string_view qname, Type type);

}  // namespace dns
