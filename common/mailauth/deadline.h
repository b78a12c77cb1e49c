// deadline.h - one time bound shared by several DNS queries
//
//   Deadline d(budget, clock);      // ends budget from now
//   d.left()                         // whole seconds left, 0 when out
//
// Each query of an evaluation gets what is left (dns_lookup_timeout for the
// whole preflight of a message); a query with less than a second left is
// not sent. The clock is a parameter so tests pin it.
// Thread safety: a Deadline belongs to one evaluation (one thread).
#pragma once

#include <chrono>

#include "common/dns/reachability.h"

namespace mailauth {

class Deadline {
public:
    Deadline(std::chrono::seconds budget, dns::Clock clock = std::chrono::steady_clock::now)
        : clock_(std::move(clock)), end_(clock_() + budget) {}
    std::chrono::seconds left() const {
        const auto rest = end_ - clock_();
        return rest <= rest.zero() ? std::chrono::seconds(0) : std::chrono::floor<std::chrono::seconds>(rest);
    }

private:
    dns::Clock clock_;
    std::chrono::steady_clock::time_point end_;
};

}  // namespace mailauth
