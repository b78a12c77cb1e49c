// accept_wrap.cc - see accept_wrap.h
#include "milter/accept_wrap.h"

#include <cerrno>
#include <chrono>

#include "common/log/log.h"
#include "milter/connection_limit.h"

extern "C" int __wrap_accept(int fd, sockaddr* addr, socklen_t* len) {
    sockaddr_storage own{};
    socklen_t own_len = sizeof own;
    if (!addr || !len) addr = reinterpret_cast<sockaddr*>(&own), len = &own_len;
    const int conn = __real_accept(fd, addr, len);
    milter::ConnectionLimit* limit = milter::active();
    if (conn < 0 || !limit) return conn;
    const milter::Admission a = limit->admit(conn, addr, *len, std::chrono::steady_clock::now());
    if (a.admitted) return conn;
    __real_close(conn);
    if (a.log) {
        try {
            logging::Line l("milter");
            l.kv("refused", "connection").kv("limit", a.limit).kv("value", static_cast<long long>(a.value));
            if (!a.client.empty()) l.kv("client_addr", a.client);
            l.kv("refusals", static_cast<long long>(a.refused));
            l.kv("effect", "closed before negotiation; the MTA applies its milter_default_action");
            logging::warning(l.str());
        } catch (...) {
        }
    }
    errno = ECONNABORTED;
    return -1;
}

extern "C" int __wrap_close(int fd) {
    if (milter::ConnectionLimit* limit = milter::active()) limit->release(fd);
    return __real_close(fd);
}
