// socketmap_client.h - small blocking socketmap client
//
// For tests, the CLI and benchmarks (Postfix has its own client):
//
//   net::SocketmapClient c(endpoint);              // connects, or throws
//   net::SocketmapReply r = c.query("bounce", "5.1.1 user unknown");
//
// Pipelining: send() queues requests, flush() writes them, receive() reads
// replies in order. query() is send + flush + receive.
//
// Errors: everything here breaks the caller's unit of work, so it throws:
// std::system_error for connect/I/O failures (a receive time-out is
// EAGAIN/"Resource temporarily unavailable"), std::runtime_error for a
// closed connection or a malformed reply. Replies are limited to Postfix's
// 100000 bytes.
// Thread safety: one thread at a time per client.
#pragma once

#include "common/net/endpoint.h"
#include "common/net/socketmap.h"
#include "common/sys/fd.h"

#include <chrono>
#include <string>
#include <string_view>

namespace net {

class SocketmapClient {
public:
    explicit SocketmapClient(const Endpoint& ep,
                             std::chrono::milliseconds timeout = std::chrono::seconds(10));
    // Takes a connected blocking socket (a socketpair end in tests).
    explicit SocketmapClient(sys::Fd connected);

    SocketmapReply query(std::string_view name, std::string_view key);

    void send(std::string_view name, std::string_view key);
    void flush();
    SocketmapReply receive();

    int fd() const noexcept { return fd_.get(); }

private:
    sys::Fd fd_;
    std::string wbuf_;
    std::string rbuf_;
    size_t rpos_ = 0;
};

}  // namespace net
