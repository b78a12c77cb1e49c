// listener.h - listening sockets for unix: and inet: endpoints
//
// Listener::open(endpoint, options) returns a non-blocking, close-on-exec
// listening socket.
//   unix:  an existing socket file is removed first when nothing answers on
//          it (a stale socket left by a crash); a live server there is an
//          error, and so is any file that is not a socket (never removed).
//          The socket file gets options.unix_mode and, unless unix_group is
//          -1, that group (chmod and chown before listen(2), so no client
//          can connect while the mode is still the umask's). The
//          destructor removes the socket file if it is still ours (same
//          device and inode).
//   inet:  SO_REUSEADDR; IPv6 sockets are IPV6_V6ONLY; port 0 binds an
//          ephemeral port, read it back with port() or bound().
//
// Errors: open() throws std::system_error (or std::runtime_error when a host
// does not resolve or the file is not a socket); what() reads
// "listen unix:/path: bind: Address already in use".
// Thread safety: a Listener is used by one thread at a time.
#pragma once

#include "common/net/endpoint.h"
#include "common/sys/fd.h"

#include <sys/types.h>

namespace net {

// listen(2) backlog: room for a burst of Postfix processes connecting at
// once (capped by net.core.somaxconn). Not a parameter.
inline constexpr int kListenBacklog = 4096;

// The mode and group come from the daemon's parameters; no defaults here.
struct ListenOptions {
    mode_t unix_mode;
    gid_t unix_group;  // static_cast<gid_t>(-1): leave the creator's group
    int backlog = kListenBacklog;
};

class Listener {
public:
    static Listener open(const Endpoint& ep, const ListenOptions& opt);

    Listener(Listener&& o) noexcept;
    Listener& operator=(Listener&& o) noexcept;
    ~Listener();

    int fd() const noexcept { return fd_.get(); }
    const Endpoint& endpoint() const noexcept { return ep_; }
    // The address actually bound: the real port when 0 was asked for.
    const Endpoint& bound() const noexcept { return bound_; }
    uint16_t port() const noexcept { return bound_.port; }

private:
    Listener() = default;
    void remove_socket_file() noexcept;

    sys::Fd fd_;
    Endpoint ep_;
    Endpoint bound_;
    dev_t dev_ = 0;  // unix: identity of the socket file we created
    ino_t ino_ = 0;
};

}  // namespace net
