// listener.cc - see listener.h
#include "common/net/listener.h"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <memory>
#include <netdb.h>
#include <netinet/in.h>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <system_error>
#include <unistd.h>
#include <utility>

namespace net {
namespace {

[[noreturn]] void fail(const Endpoint& ep, const std::string& call, int err = errno) {
    throw std::system_error(err, std::generic_category(),
                            "listen " + ep.str() + ": " + call);
}

sockaddr_un unix_address(const Endpoint& ep) {
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    if (ep.path.empty() || ep.path.size() >= sizeof sa.sun_path)
        fail(ep, "socket path", ENAMETOOLONG);
    std::memcpy(sa.sun_path, ep.path.data(), ep.path.size());
    return sa;
}

// A socket file that nobody accepts on is stale; one that answers belongs to
// a running server, which we must not steal the address from.
void remove_stale_socket(const Endpoint& ep, const sockaddr_un& sa) {
    struct stat st;
    if (::lstat(ep.path.c_str(), &st) < 0) {
        if (errno == ENOENT) return;
        fail(ep, "lstat");
    }
    if (!S_ISSOCK(st.st_mode))
        throw std::runtime_error("listen " + ep.str() +
                                 ": file exists and is not a socket; refusing to remove it");
    sys::Fd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!probe) fail(ep, "socket");
    if (::connect(probe.get(), reinterpret_cast<const sockaddr*>(&sa), sizeof sa) == 0 ||
        errno == EAGAIN)
        fail(ep, "a server is running on this socket", EADDRINUSE);
    if (::unlink(ep.path.c_str()) < 0 && errno != ENOENT) fail(ep, "unlink stale socket");
}

}  // namespace

Listener::Listener(Listener&& o) noexcept
    : fd_(std::move(o.fd_)),
      ep_(std::move(o.ep_)),
      bound_(std::move(o.bound_)),
      dev_(std::exchange(o.dev_, 0)),
      ino_(std::exchange(o.ino_, 0)) {}

Listener& Listener::operator=(Listener&& o) noexcept {
    if (this != &o) {
        remove_socket_file();
        fd_ = std::move(o.fd_);
        ep_ = std::move(o.ep_);
        bound_ = std::move(o.bound_);
        dev_ = std::exchange(o.dev_, 0);
        ino_ = std::exchange(o.ino_, 0);
    }
    return *this;
}

Listener::~Listener() { remove_socket_file(); }

void Listener::remove_socket_file() noexcept {
    if (ino_ == 0 || ep_.kind != Endpoint::Kind::Unix) return;
    struct stat st;
    if (::lstat(ep_.path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == dev_ &&
        st.st_ino == ino_)
        ::unlink(ep_.path.c_str());
    ino_ = 0;
}

Listener Listener::open(const Endpoint& ep, const ListenOptions& opt) {
    Listener l;
    l.ep_ = ep;
    l.bound_ = ep;
    if (ep.kind == Endpoint::Kind::Unix) {
        const sockaddr_un sa = unix_address(ep);
        remove_stale_socket(ep, sa);
        l.fd_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
        if (!l.fd_) fail(ep, "socket");
        if (::bind(l.fd_.get(), reinterpret_cast<const sockaddr*>(&sa), sizeof sa) < 0)
            fail(ep, "bind");
        struct stat st;
        if (::lstat(ep.path.c_str(), &st) == 0) {
            l.dev_ = st.st_dev;
            l.ino_ = st.st_ino;
        }
        if (opt.unix_group != static_cast<gid_t>(-1) &&
            ::chown(ep.path.c_str(), static_cast<uid_t>(-1), opt.unix_group) < 0)
            fail(ep, "chown to group " + std::to_string(opt.unix_group));
        if (::chmod(ep.path.c_str(), opt.unix_mode) < 0) fail(ep, "chmod");
        if (::listen(l.fd_.get(), opt.backlog) < 0) fail(ep, "listen");
        return l;
    }

    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* res = nullptr;
    const std::string port = std::to_string(ep.port);
    if (int rc = ::getaddrinfo(ep.host.c_str(), port.c_str(), &hints, &res); rc != 0)
        throw std::runtime_error("listen " + ep.str() + ": " + ::gai_strerror(rc));
    const std::unique_ptr<addrinfo, void (*)(addrinfo*)> own(res, ::freeaddrinfo);
    int err = EADDRNOTAVAIL;
    const char* call = "bind";
    for (const addrinfo* ai = res; ai; ai = ai->ai_next) {
        sys::Fd fd(::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                            ai->ai_protocol));
        if (!fd) {
            err = errno;
            call = "socket";
            continue;
        }
        const int one = 1;
        ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (ai->ai_family == AF_INET6)
            ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
        if (::bind(fd.get(), ai->ai_addr, ai->ai_addrlen) < 0) {
            err = errno;
            call = "bind";
            continue;
        }
        if (::listen(fd.get(), opt.backlog) < 0) fail(ep, "listen");
        sockaddr_storage ss{};
        socklen_t len = sizeof ss;
        if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&ss), &len) < 0)
            fail(ep, "getsockname");
        char host[INET6_ADDRSTRLEN] = "";
        if (ss.ss_family == AF_INET6) {
            const auto* s6 = reinterpret_cast<const sockaddr_in6*>(&ss);
            ::inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof host);
            l.bound_.port = ntohs(s6->sin6_port);
        } else {
            const auto* s4 = reinterpret_cast<const sockaddr_in*>(&ss);
            ::inet_ntop(AF_INET, &s4->sin_addr, host, sizeof host);
            l.bound_.port = ntohs(s4->sin_port);
        }
        l.bound_.host = host;
        l.fd_ = std::move(fd);
        return l;
    }
    fail(ep, call, err);
}

}  // namespace net
