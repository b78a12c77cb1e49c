// setup.cc - see setup.h
#include "common/dns/setup.h"

#include <arpa/inet.h>

#include <charconv>
#include <string>

namespace dns {
namespace {

// "192.0.2.53" or "192.0.2.53:5353"; an empty text says what is wrong.
std::string parse_server(const std::string& entry, Server& out) {
    const std::size_t colon = entry.find(':');
    out.ipv4 = entry.substr(0, colon);
    in_addr probe{};
    if (::inet_pton(AF_INET, out.ipv4.c_str(), &probe) != 1) return "expected an IPv4 address, or IPv4:port";
    if (colon == std::string::npos) return "";
    const std::string port = entry.substr(colon + 1);
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value < 1 || value > 65535)
        return "expected a port of 1 to 65535 after the colon";
    out.port = static_cast<uint16_t>(value);
    return "";
}

}  // namespace

std::vector<Server> servers(const config::Config& cfg) {
    const auto& entries = cfg.list("dns_servers");
    const auto where = [&] { return cfg.origin_of("dns_servers") + ": invalid dns_servers: "; };
    if (entries.size() > static_cast<std::size_t>(kMaxServers))
        throw config::Error(where() + std::to_string(entries.size()) + " servers (max " +
                            std::to_string(kMaxServers) + ", glibc's limit)");
    std::vector<Server> out;
    for (const std::string& e : entries) {
        Server s;
        if (const std::string why = parse_server(e, s); !why.empty()) throw config::Error(where() + e + ": " + why);
        out.push_back(std::move(s));
    }
    return out;
}

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

std::unique_ptr<Lookup> lookup_from(const config::Config& cfg) {
    ResolverOptions options;
    options.servers = servers(cfg);
    return std::make_unique<Lookup>(std::make_unique<Resolver>(std::move(options)), cache_limits(cfg),
                                    cfg.duration("dns_lookup_timeout"));
}

}  // namespace dns
