// lookup.h - the resolver a program holds: queries through a cache, checks
//
// DESCRIPTION
//   Lookup is a Querier that answers from its Cache (cache.h) while an
//   answer lives and asks the upstream Querier (normally a Resolver)
//   otherwise, storing what it gets. mail_reachability(domain) runs the
//   check of reachability.h through it within the configured budget.
//
//       auto dns = dns::lookup_from(cfg);                  // setup.h
//       dns::Reachability r = dns->mail_reachability(from.domain());
//       if (r.outcome != dns::Reach::Reachable) reply(dns::describe(r, d));
//
//   Two threads missing the same name at once both ask upstream; the later
//   answer is the one kept.
//
// ERRORS
//   Values, as Resolver; only std::bad_alloc escapes.
//
// THREAD SAFETY
//   Thread safe when the upstream Querier is (a Resolver is): share one
//   Lookup among libmilter's threads.
#pragma once

#include <chrono>
#include <memory>
#include <string_view>

#include "common/address/address.h"
#include "common/dns/answer.h"
#include "common/dns/cache.h"
#include "common/dns/reachability.h"
#include "common/dns/resolver.h"

namespace dns {

class Lookup final : public Querier {
public:
    Lookup(std::unique_ptr<const Querier> upstream, CacheLimits limits, std::chrono::seconds budget,
           Clock clock = std::chrono::steady_clock::now);

    Answer query(std::string_view name, Type type, std::chrono::seconds budget) const override;
    Reachability mail_reachability(const address::Domain& domain) const;

    std::chrono::seconds budget() const noexcept { return budget_; }
    const Cache& cache() const noexcept { return cache_; }

private:
    std::unique_ptr<const Querier> upstream_;
    mutable Cache cache_;
    std::chrono::seconds budget_;
    Clock clock_;
};

}  // namespace dns
