// mx_cache.cc - MX host names looked up off the loop (see mx_cache.h)
#include "policyd/mx_cache.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

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
      cache_(options_.limits) {
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
        jobs_.clear();
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
    if (auto a = cache_.find(d, dns::Type::MX, now())) {
        ++counters_.hits;
        return hosts_of(d, *a);
    }
    ++counters_.misses;
    if (pending_.count(d)) {
        ++counters_.deduplicated;
        return std::nullopt;
    }
    if (pending_.size() >= options_.max_pending) {
        ++counters_.dropped;
        return std::nullopt;
    }
    pending_.insert(d);
    {
        std::lock_guard lock(mu_);
        jobs_.push_back(std::move(d));
    }
    cv_.notify_one();
    ++counters_.started;
    return std::nullopt;
}

void MxCache::work() {
    for (;;) {
        std::string domain;
        {
            std::unique_lock lock(mu_);
            cv_.wait(lock, [this] { return stop_ || !jobs_.empty(); });
            if (stop_) return;
            domain = std::move(jobs_.front());
            jobs_.pop_front();
        }
        dns::Answer answer;
        try {
            answer = querier_->query(domain, dns::Type::MX, options_.budget);
        } catch (const std::exception&) {
            // A Querier reports failures as values; anything thrown (memory)
            // is a failure of this lookup, kept briefly like any other.
            answer = dns::Answer{};
        }
        {
            std::lock_guard lock(mu_);
            if (stop_) return;
            results_.push_back({std::move(domain), std::move(answer)});
        }
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
        cache_.store(r.domain, dns::Type::MX, r.answer, t);
        pending_.erase(r.domain);
    }
    if (!on_result_) return;
    for (const auto& r : results) on_result_(r.domain);
}

}  // namespace policyd
