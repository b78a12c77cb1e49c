// reverse.h - reverse DNS of an address and forward confirmation (FCrDNS)
//
// DESCRIPTION
//   canonical_address(text)  an IPv4 or IPv6 address as inet_ntop(3)
//                      writes it (so "2001:DB8::0:1" equals "2001:db8::1"),
//                      or nullopt for anything else
//   reverse_name(address)    its PTR owner name: "10.2.0.192.in-addr.arpa"
//                      (RFC 1035 §3.5), nibbles under ip6.arpa (RFC 3596
//                      §2.5); nullopt for no address
//   host_addresses(q, host, budget)  the A and AAAA records of a host name,
//                      canonical; status Ok when there is one, NxDomain or
//                      NoData when there is none, else the failure
//                      (Timeout, ServFail, Error) that kept us from knowing
//   forward_confirmed(q, address, budget)  the PTR names of an address
//                      and those of them whose A/AAAA records include the
//                      address again ("forward-confirmed reverse DNS", the
//                      check receiving systems make of a sending relay);
//                      status as above for the PTR query, or the failure of
//                      a forward lookup when it left no name confirmed
//
//   All queries of one call stay within budget, as mail_reachability
//   (reachability.h): each gets what is left; a query with less than a
//   second left is not sent (Timeout). At most kMaxPtrNames PTR names are
//   followed.
//
// ERRORS
//   Values; only what the Querier throws (std::bad_alloc) escapes.
//
// THREAD SAFETY
//   As thread safe as the Querier.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/dns/answer.h"
#include "common/dns/reachability.h"
#include "common/dns/resolver.h"

namespace dns {

inline constexpr std::size_t kMaxPtrNames = 4;

std::optional<std::string> canonical_address(std::string_view text);
std::optional<std::string> reverse_name(std::string_view address);

struct HostAddresses {
    Status status = Status::Error;
    std::vector<std::string> addresses{};  // canonical
};
HostAddresses host_addresses(const Querier& q, std::string_view host, std::chrono::seconds budget,
                             const Clock& clock = std::chrono::steady_clock::now);

struct ForwardConfirmed {
    Status status = Status::Error;
    std::vector<std::string> names{};      // PTR names, lower case, no trailing dot
    std::vector<std::string> confirmed{};  // those resolving back to the address
};
ForwardConfirmed forward_confirmed(const Querier& q, std::string_view address, std::chrono::seconds budget,
                                   const Clock& clock = std::chrono::steady_clock::now);

}  // namespace dns
