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
//   check_spf(q, relay, name)     exactly one SPF record at name (RFC 7208
//                                 4.5: two or more are a permerror), and it
//                                 authorises every relay address
//                                 (mailauth::evaluate, libspf2: within 10
//                                 DNS-querying mechanisms), else the record
//                                 to publish
//   check_dkim(q, signing, domain) one Check per key the signing table
//                                 signs the domain's mail with (and per
//                                 provider key): published and matching the
//                                 key file (dkim::check_published), else the
//                                 record to publish; a domain without a
//                                 signing table row fails with the row to add
//   check_dmarc(q, psl, relay, domain, envelope, dkim)  the DMARC record
//                                 (the domain's or its organisational
//                                 domain's) and what alignment the relay
//                                 achieves: the verdict of the milter's
//                                 preflight (mailauth::preflight) with its
//                                 fix-it text. Pass: DKIM or SPF aligns and
//                                 passes; Fail: neither does under p=
//                                 quarantine or reject, or the record is
//                                 broken; Warn: no record, or p=none
//                                 (receivers act on nothing)
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
#include "common/mailauth/fixit.h"
#include "common/mailauth/preflight.h"
#include "common/mailauth/psl.h"
#include "common/dns/reachability.h"
#include "common/dns/resolver.h"

namespace cli::doctor {

// relay_public_addresses (canonical), relay_helo_name (lower case, no
// trailing dot), relay_spf_include as a mechanism ("include:spf.relay.example");
// "" not set.
using Relay = mailauth::Relay;

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
Check check_spf(const dns::Querier& q, const Relay& relay, const std::string& name, const Budget& b);
// The SPF record authorising the relay (mechanisms: mailauth::relay_mechanisms).
std::string relay_spf_record(const Relay& relay);

struct DkimChecks {
    std::vector<Check> checks;
    mailauth::DkimOutlook outlook;  // for the DMARC check
};
// signing: null when DKIM signing is off (dkim_signing_table empty).
DkimChecks check_dkim(const dns::Querier& q, const dkim::Signing* signing, const address::Domain& domain,
                      const Budget& b);

// envelope: the bounce domain (VERP), else the domain; spf_passes: the
// envelope domain's spf check passed (for the words on alignment).
Check check_dmarc(const dns::Querier& q, const mailauth::Psl& psl, const Relay& relay, const address::Domain& domain,
                  const std::string& envelope, bool spf_passes, const mailauth::DkimOutlook& dkim, const Budget& b);

// A TXT record in zone-file form: NAME. TXT "..." with the text cut into
// quoted strings of at most 255 octets (RFC 1035 3.3.14).
std::string txt_record(const std::string& name, const std::string& text);

}  // namespace cli::doctor
