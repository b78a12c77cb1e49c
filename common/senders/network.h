// network.h - client IP addresses and networks (CIDR) for the network tables
//
//   IpAddress::parse("192.0.2.1")    IPv4 dotted quad, IPv6 text (RFC 4291
//                                    2.2), an optional "IPv6:" prefix (as
//                                    Sendmail writes {client_addr}); an
//                                    IPv4-mapped ::ffff:a.b.c.d is the IPv4
//                                    address a.b.c.d, as Postfix's smtpd
//                                    treats such a client
//   Network::parse("2001:db8::/32")  an address with an optional /prefix
//                                    (a bare address is /32 or /128); host
//                                    bits past the prefix are an error, as in
//                                    Postfix cidr_table(5); a mapped IPv6
//                                    network of /96 or longer is the IPv4
//                                    network it holds (::ffff:192.0.2.0/120 is
//                                    192.0.2.0/24)
//
// IPv4 and IPv6 are separate families: 0.0.0.0/0 holds every IPv4 client,
// ::/0 every IPv6 client (none of the IPv4 ones, which are never seen in
// mapped form).
//
// Errors: parse() returns nullopt (Network: with the reason in why).
// Thread safety: plain values; pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace senders {

struct IpAddress {
    bool v6 = false;
    // The address as a 128-bit big-endian number; an IPv4 address is held
    // in the top 32 bits (hi >> 32), so one prefix mask fits both families.
    uint64_t hi = 0, lo = 0;

    static std::optional<IpAddress> parse(std::string_view text);
    // "192.0.2.1", "2001:db8::1" (RFC 5952 form, from inet_ntop).
    std::string str() const;
    unsigned bits() const noexcept { return v6 ? 128 : 32; }
    // This address with every bit past the first len cleared.
    IpAddress masked(unsigned len) const noexcept;
    bool operator==(const IpAddress&) const = default;
};

struct Network {
    IpAddress base;  // host bits clear
    unsigned len = 0;

    static std::optional<Network> parse(std::string_view text, std::string& why);
    bool contains(const IpAddress& a) const noexcept {
        return a.v6 == base.v6 && a.masked(len) == base;
    }
    std::string str() const { return base.str() + "/" + std::to_string(len); }
    bool operator==(const Network&) const = default;
};

}  // namespace senders
