// endpoint.h - Postfix-style socket endpoints: parse, format, connect
//
// Accepted forms (what Postfix's master.cf and socketmap:/check_policy_service
// use, minus service names):
//   unix:/path/to/socket        UNIX-domain stream socket (relative paths too)
//   inet:host:port  host:port   TCP; host is an IPv4 literal, a name, or an
//   inet:[::1]:port [::1]:port  IPv6 literal in brackets
// The port is decimal, 0..65535; 0 asks the kernel for an ephemeral port when
// listening (tests) and is refused by connect_endpoint().
//
// API:
//   EndpointParse r = parse_endpoint("inet:127.0.0.1:10030");
//   if (!r.endpoint) log(r.error);   // error names the endpoint text
//   Endpoint::str() gives the canonical text ("inet:[::1]:25").
//   connect_endpoint(ep, timeout) -> blocking connected socket with send and
//     receive time-outs set (clients, tests, the CLI).
//
// Errors: parse errors are values; connect_endpoint throws std::system_error
// (or std::runtime_error for a name that does not resolve) whose text starts
// with "connect <endpoint>".
// Thread safety: pure functions; connect_endpoint uses getaddrinfo(3), which
// is thread-safe.
#pragma once

#include "common/sys/fd.h"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace net {

struct Endpoint {
    enum class Kind { Unix, Inet };
    Kind kind = Kind::Unix;
    std::string path;   // Unix
    std::string host;   // Inet, without brackets
    uint16_t port = 0;  // Inet

    std::string str() const;
    bool operator==(const Endpoint&) const = default;
};

struct EndpointParse {
    std::optional<Endpoint> endpoint;
    std::string error;  // set when endpoint is empty
};

// Longest UNIX-domain socket path (sizeof sockaddr_un::sun_path - 1).
inline constexpr size_t kMaxUnixPath = 107;

EndpointParse parse_endpoint(std::string_view text);

// Blocking connect; timeout also becomes SO_SNDTIMEO/SO_RCVTIMEO.
sys::Fd connect_endpoint(const Endpoint& ep,
                         std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace net
