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
//   - when the peer shuts down its sending side, the complete requests it
//     sent are still answered before the connection closes.
// Over max_connections, a new connection is accepted and closed at once with
// a warning (at most one per second, with a count of those not logged).
//
// Errors: add_listener() throws std::system_error from epoll_ctl. Failures of
// one connection (I/O errors, exceptions from the factory or the protocol)
// close that connection with a logged warning and never leave the server;
// accept(2) running out of descriptors pauses accepting for 100ms.
// Logs: "<name>: ..." key=value lines; warnings for refused connections,
// oversized input and protocol exceptions; connect/disconnect at debug level.
// Thread safety: everything runs on the loop's thread.
#pragma once

#include "common/net/event_loop.h"
#include "common/net/listener.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace net {

struct Protocol {
    virtual ~Protocol();
    // Called with buffered input; consumes complete requests, appends
    // replies to out; returns false to close the connection.
    virtual bool on_data(std::string& in, std::string& out) = 0;
};

using ProtocolFactory = std::function<std::unique_ptr<Protocol>()>;

// Output size past which the server stops reading and a Protocol should
// stop consuming requests (see above).
inline constexpr size_t kOutputHighWater = 256 * 1024;

struct ServerLimits {
    size_t max_connections = 100;
    size_t max_input = 128 * 1024;  // unconsumed input bytes per connection
    std::chrono::milliseconds idle_timeout{std::chrono::seconds(300)};
};

struct ServerStats {
    uint64_t accepted = 0;
    uint64_t refused = 0;  // over max_connections
    uint64_t closed = 0;
    uint64_t idle_timeouts = 0;
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

    size_t connections() const noexcept { return conns_.size(); }
    const ServerStats& stats() const noexcept { return stats_; }
    const ServerLimits& limits() const noexcept { return limits_; }

private:
    struct Conn {
        sys::Fd fd;
        std::string peer;
        std::string in;
        std::string out;
        std::unique_ptr<Protocol> proto;
        EventLoop::TimePoint last_active{};
        EventLoop::TimerId idle;
        bool pending = false;    // on_data should run (new input or throttled)
        bool throttled = false;  // on_data stopped at the high-water mark
        bool eof = false;        // peer shut down its side
        bool closing = false;    // close once out is sent
    };

    void on_accept(size_t listener);
    void open_conn(sys::Fd fd, std::string peer);
    void on_io(Conn& c, uint32_t events);
    bool read_some(Conn& c);
    bool service(Conn& c);
    bool flush(Conn& c);
    void on_idle(Conn& c);
    void close_conn(Conn& c, std::string_view reason);
    bool warn_now(EventLoop::TimePoint& last, uint64_t& suppressed);

    EventLoop& loop_;
    std::string name_;
    ProtocolFactory factory_;
    ServerLimits limits_;
    ServerStats stats_;
    std::vector<Listener> listeners_;
    std::unordered_map<int, std::unique_ptr<Conn>> conns_;
    std::vector<char> rbuf_;
    EventLoop::TimerId accept_pause_;
    EventLoop::TimePoint last_refuse_warn_{};
    uint64_t refuse_suppressed_ = 0;
    EventLoop::TimePoint last_accept_warn_{};
    uint64_t accept_suppressed_ = 0;
};

}  // namespace net
