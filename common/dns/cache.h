// cache.h - answers kept for their TTL: (name, type) -> Answer
//
// DESCRIPTION
//   Cache::find(name, type, now) returns a stored answer that has not
//   expired; store(name, type, answer, now) keeps one. How long:
//     Ok, NxDomain, NoData   its ttl clamped to [min_ttl, max_ttl] (a
//                            resolver's TTL 0 still saves repeated queries
//                            within min_ttl; a day-long TTL is not trusted
//                            past max_ttl)
//     ServFail, Timeout,     failure_ttl, so one dead server does not cost
//     Error                  every message its whole budget, yet a recovery
//                            is seen quickly (RFC 2308 §7: at most 5 min)
//   A duration of 0 stores nothing. The cache holds at most max_entries;
//   when full, the entry used least recently goes. Expired entries are
//   dropped when met. Names are keys as given (callers pass A-labels in
//   lower case).
//
//   Time is a parameter (steady_clock time points) so tests do not sleep.
//
// ERRORS
//   None; only std::bad_alloc escapes.
//
// THREAD SAFETY
//   All methods may be called from any thread (one mutex inside).
#pragma once

#include <chrono>
#include <cstddef>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/dns/answer.h"

namespace dns {

struct CacheLimits {
    std::size_t max_entries = 0;
    std::chrono::seconds min_ttl{0};
    std::chrono::seconds max_ttl{0};
    std::chrono::seconds failure_ttl{0};
};

class Cache {
public:
    using TimePoint = std::chrono::steady_clock::time_point;

    explicit Cache(CacheLimits limits) : limits_(limits) {}
    Cache(const Cache&) = delete;
    Cache& operator=(const Cache&) = delete;

    std::optional<Answer> find(std::string_view name, Type type, TimePoint now);
    void store(std::string_view name, Type type, const Answer& answer, TimePoint now);
    // How long store() keeps this answer.
    std::chrono::seconds lifetime(const Answer& answer) const noexcept;
    std::size_t size() const;
    const CacheLimits& limits() const noexcept { return limits_; }

private:
    struct Entry;
    using Lru = std::list<Entry>;  // most recently used first
    struct Entry {
        std::string key;
        Answer answer;
        TimePoint expires;
    };
    static std::string key_of(std::string_view name, Type type);

    const CacheLimits limits_;
    mutable std::mutex mu_;
    Lru lru_;
    std::unordered_map<std::string, Lru::iterator> index_;
};

}  // namespace dns
