// test_net_util.h - helpers shared by the test_net*.cc suites
//
// TempDir: a private directory under $TMPDIR (or /tmp), removed with its
// contents on destruction. read_until_eof(fd, timeout): everything a peer
// sends until it closes, or what came before the time-out (timed_out set).
// send_all(fd, data): send(2) with MSG_NOSIGNAL, false if the peer closed.
// limits(), socketmap_limits(), listen_options(), peer(): explicit values
// for the library structs that have no defaults (the daemons fill them from
// their parameters).
// Test-only code: failures throw std::runtime_error.
#pragma once

#include "common/net/listener.h"
#include "common/net/socketmap.h"
#include "common/net/stream_server.h"
#include "common/sys/fd.h"

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/socket.h>
#include <sys/time.h>

namespace net_test {

using namespace std::chrono_literals;

inline net::ServerLimits limits() {
    return net::ServerLimits{.max_connections = 100,
                             .max_connections_per_peer = 100,
                             .max_input = 128 * 1024,
                             .idle_timeout = 300s,
                             .request_timeout = 10s};
}
inline net::SocketmapLimits socketmap_limits() { return net::SocketmapLimits{.max_request = 100000}; }
inline net::ListenOptions listen_options(mode_t mode = 0600) {
    return net::ListenOptions{.unix_mode = mode, .unix_group = static_cast<gid_t>(-1)};
}
inline net::Peer peer() { return net::Peer::local(0, 0); }

class TempDir {
public:
    TempDir() {
        const char* base = std::getenv("TMPDIR");
        std::string tmpl = std::string(base && *base ? base : "/tmp") + "/sg-net-XXXXXX";
        if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
        path_ = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::string& path() const { return path_; }
    std::string file(const std::string& name) const { return path_ + "/" + name; }

private:
    std::string path_;
};

inline void set_recv_timeout(int fd, std::chrono::milliseconds t) {
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(t.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((t.count() % 1000) * 1000);
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

// Sends all of data without SIGPIPE; returns false when the peer closed
// first (EPIPE, ECONNRESET), which several tests provoke on purpose.
inline bool send_all(int fd, std::string_view data) {
    while (!data.empty()) {
        const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) return false;
        if (n <= 0) throw std::runtime_error("send failed");
        data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
}

struct ReadResult {
    std::string data;
    bool eof = false;        // orderly close
    bool reset = false;      // ECONNRESET
    bool timed_out = false;  // neither before the time-out
};

inline ReadResult read_until_eof(int fd, std::chrono::milliseconds timeout) {
    set_recv_timeout(fd, timeout);
    ReadResult r;
    char buf[65536];
    for (;;) {
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n > 0) {
            r.data.append(buf, static_cast<size_t>(n));
            continue;
        }
        if (n == 0) r.eof = true;
        else if (errno == EINTR) continue;
        else if (errno == ECONNRESET) r.reset = true;
        else r.timed_out = true;
        return r;
    }
}

}  // namespace net_test
