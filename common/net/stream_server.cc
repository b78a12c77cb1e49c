// stream_server.cc - see stream_server.h
#include "common/net/stream_server.h"

#include "common/log/log.h"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <stdexcept>
#include <system_error>

namespace net {

Protocol::~Protocol() = default;

namespace {

constexpr size_t kReadChunk = 64 * 1024;
constexpr int kAcceptBurst = 64;  // accepts per wake-up, so I/O is not starved
constexpr auto kAcceptPause = std::chrono::milliseconds(100);

std::string format_addr(const sockaddr_storage& ss, std::string* ip) {
    char host[INET6_ADDRSTRLEN] = "";
    if (ss.ss_family == AF_INET) {
        const auto* s4 = reinterpret_cast<const sockaddr_in*>(&ss);
        ::inet_ntop(AF_INET, &s4->sin_addr, host, sizeof host);
        *ip = host;
        return std::string(host) + ":" + std::to_string(ntohs(s4->sin_port));
    }
    if (ss.ss_family == AF_INET6) {
        const auto* s6 = reinterpret_cast<const sockaddr_in6*>(&ss);
        ::inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof host);
        *ip = host;
        return "[" + std::string(host) + "]:" + std::to_string(ntohs(s6->sin6_port));
    }
    return "unix";
}

Peer make_peer(const sockaddr_storage& ss, int fd) {
    if (ss.ss_family != AF_INET && ss.ss_family != AF_INET6) return Peer::from_unix_socket(fd);
    Peer p;
    p.addr = format_addr(ss, &p.key);
    return p;
}

long long ms(std::chrono::milliseconds d) { return static_cast<long long>(d.count()); }

void check_limits(const ServerLimits& l) {
    auto need = [](bool ok, const char* field) {
        if (!ok) throw std::invalid_argument(std::string("ServerLimits.") + field + " is not set");
    };
    need(l.max_connections > 0, "max_connections");
    need(l.max_connections_per_peer > 0, "max_connections_per_peer");
    need(l.max_input > 0, "max_input");
    need(l.idle_timeout.count() > 0, "idle_timeout");
    need(l.request_timeout.count() > 0, "request_timeout");
}

}  // namespace

StreamServer::StreamServer(EventLoop& loop, std::string name, ProtocolFactory factory,
                           ServerLimits limits)
    : loop_(loop),
      name_(std::move(name)),
      factory_(std::move(factory)),
      limits_(limits),
      rbuf_(kReadChunk) {
    check_limits(limits_);
}

std::string Peer::str() const {
    return has_creds ? "unix uid=" + std::to_string(uid) : addr;
}

Peer Peer::local(uid_t uid, gid_t gid, std::vector<gid_t> groups) {
    Peer p;
    p.addr = "unix";
    p.key = "uid " + std::to_string(uid);
    p.has_creds = true;
    p.uid = uid;
    p.gid = gid;
    p.groups = std::move(groups);
    return p;
}

Peer Peer::from_unix_socket(int fd) {
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
        // Not expected on Linux; such a peer shares one anonymous slot pool
        // and is granted nothing that needs credentials.
        Peer p;
        p.addr = "unix";
        p.key = "unix unknown";
        return p;
    }
    std::vector<gid_t> groups(64);
    socklen_t glen = static_cast<socklen_t>(groups.size() * sizeof(gid_t));
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &glen) != 0 && errno == ERANGE) {
        groups.resize(glen / sizeof(gid_t) + 1);
        glen = static_cast<socklen_t>(groups.size() * sizeof(gid_t));
        if (::getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &glen) != 0) glen = 0;
    }
    groups.resize(glen / sizeof(gid_t));
    return local(cred.uid, cred.gid, std::move(groups));
}

void StreamServer::set_limits(const ServerLimits& limits) {
    check_limits(limits);
    limits_ = limits;
}

size_t StreamServer::connections_of(const std::string& peer_key) const {
    auto it = per_peer_.find(peer_key);
    return it == per_peer_.end() ? 0 : it->second;
}

StreamServer::~StreamServer() {
    for (auto& [fd, c] : conns_) {
        loop_.unwatch(fd);
        loop_.cancel_timer(c->idle);
    }
    for (auto& l : listeners_) loop_.unwatch(l.fd());
    loop_.cancel_timer(accept_pause_);
    loop_.cancel_timer(drain_timer_);
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

bool StreamServer::warn_now(logging::Every& gate, uint64_t* held) {
    return gate.due(
        std::chrono::duration_cast<std::chrono::microseconds>(loop_.now().time_since_epoch()).count(), held);
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
            if (uint64_t held = 0; warn_now(accept_warn_, &held)) {
                logging::warning(logging::Line(name_)
                                         .kv("action", "pause accept")
                                         .kv("endpoint", listeners_[index].endpoint().str())
                                         .kv("reason", std::strerror(err))
                                         .kv("suppressed", static_cast<long long>(
                                                               held)));
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
        Peer peer = make_peer(ss, fd.get());
        if (refuse(peer)) continue;  // fd closes here
        if (ss.ss_family == AF_INET || ss.ss_family == AF_INET6) {
            // Replies are small and often pipelined: do not wait for ACKs.
            const int one = 1;
            ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        }
        try {
            open_conn(std::move(fd), std::move(peer));
        } catch (const std::exception& e) {
            logging::warning(logging::Line(name_)
                                     .kv("action", "drop connection")
                                     .kv("peer", peer.str())
                                     .kv("reason", e.what()));
        }
    }
}

// Over a limit: counts, logs (rate-limited) and returns true.
bool StreamServer::refuse(const Peer& peer) {
    const bool total = conns_.size() >= limits_.max_connections;
    if (!total && connections_of(peer.key) < limits_.max_connections_per_peer) return false;
    ++(total ? stats_.refused : stats_.refused_per_peer);
    if (uint64_t held = 0; warn_now(refuse_warn_, &held)) {
        logging::Line line(name_);
        line.kv("action", "refuse").kv("peer", peer.str());
        if (total)
            line.kv("reason", "too many connections")
                .kv("max_connections", static_cast<long long>(limits_.max_connections));
        else
            line.kv("reason", "too many connections from this peer")
                .kv("max_connections_per_peer",
                    static_cast<long long>(limits_.max_connections_per_peer));
        line.kv("suppressed", static_cast<long long>(held));
        logging::warning(line);
    }
    return true;
}

void StreamServer::open_conn(sys::Fd fd, Peer peer) {
    auto c = std::make_unique<Conn>();
    c->proto = factory_(peer);
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
    ++per_peer_[cp->peer.key];
    ++stats_.accepted;
    logging::debug(logging::Line(name_).kv("connect", cp->peer.str())
                           .kv("connections", static_cast<long long>(conns_.size())));
}

void StreamServer::close_conn(Conn& c, std::string_view reason) {
    const int fd = c.fd.get();
    logging::debug(logging::Line(name_).kv("disconnect", c.peer.str()).kv("reason", reason));
    loop_.unwatch(fd);
    loop_.cancel_timer(c.idle);
    ++stats_.closed;
    if (auto it = per_peer_.find(c.peer.key); it != per_peer_.end() && --it->second == 0)
        per_peer_.erase(it);
    conns_.erase(fd);  // destroys c and closes fd
    if (draining_) check_drained();
}

// One timer per connection, at the earlier of its idle deadline and its
// request deadline. It is re-armed lazily when it fires early (activity
// since), instead of being rescheduled on every request.
void StreamServer::on_idle(Conn& c) {
    c.idle = {};
    const auto now = loop_.now();
    if (c.request_start != EventLoop::TimePoint{} &&
        now >= c.request_start + limits_.request_timeout) {
        ++stats_.request_timeouts;
        if (uint64_t held = 0; warn_now(timeout_warn_, &held)) {
            logging::warning(logging::Line(name_)
                                     .kv("peer", c.peer.str())
                                     .kv("reason", "request not complete in time")
                                     .kv("request_timeout_ms", ms(limits_.request_timeout))
                                     .kv("suppressed", static_cast<long long>(
                                                           held)));
        }
        close_conn(c, "request timeout");
        return;
    }
    if (now >= c.last_active + limits_.idle_timeout) {
        ++stats_.idle_timeouts;
        close_conn(c, "idle timeout");
        return;
    }
    arm_timer(c);
}

void StreamServer::arm_timer(Conn& c) {
    if (c.idle) return;
    auto when = c.last_active + limits_.idle_timeout;
    if (c.request_start != EventLoop::TimePoint{} && c.request_start + limits_.request_timeout < when)
        when = c.request_start + limits_.request_timeout;
    c.idle = loop_.add_timer_at(when, [this, cp = &c] { on_idle(*cp); });
}

void StreamServer::on_io(Conn& c, uint32_t events) {
    try {
        if ((events & (EventLoop::kRead | EventLoop::kHangup)) && !c.eof && !c.closing &&
            c.out.size() < kOutputHighWater && c.in.size() <= limits_.max_input) {
            if (!read_some(c)) return;
        }
        service(c);
    } catch (const std::exception& e) {
        logging::warning(logging::Line(name_).kv("peer", c.peer.str()).kv("error", e.what()));
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

void StreamServer::drain(EventLoop::TimePoint deadline, std::function<void()> done) {
    if (draining_) return;
    draining_ = true;
    drained_ = std::move(done);
    for (auto& l : listeners_) loop_.unwatch(l.fd());
    listeners_.clear();  // closes them; a UNIX socket file is removed
    loop_.cancel_timer(accept_pause_);
    // Connections between requests go now; the others after their reply.
    std::vector<Conn*> idle;
    for (auto& [fd, c] : conns_)
        if (c->in.empty() && c->out.empty()) idle.push_back(c.get());
    for (Conn* c : idle) close_conn(*c, "shutdown");
    if (!conns_.empty()) {
        drain_timer_ = loop_.add_timer_at(deadline, [this] {
            drain_timer_ = {};
            std::vector<Conn*> left;
            for (auto& [fd, c] : conns_) left.push_back(c.get());
            if (!left.empty())
                logging::warning(logging::Line(name_)
                                         .kv("action", "shutdown")
                                         .kv("reason", "requests not finished in time")
                                         .kv("closed", static_cast<long long>(left.size())));
            for (Conn* c : left) close_conn(*c, "shutdown");
        });
    }
    check_drained();
}

void StreamServer::check_drained() {
    if (!conns_.empty() || !drained_) return;
    loop_.cancel_timer(drain_timer_);
    auto done = std::move(drained_);
    drained_ = nullptr;
    done();
}

// Runs the protocol and writes its output until nothing more can be done
// now; sets the epoll interest. Returns false when the connection was closed.
bool StreamServer::service(Conn& c) {
    for (;;) {
        if (c.pending && !c.closing && c.out.size() < kOutputHighWater) {
            c.pending = false;
            const size_t before = c.in.size();
            bool consumed = false;
            if (!c.in.empty()) {
                if (!c.proto->on_data(c.in, c.out)) {
                    c.closing = true;
                } else if (c.out.size() >= kOutputHighWater) {
                    c.throttled = true;
                } else if (c.in.size() > limits_.max_input) {
                    ++stats_.input_overflows;
                    logging::warning(logging::Line(name_)
                                             .kv("peer", c.peer.str())
                                             .kv("reason", "request too large")
                                             .kv("max_input",
                                                 static_cast<long long>(limits_.max_input)));
                    c.in.clear();
                    c.closing = true;
                }
                consumed = c.in.size() < before;
            }
            if (c.eof && !c.throttled) c.closing = true;
            // The request deadline runs while the protocol waits for more
            // input; a completed request starts the clock again for what
            // is left. Throttled input is complete requests, not the peer's
            // fault: the idle time-out covers a peer that does not read.
            if (c.in.empty() || c.throttled) {
                c.request_start = {};
            } else if (c.request_start == EventLoop::TimePoint{} || consumed) {
                c.request_start = loop_.now();
                if (c.idle && c.idle.when > c.request_start + limits_.request_timeout) {
                    loop_.cancel_timer(c.idle);
                    arm_timer(c);
                }
            }
        }
        if (!flush(c)) return false;
        if (c.closing && c.out.empty()) {
            close_conn(c, c.eof ? "end of input" : "protocol");
            return false;
        }
        if (draining_ && c.in.empty() && c.out.empty()) {
            close_conn(c, "shutdown");
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
