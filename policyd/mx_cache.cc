// mx_cache.cc - MX host names looked up off the loop (see mx_cache.h)
#include "policyd/mx_cache.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

#include "common/log/log.h"
#include "policyd/providers.h"

namespace policyd {

namespace {

bool valid_domain(std::string_view d) noexcept {
    if (d.empty() || d.size() > 253) return false;
    std::size_t label = 0;
    for (char c : d) {
        if (c == '.') {
            if (label == 0) return false;
            label = 0;
            continue;
        }
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
        if (!ok || ++label > 63) return false;
    }
    return label > 0;
}

// See mx_cache.h: every landed result lives at least a second.
MxCacheOptions floored(MxCacheOptions o) {
    o.limits.max_entries = std::max<std::size_t>(o.limits.max_entries, 1);
    o.limits.min_ttl = std::max(o.limits.min_ttl, std::chrono::seconds(1));
    o.limits.failure_ttl = std::max(o.limits.failure_ttl, std::chrono::seconds(1));
    o.limits.max_ttl = std::max(o.limits.max_ttl, o.limits.min_ttl);
    o.workers = std::max<std::size_t>(o.workers, 1);
    o.max_pending = std::max<std::size_t>(o.max_pending, 1);
    o.budget = std::max(o.budget, std::chrono::seconds(1));
    return o;
}

// Timeout answers are kept for min_ttl (see mx_cache.h).
dns::CacheLimits timeout_limits(const dns::CacheLimits& l) {
    const auto keep = std::max(l.min_ttl, l.failure_ttl);
    return {l.max_entries, keep, keep, keep};
}

// At most one warning about degraded lookups in this time.
constexpr std::chrono::seconds kWarnEvery{60};

}  // namespace

std::vector<std::string> MxCache::hosts_of(std::string_view domain, const dns::Answer& answer) {
    std::string self = normalise_host(domain);
    if (answer.status != dns::Status::Ok) return {self};
    std::vector<std::pair<uint16_t, std::string>> mx;
    for (const auto& r : answer.records) {
        std::string host = normalise_host(r.value);
        // RFC 7505: a null MX is the single record "0 ."; a "." among other
        // records is no host either.
        if (host.empty()) continue;
        mx.emplace_back(r.preference, std::move(host));
    }
    std::sort(mx.begin(), mx.end());
    std::vector<std::string> out;
    out.reserve(mx.size());
    for (auto& [pref, host] : mx) {
        if (std::find(out.begin(), out.end(), host) == out.end()) out.push_back(std::move(host));
    }
    return out;
}

MxCache::MxCache(net::EventLoop& loop, std::shared_ptr<const dns::Querier> querier,
                 MxCacheOptions options)
    : loop_(loop),
      querier_(std::move(querier)),
      options_(floored(std::move(options))),
      cache_(options_.limits),
      timeouts_(timeout_limits(options_.limits)) {
    ready_.reset(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
    if (!ready_) throw std::system_error(errno, std::generic_category(), "MX cache: eventfd");
    loop_.watch(ready_.get(), net::EventLoop::kRead, [this](uint32_t) { on_ready(); });
    try {
        for (std::size_t i = 0; i < options_.workers; ++i)
            threads_.emplace_back([this] { work(); });
    } catch (...) {
        {
            std::lock_guard lock(mu_);
            stop_ = true;
        }
        cv_.notify_all();
        for (auto& t : threads_) t.join();
        loop_.unwatch(ready_.get());
        throw;
    }
}

MxCache::~MxCache() {
    {
        std::lock_guard lock(mu_);
        stop_ = true;
        known_jobs_.clear();
        other_jobs_.clear();
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
    loop_.unwatch(ready_.get());
}

std::chrono::steady_clock::time_point MxCache::now() const {
    return options_.clock ? options_.clock() : std::chrono::steady_clock::now();
}

std::optional<std::vector<std::string>> MxCache::hosts(std::string_view domain) {
    std::string d = normalise_host(domain);
    if (!valid_domain(d)) {
        ++counters_.invalid;
        return std::vector<std::string>{d};
    }
    const auto t = now();
    if (auto a = cache_.find(d, dns::Type::MX, t)) {
        ++counters_.hits;
        return hosts_of(d, *a);
    }
    if (auto a = timeouts_.find(d, dns::Type::MX, t)) {
        ++counters_.hits;
        return hosts_of(d, *a);
    }
    ++counters_.misses;
    if (pending_.count(d)) {
        ++counters_.deduplicated;
        return std::nullopt;
    }
    expire_queued(t);
    if (pending_.size() >= options_.max_pending && !(known_.count(d) && give_way())) {
        ++counters_.dropped;
        warn_if_degraded(t);
        return std::nullopt;
    }
    start(std::move(d), t);
    return std::nullopt;
}

void MxCache::start(std::string domain, TimePoint t) {
    pending_.insert(domain);
    const bool known = known_.count(domain) > 0;
    {
        std::lock_guard lock(mu_);
        (known ? known_jobs_ : other_jobs_).push_back({std::move(domain), t});
    }
    // Any worker may be the one free to take it.
    cv_.notify_all();
    ++counters_.started;
}

// Lookups still queued budget after they were started are not made: kept
// as failures, they leave room for the domains asked for now.
void MxCache::expire_queued(TimePoint t) {
    std::vector<std::string> gone;
    {
        std::lock_guard lock(mu_);
        for (auto* q : {&known_jobs_, &other_jobs_}) {
            while (!q->empty() && t - q->front().started >= options_.budget) {
                gone.push_back(std::move(q->front().domain));
                q->pop_front();
            }
        }
    }
    dns::Answer failed;
    failed.status = dns::Status::Timeout;
    for (const auto& d : gone) {
        cache_.store(d, dns::Type::MX, failed, t);
        pending_.erase(d);
        ++counters_.expired;
    }
}

// A known domain takes the place of the other lookup queued last, if any.
bool MxCache::give_way() {
    std::string gone;
    {
        std::lock_guard lock(mu_);
        if (other_jobs_.empty()) return false;
        gone = std::move(other_jobs_.back().domain);
        other_jobs_.pop_back();
    }
    pending_.erase(gone);
    ++counters_.dropped;
    return true;
}

void MxCache::remember_known(const std::string& domain) {
    if (!known_.insert(domain).second) return;
    known_order_.push_back(domain);
    while (known_order_.size() > options_.limits.max_entries) {
        known_.erase(known_order_.front());
        known_order_.pop_front();
    }
}

void MxCache::warn_if_degraded(TimePoint t) {
    const uint64_t dropped = counters_.dropped - warned_.dropped;
    const uint64_t expired = counters_.expired - warned_.expired;
    const uint64_t timed_out = counters_.timed_out - warned_.timed_out;
    if (dropped + expired + timed_out == 0) return;
    if (warned_at_ && t - *warned_at_ < kWarnEvery) return;
    warned_at_ = t;
    warned_ = counters_;
    ++counters_.warnings;
    ++warned_.warnings;
    logging::warning(logging::Line("policyd")
                         .kv("mx_lookups", "degraded")
                         .kv("dropped", static_cast<long long>(dropped))
                         .kv("expired", static_cast<long long>(expired))
                         .kv("timed_out", static_cast<long long>(timed_out))
                         .kv("pending", static_cast<long long>(pending_.size()))
                         .kv("max_pending", static_cast<long long>(options_.max_pending)));
}

void MxCache::work() {
    // While there are several workers, one is kept for known domains.
    const std::size_t others_max = std::max<std::size_t>(options_.workers - 1, 1);
    for (;;) {
        Job job;
        bool other = false;
        {
            std::unique_lock lock(mu_);
            cv_.wait(lock, [&] {
                return stop_ || !known_jobs_.empty() ||
                       (!other_jobs_.empty() && others_busy_ < others_max);
            });
            if (stop_) return;
            auto& q = known_jobs_.empty() ? other_jobs_ : known_jobs_;
            other = &q == &other_jobs_;
            job = std::move(q.front());
            q.pop_front();
            if (other) ++others_busy_;
        }
        dns::Answer answer;
        try {
            answer = querier_->query(job.domain, dns::Type::MX, options_.budget);
        } catch (const std::exception&) {
            // A Querier reports failures as values; anything thrown (memory)
            // is a failure of this lookup, kept briefly like any other.
            answer = dns::Answer{};
        }
        {
            std::lock_guard lock(mu_);
            if (other) --others_busy_;
            if (stop_) return;
            results_.push_back({std::move(job.domain), std::move(answer)});
        }
        // A worker kept for known domains may take an other one now.
        if (other) cv_.notify_all();
        const uint64_t one = 1;
        // EAGAIN only when the counter is near overflow: the loop has
        // results to read already.
        [[maybe_unused]] ssize_t n = ::write(ready_.get(), &one, sizeof one);
    }
}

void MxCache::on_ready() {
    uint64_t count = 0;
    [[maybe_unused]] ssize_t n = ::read(ready_.get(), &count, sizeof count);
    std::vector<Result> results;
    {
        std::lock_guard lock(mu_);
        results.swap(results_);
    }
    const auto t = now();
    for (auto& r : results) {
        if (r.answer.is_definite())
            ++counters_.answers;
        else
            ++counters_.failures;
        if (r.answer.status == dns::Status::Ok) remember_known(r.domain);
        if (r.answer.status == dns::Status::Timeout) {
            ++counters_.timed_out;
            timeouts_.store(r.domain, dns::Type::MX, r.answer, t);
        } else {
            cache_.store(r.domain, dns::Type::MX, r.answer, t);
        }
        pending_.erase(r.domain);
    }
    warn_if_degraded(t);
    if (!on_result_) return;
    for (const auto& r : results) on_result_(r.domain);
}

}  // namespace policyd
