// stream_server.h - generic connection server on an EventLoop
//
// StreamServer accepts stream connections on one or more Listeners and runs a
// pluggable Protocol (framing + handler) per connection, created by a
// factory. It is the shared core of the socketmap server and the policy
// daemon: hundreds of persistent connections, one thread, no blocking.
//
// Per connection:
//   - input is buffered and handed to Protocol::on_data(in, out), which
//     consumes complete requests from the front of `in` and appends replies
//     to `out`; returning false closes the connection once `out` is sent
//     (so a final error reply reaches the peer);
//   - unconsumed input is bounded by ServerLimits::max_input: past it the
//     connection is closed with a warning (protocols that can, like
//     socketmap, refuse an oversized request earlier, with a reply);
//   - output is written as soon as it is produced; while more than
//     kOutputHighWater bytes wait for a slow peer the server stops reading
//     (backpressure), and a Protocol should stop consuming requests once
//     out.size() >= kOutputHighWater: the server calls on_data again when
//     the output has drained, with no new input;
//   - a connection with no read or write progress for idle_timeout is closed;
//   - a request must be complete within request_timeout of the moment input
//     for it is waiting (the first byte, or what was left after the last
//     complete request): a client trickling one byte per idle period cannot
//     hold its slot (closed with a warning);
//   - when the peer shuts down its sending side, the complete requests it
//     sent are still answered before the connection closes.
// Peers: a UNIX-domain client is identified by its uid (SO_PEERCRED, which
// also gives its gid; its supplementary groups come from SO_PEERGROUPS), an
// inet client by its IP address. The Peer is handed to the factory, so a
// protocol can decide per peer (e.g. which maps it may query).
// Over max_connections in total, or max_connections_per_peer from one uid or
// IP address, a new connection is accepted and closed at once with a warning
// (at most one per second, with a count of those not logged).
//
// ServerLimits has no defaults: the daemon fills it from its parameters
// (policyd::Settings), tests with explicit values; the constructor refuses
// a zero in any field (std::invalid_argument naming it). set_limits()
// changes them for a running server (a reload): new connections and the
// next time-out check see the new values.
//
// Shutdown: drain(deadline, done) stops accepting (the listeners are closed,
// so a UNIX socket file disappears), closes connections that are between
// requests, lets the others finish their request and send their replies,
// and calls done() once no connection is left or at the deadline, when the
// rest are closed.
//
// Errors: add_listener() throws std::system_error from epoll_ctl. Failures of
// one connection (I/O errors, exceptions from the factory or the protocol)
// close that connection with a logged warning and never leave the server;
// accept(2) running out of descriptors pauses accepting for 100ms.
// Logs: "<name>: ..." key=value lines; warnings for refused connections,
// oversized input and protocol exceptions; connect/disconnect at debug level.
// Thread safety: everything runs on the loop's thread.
#pragma once

#include "common/log/every.h"
#include "common/net/event_loop.h"
#include "common/net/listener.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <sys/types.h>
#include <unordered_map>
#include <vector>

namespace net {

// Who is at the other end of a connection.
struct Peer {
    std::string addr;          // "unix", "192.0.2.1:4711", "[::1]:4711"
    std::string key;           // per-peer limit key: "uid 107", "192.0.2.1"
    bool has_creds = false;    // UNIX-domain peer: uid/gid/groups are set
    uid_t uid = static_cast<uid_t>(-1);
    gid_t gid = static_cast<gid_t>(-1);
    std::vector<gid_t> groups; // supplementary groups (SO_PEERGROUPS)

    // "unix uid=107" or the address, for log lines.
    std::string str() const;
    // A UNIX-domain peer from a connected socket, or a test value.
    static Peer from_unix_socket(int fd);
    static Peer local(uid_t uid, gid_t gid, std::vector<gid_t> groups = {});
};

struct Protocol {
    virtual ~Protocol();
    // Called with buffered input; consumes complete requests, appends
    // replies to out; returns false to close the connection.
    virtual bool on_data(std::string& in, std::string& out) = 0;
};

using ProtocolFactory = std::function<std::unique_ptr<Protocol>(const Peer& peer)>;

// Output size past which the server stops reading and a Protocol should
// stop consuming requests (see above).
inline constexpr size_t kOutputHighWater = 256 * 1024;

// No defaults on purpose (see above): every field must be set.
struct ServerLimits {
    size_t max_connections;
    size_t max_connections_per_peer;
    size_t max_input;  // unconsumed input bytes per connection
    std::chrono::milliseconds idle_timeout;
    std::chrono::milliseconds request_timeout;
    bool operator==(const ServerLimits&) const = default;
};

struct ServerStats {
    uint64_t accepted = 0;
    uint64_t refused = 0;           // over max_connections
    uint64_t refused_per_peer = 0;  // over max_connections_per_peer
    uint64_t closed = 0;
    uint64_t idle_timeouts = 0;
    uint64_t request_timeouts = 0;
    uint64_t input_overflows = 0;
};

class StreamServer {
public:
    // name: the component in log lines ("socketmap", "policyd").
    StreamServer(EventLoop& loop, std::string name, ProtocolFactory factory,
                 ServerLimits limits);
    ~StreamServer();
    StreamServer(const StreamServer&) = delete;
    StreamServer& operator=(const StreamServer&) = delete;

    // Starts accepting on l; the server owns it from now on.
    void add_listener(Listener l);
    // New limits for a running server; throws std::invalid_argument for a
    // zero field.
    void set_limits(const ServerLimits& limits);
    // See "Shutdown" above. done runs on the loop's thread, once.
    void drain(EventLoop::TimePoint deadline, std::function<void()> done);

    size_t connections() const noexcept { return conns_.size(); }
    size_t connections_of(const std::string& peer_key) const;
    const ServerStats& stats() const noexcept { return stats_; }
    const ServerLimits& limits() const noexcept { return limits_; }

private:
    struct Conn {
        sys::Fd fd;
        Peer peer;
        std::string in;
        std::string out;
        std::unique_ptr<Protocol> proto;
        EventLoop::TimePoint last_active{};
        EventLoop::TimePoint request_start{};  // input waiting since; {} when none
        EventLoop::TimerId idle;
        bool pending = false;    // on_data should run (new input or throttled)
        bool throttled = false;  // on_data stopped at the high-water mark
        bool eof = false;        // peer shut down its side
        bool closing = false;    // close once out is sent
    };

    void on_accept(size_t listener);
    void open_conn(sys::Fd fd, Peer peer);
    bool refuse(const Peer& peer);
    void arm_timer(Conn& c);
    void check_drained();
    void on_io(Conn& c, uint32_t events);
    bool read_some(Conn& c);
    bool service(Conn& c);
    bool flush(Conn& c);
    void on_idle(Conn& c);
    void close_conn(Conn& c, std::string_view reason);
    bool warn_now(logging::Every& gate, uint64_t* held);

    EventLoop& loop_;
    std::string name_;
    ProtocolFactory factory_;
    ServerLimits limits_;
    ServerStats stats_;
    std::vector<Listener> listeners_;
    std::unordered_map<int, std::unique_ptr<Conn>> conns_;
    std::vector<char> rbuf_;
    EventLoop::TimerId accept_pause_;
    // Each kind of warning at most once a second (steady-clock microseconds).
    logging::Every refuse_warn_{1'000'000};
    logging::Every accept_warn_{1'000'000};
    logging::Every timeout_warn_{1'000'000};
    std::unordered_map<std::string, size_t> per_peer_;
    bool draining_ = false;
    std::function<void()> drained_;
    EventLoop::TimerId drain_timer_;
};

}  // namespace net
