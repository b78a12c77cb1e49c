// socketmap_client.cc - see socketmap_client.h
#include "common/net/socketmap_client.h"

#include "common/net/netstring.h"

#include <cerrno>
#include <cstdio>
#include <stdexcept>
#include <sys/socket.h>
#include <system_error>

namespace net {

SocketmapClient::SocketmapClient(const Endpoint& ep, std::chrono::milliseconds timeout)
    : fd_(connect_endpoint(ep, timeout)) {}

SocketmapClient::SocketmapClient(sys::Fd connected) : fd_(std::move(connected)) {}

void SocketmapClient::send(std::string_view name, std::string_view key) {
    const size_t len = name.size() + 1 + key.size();
    char digits[24];
    const int n = std::snprintf(digits, sizeof digits, "%zu:", len);
    wbuf_.append(digits, static_cast<size_t>(n));
    wbuf_.append(name);
    wbuf_.push_back(' ');
    wbuf_.append(key);
    wbuf_.push_back(',');
}

void SocketmapClient::flush() {
    size_t off = 0;
    while (off < wbuf_.size()) {
        const ssize_t n = ::send(fd_.get(), wbuf_.data() + off, wbuf_.size() - off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            wbuf_.clear();
            throw std::system_error(errno, std::generic_category(), "socketmap: send");
        }
        off += static_cast<size_t>(n);
    }
    wbuf_.clear();
}

SocketmapReply SocketmapClient::receive() {
    for (;;) {
        const std::string_view view = std::string_view(rbuf_).substr(rpos_);
        const NetstringResult r = decode_netstring(view, kSocketmapMaxReply);
        if (r.status == NetstringStatus::Error)
            throw std::runtime_error("socketmap: bad reply: " + std::string(r.error));
        if (r.status == NetstringStatus::Ok) {
            auto reply = parse_reply(r.payload);
            if (!reply) throw std::runtime_error("socketmap: bad reply: unknown status");
            rpos_ += r.consumed;
            if (rpos_ == rbuf_.size()) {
                rbuf_.clear();
                rpos_ = 0;
            }
            return std::move(*reply);
        }
        if (rpos_ > 0) {
            rbuf_.erase(0, rpos_);
            rpos_ = 0;
        }
        char buf[65536];
        const ssize_t n = ::recv(fd_.get(), buf, sizeof buf, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw std::system_error(errno, std::generic_category(), "socketmap: receive");
        }
        if (n == 0) throw std::runtime_error("socketmap: connection closed by server");
        rbuf_.append(buf, static_cast<size_t>(n));
    }
}

SocketmapReply SocketmapClient::query(std::string_view name, std::string_view key) {
    send(name, key);
    flush();
    return receive();
}

}  // namespace net
