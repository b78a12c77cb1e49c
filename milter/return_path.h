// return_path.h - the signed VERP envelope sender of a relayed message
//
//   bounce_domain_for(policy, sender_domain)
//       the sender domain's bounce domain: its milter_bounce_domain_maps
//       entry, else what bounce_domains gives it (a LABEL.* pattern's
//       LABEL.<sender domain>, else the first listed domain); nullopt: none
//   is_bounce_domain(policy, domain)
//       one of our bounce domains (customers may never send as them)
//   make_return_path(policy, bounce_domain, recipients, queue_id, ...)
//       the new envelope sender: form "r" for one recipient that fits, a
//       token (send-log entry) otherwise; see session.h for when it is used
//
// Errors: values (nullopt); make_token may throw (RAND_bytes).
// Thread safety: pure functions of an immutable Policy.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/address/verp.h"
#include "milter/policy.h"

namespace milter {

std::optional<address::Domain> bounce_domain_for(const Policy& policy, const address::Domain& sender);
bool is_bounce_domain(const Policy& policy, const address::Domain& domain);

struct ReturnPath {
    address::Encoded encoded;  // address, and the token when is_token
};

// recipients: at least one. Several recipients always get a token
// (make_token()); one gets form "r", or a token when it does not fit.
std::optional<ReturnPath> make_return_path(const Policy& policy, const address::Domain& bounce_domain,
                                           const std::vector<address::Address>& recipients,
                                           const address::VerpCodec::TokenSource& make_token,
                                           std::chrono::sys_days today);

}  // namespace milter
