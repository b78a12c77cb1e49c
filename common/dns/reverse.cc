// reverse.cc - see reverse.h
#include "common/dns/reverse.h"

#include <arpa/inet.h>

#include <algorithm>

#include "common/sys/ascii.h"

namespace dns {
namespace {

using std::chrono::seconds;

// What is left of a budget, in whole seconds.
struct Deadline {
    std::chrono::steady_clock::time_point at;
    const Clock& clock;
    seconds left() const { return std::chrono::floor<seconds>(at - clock()); }
};

bool is_failure(Status s) { return s != Status::Ok && s != Status::NxDomain && s != Status::NoData; }

std::string without_dot(std::string name) {
    if (name.size() > 1 && name.back() == '.') name.pop_back();
    return sys::to_lower_ascii(name);
}

HostAddresses addresses_until(const Querier& q, std::string_view host, const Deadline& d) {
    HostAddresses out;
    Status failure = Status::Ok;
    bool exists = false;
    for (Type t : {Type::A, Type::AAAA}) {
        const seconds rest = d.left();
        if (rest < seconds(1)) {
            failure = Status::Timeout;
            break;
        }
        const Answer a = q.query(host, t, rest);
        if (a.status == Status::Ok) {
            for (const Record& r : a.records)
                if (auto c = canonical_address(r.value)) out.addresses.push_back(*c);
        } else if (is_failure(a.status)) {
            failure = a.status;
        } else if (a.status == Status::NoData) {
            exists = true;
        }
    }
    if (!out.addresses.empty()) out.status = Status::Ok;
    else if (failure != Status::Ok) out.status = failure;
    else out.status = exists ? Status::NoData : Status::NxDomain;
    return out;
}

}  // namespace

std::optional<std::string> canonical_address(std::string_view text) {
    const std::string s(text);
    char buf[INET6_ADDRSTRLEN];
    in_addr v4{};
    if (::inet_pton(AF_INET, s.c_str(), &v4) == 1 && ::inet_ntop(AF_INET, &v4, buf, sizeof buf)) return buf;
    in6_addr v6{};
    if (::inet_pton(AF_INET6, s.c_str(), &v6) == 1 && ::inet_ntop(AF_INET6, &v6, buf, sizeof buf)) return buf;
    return std::nullopt;
}

std::optional<std::string> reverse_name(std::string_view address) {
    const std::string s(address);
    in_addr v4{};
    if (::inet_pton(AF_INET, s.c_str(), &v4) == 1) {
        const auto* b = reinterpret_cast<const unsigned char*>(&v4);
        std::string out;
        for (int i = 3; i >= 0; --i) out += std::to_string(b[i]) + ".";
        return out + "in-addr.arpa";
    }
    in6_addr v6{};
    if (::inet_pton(AF_INET6, s.c_str(), &v6) == 1) {
        static constexpr char kHex[] = "0123456789abcdef";
        std::string out;
        for (int i = 15; i >= 0; --i) {
            out += kHex[v6.s6_addr[i] & 0xf];
            out += '.';
            out += kHex[v6.s6_addr[i] >> 4];
            out += '.';
        }
        return out + "ip6.arpa";
    }
    return std::nullopt;
}

HostAddresses host_addresses(const Querier& q, std::string_view host, seconds budget, const Clock& clock) {
    return addresses_until(q, host, Deadline{clock() + budget, clock});
}

ForwardConfirmed forward_confirmed(const Querier& q, std::string_view address, seconds budget, const Clock& clock) {
    ForwardConfirmed out;
    const std::optional<std::string> ip = canonical_address(address);
    const std::optional<std::string> owner = reverse_name(address);
    if (!ip || !owner) return out;  // Error: not an address
    const Deadline d{clock() + budget, clock};
    const Answer ptr = q.query(*owner, Type::PTR, budget);
    out.status = ptr.status;
    if (ptr.status != Status::Ok) return out;
    Status failure = Status::Ok;
    for (const Record& r : ptr.records) {
        if (out.names.size() == kMaxPtrNames) break;
        std::string name = without_dot(r.value);
        out.names.push_back(name);
        const HostAddresses a = addresses_until(q, name, d);
        if (std::find(a.addresses.begin(), a.addresses.end(), *ip) != a.addresses.end())
            out.confirmed.push_back(std::move(name));
        else if (is_failure(a.status))
            failure = a.status;
    }
    if (out.confirmed.empty() && failure != Status::Ok) out.status = failure;
    return out;
}

}  // namespace dns
