// stream_server.cc - see stream_server.h
#include "common/net/stream_server.h"

#include "common/log/log.h"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <system_error>

namespace net {

Protocol::~Protocol() = default;

namespace {

constexpr size_t kReadChunk = 64 * 1024;
constexpr int kAcceptBurst = 64;  // accepts per wake-up, so I/O is not starved
constexpr auto kAcceptPause = std::chrono::milliseconds(100);

std::string format_peer(const sockaddr_storage& ss) {
    char host[INET6_ADDRSTRLEN] = "";
    if (ss.ss_family == AF_INET) {
        const auto* s4 = reinterpret_cast<const sockaddr_in*>(&ss);
        ::inet_ntop(AF_INET, &s4->sin_addr, host, sizeof host);
        return std::string(host) + ":" + std::to_string(ntohs(s4->sin_port));
    }
    if (ss.ss_family == AF_INET6) {
        const auto* s6 = reinterpret_cast<const sockaddr_in6*>(&ss);
        ::inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof host);
        return "[" + std::string(host) + "]:" + std::to_string(ntohs(s6->sin6_port));
    }
    return "unix";
}

}  // namespace

StreamServer::StreamServer(EventLoop& loop, std::string name, ProtocolFactory factory,
                           ServerLimits limits)
    : loop_(loop),
      name_(std::move(name)),
      factory_(std::move(factory)),
      limits_(limits),
      rbuf_(kReadChunk) {
    if (limits_.max_input == 0) limits_.max_input = 1;
}

StreamServer::~StreamServer() {
    for (auto& [fd, c] : conns_) {
        loop_.unwatch(fd);
        loop_.cancel_timer(c->idle);
    }
    for (auto& l : listeners_) loop_.unwatch(l.fd());
    loop_.cancel_timer(accept_pause_);
}

void StreamServer::add_listener(Listener l) {
    const size_t index = listeners_.size();
    const int fd = l.fd();
    listeners_.push_back(std::move(l));
    try {
        loop_.watch(fd, EventLoop::kRead, [this, index](uint32_t) { on_accept(index); });
    } catch (...) {
        listeners_.pop_back();
        throw;
    }
}

bool StreamServer::warn_now(EventLoop::TimePoint& last, uint64_t& suppressed) {
    const auto now = loop_.now();
    if (last != EventLoop::TimePoint{} && now - last < std::chrono::seconds(1)) {
        ++suppressed;
        return false;
    }
    last = now;
    return true;
}

void StreamServer::on_accept(size_t index) {
    const int lfd = listeners_[index].fd();
    for (int i = 0; i < kAcceptBurst; ++i) {
        sockaddr_storage ss{};
        socklen_t len = sizeof ss;
        sys::Fd fd(::accept4(lfd, reinterpret_cast<sockaddr*>(&ss), &len,
                             SOCK_NONBLOCK | SOCK_CLOEXEC));
        if (!fd) {
            const int err = errno;
            if (err == EAGAIN || err == EWOULDBLOCK) return;
            if (err == EINTR || err == ECONNABORTED || err == EPROTO) continue;
            // Out of descriptors or memory: the pending connection stays in
            // the backlog and level-triggered epoll would spin on it. Pause.
            if (warn_now(last_accept_warn_, accept_suppressed_)) {
                logging::warning("", logging::Line(name_)
                                         .kv("action", "pause accept")
                                         .kv("endpoint", listeners_[index].endpoint().str())
                                         .kv("reason", std::strerror(err))
                                         .kv("suppressed", static_cast<long long>(
                                                               std::exchange(accept_suppressed_, 0))));
            }
            for (auto& l : listeners_) loop_.set_interest(l.fd(), 0);
            if (!accept_pause_) {
                accept_pause_ = loop_.add_timer(kAcceptPause, [this] {
                    accept_pause_ = {};
                    for (auto& l : listeners_) loop_.set_interest(l.fd(), EventLoop::kRead);
                });
            }
            return;
        }
        std::string peer = format_peer(ss);
        if (conns_.size() >= limits_.max_connections) {
            ++stats_.refused;
            if (warn_now(last_refuse_warn_, refuse_suppressed_)) {
                logging::warning("", logging::Line(name_)
                                         .kv("action", "refuse")
                                         .kv("peer", peer)
                                         .kv("reason", "too many connections")
                                         .kv("max_connections",
                                             static_cast<long long>(limits_.max_connections))
                                         .kv("suppressed", static_cast<long long>(
                                                               std::exchange(refuse_suppressed_, 0))));
            }
            continue;  // fd closes here
        }
        if (ss.ss_family == AF_INET || ss.ss_family == AF_INET6) {
            // Replies are small and often pipelined: do not wait for ACKs.
            const int one = 1;
            ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        }
        try {
            open_conn(std::move(fd), std::move(peer));
        } catch (const std::exception& e) {
            logging::warning("", logging::Line(name_)
                                     .kv("action", "drop connection")
                                     .kv("reason", e.what()));
        }
    }
}

void StreamServer::open_conn(sys::Fd fd, std::string peer) {
    auto c = std::make_unique<Conn>();
    c->proto = factory_();
    if (!c->proto) throw std::runtime_error("protocol factory returned null");
    c->peer = std::move(peer);
    c->last_active = loop_.now();
    const int raw = fd.get();
    c->fd = std::move(fd);
    Conn* cp = c.get();
    loop_.watch(raw, EventLoop::kRead, [this, cp](uint32_t ev) { on_io(*cp, ev); });
    try {
        c->idle = loop_.add_timer(limits_.idle_timeout, [this, cp] { on_idle(*cp); });
        conns_.emplace(raw, std::move(c));
    } catch (...) {
        loop_.unwatch(raw);
        loop_.cancel_timer(cp->idle);
        throw;
    }
    ++stats_.accepted;
    logging::debug("", logging::Line(name_).kv("connect", cp->peer)
                           .kv("connections", static_cast<long long>(conns_.size())));
}

void StreamServer::close_conn(Conn& c, std::string_view reason) {
    const int fd = c.fd.get();
    logging::debug("", logging::Line(name_).kv("disconnect", c.peer).kv("reason", reason));
    loop_.unwatch(fd);
    loop_.cancel_timer(c.idle);
    ++stats_.closed;
    conns_.erase(fd);  // destroys c and closes fd
}

void StreamServer::on_idle(Conn& c) {
    c.idle = {};
    const auto deadline = c.last_active + limits_.idle_timeout;
    if (loop_.now() >= deadline) {
        ++stats_.idle_timeouts;
        close_conn(c, "idle timeout");
        return;
    }
    // Activity since the timer was set: one timer per connection, re-armed
    // lazily, instead of rescheduling on every request.
    c.idle = loop_.add_timer_at(deadline, [this, cp = &c] { on_idle(*cp); });
}

void StreamServer::on_io(Conn& c, uint32_t events) {
    try {
        if ((events & (EventLoop::kRead | EventLoop::kHangup)) && !c.eof && !c.closing &&
            c.out.size() < kOutputHighWater && c.in.size() <= limits_.max_input) {
            if (!read_some(c)) return;
        }
        service(c);
    } catch (const std::exception& e) {
        logging::warning("", logging::Line(name_).kv("peer", c.peer).kv("error", e.what()));
        close_conn(c, "exception");
    }
}

// Returns false when the connection was closed.
bool StreamServer::read_some(Conn& c) {
    const size_t room = limits_.max_input + 1 - c.in.size();
    const size_t want = room < rbuf_.size() ? room : rbuf_.size();
    for (;;) {
        const ssize_t n = ::recv(c.fd.get(), rbuf_.data(), want, 0);
        if (n > 0) {
            c.in.append(rbuf_.data(), static_cast<size_t>(n));
            c.last_active = loop_.now();
            c.pending = true;
            return true;
        }
        if (n == 0) {
            c.eof = true;
            c.pending = true;
            return true;
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
        close_conn(c, std::strerror(errno));
        return false;
    }
}

// Runs the protocol and writes its output until nothing more can be done
// now; sets the epoll interest. Returns false when the connection was closed.
bool StreamServer::service(Conn& c) {
    for (;;) {
        if (c.pending && !c.closing && c.out.size() < kOutputHighWater) {
            c.pending = false;
            if (!c.in.empty()) {
                if (!c.proto->on_data(c.in, c.out)) {
                    c.closing = true;
                } else if (c.out.size() >= kOutputHighWater) {
                    c.throttled = true;
                } else if (c.in.size() > limits_.max_input) {
                    ++stats_.input_overflows;
                    logging::warning("", logging::Line(name_)
                                             .kv("peer", c.peer)
                                             .kv("reason", "request too large")
                                             .kv("max_input",
                                                 static_cast<long long>(limits_.max_input)));
                    c.in.clear();
                    c.closing = true;
                }
            }
            if (c.eof && !c.throttled) c.closing = true;
        }
        if (!flush(c)) return false;
        if (c.closing && c.out.empty()) {
            close_conn(c, c.eof ? "end of input" : "protocol");
            return false;
        }
        if (c.throttled && c.out.size() < kOutputHighWater) {
            // Drained: let the protocol consume what it left behind.
            c.throttled = false;
            c.pending = true;
            continue;
        }
        break;
    }
    uint32_t interest = 0;
    if (!c.eof && !c.closing && !c.throttled && c.in.size() <= limits_.max_input)
        interest |= EventLoop::kRead;
    if (!c.out.empty()) interest |= EventLoop::kWrite;
    loop_.set_interest(c.fd.get(), interest);
    return true;
}

// Writes what the socket takes now. Returns false when the connection was
// closed on a write error.
bool StreamServer::flush(Conn& c) {
    while (!c.out.empty()) {
        const ssize_t n = ::send(c.fd.get(), c.out.data(), c.out.size(), MSG_NOSIGNAL);
        if (n > 0) {
            c.out.erase(0, static_cast<size_t>(n));
            c.last_active = loop_.now();
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
        close_conn(c, n < 0 ? std::strerror(errno) : "write returned 0");
        return false;
    }
    return true;
}

}  // namespace net
