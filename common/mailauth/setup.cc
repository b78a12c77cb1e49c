// setup.cc - see setup.h
#include "common/mailauth/setup.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>

#include "common/config/error.h"

namespace mailauth {
namespace {

// "" and the canonical text, or a reason and "".
std::pair<std::string, std::string> public_address(const std::string& a) {
    in_addr v4{};
    in6_addr v6{};
    char text[INET6_ADDRSTRLEN];
    if (::inet_pton(AF_INET, a.c_str(), &v4) == 1) {
        const uint32_t h = ntohl(v4.s_addr);
        if ((h >> 24) == 127) return {"a loopback address (libspf2 passes any loopback client)", ""};
        if (h == 0 || (h >> 16) == 0xa9fe) return {"not an address receivers see", ""};
        ::inet_ntop(AF_INET, &v4, text, sizeof text);
        return {"", text};
    }
    if (::inet_pton(AF_INET6, a.c_str(), &v6) == 1) {
        if (IN6_IS_ADDR_LOOPBACK(&v6) || IN6_IS_ADDR_V4MAPPED(&v6))
            return {"a loopback or IPv4-mapped address (give the IPv4 address)", ""};
        if (IN6_IS_ADDR_UNSPECIFIED(&v6) || IN6_IS_ADDR_LINKLOCAL(&v6)) return {"not an address receivers see", ""};
        ::inet_ntop(AF_INET6, &v6, text, sizeof text);
        return {"", text};
    }
    return {"not an IPv4 or IPv6 address", ""};
}

}  // namespace

Relay relay_from(const config::Config& cfg) {
    Relay r;
    for (const std::string& a : cfg.list("relay_public_addresses")) {
        auto [why, canonical] = public_address(a);
        if (!why.empty())
            throw config::Error(cfg.origin_of("relay_public_addresses") + ": invalid relay_public_addresses: " + a +
                                " (" + why + ")");
        if (std::find(r.addresses.begin(), r.addresses.end(), canonical) == r.addresses.end())
            r.addresses.push_back(canonical);
    }
    r.helo = cfg.str("relay_helo_name");
    r.spf_include = cfg.str("relay_spf_include");
    const auto printable = [](const std::string& s) {
        return std::all_of(s.begin(), s.end(), [](char c) { return c > ' ' && c < 0x7f; });
    };
    if (!printable(r.helo))
        throw config::Error(cfg.origin_of("relay_helo_name") + ": invalid relay_helo_name: " + r.helo +
                            " (not a host name)");
    if (!std::all_of(r.spf_include.begin(), r.spf_include.end(), [](char c) { return c >= ' ' && c < 0x7f; }))
        throw config::Error(cfg.origin_of("relay_spf_include") + ": invalid relay_spf_include: not printable ASCII");
    return r;
}

}  // namespace mailauth
