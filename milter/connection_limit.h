// connection_limit.h - how many MTA connections sendguard-milter holds at once
//
// libmilter (Debian's, built with its pool of workers) accepts every
// connection on milter_listen and keeps each one, with its context, in the
// poll set of its controller thread while no command is pending; every
// event walks the whole list, and each connection holds a file descriptor.
// Nothing in libmilter bounds their number: ~17,000 idle connections locked
// real sessions out. The program's accept() is wrapped
// (accept_wrap.h): each accepted socket goes through admit() before
// libmilter sees it, and each close() of one goes through release().
//
//   ConnectionLimit limit({.total = 500, .per_client = 0});
//   Admission a = limit.admit(fd, addr, addrlen, now);
//   if (!a.admitted) close it;        a.log: warn now (see below)
//   limit.release(fd);                 on close (any fd; unknown ones are ignored)
//   limit.holds(fd);                   an admitted, open connection (poll_wrap.h)
//   limit.set_limits(next);            SIGHUP: applies to the next connection
//
// A connection is refused when milter_max_connections are open, or, for a
// TCP client (IPv4, IPv6), when milter_max_client_connections from the same
// address are open (0: no limit per client). UNIX-socket clients share the
// total only: they have no address to tell them apart.
//
// Refusals are logged at most once per kRefusalLogInterval: Admission::log
// is set for the first refusal of an interval, with the refusals since the
// last line counted in Admission::refused.
//
// install(limit) makes it the one the accept wrapper uses (nullptr: none,
// every connection is admitted); active() returns it.
//
// Errors: none (admit and release are noexcept; an allocation failure
// refuses the connection). Thread safety: every member may be called from
// any thread at once (one mutex).
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

#include "common/log/every.h"

namespace milter {

inline constexpr std::chrono::seconds kRefusalLogInterval{60};

struct ConnectionLimits {
    std::size_t total = 0;       // milter_max_connections (at least 1)
    std::size_t per_client = 0;  // milter_max_client_connections; 0: none
};

struct Admission {
    bool admitted = true;
    const char* limit = "";   // the parameter that refused it
    std::size_t value = 0;    // its value
    std::string client;       // the client's address, "" for a UNIX socket
    bool log = false;         // the first refusal of this interval: warn
    std::size_t refused = 0;  // refusals since the last warning, this one included
};

class ConnectionLimit {
public:
    explicit ConnectionLimit(ConnectionLimits limits) : limits_(limits) {}
    ConnectionLimit(const ConnectionLimit&) = delete;
    ConnectionLimit& operator=(const ConnectionLimit&) = delete;

    // From the next admit() on (a reload); open connections stay.
    void set_limits(ConnectionLimits limits) noexcept;
    Admission admit(int fd, const sockaddr* addr, socklen_t len, std::chrono::steady_clock::time_point now) noexcept;
    void release(int fd) noexcept;
    bool holds(int fd) const noexcept;  // fd is an admitted connection, not yet released
    std::size_t open() const noexcept;

private:
    ConnectionLimits limits_;
    mutable std::mutex mu_;
    std::unordered_map<int, std::string> open_;              // fd -> client ("" for UNIX)
    std::unordered_map<std::string, std::size_t> per_client_;  // client -> open connections
    logging::Every refusal_log_{std::chrono::duration_cast<std::chrono::microseconds>(kRefusalLogInterval).count()};
};

void install(ConnectionLimit* limit) noexcept;
ConnectionLimit* active() noexcept;

// "192.0.2.1", "2001:db8::1"; "" for anything else (UNIX sockets).
std::string client_address(const sockaddr* addr, socklen_t len);

}  // namespace milter
