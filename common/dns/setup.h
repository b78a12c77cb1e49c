// setup.h - the DNS lookup the configuration describes
//
//   cache_limits(cfg)   CacheLimits from dns_cache_size, dns_cache_min_ttl,
//                       dns_cache_max_ttl and dns_cache_failure_ttl
//   lookup_from(cfg)    a Lookup over a Resolver (the name servers of
//                       /etc/resolv.conf, or options.servers) with that cache
//                       and dns_lookup_timeout as the budget of one check
//
// Errors: config::Error naming the parameter's file and line when
// dns_cache_min_ttl is larger than dns_cache_max_ttl.
// Thread safety: none needed (start-up code); the Lookup is thread safe.
#pragma once

#include <memory>

#include "common/config/config.h"
#include "common/dns/cache.h"
#include "common/dns/lookup.h"
#include "common/dns/resolver.h"

namespace dns {

CacheLimits cache_limits(const config::Config& cfg);
std::unique_ptr<Lookup> lookup_from(const config::Config& cfg, ResolverOptions options = {});

}  // namespace dns
