// setup.h - the DNS lookup the configuration describes
//
//   servers(cfg)        dns_servers as Servers: "IPv4" (port 53) or
//                       "IPv4:port", at most kMaxServers; empty: none
//                       (the resolver then reads /etc/resolv.conf)
//   cache_limits(cfg)   CacheLimits from dns_cache_size, dns_cache_min_ttl,
//                       dns_cache_max_ttl and dns_cache_failure_ttl
//   lookup_from(cfg)    a Lookup over a Resolver (servers(cfg), else the
//                       name servers of /etc/resolv.conf) with that cache
//                       and dns_lookup_timeout as the budget of one check
//
// Errors: config::Error naming the parameter's file and line when
// dns_cache_min_ttl is larger than dns_cache_max_ttl, or for a dns_servers
// entry that is no IPv4 address (with a port of 1 to 65535).
// Thread safety: none needed (start-up code); the Lookup is thread safe.
#pragma once

#include <memory>
#include <vector>

#include "common/config/config.h"
#include "common/dns/cache.h"
#include "common/dns/lookup.h"
#include "common/dns/resolver.h"

namespace dns {

std::vector<Server> servers(const config::Config& cfg);
CacheLimits cache_limits(const config::Config& cfg);
std::unique_ptr<Lookup> lookup_from(const config::Config& cfg);

}  // namespace dns
