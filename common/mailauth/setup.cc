// setup.cc - see setup.h
#include "common/mailauth/setup.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>

#include "common/address/address.h"
#include "common/config/error.h"
#include "common/sys/ascii.h"

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
    std::string helo = sys::to_lower_ascii(cfg.str("relay_helo_name"));
    if (helo.size() > 1 && helo.back() == '.') helo.pop_back();
    if (!helo.empty() && !address::normalise_domain(helo))
        throw config::Error(cfg.origin_of("relay_helo_name") + ": invalid relay_helo_name: " + helo +
                            " (not a host name)");
    r.helo = std::move(helo);
    // The mechanism customers add: "include:DOMAIN"; the domain alone is
    // taken as well.
    const std::string& inc = cfg.str("relay_spf_include");
    if (!std::all_of(inc.begin(), inc.end(), [](char c) { return c > ' ' && c < 0x7f; }))
        throw config::Error(cfg.origin_of("relay_spf_include") + ": invalid relay_spf_include: not printable ASCII");
    r.spf_include = inc.empty() || inc.find(':') != std::string::npos ? inc : "include:" + inc;
    return r;
}

}  // namespace mailauth
