// reachability.cc - see reachability.h
#include "common/dns/reachability.h"

#include <algorithm>

namespace dns {
namespace {

bool is_root(const Record& mx) { return mx.value == "."; }

// RFC 7505 §3: a null MX is the only MX, preference 0, exchange ".".
Reachability from_mx(const Answer& mx) {
    const bool any_host = std::any_of(mx.records.begin(), mx.records.end(), [](const Record& r) { return !is_root(r); });
    if (any_host) return {Reach::Reachable, Via::Mx};
    return {Reach::NullMx};
}

Reachability temp_fail(Status why) { return {Reach::TempFail, Via::None, why}; }

}  // namespace

Reachability mail_reachability(const Querier& querier, const address::Domain& domain, std::chrono::seconds budget,
                               const Clock& clock) {
    if (domain.is_literal()) return {Reach::Reachable, Via::Literal};
    const auto deadline = clock() + budget;
    const auto left = [&] { return std::chrono::floor<std::chrono::seconds>(deadline - clock()); };

    const Answer mx = querier.query(domain.str(), Type::MX, budget);
    switch (mx.status) {
    case Status::Ok: return from_mx(mx);
    case Status::NxDomain: return {Reach::NxDomain};
    case Status::NoData: break;  // RFC 5321 §5.1: the implicit MX
    default: return temp_fail(mx.status);
    }

    Status failure = Status::Ok;
    for (Type t : {Type::A, Type::AAAA}) {
        const std::chrono::seconds rest = left();
        if (rest < std::chrono::seconds(1)) return temp_fail(Status::Timeout);
        const Answer a = querier.query(domain.str(), t, rest);
        if (a.status == Status::Ok) return {Reach::Reachable, Via::Address};
        if (!a.is_definite()) failure = a.status;
    }
    if (failure != Status::Ok) return temp_fail(failure);
    return {Reach::NoMailHost};
}

std::string_view to_string(Reach r) noexcept {
    switch (r) {
    case Reach::Reachable: return "reachable";
    case Reach::NullMx: return "null_mx";
    case Reach::NxDomain: return "nxdomain";
    case Reach::NoMailHost: return "no_mail_host";
    case Reach::TempFail: return "tempfail";
    }
    return "tempfail";
}

std::string_view to_string(Via v) noexcept {
    switch (v) {
    case Via::None: return "none";
    case Via::Mx: return "mx";
    case Via::Address: return "address";
    case Via::Literal: return "literal";
    }
    return "none";
}

std::string describe(const Reachability& r, const address::Domain& domain) {
    const std::string& d = domain.str();
    switch (r.outcome) {
    case Reach::Reachable:
        switch (r.via) {
        case Via::Mx: return "domain " + d + " receives mail (MX)";
        case Via::Address: return "domain " + d + " receives mail (no MX, an address record)";
        default: return "domain " + d + " is an address literal";
        }
    case Reach::NullMx: return "domain " + d + " publishes a null MX: it accepts no mail (RFC 7505)";
    case Reach::NxDomain: return "domain " + d + " does not exist (NXDOMAIN)";
    case Reach::NoMailHost: return "domain " + d + " has no MX and no address record";
    case Reach::TempFail: break;
    }
    switch (r.failure) {
    case Status::Timeout: return "cannot check domain " + d + ": the DNS lookup timed out";
    case Status::ServFail: return "cannot check domain " + d + ": DNS server failure (SERVFAIL)";
    default: return "cannot check domain " + d + ": the DNS lookup failed";
    }
}

std::string_view status_code(const Reachability& r) noexcept {
    switch (r.outcome) {
    case Reach::Reachable: return "2.0.0";
    case Reach::NullMx: return "5.7.27";
    case Reach::NxDomain:
    case Reach::NoMailHost: return "5.1.8";
    case Reach::TempFail: return "4.4.3";
    }
    return "4.4.3";
}

}  // namespace dns
