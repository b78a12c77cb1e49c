// connection_limit.cc - see connection_limit.h
#include "milter/connection_limit.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <atomic>

namespace milter {
namespace {

std::atomic<ConnectionLimit*> g_active{nullptr};

}  // namespace

std::string client_address(const sockaddr* addr, socklen_t len) {
    char buf[INET6_ADDRSTRLEN] = "";
    if (!addr) return {};
    if (addr->sa_family == AF_INET && len >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
        const auto* in = reinterpret_cast<const sockaddr_in*>(addr);
        if (inet_ntop(AF_INET, &in->sin_addr, buf, sizeof buf)) return buf;
    } else if (addr->sa_family == AF_INET6 && len >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
        const auto* in6 = reinterpret_cast<const sockaddr_in6*>(addr);
        if (inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof buf)) return buf;
    }
    return {};
}

Admission ConnectionLimit::admit(int fd, const sockaddr* addr, socklen_t len,
                                 std::chrono::steady_clock::time_point now) noexcept {
    Admission a;
    try {
        a.client = client_address(addr, len);
        std::lock_guard lock(mu_);
        const std::size_t from_client = a.client.empty() ? 0 : per_client_[a.client];
        if (open_.size() >= limits_.total) {
            a.admitted = false;
            a.limit = "milter_max_connections";
            a.value = limits_.total;
        } else if (limits_.per_client && !a.client.empty() && from_client >= limits_.per_client) {
            a.admitted = false;
            a.limit = "milter_max_client_connections";
            a.value = limits_.per_client;
        } else {
            // An fd still listed was closed behind our back (not through
            // close()): its old entry is gone with it.
            if (auto old = open_.find(fd); old != open_.end()) {
                if (!old->second.empty() && --per_client_[old->second] == 0) per_client_.erase(old->second);
                open_.erase(old);
            }
            open_.emplace(fd, a.client);
            if (!a.client.empty()) ++per_client_[a.client];
            return a;
        }
        if (!a.client.empty() && from_client == 0) per_client_.erase(a.client);
        uint64_t held = 0;
        if (refusal_log_.due(std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count(),
                             &held)) {
            a.log = true;
            a.refused = held + 1;  // this one too
        }
    } catch (...) {
        a.admitted = false;
        a.limit = "memory";
    }
    return a;
}

void ConnectionLimit::set_limits(ConnectionLimits limits) noexcept {
    std::lock_guard lock(mu_);
    limits_ = limits;
}

void ConnectionLimit::release(int fd) noexcept {
    std::lock_guard lock(mu_);
    auto it = open_.find(fd);
    if (it == open_.end()) return;
    if (!it->second.empty()) {
        auto c = per_client_.find(it->second);
        if (c != per_client_.end() && --c->second == 0) per_client_.erase(c);
    }
    open_.erase(it);
}

bool ConnectionLimit::holds(int fd) const noexcept {
    std::lock_guard lock(mu_);
    return open_.count(fd) != 0;
}

std::size_t ConnectionLimit::open() const noexcept {
    std::lock_guard lock(mu_);
    return open_.size();
}

void install(ConnectionLimit* limit) noexcept { g_active.store(limit); }

ConnectionLimit* active() noexcept { return g_active.load(); }

}  // namespace milter
