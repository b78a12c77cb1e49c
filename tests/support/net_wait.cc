// net_wait.cc - see net_wait.h
#include "tests/support/net_wait.h"

#include "tests/support/netns.h"

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <system_error>
#include <thread>
#include <unistd.h>

namespace harness {
namespace {

using Millis = std::chrono::milliseconds;

// Fills a sockaddr for an IPv4 or IPv6 literal; false when it is neither.
bool make_addr(const std::string& ip, uint16_t port, sockaddr_storage* ss, socklen_t* len) {
    std::memset(ss, 0, sizeof *ss);
    auto* v4 = reinterpret_cast<sockaddr_in*>(ss);
    if (::inet_pton(AF_INET, ip.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        *len = sizeof *v4;
        return true;
    }
    auto* v6 = reinterpret_cast<sockaddr_in6*>(ss);
    if (::inet_pton(AF_INET6, ip.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        *len = sizeof *v6;
        return true;
    }
    return false;
}

sys::Fd connect_here(const std::string& ip, uint16_t port, Millis timeout, std::string* error) {
    auto fail = [&](const std::string& why) {
        if (error) *error = "connect " + ip + ":" + std::to_string(port) + ": " + why;
        return sys::Fd();
    };
    sockaddr_storage ss;
    socklen_t len = 0;
    if (!make_addr(ip, port, &ss, &len)) return fail("not an IP address literal");
    sys::Fd fd(::socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd) throw std::system_error(errno, std::generic_category(), "socket");
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) < 0) {
        if (errno != EINPROGRESS) return fail(std::strerror(errno));
        pollfd p{fd.get(), POLLOUT, 0};
        int n;
        while ((n = ::poll(&p, 1, static_cast<int>(timeout.count()))) < 0 && errno == EINTR) {
        }
        if (n == 0) return fail("timed out");
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &soerr, &sl);
        if (n < 0 || soerr != 0) return fail(std::strerror(n < 0 ? errno : soerr));
    }
    int fl = ::fcntl(fd.get(), F_GETFL);
    ::fcntl(fd.get(), F_SETFL, fl & ~O_NONBLOCK);
    return fd;
}

uint16_t free_port_here(const std::string& ip) {
    sockaddr_storage ss;
    socklen_t len = 0;
    if (!make_addr(ip, 0, &ss, &len)) throw std::invalid_argument("free_tcp_port: bad IP " + ip);
    sys::Fd fd(::socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) throw std::system_error(errno, std::generic_category(), "socket");
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) < 0)
        throw std::system_error(errno, std::generic_category(), "bind " + ip + ":0");
    if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&ss), &len) < 0)
        throw std::system_error(errno, std::generic_category(), "getsockname");
    return ss.ss_family == AF_INET ? ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port)
                                   : ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
}

}  // namespace

bool wait_until(const std::function<bool()>& pred, Millis timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    Millis nap(2);
    for (;;) {
        if (pred()) return true;
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(nap);
        nap = std::min(nap * 2, Millis(50));
    }
}

sys::Fd connect_tcp(const std::string& ip, uint16_t port, Millis timeout, const NetNs* ns,
                    std::string* error) {
    if (!ns) return connect_here(ip, port, timeout, error);
    return ns->run_in([&] { return connect_here(ip, port, timeout, error); });
}

sys::Fd connect_unix(const std::string& path, std::string* error) {
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    if (path.size() >= sizeof sa.sun_path) {
        if (error) *error = "connect " + path + ": path too long";
        return {};
    }
    std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
    sys::Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) throw std::system_error(errno, std::generic_category(), "socket");
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0) {
        if (error) *error = "connect " + path + ": " + std::strerror(errno);
        return {};
    }
    return fd;
}

bool wait_for_tcp(const std::string& ip, uint16_t port, Millis timeout, const NetNs* ns) {
    return wait_until([&] { return bool(connect_tcp(ip, port, Millis(500), ns)); }, timeout);
}

bool wait_for_unix(const std::string& path, Millis timeout) {
    return wait_until([&] { return bool(connect_unix(path)); }, timeout);
}

uint16_t free_tcp_port(const std::string& ip, const NetNs* ns) {
    if (!ns) return free_port_here(ip);
    return ns->run_in([&] { return free_port_here(ip); });
}

}  // namespace harness
