// doctor_checks.h - the checks of `sendguard doctor`, one Check each
//
// Each function asks DNS through a Querier (the cached dns::Lookup of
// dns_servers; a fake in tests) within budget and turns what the shared
// libraries say into a Check (doctor_report.h): status, what was found,
// and the record to publish.
//
//   check_relay(relay)            the relay's identity is configured
//   check_ptr(q, relay, address)  the PTR of one public address resolves
//                                 back to it (FCrDNS) and is the HELO name,
//                                 or the HELO name resolves to the address
//   check_bounce_mx(q, relay, bounce_domain)  an MX of the bounce domain
//                                 is this relay (bounces come back here)
//   check_reply(q, domain)        the domain receives mail (replies), as
//                                 the milter's reply check says it
//   check_spf_records(q, relay, name)  exactly one SPF record at name
//                                 (RFC 7208 4.5: none is "none", two or
//                                 more a permerror), else the one to publish
//   check_dkim(q, signing, domain) one Check per key the signing table
//                                 signs the domain's mail with (and per
//                                 provider key): published and matching the
//                                 key file (dkim::check_published), else the
//                                 record to publish; a domain without a
//                                 signing table row fails with the row to add
//
// A DNS failure (time-out, SERVFAIL) is Status::Temp, never Fail.
// Errors: values; only std::bad_alloc escapes. Thread safety: pure
// functions over a thread-safe Querier.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "cli/doctor_report.h"
#include "common/address/address.h"
#include "common/dkim/signing.h"
#include "common/dns/reachability.h"
#include "common/dns/resolver.h"

namespace cli::doctor {

// relay_public_addresses (canonical), relay_helo_name, relay_spf_include.
struct Relay {
    std::vector<std::string> addresses;
    std::string helo_name;    // lower case, no trailing dot; "" not set
    std::string spf_include;  // "" not set
};

struct Budget {
    std::chrono::seconds per_check{5};
    dns::Clock clock = std::chrono::steady_clock::now;
};

// Empty when the identity is complete; else one Fail naming the parameter.
std::vector<Check> check_relay(const Relay& relay);
Check check_ptr(const dns::Querier& q, const Relay& relay, const std::string& address, const Budget& b);
Check check_bounce_mx(const dns::Querier& q, const Relay& relay, const std::optional<address::Domain>& bounce_domain,
                      const Budget& b);
Check check_reply(const dns::Querier& q, const address::Domain& domain, const Budget& b);
Check check_spf_records(const dns::Querier& q, const Relay& relay, const std::string& name, const Budget& b);
// The SPF record authorising the relay: include:relay_spf_include, else
// ip4:/ip6: mechanisms of relay_public_addresses.
std::string relay_spf_record(const Relay& relay);
// signing: null when DKIM signing is off (dkim_signing_table empty).
std::vector<Check> check_dkim(const dns::Querier& q, const dkim::Signing* signing, const address::Domain& domain,
                              const Budget& b);

// A TXT record in zone-file form: NAME. TXT "..." with the text cut into
// quoted strings of at most 255 octets (RFC 1035 3.3.14).
std::string txt_record(const std::string& name, const std::string& text);

}  // namespace cli::doctor
