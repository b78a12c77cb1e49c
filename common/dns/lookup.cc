// lookup.cc - see lookup.h
#include "common/dns/lookup.h"

#include <utility>

namespace dns {

Lookup::Lookup(std::unique_ptr<const Querier> upstream, CacheLimits limits, std::chrono::seconds budget, Clock clock)
    : upstream_(std::move(upstream)), cache_(limits), budget_(budget), clock_(std::move(clock)) {}

Answer Lookup::query(std::string_view name, Type type, std::chrono::seconds budget) const {
    if (auto hit = cache_.find(name, type, clock_())) return std::move(*hit);
    Answer fresh = upstream_->query(name, type, budget);
    cache_.store(name, type, fresh, clock_());
    return fresh;
}

Reachability Lookup::mail_reachability(const address::Domain& domain) const {
    return dns::mail_reachability(*this, domain, budget_, clock_);
}

}  // namespace dns
