// dmarc.h - a domain's DMARC record (RFC 7489 §6.6.3), fetched by us, parsed by OpenDMARC
//
// DESCRIPTION
//   fetch_dmarc(querier, from_domain, psl, deadline) asks TXT
//   _dmarc.<from_domain> through the Querier (the milter's dns_servers,
//   cache and time bound; OpenDMARC's own resolver is never used); when
//   that holds no DMARC record and from_domain is not its own
//   organisational domain (psl.h), it asks _dmarc.<organisational domain>.
//   Records not starting with "v=DMARC1" are ignored; more than one DMARC
//   record at a name counts as none there (§6.6.3 step 5).
//     Found      record set; record->domain says where it came from
//     None       no DMARC record (the mail is judged by no policy)
//     Broken     a DMARC record OpenDMARC does not accept (bad p=, bad
//                version, ...): receivers ignore it, detail says why
//     TempError  a time-out, SERVFAIL or bad answer; detail says which
//
//   parse_dmarc(text, domain) is OpenDMARC's parser
//   (opendmarc_policy_parse_dmarc) on one record: p, sp, adkim, aspf, pct
//   (defaults: adkim and aspf relaxed, pct 100, sp as p).
//
//   effective_policy(record, from_domain) is sp for a From domain below
//   the domain whose record applies (found at the organisational domain),
//   p otherwise (§6.3).
//
// ERRORS
//   Results are values; a record longer than kMaxDmarcRecord octets is
//   Broken (not handed to OpenDMARC). Only std::bad_alloc escapes.
//
// THREAD SAFETY
//   OpenDMARC's library state is global: it is initialised once, and every
//   call into it holds one process-wide mutex.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/dns/resolver.h"
#include "common/mailauth/align.h"
#include "common/mailauth/deadline.h"
#include "common/mailauth/psl.h"

namespace mailauth {

inline constexpr std::size_t kMaxDmarcRecord = 2048;

enum class DmarcPolicy { None, Quarantine, Reject };

struct DmarcRecord {
    DmarcPolicy p = DmarcPolicy::None;
    DmarcPolicy sp = DmarcPolicy::None;  // p when the record has no sp=
    AlignMode adkim = AlignMode::Relaxed;
    AlignMode aspf = AlignMode::Relaxed;
    int pct = 100;
    std::string text;    // as published
    std::string domain;  // the domain whose _dmarc name held it
};

enum class DmarcStatus { Found, None, Broken, TempError };

struct DmarcLookup {
    DmarcStatus status = DmarcStatus::TempError;
    std::optional<DmarcRecord> record;  // Found
    std::string detail;                 // Broken, TempError: why; else ""
};

// "none", "quarantine", "reject".
std::string_view to_string(DmarcPolicy p) noexcept;
// "found", "none", "broken", "temperror".
std::string_view to_string(DmarcStatus s) noexcept;

// nullopt and *error set when OpenDMARC refuses the record.
std::optional<DmarcRecord> parse_dmarc(std::string_view text, std::string_view domain, std::string* error = nullptr);
DmarcLookup fetch_dmarc(const dns::Querier& querier, std::string_view from_domain, const Psl& psl,
                        const Deadline& deadline);
DmarcPolicy effective_policy(const DmarcRecord& r, std::string_view from_domain) noexcept;

}  // namespace mailauth
