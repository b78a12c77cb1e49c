// test_milter_limit.cc - milter::ConnectionLimit (milter_max_connections,
// milter_max_client_connections) without sockets: admit and release by fd,
// per client address, and the refusal warning at most once per interval.
#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <chrono>
#include <string>

#include "milter/connection_limit.h"

using milter::Admission;
using milter::ConnectionLimit;
using Clock = std::chrono::steady_clock;

namespace {

struct Peer {
    sockaddr_storage addr{};
    socklen_t len = 0;
    const sockaddr* sa() const { return reinterpret_cast<const sockaddr*>(&addr); }
};

Peer inet(const char* ip) {
    Peer p;
    auto* in = reinterpret_cast<sockaddr_in*>(&p.addr);
    in->sin_family = AF_INET;
    in->sin_port = htons(40000);
    ::inet_pton(AF_INET, ip, &in->sin_addr);
    p.len = sizeof(sockaddr_in);
    return p;
}

Peer inet6(const char* ip) {
    Peer p;
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&p.addr);
    in6->sin6_family = AF_INET6;
    ::inet_pton(AF_INET6, ip, &in6->sin6_addr);
    p.len = sizeof(sockaddr_in6);
    return p;
}

Peer unix_peer() {
    Peer p;
    p.addr.ss_family = AF_UNIX;
    p.len = sizeof(sa_family_t);  // an unnamed client socket
    return p;
}

const Clock::time_point t0{};

}  // namespace

BOOST_AUTO_TEST_SUITE(milter_limit)

BOOST_AUTO_TEST_CASE(the_total_counts_open_connections) {
    ConnectionLimit l({.total = 3, .per_client = 0});
    const Peer u = unix_peer();
    for (int fd = 10; fd < 13; ++fd) BOOST_TEST(l.admit(fd, u.sa(), u.len, t0).admitted);
    BOOST_TEST(l.open() == 3u);
    const Admission a = l.admit(13, u.sa(), u.len, t0);
    BOOST_TEST(!a.admitted);
    BOOST_TEST(std::string(a.limit) == "milter_max_connections");
    BOOST_TEST(a.value == 3u);
    BOOST_TEST(a.client.empty());
    l.release(11);
    BOOST_TEST(l.open() == 2u);
    BOOST_TEST(l.admit(13, u.sa(), u.len, t0).admitted);
    l.release(99);  // not a connection: nothing changes
    l.release(11);  // released twice: once counts
    BOOST_TEST(l.open() == 3u);
}

BOOST_AUTO_TEST_CASE(holds_names_admitted_open_connections_only) {
    ConnectionLimit l({.total = 1, .per_client = 0});
    const Peer u = unix_peer();
    BOOST_TEST(l.admit(10, u.sa(), u.len, t0).admitted);
    BOOST_TEST(!l.admit(11, u.sa(), u.len, t0).admitted);
    BOOST_TEST(l.holds(10));
    BOOST_TEST(!l.holds(11), "a refused connection is not held");
    BOOST_TEST(!l.holds(3), "an fd that was never a connection");
    l.release(10);
    BOOST_TEST(!l.holds(10), "a closed connection");
}

BOOST_AUTO_TEST_CASE(the_per_client_limit_counts_each_address) {
    ConnectionLimit l({.total = 10, .per_client = 2});
    const Peer a = inet("192.0.2.1"), b = inet("192.0.2.2"), v6 = inet6("2001:db8::1"), u = unix_peer();
    BOOST_TEST(l.admit(1, a.sa(), a.len, t0).admitted);
    BOOST_TEST(l.admit(2, a.sa(), a.len, t0).admitted);
    const Admission refused = l.admit(3, a.sa(), a.len, t0);
    BOOST_TEST(!refused.admitted);
    BOOST_TEST(std::string(refused.limit) == "milter_max_client_connections");
    BOOST_TEST(refused.client == "192.0.2.1");
    BOOST_TEST(l.admit(3, b.sa(), b.len, t0).admitted);
    BOOST_TEST(l.admit(4, v6.sa(), v6.len, t0).admitted);
    BOOST_TEST(l.admit(5, v6.sa(), v6.len, t0).admitted);
    BOOST_TEST(!l.admit(6, v6.sa(), v6.len, t0).admitted);
    // UNIX-socket clients have no address: only the total counts them.
    for (int fd = 6; fd < 9; ++fd) BOOST_TEST(l.admit(fd, u.sa(), u.len, t0).admitted);
    l.release(1);
    BOOST_TEST(l.admit(1, a.sa(), a.len, t0).admitted, "the place of a closed connection comes back");
}

BOOST_AUTO_TEST_CASE(new_limits_apply_to_the_next_connection) {
    ConnectionLimit l({.total = 2, .per_client = 0});
    const Peer u = unix_peer();
    BOOST_TEST(l.admit(1, u.sa(), u.len, t0).admitted);
    BOOST_TEST(l.admit(2, u.sa(), u.len, t0).admitted);
    l.set_limits({.total = 1, .per_client = 0});
    BOOST_TEST(l.open() == 2u, "open connections stay");
    l.release(1);
    BOOST_TEST(!l.admit(1, u.sa(), u.len, t0).admitted);
    l.set_limits({.total = 5, .per_client = 0});
    BOOST_TEST(l.admit(1, u.sa(), u.len, t0).admitted);
}

BOOST_AUTO_TEST_CASE(an_fd_reused_without_close_replaces_its_old_entry) {
    ConnectionLimit l({.total = 5, .per_client = 1});
    const Peer a = inet("192.0.2.1"), b = inet("192.0.2.2");
    BOOST_TEST(l.admit(7, a.sa(), a.len, t0).admitted);
    BOOST_TEST(l.admit(7, b.sa(), b.len, t0).admitted);
    BOOST_TEST(l.open() == 1u);
    BOOST_TEST(l.admit(8, a.sa(), a.len, t0).admitted, "192.0.2.1 no longer holds fd 7");
}

BOOST_AUTO_TEST_CASE(refusals_are_logged_once_per_interval) {
    ConnectionLimit l({.total = 1, .per_client = 0});
    const Peer u = unix_peer();
    BOOST_TEST(l.admit(1, u.sa(), u.len, t0).admitted);
    const Admission first = l.admit(2, u.sa(), u.len, t0);
    BOOST_TEST(first.log);
    BOOST_TEST(first.refused == 1u);
    for (int i = 0; i < 5; ++i)
        BOOST_TEST(!l.admit(2, u.sa(), u.len, t0 + std::chrono::seconds(i + 1)).log);
    const Admission later = l.admit(2, u.sa(), u.len, t0 + milter::kRefusalLogInterval);
    BOOST_TEST(later.log);
    BOOST_TEST(later.refused == 6u, "the five unlogged refusals and this one");
}

BOOST_AUTO_TEST_CASE(client_address_names_inet_peers_only) {
    const Peer a = inet("192.0.2.9"), v6 = inet6("2001:db8::9"), u = unix_peer();
    BOOST_TEST(milter::client_address(a.sa(), a.len) == "192.0.2.9");
    BOOST_TEST(milter::client_address(v6.sa(), v6.len) == "2001:db8::9");
    BOOST_TEST(milter::client_address(u.sa(), u.len).empty());
    BOOST_TEST(milter::client_address(a.sa(), 2).empty(), "a truncated address names nobody");
    BOOST_TEST(milter::client_address(nullptr, 0).empty());
}

BOOST_AUTO_TEST_SUITE_END()
