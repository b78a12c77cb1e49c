// client.cc - see client.h
#include "common/policy/client.h"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <utility>

namespace policy {
namespace {

using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point deadline) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return left <= 0 ? 0 : static_cast<int>(left);
}

// Waits until fd is ready for events or the deadline passes; false on a
// time-out (errno 0) or a poll error (errno set).
bool wait_ready(int fd, short events, Clock::time_point deadline) {
    for (;;) {
        const int ms = remaining_ms(deadline);
        if (ms == 0) {
            errno = 0;
            return false;
        }
        pollfd p{fd, events, 0};
        const int n = ::poll(&p, 1, ms);
        if (n > 0) return true;
        if (n < 0 && errno != EINTR) return false;
    }
}

// An idle connection is usable when nothing is waiting on it: a readable
// socket has been closed by the service (or holds stray bytes).
bool still_idle(int fd) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, 0) == 0;
}

std::string seconds_text(std::chrono::milliseconds t) {
    if (t.count() % 1000 == 0) return std::to_string(t.count() / 1000) + "s";
    return std::to_string(t.count()) + "ms";
}

}  // namespace

ClientPool::ClientPool(net::Endpoint endpoint, std::chrono::milliseconds timeout)
    : endpoint_(std::move(endpoint)), endpoint_text_(endpoint_.str()), timeout_(timeout) {}

size_t ClientPool::idle() const {
    const std::lock_guard g(mu_);
    return idle_.size();
}

sys::Fd ClientPool::take() const {
    const std::lock_guard g(mu_);
    while (!idle_.empty()) {
        sys::Fd fd = std::move(idle_.back());
        idle_.pop_back();
        if (still_idle(fd.get())) return fd;
    }
    return {};
}

void ClientPool::give_back(sys::Fd fd) const {
    const std::lock_guard g(mu_);
    if (idle_.size() < kMaxIdleConnections) idle_.push_back(std::move(fd));
}

ClientPool::Outcome ClientPool::round_trip(int fd, const std::string& wire, Deadline deadline,
                                           bool reused) const {
    const std::string timed_out = "timed out after " + seconds_text(timeout_);
    size_t off = 0;
    while (off < wire.size()) {
        const ssize_t n = ::send(fd, wire.data() + off, wire.size() - off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n >= 0) {
            off += static_cast<size_t>(n);
            continue;
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            if (!wait_ready(fd, POLLOUT, deadline))
                return {std::nullopt, errno ? std::string("write: ") + std::strerror(errno) : timed_out};
            continue;
        }
        const int e = errno;
        return {std::nullopt, std::string("write: ") + std::strerror(e),
                reused && (e == EPIPE || e == ECONNRESET)};
    }
    std::string in;
    char buf[4096];
    for (;;) {
        const ReplyResult r = decode_reply(in, kMaxReply);
        if (r.status == DecodeStatus::Done) return {std::string(r.action), {}};
        if (r.status == DecodeStatus::Error) return {std::nullopt, "bad reply: " + std::string(r.error)};
        if (!wait_ready(fd, POLLIN, deadline))
            return {std::nullopt, errno ? std::string("read: ") + std::strerror(errno) : timed_out};
        const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n > 0) {
            in.append(buf, static_cast<size_t>(n));
            continue;
        }
        if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
        const bool nothing = in.empty();
        const std::string why = n == 0 ? std::string("connection closed by the service")
                                       : std::string("read: ") + std::strerror(errno);
        return {std::nullopt, nothing ? why : why + " in the middle of a reply",
                reused && nothing};
    }
}

Asked ClientPool::ask(const Request& req) const {
    const Deadline deadline = Clock::now() + timeout_;
    const std::string wire = format_request(req);
    std::string error;
    for (int attempt = 0; attempt < 2; ++attempt) {
        sys::Fd fd = attempt == 0 ? take() : sys::Fd();
        const bool reused = static_cast<bool>(fd);
        if (!fd) {
            const int ms = remaining_ms(deadline);
            if (ms == 0) return {std::nullopt, error.empty() ? "timed out after " + seconds_text(timeout_) : error};
            try {
                fd = net::connect_endpoint(endpoint_, std::chrono::milliseconds(ms));
            } catch (const std::bad_alloc&) {
                throw;
            } catch (const std::exception& e) {
                return {std::nullopt, e.what()};
            }
        }
        Outcome o = round_trip(fd.get(), wire, deadline, reused);
        if (o.action) {
            give_back(std::move(fd));
            return {std::move(o.action), {}};
        }
        error = endpoint_text_ + ": " + o.error;
        if (!o.retry) break;
    }
    return {std::nullopt, error};
}

}  // namespace policy
