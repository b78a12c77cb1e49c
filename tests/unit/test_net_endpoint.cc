// test_net_endpoint.cc - endpoint parsing, socketmap specs, listeners
#define BOOST_TEST_NO_MAIN
#include <boost/test/unit_test.hpp>

#include "common/net/endpoint.h"
#include "common/net/listener.h"
#include "common/net/socketmap.h"
#include "test_net_util.h"

#include <fstream>
#include <string>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <vector>

using net::Endpoint;

namespace {

struct ParseCase {
    std::string text;
    std::string want;  // canonical str(), or "error: <substring>"
};

std::string describe(const net::EndpointParse& r) {
    return r.endpoint ? r.endpoint->str() : "error: " + r.error;
}

std::string error_text(const std::function<void()>& fn) {
    try {
        fn();
    } catch (const std::exception& e) {
        return e.what();
    }
    return "(no exception)";
}

bool contains(const std::string& s, const std::string& part) {
    return s.find(part) != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(net_endpoint)

BOOST_AUTO_TEST_CASE(parse_table) {
    const std::string long_path = "unix:/" + std::string(net::kMaxUnixPath, 'p');
    const std::vector<ParseCase> cases = {
        {"unix:/var/spool/postfix/private/sg", "unix:/var/spool/postfix/private/sg"},
        {"unix:private/policy", "unix:private/policy"},
        {"unix:/tmp/a:b", "unix:/tmp/a:b"},
        {"inet:127.0.0.1:10030", "inet:127.0.0.1:10030"},
        {"127.0.0.1:10030", "inet:127.0.0.1:10030"},
        {"inet:localhost:25", "inet:localhost:25"},
        {"mail-1.example.org:2525", "inet:mail-1.example.org:2525"},
        {"[::1]:25", "inet:[::1]:25"},
        {"inet:[::1]:0", "inet:[::1]:0"},
        {"inet:[2001:db8::5]:65535", "inet:[2001:db8::5]:65535"},
        {"0.0.0.0:0", "inet:0.0.0.0:0"},
        {"unix:", "error: empty socket path"},
        {long_path, "error: socket path too long"},
        {"::1:25", "error: IPv6 address must be in brackets"},
        {"inet:127.0.0.1", "error: expected host:port"},
        {"10030", "error: expected host:port"},
        {"127.0.0.1:65536", "error: bad port"},
        {"127.0.0.1:", "error: bad port"},
        {"127.0.0.1:smtp", "error: bad port"},
        {"127.0.0.1:-1", "error: bad port"},
        {"127.0.0.1:000025", "error: bad port"},
        {":25", "error: empty host"},
        {"inet::25", "error: empty host"},
        {"[::1]25", "error: expected ':port' after ']'"},
        {"[::1]", "error: expected ':port' after ']'"},
        {"[::1:25", "error: missing ']'"},
        {"[zz]:25", "error: bad IPv6 address"},
        {"[127.0.0.1]:25", "error: bad IPv6 address"},
        {"inet:ho st:1", "error: bad character in host"},
        {"tcp:127.0.0.1:25", "error: IPv6 address must be in brackets"},
        {"", "error: expected host:port"},
    };
    for (const auto& c : cases) {
        const auto r = net::parse_endpoint(c.text);
        const std::string got = describe(r);
        if (c.want.rfind("error: ", 0) == 0) {
            BOOST_CHECK_MESSAGE(!r.endpoint && contains(got, c.want.substr(7)),
                                "parse \"" << c.text << "\": got \"" << got << "\", want \""
                                           << c.want << "\"");
            // The message names the endpoint the operator wrote.
            BOOST_CHECK_MESSAGE(contains(r.error, "\"" + c.text.substr(0, 200) + "\""),
                                "error for \"" << c.text << "\" does not name it: " << r.error);
        } else {
            BOOST_CHECK_MESSAGE(got == c.want, "parse \"" << c.text << "\": got \"" << got
                                                          << "\", want \"" << c.want << "\"");
        }
    }
}

BOOST_AUTO_TEST_CASE(parse_fields) {
    const auto u = net::parse_endpoint("unix:/run/x.sock");
    BOOST_REQUIRE(u.endpoint);
    BOOST_CHECK(u.endpoint->kind == Endpoint::Kind::Unix);
    BOOST_CHECK_EQUAL(u.endpoint->path, "/run/x.sock");
    const auto i = net::parse_endpoint("[::1]:8025");
    BOOST_REQUIRE(i.endpoint);
    BOOST_CHECK(i.endpoint->kind == Endpoint::Kind::Inet);
    BOOST_CHECK_EQUAL(i.endpoint->host, "::1");
    BOOST_CHECK_EQUAL(i.endpoint->port, 8025);
}

BOOST_AUTO_TEST_CASE(socketmap_target_table) {
    const std::vector<ParseCase> cases = {
        {"socketmap:unix:/run/sg/socketmap:bounce", "unix:/run/sg/socketmap name=bounce"},
        {"unix:private/sg:status", "unix:private/sg name=status"},
        {"socketmap:inet:127.0.0.1:9999:map", "inet:127.0.0.1:9999 name=map"},
        {"inet:[::1]:9999:map", "inet:[::1]:9999 name=map"},
        {"socketmap:unix:/x", "error: invalid endpoint"},
        {"unix:/x:", "error: expected endpoint:name"},
        {"bounce", "error: expected endpoint:name"},
    };
    for (const auto& c : cases) {
        const auto r = net::parse_socketmap_target(c.text);
        const std::string got =
            r.target ? r.target->endpoint.str() + " name=" + r.target->name : "error: " + r.error;
        const bool ok = c.want.rfind("error: ", 0) == 0
                            ? !r.target && contains(got, c.want.substr(7))
                            : got == c.want;
        BOOST_CHECK_MESSAGE(ok, "parse \"" << c.text << "\": got \"" << got << "\", want \""
                                           << c.want << "\"");
    }
}

BOOST_AUTO_TEST_CASE(unix_listener_mode_and_cleanup) {
    net_test::TempDir dir;
    const std::string path = dir.file("sock");
    {
        const net::ListenOptions opt = net_test::listen_options(0600);
        auto l = net::Listener::open({Endpoint::Kind::Unix, path, {}, 0}, opt);
        struct stat st;
        BOOST_REQUIRE(::lstat(path.c_str(), &st) == 0);
        BOOST_CHECK_MESSAGE(S_ISSOCK(st.st_mode), "socket file is not a socket");
        BOOST_CHECK_MESSAGE((st.st_mode & 07777) == 0600,
                            "mode: got 0" << std::oct << (st.st_mode & 07777) << ", want 0600");
        // It accepts connections.
        auto c = net::connect_endpoint(l.endpoint());
        BOOST_CHECK(c);
    }
    BOOST_CHECK_MESSAGE(::access(path.c_str(), F_OK) != 0, "socket file left behind");
}

BOOST_AUTO_TEST_CASE(unix_listener_removes_stale_socket) {
    net_test::TempDir dir;
    const std::string path = dir.file("stale");
    {
        // A socket file nobody listens on, as a crashed server leaves it.
        sys::Fd s(::socket(AF_UNIX, SOCK_STREAM, 0));
        sockaddr_un sa{};
        sa.sun_family = AF_UNIX;
        path.copy(sa.sun_path, path.size());
        BOOST_REQUIRE(::bind(s.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
    }
    BOOST_REQUIRE(::access(path.c_str(), F_OK) == 0);
    auto l = net::Listener::open({Endpoint::Kind::Unix, path, {}, 0}, net_test::listen_options());
    auto c = net::connect_endpoint(l.endpoint());
    BOOST_CHECK(c);
}

BOOST_AUTO_TEST_CASE(unix_listener_refuses_live_socket_and_regular_file) {
    net_test::TempDir dir;
    const Endpoint live{Endpoint::Kind::Unix, dir.file("live"), {}, 0};
    auto first = net::Listener::open(live, net_test::listen_options());
    const std::string e1 = error_text([&] { net::Listener::open(live, net_test::listen_options()); });
    BOOST_CHECK_MESSAGE(contains(e1, "listen unix:" + live.path) && contains(e1, "running"),
                        "second listener on a live socket: got \"" << e1 << "\"");
    BOOST_CHECK_MESSAGE(net::connect_endpoint(first.endpoint()), "first listener lost its socket");

    const std::string file = dir.file("data");
    std::ofstream(file) << "precious\n";
    const std::string e2 = error_text(
        [&] { net::Listener::open({Endpoint::Kind::Unix, file, {}, 0}, net_test::listen_options()); });
    BOOST_CHECK_MESSAGE(contains(e2, "listen unix:" + file) && contains(e2, "not a socket"),
                        "listener over a regular file: got \"" << e2 << "\"");
    std::ifstream in(file);
    std::string line;
    std::getline(in, line);
    BOOST_CHECK_MESSAGE(line == "precious", "regular file content: got \"" << line << "\"");
}

BOOST_AUTO_TEST_CASE(inet_listener_ephemeral_port) {
    auto l = net::Listener::open(*net::parse_endpoint("inet:127.0.0.1:0").endpoint, net_test::listen_options());
    BOOST_CHECK_MESSAGE(l.port() != 0, "bound port: got 0");
    BOOST_CHECK_EQUAL(l.bound().str(), "inet:127.0.0.1:" + std::to_string(l.port()));
    auto c = net::connect_endpoint(l.bound());
    BOOST_CHECK(c);

    // The same port again is refused, and the error names the endpoint.
    const std::string e = error_text([&] { net::Listener::open(l.bound(), net_test::listen_options()); });
    BOOST_CHECK_MESSAGE(contains(e, "listen " + l.bound().str() + ": bind"),
                        "second bind: got \"" << e << "\"");
}

BOOST_AUTO_TEST_CASE(inet6_listener) {
    std::optional<net::Listener> l;
    try {
        l.emplace(net::Listener::open(*net::parse_endpoint("[::1]:0").endpoint, net_test::listen_options()));
    } catch (const std::exception& e) {
        BOOST_TEST_MESSAGE("no IPv6 loopback here, skipped: " << e.what());
        return;
    }
    BOOST_CHECK(l->port() != 0);
    BOOST_CHECK_EQUAL(l->bound().str(), "inet:[::1]:" + std::to_string(l->port()));
    BOOST_CHECK(net::connect_endpoint(l->bound()));
}

BOOST_AUTO_TEST_CASE(connect_errors_name_endpoint) {
    net_test::TempDir dir;
    const Endpoint missing{Endpoint::Kind::Unix, dir.file("none"), {}, 0};
    const std::string e = error_text([&] { net::connect_endpoint(missing); });
    BOOST_CHECK_MESSAGE(contains(e, "connect unix:" + missing.path),
                        "connect to a missing socket: got \"" << e << "\"");
    const std::string e0 = error_text(
        [&] { net::connect_endpoint(*net::parse_endpoint("127.0.0.1:0").endpoint); });
    BOOST_CHECK_MESSAGE(contains(e0, "connect inet:127.0.0.1:0"), "port 0: got \"" << e0 << "\"");
}

BOOST_AUTO_TEST_SUITE_END()
