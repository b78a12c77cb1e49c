// cache.cc - see cache.h
#include "common/dns/cache.h"

#include <algorithm>

namespace dns {

std::string Cache::key_of(std::string_view name, Type type) {
    std::string k = std::to_string(static_cast<unsigned>(type));
    k += ' ';
    k += name;
    return k;
}

std::chrono::seconds Cache::lifetime(const Answer& answer) const noexcept {
    if (!answer.is_definite()) return limits_.failure_ttl;
    return std::clamp(answer.ttl, limits_.min_ttl, std::max(limits_.min_ttl, limits_.max_ttl));
}

std::optional<Answer> Cache::find(std::string_view name, Type type, TimePoint now) {
    const std::string key = key_of(name, type);
    std::lock_guard lock(mu_);
    auto it = index_.find(key);
    if (it == index_.end()) return std::nullopt;
    if (it->second->expires <= now) {
        lru_.erase(it->second);
        index_.erase(it);
        return std::nullopt;
    }
    lru_.splice(lru_.begin(), lru_, it->second);
    return it->second->answer;
}

void Cache::store(std::string_view name, Type type, const Answer& answer, TimePoint now) {
    const std::chrono::seconds keep = lifetime(answer);
    if (keep <= std::chrono::seconds(0) || limits_.max_entries == 0) return;
    std::string key = key_of(name, type);
    std::lock_guard lock(mu_);
    if (auto it = index_.find(key); it != index_.end()) {
        lru_.erase(it->second);
        index_.erase(it);
    }
    while (lru_.size() >= limits_.max_entries) {
        index_.erase(lru_.back().key);
        lru_.pop_back();
    }
    lru_.push_front(Entry{key, answer, now + keep});
    index_.emplace(std::move(key), lru_.begin());
}

std::size_t Cache::size() const {
    std::lock_guard lock(mu_);
    return lru_.size();
}

}  // namespace dns
