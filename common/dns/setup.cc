// setup.cc - see setup.h
#include "common/dns/setup.h"

#include <string>

namespace dns {

CacheLimits cache_limits(const config::Config& cfg) {
    CacheLimits l;
    l.max_entries = static_cast<std::size_t>(cfg.integer("dns_cache_size"));
    l.min_ttl = cfg.duration("dns_cache_min_ttl");
    l.max_ttl = cfg.duration("dns_cache_max_ttl");
    l.failure_ttl = cfg.duration("dns_cache_failure_ttl");
    if (l.min_ttl > l.max_ttl) {
        const config::AnyKey k = cfg.is_default("dns_cache_min_ttl") ? config::AnyKey("dns_cache_max_ttl")
                                                                      : config::AnyKey("dns_cache_min_ttl");
        throw config::Error(cfg.origin_of(k) + ": invalid " + std::string(k.name()) + ": dns_cache_min_ttl (" +
                            std::to_string(l.min_ttl.count()) + "s) is larger than dns_cache_max_ttl (" +
                            std::to_string(l.max_ttl.count()) + "s)");
    }
    return l;
}

std::unique_ptr<Lookup> lookup_from(const config::Config& cfg, ResolverOptions options) {
    return std::make_unique<Lookup>(std::make_unique<Resolver>(std::move(options)), cache_limits(cfg),
                                    cfg.duration("dns_lookup_timeout"));
}

}  // namespace dns
