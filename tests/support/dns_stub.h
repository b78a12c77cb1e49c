// dns_stub.h - a UDP "name server" that misbehaves on purpose
//
// DnsStub binds 127.0.0.1 on a free port (in the calling thread's network
// namespace) and serves queries on a thread of its own until destroyed:
//
//   Silent     reads every query and never answers (a dead server behind a
//              firewall that drops): the client's time-outs are tested
//   Rcode      answers every query with the question echoed and the RCODE
//              given (2 = SERVFAIL, 5 = REFUSED), no records
//   Txt        (the map constructor) answers a TXT query for a name of the
//              map with its one TXT record (DKIM key records), any other
//              query with NXDOMAIN
//
//   harness::DnsStub dead(harness::DnsStub::Mode::Silent);
//   dns::Resolver r({.servers = {{"127.0.0.1", dead.port()}}});
//   dead.queries()   // how many queries arrived so far
//
// Errors: socket failures in the constructor throw std::system_error.
// Thread safety: port() and queries() may be called from any thread.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <thread>

namespace harness {

class DnsStub {
public:
    enum class Mode { Silent, Rcode, Txt };
    explicit DnsStub(Mode mode, int rcode = 2);
    explicit DnsStub(std::map<std::string, std::string> txt);
    ~DnsStub();
    DnsStub(const DnsStub&) = delete;
    DnsStub& operator=(const DnsStub&) = delete;

    uint16_t port() const noexcept { return port_; }
    int queries() const noexcept { return queries_.load(); }

private:
    void open();
    void serve();
    void answer_txt(const unsigned char* q, size_t n, const sockaddr_in& from, socklen_t flen);

    Mode mode_;
    int rcode_;
    std::map<std::string, std::string> txt_;
    int fd_ = -1;
    int stop_[2] = {-1, -1};  // a pipe: closing the write end stops serve()
    uint16_t port_ = 0;
    std::atomic<int> queries_{0};
    std::thread thread_;
};

}  // namespace harness
