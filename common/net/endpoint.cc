// endpoint.cc - see endpoint.h
#include "common/net/endpoint.h"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <memory>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <system_error>
#include "common/sys/ascii.h"

namespace net {
namespace {

EndpointParse bad(std::string_view text, std::string_view why) {
    EndpointParse r;
    r.error = "invalid endpoint \"" + std::string(text.substr(0, 200)) + "\": " +
              std::string(why);
    return r;
}

bool host_char(char c) {
    return sys::is_alnum(c) || c == '-' || c == '.' || c == '_';
}

std::optional<uint16_t> parse_port(std::string_view s) {
    if (s.empty() || s.size() > 5) return std::nullopt;
    unsigned v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + static_cast<unsigned>(c - '0');
    }
    if (v > 65535) return std::nullopt;
    return static_cast<uint16_t>(v);
}

}  // namespace

std::string Endpoint::str() const {
    if (kind == Kind::Unix) return "unix:" + path;
    if (host.find(':') != std::string::npos)
        return "inet:[" + host + "]:" + std::to_string(port);
    return "inet:" + host + ":" + std::to_string(port);
}

EndpointParse parse_endpoint(std::string_view text) {
    Endpoint ep;
    std::string_view rest = text;
    if (rest.substr(0, 5) == "unix:") {
        rest.remove_prefix(5);
        if (rest.empty()) return bad(text, "empty socket path");
        if (rest.size() > kMaxUnixPath) return bad(text, "socket path too long");
        if (rest.find('\0') != std::string_view::npos) return bad(text, "NUL in socket path");
        ep.kind = Endpoint::Kind::Unix;
        ep.path = std::string(rest);
        return {std::move(ep), {}};
    }
    if (rest.substr(0, 5) == "inet:") rest.remove_prefix(5);
    ep.kind = Endpoint::Kind::Inet;
    std::string_view host;
    std::string_view port;
    if (!rest.empty() && rest[0] == '[') {
        const size_t close = rest.find(']');
        if (close == std::string_view::npos) return bad(text, "missing ']'");
        host = rest.substr(1, close - 1);
        if (close + 1 >= rest.size() || rest[close + 1] != ':')
            return bad(text, "expected ':port' after ']'");
        port = rest.substr(close + 2);
        in6_addr a6;
        if (::inet_pton(AF_INET6, std::string(host).c_str(), &a6) != 1)
            return bad(text, "bad IPv6 address");
    } else {
        const size_t colon = rest.rfind(':');
        if (colon == std::string_view::npos) return bad(text, "expected host:port");
        host = rest.substr(0, colon);
        port = rest.substr(colon + 1);
        if (host.find(':') != std::string_view::npos)
            return bad(text, "IPv6 address must be in brackets");
        if (host.empty()) return bad(text, "empty host");
        for (char c : host)
            if (!host_char(c)) return bad(text, "bad character in host");
    }
    const auto p = parse_port(port);
    if (!p) return bad(text, "bad port (want 0..65535)");
    ep.host = std::string(host);
    ep.port = *p;
    return {std::move(ep), {}};
}

sys::Fd connect_endpoint(const Endpoint& ep, std::chrono::milliseconds timeout) {
    const std::string what = "connect " + ep.str();
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
    auto set_timeouts = [&](int fd) {
        ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    };
    if (ep.kind == Endpoint::Kind::Unix) {
        sockaddr_un sa{};
        sa.sun_family = AF_UNIX;
        if (ep.path.size() >= sizeof sa.sun_path)
            throw std::system_error(ENAMETOOLONG, std::generic_category(), what);
        std::memcpy(sa.sun_path, ep.path.data(), ep.path.size());
        sys::Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        if (!fd) throw std::system_error(errno, std::generic_category(), what);
        set_timeouts(fd.get());
        if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0)
            throw std::system_error(errno, std::generic_category(), what);
        return fd;
    }
    if (ep.port == 0) throw std::system_error(EINVAL, std::generic_category(), what + ": port 0");
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo* res = nullptr;
    const std::string port = std::to_string(ep.port);
    if (int rc = ::getaddrinfo(ep.host.c_str(), port.c_str(), &hints, &res); rc != 0)
        throw std::runtime_error(what + ": " + ::gai_strerror(rc));
    const std::unique_ptr<addrinfo, void (*)(addrinfo*)> own(res, ::freeaddrinfo);
    int err = EADDRNOTAVAIL;
    for (const addrinfo* ai = res; ai; ai = ai->ai_next) {
        sys::Fd fd(::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol));
        if (!fd) {
            err = errno;
            continue;
        }
        set_timeouts(fd.get());
        if (::connect(fd.get(), ai->ai_addr, ai->ai_addrlen) == 0) {
            const int one = 1;
            ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            return fd;
        }
        err = errno;
    }
    throw std::system_error(err, std::generic_category(), what);
}

}  // namespace net
