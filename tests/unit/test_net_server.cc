// test_net_server.cc - a real StreamServer + SocketmapProtocol in a thread,
// on a unix socket in a temp dir and on 127.0.0.1 with an ephemeral port
#define BOOST_TEST_NO_MAIN
#include <boost/test/unit_test.hpp>

#include "common/log/log.h"
#include "common/net/event_loop.h"
#include "common/net/listener.h"
#include "common/net/netstring.h"
#include "common/net/socketmap.h"
#include "common/net/socketmap_client.h"
#include "common/net/stream_server.h"
#include "test_net_util.h"

#include <csignal>
#include <future>
#include <memory>
#include <optional>
#include <pthread.h>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

using net::SocketmapClient;
using net::SocketmapReply;
using namespace std::chrono_literals;

namespace {

std::string show(const SocketmapReply& r) {
    return std::string(net::status_name(r.status)) + " " + r.data;
}

// A server running in its own thread. The handler runs on that thread, so
// "stats conns" can report the live connection count without locking.
class TestServer {
public:
    explicit TestServer(net::ServerLimits limits = net_test::limits(),
                        net::ProtocolFactory factory = {}) {
        logging::open("test", logging::Sink::None);
        limits_ = limits;
        if (!factory) factory = net::socketmap_factory(
            [this](std::string_view n, std::string_view k) { return handle(n, k); },
            net_test::socketmap_limits());
        server_ = std::make_unique<net::StreamServer>(loop_, "socketmap", std::move(factory),
                                                      limits);
        auto u = net::Listener::open({net::Endpoint::Kind::Unix, dir_.file("sm"), {}, 0},
                                     net_test::listen_options());
        auto i = net::Listener::open(*net::parse_endpoint("inet:127.0.0.1:0").endpoint,
                                     net_test::listen_options());
        unix_ = u.endpoint();
        inet_ = i.bound();
        server_->add_listener(std::move(u));
        server_->add_listener(std::move(i));
        thread_ = std::thread([this] {
            try {
                loop_.run();
            } catch (const std::exception& e) {
                error_ = e.what();
            }
        });
    }
    ~TestServer() { stop(); }

    void stop() {
        if (!thread_.joinable()) return;
        loop_.stop();
        thread_.join();
    }

    const net::Endpoint& unix_endpoint() const { return unix_; }
    const net::Endpoint& inet_endpoint() const { return inet_; }
    net::EventLoop& loop() { return loop_; }
    std::thread& thread() { return thread_; }
    const std::string& error() const { return error_; }

private:
    SocketmapReply handle(std::string_view name, std::string_view key) {
        if (name == "echo") return SocketmapReply::ok(std::string(key));
        if (name == "stats" && key == "conns")
            return SocketmapReply::ok(std::to_string(server_->connections()));
        if (name == "setlimit") {
            net::ServerLimits l = limits_;
            l.max_connections_per_peer = std::stoul(std::string(key));
            server_->set_limits(l);
            return SocketmapReply::ok(std::string(key));
        }
        if (name == "stats" && key == "overflows")
            return SocketmapReply::ok(std::to_string(server_->stats().input_overflows));
        return SocketmapReply::not_found();
    }

    net_test::TempDir dir_;
    net::EventLoop loop_;
    net::ServerLimits limits_;
    std::unique_ptr<net::StreamServer> server_;
    net::Endpoint unix_, inet_;
    std::thread thread_;
    std::string error_;
};

// A raw client socket: send bytes, read until the server closes.
net_test::ReadResult raw_exchange(const net::Endpoint& ep, const std::string& bytes,
                                  bool shut_write = false) {
    sys::Fd fd = net::connect_endpoint(ep);
    net_test::send_all(fd.get(), bytes);
    if (shut_write) ::shutdown(fd.get(), SHUT_WR);
    return net_test::read_until_eof(fd.get(), 5s);
}

std::string ns(const std::string& s) { return net::encode_netstring(s); }

// Line protocol for the generic server tests: "line\n" -> "line\n";
// "close\n" ends the connection; "throw\n" throws.
struct LineEcho final : net::Protocol {
    bool on_data(std::string& in, std::string& out) override {
        size_t pos = 0;
        for (size_t nl; (nl = in.find('\n', pos)) != std::string::npos; pos = nl + 1) {
            const std::string line = in.substr(pos, nl - pos);
            if (line == "close") return false;
            if (line == "throw") throw std::runtime_error("line protocol exploded");
            out += line + "\n";
        }
        in.erase(0, pos);
        return true;
    }
};

net::ProtocolFactory line_echo() {
    return [](const net::Peer&) { return std::make_unique<LineEcho>(); };
}

}  // namespace

BOOST_AUTO_TEST_SUITE(net_server)

BOOST_AUTO_TEST_CASE(many_requests_per_connection) {
    TestServer srv;
    for (const auto* ep : {&srv.unix_endpoint(), &srv.inet_endpoint()}) {
        SocketmapClient c(*ep);
        int bad = 0;
        for (int i = 0; i < 2000; ++i) {
            const std::string key = "key-" + std::to_string(i) + " with space";
            const auto r = c.query("echo", key);
            if (r != SocketmapReply::ok(key) && bad++ < 3)
                BOOST_ERROR(ep->str() << " request " << i << ": got \"" << show(r)
                                      << "\", want \"OK " << key << "\"");
        }
        BOOST_CHECK_MESSAGE(bad == 0, ep->str() << ": " << bad << " wrong replies");
        const auto nf = c.query("nomap", "x");
        BOOST_CHECK_MESSAGE(nf == SocketmapReply::not_found(), "got \"" << show(nf) << "\"");
    }
}

BOOST_AUTO_TEST_CASE(pipelined_requests) {
    TestServer srv;
    SocketmapClient c(srv.inet_endpoint());
    for (int i = 0; i < 500; ++i) c.send("echo", std::to_string(i));
    c.flush();
    int bad = 0;
    for (int i = 0; i < 500; ++i) {
        const auto r = c.receive();
        if (r != SocketmapReply::ok(std::to_string(i)) && bad++ < 3)
            BOOST_ERROR("reply " << i << ": got \"" << show(r) << "\"");
    }
    BOOST_CHECK_MESSAGE(bad == 0, bad << " replies out of order or wrong");
}

// More output than the high-water mark and the socket buffers hold: the
// server must stop reading, drain, resume, and lose nothing.
BOOST_AUTO_TEST_CASE(pipelined_backpressure) {
    TestServer srv;
    SocketmapClient c(srv.unix_endpoint());
    const int n = 3000;
    const std::string pad(2000, 'p');
    auto sender = std::async(std::launch::async, [&] {
        std::string all;
        for (int i = 0; i < n; ++i) all += ns("echo " + std::to_string(i) + pad);
        return net_test::send_all(c.fd(), all);  // ~6 MB, blocks while the server throttles
    });
    int bad = 0;
    for (int i = 0; i < n; ++i) {
        const auto r = c.receive();
        if (r != SocketmapReply::ok(std::to_string(i) + pad) && bad++ < 3)
            BOOST_ERROR("reply " << i << ": got \"" << show(r).substr(0, 40) << "\"");
    }
    BOOST_CHECK_MESSAGE(sender.get(), "server closed while the client was sending");
    BOOST_CHECK_MESSAGE(bad == 0, bad << " wrong replies");
}

BOOST_AUTO_TEST_CASE(three_hundred_persistent_connections) {
    net::ServerLimits limits = net_test::limits();
    limits.max_connections = 400;
    limits.max_connections_per_peer = 400;  // all of them are this uid or 127.0.0.1
    TestServer srv(limits);
    std::vector<std::unique_ptr<SocketmapClient>> clients;
    for (int i = 0; i < 300; ++i)
        clients.push_back(std::make_unique<SocketmapClient>(i % 2 ? srv.unix_endpoint()
                                                                  : srv.inet_endpoint()));
    int bad = 0;
    for (int round = 0; round < 3; ++round) {
        // Every client sends first, then all read: 300 requests in flight.
        for (size_t i = 0; i < clients.size(); ++i) {
            clients[i]->send("echo", std::to_string(round) + "/" + std::to_string(i));
            clients[i]->flush();
        }
        for (size_t i = 0; i < clients.size(); ++i) {
            const auto r = clients[i]->receive();
            const std::string want = std::to_string(round) + "/" + std::to_string(i);
            if (r != SocketmapReply::ok(want) && bad++ < 3)
                BOOST_ERROR("client " << i << " round " << round << ": got \"" << show(r) << "\"");
        }
    }
    BOOST_CHECK_MESSAGE(bad == 0, bad << " wrong replies");
    const auto conns = clients[0]->query("stats", "conns");
    BOOST_CHECK_MESSAGE(conns == SocketmapReply::ok("300"),
                        "live connections: got \"" << show(conns) << "\", want \"OK 300\"");
}

BOOST_AUTO_TEST_CASE(bad_netstring_gets_perm_then_close) {
    TestServer srv;
    struct Case {
        std::string what;
        std::string send;
        std::string want;
    };
    const std::vector<Case> cases = {
        {"garbage", "GET / HTTP/1.0\r\n\r\n", ns("PERM bad request: bad length digits")},
        {"missing comma", "9:echo abcd;", ns("PERM bad request: missing comma")},
        {"after a good one", ns("echo ok") + "5:echo x",
         ns("OK ok") + ns("PERM bad request: missing comma")},
        {"oversize request", "100001:" + std::string(5000, 'x'),
         ns("PERM bad request: length too long")},
    };
    for (const auto* ep : {&srv.unix_endpoint(), &srv.inet_endpoint()}) {
        for (const auto& c : cases) {
            const auto r = raw_exchange(*ep, c.send);
            BOOST_TEST_CONTEXT(ep->str() << " " << c.what) {
                BOOST_CHECK_MESSAGE(r.data == c.want,
                                    "got \"" << r.data << "\", want \"" << c.want << "\"");
                BOOST_CHECK_MESSAGE(r.eof || r.reset, "connection not closed");
            }
        }
    }
    // The server is still serving.
    SocketmapClient ok(srv.unix_endpoint());
    BOOST_CHECK(ok.query("echo", "alive") == SocketmapReply::ok("alive"));
}

// A peer that shuts down its sending side still gets every reply.
BOOST_AUTO_TEST_CASE(half_close_gets_replies) {
    TestServer srv;
    const auto r = raw_exchange(srv.unix_endpoint(), ns("echo a") + ns("echo b") + "3:ec",
                                /*shut_write=*/true);
    BOOST_CHECK_MESSAGE(r.data == ns("OK a") + ns("OK b"), "got \"" << r.data << "\"");
    BOOST_CHECK(r.eof);
}

BOOST_AUTO_TEST_CASE(idle_timeout_closes) {
    net::ServerLimits limits = net_test::limits();
    limits.idle_timeout = 150ms;
    TestServer srv(limits);
    SocketmapClient c(srv.inet_endpoint());
    BOOST_REQUIRE(c.query("echo", "x") == SocketmapReply::ok("x"));
    const auto start = std::chrono::steady_clock::now();
    const auto r = net_test::read_until_eof(c.fd(), 5s);
    const auto took = std::chrono::steady_clock::now() - start;
    BOOST_CHECK_MESSAGE(r.eof && r.data.empty(), "idle connection not closed cleanly: data \""
                                                     << r.data << "\", timed out " << r.timed_out);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(took).count();
    BOOST_CHECK_MESSAGE(ms >= 100 && ms < 3000, "closed after " << ms << "ms, want ~150ms");
}

// Activity keeps a connection open past the idle time-out.
BOOST_AUTO_TEST_CASE(activity_defers_idle_timeout) {
    net::ServerLimits limits = net_test::limits();
    limits.idle_timeout = 300ms;
    TestServer srv(limits);
    SocketmapClient c(srv.unix_endpoint());
    const auto start = std::chrono::steady_clock::now();
    int n = 0;
    while (std::chrono::steady_clock::now() - start < 900ms) {
        BOOST_REQUIRE_MESSAGE(c.query("echo", "x") == SocketmapReply::ok("x"),
                              "query " << n << " failed");
        ++n;
        std::this_thread::sleep_for(50ms);  // pacing the client, not waiting for the server
    }
    BOOST_CHECK(c.query("echo", "still") == SocketmapReply::ok("still"));
}

BOOST_AUTO_TEST_CASE(max_connections_enforced) {
    net::ServerLimits limits = net_test::limits();
    limits.max_connections = 3;
    TestServer srv(limits);
    std::vector<std::unique_ptr<SocketmapClient>> clients;
    for (int i = 0; i < 3; ++i) {
        clients.push_back(std::make_unique<SocketmapClient>(srv.unix_endpoint()));
        BOOST_REQUIRE(clients.back()->query("echo", "in") == SocketmapReply::ok("in"));
    }
    for (const auto* ep : {&srv.unix_endpoint(), &srv.inet_endpoint()}) {
        const auto r = raw_exchange(*ep, ns("echo over"));
        BOOST_CHECK_MESSAGE(r.data.empty() && (r.eof || r.reset),
                            ep->str() << " 4th connection: got \"" << r.data << "\", eof "
                                      << r.eof << ", reset " << r.reset);
    }
    const std::string log = logging::captured();
    BOOST_CHECK_MESSAGE(log.find("warning: socketmap: action=refuse, peer=unix uid=" +
                                 std::to_string(::getuid()) +
                                 ", reason=too many connections, max_connections=3") != std::string::npos,
                        "refusal not logged: " << log);
    // Once one leaves, a newcomer is served. The server learns of the close
    // asynchronously, so allow it a moment.
    clients.pop_back();
    bool served = false;
    for (int i = 0; i < 200 && !served; ++i) {
        try {
            SocketmapClient c(srv.inet_endpoint());
            served = c.query("echo", "late") == SocketmapReply::ok("late");
        } catch (const std::exception&) {
            std::this_thread::sleep_for(10ms);
        }
    }
    BOOST_CHECK_MESSAGE(served, "no slot freed after a client left");
}

BOOST_AUTO_TEST_CASE(input_bound_and_protocol_errors_close_one_connection) {
    net::ServerLimits limits = net_test::limits();
    limits.max_input = 1000;
    TestServer srv(limits, line_echo());
    struct Case {
        std::string what;
        std::string send;
        std::string want;
    };
    const std::vector<Case> cases = {
        {"echo", "a\nb\n", "a\nb\n"},
        {"close after reply", "a\nclose\nb\n", "a\n"},
        {"line over max_input", "x\n" + std::string(5000, 'l'), "x\n"},
        {"exception", "a\nthrow\n", ""},
    };
    for (const auto& c : cases) {
        const auto r = raw_exchange(srv.unix_endpoint(), c.send, /*shut_write=*/true);
        BOOST_CHECK_MESSAGE(r.data == c.want, c.what << ": got \"" << r.data.substr(0, 40)
                                                      << "\", want \"" << c.want << "\"");
        BOOST_CHECK_MESSAGE(r.eof || r.reset, c.what << ": not closed");
    }
    const std::string log = logging::captured();
    BOOST_CHECK_MESSAGE(log.find("socketmap: peer=unix uid=" + std::to_string(::getuid()) +
                                 ", reason=request too large, max_input=1000") !=
                            std::string::npos,
                        "overflow not logged: " << log);
    BOOST_CHECK_MESSAGE(log.find("error=line protocol exploded") != std::string::npos,
                        "exception not logged: " << log);
    BOOST_CHECK(srv.error().empty());
}

// A client that sends a request one byte at a time, each byte well inside
// the idle time-out, is closed once the request has taken request_timeout;
// one that completes its requests in time keeps its connection.
BOOST_AUTO_TEST_CASE(slow_request_hits_request_timeout) {
    net::ServerLimits limits = net_test::limits();
    limits.idle_timeout = 10s;
    limits.request_timeout = 300ms;
    TestServer srv(limits);
    sys::Fd fd = net::connect_endpoint(srv.unix_endpoint());
    const std::string req = ns("echo slow-loris-request");
    const auto start = std::chrono::steady_clock::now();
    bool closed = false;
    for (size_t i = 0; i < req.size() && !closed; ++i) {
        closed = !net_test::send_all(fd.get(), req.substr(i, 1));
        std::this_thread::sleep_for(50ms);  // pacing the attacker
    }
    const auto r = net_test::read_until_eof(fd.get(), 5s);
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start).count();
    BOOST_CHECK_MESSAGE((r.eof || r.reset || closed) && r.data.empty(),
                        "slow request not cut off: data \"" << r.data << "\"");
    BOOST_CHECK_MESSAGE(took < 3000, "closed after " << took << "ms, want ~300ms");
    const std::string log = logging::captured();
    BOOST_CHECK_MESSAGE(log.find("reason=request not complete in time, request_timeout_ms=300") !=
                            std::string::npos,
                        "request time-out not logged: " << log);

    // Complete requests, each well inside the limit, for longer than it.
    SocketmapClient c(srv.unix_endpoint());
    for (int i = 0; i < 8; ++i) {
        BOOST_REQUIRE(c.query("echo", "ok") == SocketmapReply::ok("ok"));
        std::this_thread::sleep_for(60ms);
    }
}

// One uid (or IP address) cannot take every slot: past
// max_connections_per_peer it is refused while others still get in.
BOOST_AUTO_TEST_CASE(per_peer_limit) {
    net::ServerLimits limits = net_test::limits();
    limits.max_connections = 10;
    limits.max_connections_per_peer = 2;
    TestServer srv(limits);
    std::vector<std::unique_ptr<SocketmapClient>> inet;
    for (int i = 0; i < 2; ++i) {
        inet.push_back(std::make_unique<SocketmapClient>(srv.inet_endpoint()));
        BOOST_REQUIRE(inet.back()->query("echo", "in") == SocketmapReply::ok("in"));
    }
    const auto r = raw_exchange(srv.inet_endpoint(), ns("echo over"));
    BOOST_CHECK_MESSAGE(r.data.empty() && (r.eof || r.reset),
                        "3rd connection from 127.0.0.1: got \"" << r.data << "\"");
    BOOST_CHECK_MESSAGE(logging::captured().find("peer=127.0.0.1:") != std::string::npos &&
                            logging::captured().find("reason=too many connections from this peer, "
                                                     "max_connections_per_peer=2") != std::string::npos,
                        "refusal not logged: " << logging::captured());
    // Another peer (this uid on the UNIX socket) is still served.
    SocketmapClient u(srv.unix_endpoint());
    BOOST_CHECK(u.query("echo", "other") == SocketmapReply::ok("other"));
}

// set_limits() on a running server (a reload) applies to the next accept.
BOOST_AUTO_TEST_CASE(set_limits_applies_to_new_connections) {
    TestServer srv;
    SocketmapClient a(srv.inet_endpoint());
    BOOST_REQUIRE(a.query("setlimit", "1") == SocketmapReply::ok("1"));  // runs on the loop's thread
    const auto r = raw_exchange(srv.inet_endpoint(), ns("echo over"));
    BOOST_CHECK_MESSAGE(r.data.empty() && (r.eof || r.reset),
                        "2nd connection from 127.0.0.1 after the change: got \"" << r.data << "\"");
    BOOST_CHECK(a.query("echo", "still") == SocketmapReply::ok("still"));
}

// A socketmap server whose every map answers OK with the key.
net::ProtocolFactory echo_map() {
    return net::socketmap_factory([](std::string_view, std::string_view k) { return SocketmapReply::ok(std::string(k)); },
                                  net_test::socketmap_limits());
}

// drain(): the listener closes, an idle connection is closed at once, a
// connection in the middle of a request gets its reply, then done() runs.
BOOST_AUTO_TEST_CASE(drain_finishes_requests_in_flight) {
    logging::open("test", logging::Sink::None);
    net_test::TempDir dir;
    net::EventLoop loop;
    const net::Endpoint ep{net::Endpoint::Kind::Unix, dir.file("sm"), {}, 0};
    net::StreamServer server(loop, "socketmap", echo_map(), net_test::limits());
    server.add_listener(net::Listener::open(ep, net_test::listen_options()));
    sys::Fd idle = net::connect_endpoint(ep);
    sys::Fd busy = net::connect_endpoint(ep);
    const std::string req = ns("echo finished");
    net_test::send_all(busy.get(), req.substr(0, 5));
    for (int i = 0; i < 20 && server.connections() < 2; ++i) loop.run_once(50ms);
    BOOST_REQUIRE_EQUAL(server.connections(), 2u);
    for (int i = 0; i < 5; ++i) loop.run_once(10ms);  // the partial request is read
    bool done = false;
    server.drain(loop.now() + 5s, [&] { done = true; });
    BOOST_CHECK_EQUAL(server.connections(), 1u);
    BOOST_CHECK_MESSAGE(::access(ep.path.c_str(), F_OK) != 0, "socket file still there");
    net_test::send_all(busy.get(), req.substr(5));
    for (int i = 0; i < 100 && !done; ++i) loop.run_once(50ms);
    BOOST_CHECK(done);
    const auto r = net_test::read_until_eof(busy.get(), 2s);
    BOOST_CHECK_MESSAGE(r.data == ns("OK finished"), "got \"" << r.data << "\"");
    BOOST_CHECK(net_test::read_until_eof(idle.get(), 2s).eof);
}

// A drain that is not finished by its deadline closes what is left.
BOOST_AUTO_TEST_CASE(drain_deadline_closes_the_rest) {
    logging::open("test", logging::Sink::None);
    logging::clear_captured();
    net_test::TempDir dir;
    net::EventLoop loop;
    const net::Endpoint ep{net::Endpoint::Kind::Unix, dir.file("sm"), {}, 0};
    net::StreamServer server(loop, "socketmap", echo_map(), net_test::limits());
    server.add_listener(net::Listener::open(ep, net_test::listen_options()));
    sys::Fd busy = net::connect_endpoint(ep);
    net_test::send_all(busy.get(), "20:echo");
    for (int i = 0; i < 20 && server.connections() < 1; ++i) loop.run_once(50ms);
    for (int i = 0; i < 5; ++i) loop.run_once(10ms);
    bool done = false;
    server.drain(loop.now() + 200ms, [&] { done = true; });
    for (int i = 0; i < 100 && !done; ++i) loop.run_once(50ms);
    BOOST_CHECK(done);
    BOOST_CHECK_EQUAL(server.connections(), 0u);
    BOOST_CHECK_MESSAGE(logging::captured().find("action=shutdown, reason=requests not finished in time, "
                                                 "closed=1") != std::string::npos,
                        logging::captured());
}

BOOST_AUTO_TEST_CASE(limits_must_be_set) {
    net::EventLoop loop;
    net::ServerLimits l = net_test::limits();
    l.request_timeout = 0ms;
    try {
        net::StreamServer s(loop, "x", {}, l);
        BOOST_ERROR("accepted a zero request_timeout");
    } catch (const std::invalid_argument& e) {
        BOOST_CHECK_EQUAL(std::string(e.what()), "ServerLimits.request_timeout is not set");
    }
}

// stop() through the signal-safe path: a signal handler on the server
// thread, with connections open, makes run() return.
namespace {
net::EventLoop* g_loop = nullptr;
extern "C" void on_usr2(int) { g_loop->stop(); }
}  // namespace

BOOST_AUTO_TEST_CASE(stop_from_signal_returns_from_run) {
    TestServer srv;
    SocketmapClient c(srv.unix_endpoint());
    BOOST_REQUIRE(c.query("echo", "x") == SocketmapReply::ok("x"));
    g_loop = &srv.loop();
    struct sigaction sa {}, old{};
    sa.sa_handler = on_usr2;
    sigemptyset(&sa.sa_mask);
    BOOST_REQUIRE(::sigaction(SIGUSR2, &sa, &old) == 0);
    const pthread_t th = srv.thread().native_handle();
    auto joined = std::async(std::launch::async, [&] { srv.thread().join(); });
    BOOST_REQUIRE(::pthread_kill(th, SIGUSR2) == 0);
    const bool returned = joined.wait_for(5s) == std::future_status::ready;
    if (!returned) {
        srv.loop().stop();
        joined.wait();
    }
    BOOST_CHECK_MESSAGE(returned, "run() did not return after the signal");
    ::sigaction(SIGUSR2, &old, nullptr);
    g_loop = nullptr;
}

BOOST_AUTO_TEST_SUITE_END()
