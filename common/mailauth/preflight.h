// preflight.h - will this message pass DMARC at the receiver?
//
// DESCRIPTION
//   preflight(querier, psl, relay, input, deadline) predicts the receiver's
//   DMARC result (RFC 7489 §4.2: SPF or DKIM passes and aligns) for mail
//   from input.from_domain leaving the relay with envelope domain
//   input.envelope_domain (the bounce domain after VERP, else the sender
//   domain):
//     1. the DMARC record (dmarc.h); none, broken, or an effective policy
//        of none: NoPolicy (nothing to refuse); a DNS failure: Unknown
//     2. DKIM: input.dkim.signing_domain (we sign with a published key)
//        aligned under adkim: WillPass, SPF is not asked
//     3. SPF: the envelope domain aligned under aspf (align.h), then
//        evaluate() (spf.h) for every relay address: all pass: WillPass;
//        a temperror: Unknown; else WillFail, failing_address the first
//        address that did not pass
//   WillFail comes with fix_it (fixit.h). Every DNS query of the
//   preflight shares deadline.
//
// ERRORS
//   Values; only std::bad_alloc escapes.
//
// THREAD SAFETY
//   Reentrant (the Querier and Psl are shared, thread safe).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/dns/resolver.h"
#include "common/mailauth/deadline.h"
#include "common/mailauth/dmarc.h"
#include "common/mailauth/fixit.h"
#include "common/mailauth/psl.h"
#include "common/mailauth/spf.h"

namespace mailauth {

struct DkimOutlook {
    std::string signing_domain;              // d= signed with a published key, "" none
    std::vector<DkimCandidate> unpublished;  // would sign if published
};

struct PreflightInput {
    std::string from_domain;      // normalised (A-labels)
    std::string envelope_domain;  // after VERP
    DkimOutlook dkim;
};

enum class Verdict { WillPass, WillFail, NoPolicy, Unknown };

struct PreflightResult {
    Verdict verdict = Verdict::Unknown;
    DmarcLookup dmarc;
    DmarcPolicy policy = DmarcPolicy::None;  // effective (p or sp)
    bool dkim_aligned = false;
    bool spf_aligned = false;
    std::optional<SpfResult> spf;  // of the first address not passing, else the last
    std::string failing_address;
    std::string fix_it;  // WillFail
    std::string detail;  // a line for the log: what decided
};

// "will_pass", "will_fail", "no_policy", "unknown".
std::string_view to_string(Verdict v) noexcept;

PreflightResult preflight(const dns::Querier& querier, const Psl& psl, const Relay& relay,
                          const PreflightInput& input, const Deadline& deadline);

}  // namespace mailauth
