// reachability.h - can a domain receive mail? (RFC 5321 §5.1, RFC 7505)
//
// DESCRIPTION
//   mail_reachability(querier, domain, budget, clock) asks what an SMTP
//   client would ask to deliver to domain, and says:
//
//     Reachable   it has an MX (via Mx), or no MX but an A or AAAA record,
//                 the implicit MX of RFC 5321 §5.1 (via Address); address
//                 literals ("[192.0.2.1]") are Reachable without a lookup
//                 (via Literal)
//     NullMx      its only MX is "0 ." (RFC 7505 §3): it accepts no mail.
//                 MX records whose exchange is "." next to real ones are
//                 ignored; only such records: NullMx as well
//     NxDomain    the MX query says NXDOMAIN: the domain does not exist
//     NoMailHost  it exists but has no MX, A or AAAA record
//     TempFail    a query timed out or failed (SERVFAIL, REFUSED, a bad
//                 answer) before the answer was known; failure says which.
//                 The caller decides (the milter: tempfail or accept)
//
//   The MX query comes first; A then AAAA only when it says NODATA. All
//   queries together stay within budget: each gets what is left of it
//   (whole seconds), and a query with less than a second left is not sent
//   (TempFail, failure Timeout).
//
//   describe(result, domain) is the text programs show for a result, so the
//   milter's refusal and `sendguard doctor` say the same thing:
//     domain nosuch.example does not exist (NXDOMAIN)
//     domain example.net publishes a null MX: it accepts no mail (RFC 7505)
//     domain example.org has no MX and no address record
//     cannot check domain example.com: the DNS lookup timed out
//   status_code(result) is the RFC 3463 code for a refusal of a sender
//   with that result: 5.7.27 (RFC 7505 §4.3, null MX), 5.1.8 (bad sender's
//   system address) for NxDomain/NoMailHost, 4.4.3 (directory server
//   failure) for TempFail, 2.0.0 when Reachable.
//
// ERRORS
//   Results are values; only what the Querier throws (std::bad_alloc)
//   escapes.
//
// THREAD SAFETY
//   As thread safe as the Querier (Resolver and Lookup are).
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "common/address/address.h"
#include "common/dns/answer.h"
#include "common/dns/resolver.h"

namespace dns {

enum class Reach { Reachable, NullMx, NxDomain, NoMailHost, TempFail };
enum class Via { None, Mx, Address, Literal };

struct Reachability {
    Reach outcome = Reach::TempFail;
    Via via = Via::None;               // for Reachable
    Status failure = Status::Ok;       // for TempFail: Timeout, ServFail or Error
    bool operator==(const Reachability&) const = default;
};

using Clock = std::function<std::chrono::steady_clock::time_point()>;

Reachability mail_reachability(const Querier& querier, const address::Domain& domain, std::chrono::seconds budget,
                               const Clock& clock = std::chrono::steady_clock::now);

// Log values: "reachable", "null_mx", "nxdomain", "no_mail_host", "tempfail".
std::string_view to_string(Reach r) noexcept;
// "none", "mx", "address", "literal".
std::string_view to_string(Via v) noexcept;
std::string describe(const Reachability& r, const address::Domain& domain);
std::string_view status_code(const Reachability& r) noexcept;

}  // namespace dns
