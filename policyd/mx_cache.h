// mx_cache.h - MX host names of recipient domains, looked up off the loop
//
// DESCRIPTION
//   sendguard-policyd answers each policy request at once, on its one
//   event-loop thread (common/net/event_loop.h), yet rolling a recipient
//   domain up to its provider (providers.h) needs the domain's MX hosts.
//   MxCache keeps them, and looks up those it lacks on a few worker threads,
//   never on the loop thread:
//
//     policyd::MxCache mx(loop, querier, options);
//     mx.set_on_result([&](const std::string& domain) { ... });  // re-evaluate
//     if (auto hosts = mx.hosts("example.org"))
//         dest = table.rollup("example.org", *hosts);
//     else
//         dest = {"default", "example.org"};   // pending: the domain itself
//
//   hosts(domain) (domain compared in lower case without a trailing dot):
//     cached and not expired   the MX host names, lower case without the
//                              trailing dot, by preference (then name); a
//                              null MX (RFC 7505) gives {} ; NXDOMAIN and
//                              NODATA give the implicit MX {domain}
//                              (RFC 5321 §5.1); a failure (SERVFAIL,
//                              time-out, bad answer) also gives {domain}
//     otherwise                nullopt, and one lookup of the domain is
//                              started unless one is pending already
//                              (deduplicated) or max_pending lookups are
//                              pending (then it is dropped and counted; a
//                              later call tries again)
//   Lookups are bounded so that names whose DNS never answers (anyone can
//   send RCPTs to them) cannot starve the domains mail really goes to:
//     - a domain whose last answer was Ok (it has MX hosts, the "known"
//       domains: at most max_entries, the oldest going first) is queued
//       ahead of every other, and while workers > 1 one worker is kept for
//       known domains: at most workers - 1 look up the others at once;
//       at max_pending, a known domain takes the place of the other lookup
//       queued last (that one is dropped and counted);
//     - a lookup still queued budget after it was started is not made: it
//       expires (counted), is kept as a failure ({domain}) for failure_ttl
//       and on_result is not called for it;
//     - a Timeout answer is kept for min_ttl (at least failure_ttl), not
//       failure_ttl, so a hanging domain costs a worker one budget per
//       min_ttl, not one per failure_ttl;
//     - lookups dropped at max_pending, expired or timed out are logged as
//       one warning a minute at most, with their counts since the last
//       one ("policyd: mx_lookups=degraded, dropped=N, expired=N,
//       timed_out=N, pending=N, max_pending=N").
//   A pending lookup never stalls an answer: hosts() returns at once.
//
//   A name that cannot be a domain (empty, over 253 characters, a character
//   outside [A-Za-z0-9._-], an empty label) is never looked up: {name}.
//
//   How long an answer is kept follows dns::Cache (common/dns/cache.h):
//   Ok/NxDomain/NoData for their TTL clamped to [min_ttl, max_ttl],
//   failures for failure_ttl; at most max_entries domains, the least
//   recently used going first. So that a landed result is still there
//   when on_result re-evaluates (and no lookup loop can start), max_entries
//   below 1 is taken as 1, min_ttl and failure_ttl below 1s as 1s, workers,
//   max_pending and budget below 1 as 1. Time is options.clock (steady
//   time), injectable for tests.
//
//   Results land through an eventfd that the loop watches: the worker puts
//   (domain, answer) on a queue under a mutex and writes the eventfd; on the
//   loop thread the cache stores it, the domain stops being pending, and
//   on_result(domain) is called.
//
// ERRORS
//   The constructor throws std::system_error when the eventfd or a thread
//   cannot be made. DNS outcomes are values. Exceptions from on_result
//   propagate out of the loop's run()/run_once(), as the loop's own
//   callbacks do.
//
// THREAD SAFETY
//   Every member is for the loop's thread only. The Querier is called from
//   the worker threads at once and must be thread safe (dns::Resolver and
//   dns::Lookup are). The destructor stops the workers and waits for them:
//   at most one Querier budget for a lookup under way. Destroy it before the
//   loop.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_set>
#include <utility>
#include <vector>

#include "common/dns/answer.h"
#include "common/dns/cache.h"
#include "common/dns/resolver.h"
#include "common/net/event_loop.h"
#include "common/sys/fd.h"

namespace policyd {

struct MxCacheOptions {
    dns::CacheLimits limits{10000, std::chrono::seconds(30), std::chrono::hours(1),
                            std::chrono::seconds(5)};
    std::chrono::seconds budget{5};  // per lookup, passed to the Querier
    std::size_t workers = 2;         // at least 1
    std::size_t max_pending = 256;   // lookups queued or under way, at least 1
    std::function<std::chrono::steady_clock::time_point()> clock{};  // empty: steady_clock::now
};

struct MxCacheCounters {
    uint64_t hits = 0;          // hosts() answered from the cache
    uint64_t misses = 0;        // hosts() that found nothing cached
    uint64_t started = 0;       // lookups started
    uint64_t deduplicated = 0;  // misses for a domain already pending
    uint64_t dropped = 0;       // misses not looked up: max_pending reached
    uint64_t expired = 0;       // lookups still queued after their budget: not made
    uint64_t timed_out = 0;     // results that landed as Timeout
    uint64_t warnings = 0;      // warnings logged about dropped/expired/timed-out lookups
    uint64_t answers = 0;       // results that landed: Ok, NxDomain, NoData
    uint64_t failures = 0;      // results that landed: ServFail, Timeout, Error
    uint64_t invalid = 0;       // names that cannot be domains
};

class MxCache {
public:
    using OnResult = std::function<void(const std::string& domain)>;

    MxCache(net::EventLoop& loop, std::shared_ptr<const dns::Querier> querier,
            MxCacheOptions options = {});
    ~MxCache();
    MxCache(const MxCache&) = delete;
    MxCache& operator=(const MxCache&) = delete;

    // See DESCRIPTION.
    std::optional<std::vector<std::string>> hosts(std::string_view domain);
    // Called on the loop thread after a result for domain is stored.
    void set_on_result(OnResult fn) { on_result_ = std::move(fn); }

    std::size_t pending() const noexcept { return pending_.size(); }
    std::size_t size() const { return cache_.size(); }
    const MxCacheCounters& counters() const noexcept { return counters_; }

    // The host list an answer for domain gives (see DESCRIPTION).
    static std::vector<std::string> hosts_of(std::string_view domain, const dns::Answer& answer);

private:
    using TimePoint = std::chrono::steady_clock::time_point;
    struct Result {
        std::string domain;
        dns::Answer answer;
    };
    struct Job {
        std::string domain;
        TimePoint started;
    };
    void work();
    void on_ready();
    TimePoint now() const;
    void start(std::string domain, TimePoint t);
    void expire_queued(TimePoint t);
    bool give_way();
    void remember_known(const std::string& domain);
    void warn_if_degraded(TimePoint t);

    net::EventLoop& loop_;
    std::shared_ptr<const dns::Querier> querier_;
    MxCacheOptions options_;
    dns::Cache cache_;
    dns::Cache timeouts_;  // Timeout answers, kept for min_ttl
    std::unordered_set<std::string> pending_;  // loop thread only
    std::unordered_set<std::string> known_;    // loop thread only: last answer Ok
    std::deque<std::string> known_order_;      // oldest first
    MxCacheCounters counters_;
    MxCacheCounters warned_;  // counters_ at the last warning
    std::optional<TimePoint> warned_at_;
    OnResult on_result_;
    sys::Fd ready_;  // eventfd: results queued

    std::mutex mu_;  // guards the queues, others_busy_, results_, stop_
    std::condition_variable cv_;
    std::deque<Job> known_jobs_;  // served first
    std::deque<Job> other_jobs_;
    std::size_t others_busy_ = 0;  // workers looking up an other domain
    std::vector<Result> results_;
    bool stop_ = false;
    std::vector<std::thread> threads_;
};

}  // namespace policyd
