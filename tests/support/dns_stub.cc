// dns_stub.cc - see dns_stub.h
#include "tests/support/dns_stub.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

namespace harness {

DnsStub::DnsStub(Mode mode, int rcode) : mode_(mode), rcode_(rcode) {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "dns stub: socket");
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&sa), &len) != 0 || ::pipe2(stop_, O_CLOEXEC) != 0) {
        const int e = errno;
        ::close(fd_);
        throw std::system_error(e, std::generic_category(), "dns stub: bind");
    }
    port_ = ntohs(sa.sin_port);
    thread_ = std::thread([this] { serve(); });
}

DnsStub::~DnsStub() {
    ::close(stop_[1]);
    thread_.join();
    ::close(stop_[0]);
    ::close(fd_);
}

void DnsStub::serve() {
    pollfd fds[2] = {{fd_, POLLIN, 0}, {stop_[0], POLLIN, 0}};
    for (;;) {
        if (::poll(fds, 2, -1) < 0 && errno != EINTR) return;
        if (fds[1].revents) return;
        if (!(fds[0].revents & POLLIN)) continue;
        unsigned char buf[4096];
        sockaddr_in from{};
        socklen_t flen = sizeof from;
        const ssize_t n = ::recvfrom(fd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &flen);
        if (n < 12) continue;
        ++queries_;
        if (mode_ == Mode::Silent) continue;
        // The query itself, turned into a response: QR set, RA set, RCODE.
        buf[2] |= 0x80;
        buf[3] = static_cast<unsigned char>(0x80 | (rcode_ & 0x0F));
        (void)::sendto(fd_, buf, static_cast<size_t>(n), 0, reinterpret_cast<sockaddr*>(&from), flen);
    }
}

}  // namespace harness
