// dns_stub.cc - see dns_stub.h
#include "tests/support/dns_stub.h"

#include <cctype>

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

DnsStub::DnsStub(Mode mode, int rcode) : mode_(mode), rcode_(rcode) { open(); }

DnsStub::DnsStub(std::map<std::string, std::string> txt) : mode_(Mode::Txt), rcode_(0), txt_(std::move(txt)) {
    open();
}

void DnsStub::open() {
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
        if (mode_ == Mode::Txt) {
            answer_txt(buf, static_cast<size_t>(n), from, flen);
            continue;
        }
        // The query itself, turned into a response: QR set, RA set, RCODE.
        buf[2] |= 0x80;
        buf[3] = static_cast<unsigned char>(0x80 | (rcode_ & 0x0F));
        (void)::sendto(fd_, buf, static_cast<size_t>(n), 0, reinterpret_cast<sockaddr*>(&from), flen);
    }
}

// Header and question echoed (EDNS and other records dropped), then one
// TXT record for a known name, else NXDOMAIN.
void DnsStub::answer_txt(const unsigned char* q, size_t n, const sockaddr_in& from, socklen_t flen) {
    std::string name;
    size_t i = 12;
    while (i < n && q[i] != 0) {
        const size_t len = q[i++];
        if (i + len > n) return;
        if (!name.empty()) name += '.';
        for (size_t j = 0; j < len; ++j) name += static_cast<char>(std::tolower(q[i + j]));
        i += len;
    }
    if (i + 5 > n) return;
    const size_t qend = i + 5;  // root label, QTYPE, QCLASS
    const bool is_txt = q[i + 1] == 0 && q[i + 2] == 16;
    std::string out(reinterpret_cast<const char*>(q), qend);
    out[2] = static_cast<char>(out[2] | 0x80);
    out[7] = out[9] = out[10] = out[11] = 0;  // ANCOUNT low, NSCOUNT, ARCOUNT
    out[6] = out[8] = 0;
    auto it = txt_.find(name);
    if (it == txt_.end() || !is_txt) {
        out[3] = static_cast<char>(0x80 | (it == txt_.end() ? 3 : 0));
    } else {
        out[3] = static_cast<char>(0x80);
        out[7] = 1;
        std::string rdata;
        for (size_t p = 0; p < it->second.size(); p += 255) {
            const std::string part = it->second.substr(p, 255);
            rdata += static_cast<char>(part.size());
            rdata += part;
        }
        const unsigned char rr[] = {0xC0, 0x0C, 0, 16, 0, 1, 0, 0, 0, 60};
        out.append(reinterpret_cast<const char*>(rr), sizeof rr);
        out += static_cast<char>(rdata.size() >> 8);
        out += static_cast<char>(rdata.size() & 0xff);
        out += rdata;
    }
    (void)::sendto(fd_, out.data(), out.size(), 0, reinterpret_cast<const sockaddr*>(&from), flen);
}

}  // namespace harness
