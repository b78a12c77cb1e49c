// client.h - a client of a policy delegation service, for programs other than Postfix
//
// sendguard-milter asks sendguard-policyd for local submissions the way
// smtpd's check_policy_service does: one request, one reply, on a
// connection kept open for the next request.
//
//   policy::ClientPool pool(endpoint, 5s);
//   policy::Asked a = pool.ask(request);   // a.action, or a.error
//
// ClientPool keeps up to kMaxIdleConnections idle connections; ask() takes
// one (or connects), writes the request (format_request) and reads one
// reply (decode_reply, at most kMaxReply bytes), then gives the connection
// back. Everything one ask() does - connect, write, read, and one retry -
// fits in the pool's timeout: a silent, slow or absent service costs the
// caller that long at most, never more.
//
// Reconnect: the service closes idle connections (policyd_idle_timeout);
// an idle connection found closed or readable before use is dropped, and a
// request on a reused connection that ends with the connection closed
// before any reply byte is sent once more on a new connection (the service
// read nothing of it, or it would have answered). Any other failure (a
// malformed or cut reply, a time-out) closes that connection, and the
// answer is the error: the caller decides how to fail (the milter fails
// open).
//
// Errors: ask() returns them as values ("connect unix:/p: No such file or
// directory", "timed out after 5s", "bad reply: reply without action"); it
// throws only std::bad_alloc. Thread safety: ask() may run on many threads
// at once; each connection is used by one thread at a time.
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/net/endpoint.h"
#include "common/policy/request.h"
#include "common/sys/fd.h"

namespace policy {

inline constexpr size_t kMaxIdleConnections = 16;
// Longest reply read: an action of kMaxAction bytes and room for other
// attributes a service may add.
inline constexpr size_t kMaxReply = kMaxAction + 4096;

struct Asked {
    std::optional<std::string> action;  // the reply's action, as sent
    std::string error;                  // set when action is empty
};

class ClientPool {
public:
    ClientPool(net::Endpoint endpoint, std::chrono::milliseconds timeout);
    ClientPool(const ClientPool&) = delete;
    ClientPool& operator=(const ClientPool&) = delete;

    Asked ask(const Request& req) const;

    const net::Endpoint& endpoint() const noexcept { return endpoint_; }
    std::chrono::milliseconds timeout() const noexcept { return timeout_; }
    size_t idle() const;  // connections waiting for the next ask()

private:
    using Deadline = std::chrono::steady_clock::time_point;
    struct Outcome {
        std::optional<std::string> action;
        std::string error;
        bool retry = false;  // closed before any reply byte on a reused connection
    };
    sys::Fd take() const;
    void give_back(sys::Fd fd) const;
    Outcome round_trip(int fd, const std::string& wire, Deadline deadline, bool reused) const;

    net::Endpoint endpoint_;
    std::string endpoint_text_;
    std::chrono::milliseconds timeout_;
    mutable std::mutex mu_;
    mutable std::vector<sys::Fd> idle_;
};

}  // namespace policy
