// provider_budget.h - what the learner asks of the policy service's provider buckets
//
// A provider counts delivery attempts, retries included. The learner
// (policyd/learner.h) sees every attempt's outcome through the status
// filter; the policy service (policyd/policy_service.h) holds the buckets
// of the rules written for a provider. This interface is all they share:
//
//   charge_retry(provider, now)  one deferral to provider was observed:
//       Postfix will try that recipient again, one more attempt the
//       provider counts. Every bucket keyed on the provider alone (rules
//       with provider=NAME, or key=provider) is charged one unit, so the
//       acceptance check at RCPT sees a budget that includes retries.
//   over_limit(provider, now)    whether such a bucket is past its limit
//       at now (its next unit would not conform): the transport map then
//       routes the provider's domains to its first throttled transport,
//       so delivery is paced until the bucket conforms again.
//
// Service wiring (policyd/service.cc): Learner::set_budget(&engine).
// Thread safety: one thread (the event loop's), as both sides.
#pragma once

#include <cstdint>
#include <string_view>

namespace policyd {

class ProviderBudget {
public:
    virtual ~ProviderBudget() = default;
    virtual void charge_retry(std::string_view provider, int64_t now_us) = 0;
    virtual bool over_limit(std::string_view provider, int64_t now_us) const = 0;
};

}  // namespace policyd
