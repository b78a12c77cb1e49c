// fixit.h - what a customer publishes so that DMARC passes: one text for all
//
//   relay_mechanisms(relay)   relay_spf_include ("include:spf.relay.example"),
//                             or else ip4:/ip6: mechanisms of the relay's
//                             public addresses
//   fix_it_text(facts)        "DMARC for customer-c.example will fail: add
//                             include:spf.relay.example to the SPF record of
//                             bounces.customer-c.example, or publish DKIM
//                             selector s1 for customer-c.example"
//
// The SPF half says what stops SPF from aligning: an envelope domain that
// cannot align (aspf=s with a bounce subdomain; another organisational
// domain), no SPF record (the record to publish), a broken one, or one that
// does not authorise the relay. The DKIM half names the selectors that
// would sign if published, else asks for a DKIM key of the From domain.
// sendguard-milter's refusal and `sendguard doctor` print this text.
//
// Errors: none. Thread safety: reentrant.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/mailauth/align.h"
#include "common/mailauth/spf.h"

namespace mailauth {

struct Relay {
    std::vector<std::string> addresses;  // relay_public_addresses
    std::string helo;                    // relay_helo_name
    std::string spf_include;             // relay_spf_include, "" none
};

struct DkimCandidate {
    std::string selector, domain;  // selector s1 of d=domain, key not published
};

struct FixItFacts {
    std::string from_domain, envelope_domain;
    AlignMode aspf = AlignMode::Relaxed;
    bool envelope_aligns = false;
    std::optional<Spf> spf;           // nullopt: not evaluated
    std::string relay_mechanisms;     // relay_mechanisms()
    std::string dkim_domain;          // d= we sign with (a published key), "" none
    std::vector<DkimCandidate> unpublished;
};

std::string relay_mechanisms(const Relay& relay);
std::string fix_it_text(const FixItFacts& f);

}  // namespace mailauth
