// spf.h - SPF (RFC 7208) for one address and domain, with libspf2 over our DNS
//
// DESCRIPTION
//   evaluate(querier, ip, domain, helo, deadline) runs check_host(ip,
//   domain, "postmaster@domain") with libspf2 and returns our own result:
//   pass, fail, softfail, neutral, none, permerror or temperror, the SPF
//   record of domain as published (record_text, "" without one) and a
//   short explanation.
//
//   libspf2 asks its DNS questions through a DNS layer of our own (an
//   SPF_dns_server_t whose lookup calls the Querier: A, AAAA, MX, TXT, PTR),
//   so dns_servers, the Lookup cache and the time bound apply:
//     - every query gets what is left of the deadline; with less than a
//       second left none is sent and the result is temperror;
//     - a time-out, SERVFAIL or bad answer anywhere makes the result
//       temperror (RFC 7208 §2.6.6);
//     - more than kMaxVoidLookups answers without records (NXDOMAIN,
//       NODATA) after the first query is permerror (RFC 7208 §4.6.4,
//       which libspf2 1.2.10 does not enforce); libspf2 enforces the limit
//       of 10 DNS mechanisms (§4.6.4) itself;
//     - libspf2 is fed bounded input only (its parser has known bugs):
//       TXT records longer than kMaxTxtRecord octets or holding NUL are not
//       passed on (an SPF record among them: permerror), names longer than
//       253 octets are not asked, and one evaluation sends at most
//       kMaxQueries queries (then permerror).
//
//   ip must be a public address of the relay: libspf2 passes any
//   127.0.0.0/8 client ("localhost is always allowed"), so loopback and
//   unparsable addresses are refused (permerror, explanation says why).
//
// ERRORS
//   Results are values; only std::bad_alloc escapes.
//
// THREAD SAFETY
//   Reentrant: each call has its own libspf2 server, request and response;
//   libspf2's message handlers (globals) are set once, before the first
//   evaluation.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "common/dns/resolver.h"
#include "common/mailauth/deadline.h"

namespace mailauth {

enum class Spf { Pass, Fail, SoftFail, Neutral, None, PermError, TempError };

inline constexpr std::size_t kMaxTxtRecord = 2048;
inline constexpr int kMaxVoidLookups = 2;
inline constexpr int kMaxQueries = 120;

struct SpfResult {
    Spf result = Spf::TempError;
    std::string record_text;  // the v=spf1 record of the domain, "" none
    std::string explanation;  // why, in a few words (for logs and fix-it texts)
};

// "pass", "fail", "softfail", "neutral", "none", "permerror", "temperror".
std::string_view to_string(Spf s) noexcept;

SpfResult evaluate(const dns::Querier& querier, std::string_view ip, std::string_view domain, std::string_view helo,
                   const Deadline& deadline);

}  // namespace mailauth
