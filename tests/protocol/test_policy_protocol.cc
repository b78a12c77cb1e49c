// test_policy_protocol.cc - PolicyProtocol on a real net::StreamServer
//
// The server runs on its own EventLoop thread with a UNIX socket in a temp
// dir and a TCP listener on 127.0.0.1 (ephemeral port); the clients are
// plain blocking sockets speaking the policy protocol as Postfix does.
#include <boost/test/unit_test.hpp>

#include "common/log/log.h"
#include "common/net/endpoint.h"
#include "common/net/event_loop.h"
#include "common/net/listener.h"
#include "common/net/stream_server.h"
#include "common/policy/protocol.h"
#include "common/policy/request.h"
#include "tests/support/temp_dir.h"

#include <cerrno>
#include <memory>
#include <stdexcept>
#include <string>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {

constexpr policy::Limits kLimits{.max_line = 4096, .max_attributes = 100, .max_request = 65536};

net::ServerLimits server_limits(size_t max_connections = 100) {
    return net::ServerLimits{.max_connections = max_connections,
                             .max_connections_per_peer = max_connections,
                             .max_input = policy::server_max_input(kLimits),
                             .idle_timeout = 300s,
                             .request_timeout = 10s};
}

// A realistic RCPT request (all attributes Postfix 3.7 sends).
std::string rcpt_request(const std::string& sasl_username, const std::string& recipient) {
    policy::Request r;
    r.add("request", "smtpd_access_policy");
    r.add("protocol_state", "RCPT");
    r.add("protocol_name", "ESMTP");
    r.add("client_address", "192.0.2.10");
    r.add("client_name", "mail.example.com");
    r.add("client_port", "50312");
    r.add("reverse_client_name", "mail.example.com");
    r.add("server_address", "192.0.2.1");
    r.add("server_port", "587");
    r.add("helo_name", "mail.example.com");
    r.add("sender", sasl_username + "@example.com");
    r.add("recipient", recipient);
    r.add("recipient_count", "0");
    r.add("queue_id", "");
    r.add("instance", "1b3.6566d1e2.a1b2c.0");
    r.add("size", "0");
    r.add("etrn_domain", "");
    r.add("stress", "");
    r.add("sasl_method", "PLAIN");
    r.add("sasl_username", sasl_username);
    r.add("sasl_sender", "");
    r.add("ccert_subject", "");
    r.add("ccert_issuer", "");
    r.add("ccert_fingerprint", "");
    r.add("ccert_pubkey_fingerprint", "");
    r.add("encryption_protocol", "TLSv1.3");
    r.add("encryption_cipher", "TLS_AES_256_GCM_SHA384");
    r.add("encryption_keysize", "256");
    r.add("policy_context", "submission");
    return policy::format_request(r);
}

// The policy server under test. Its handler runs on the loop's thread and
// answers "OK <recipient> conns=<live connections> n=<requests so far>";
// recipient boom@example.org throws.
class PolicyServer {
public:
    explicit PolicyServer(net::ServerLimits limits = server_limits()) : dir_("sg-policy-") {
        logging::open("test", logging::Sink::None);
        logging::clear_captured();
        stats_ = std::make_shared<policy::Stats>();
        auto factory = policy::policy_factory(
            [this](const net::Peer&, const policy::Request& req) { return handle(req); },
            kLimits, policy::Options{.error_action = "DUNNO", .component = "policyd"}, stats_);
        server_ = std::make_unique<net::StreamServer>(loop_, "policyd", std::move(factory),
                                                      limits);
        const net::ListenOptions lo{.unix_mode = 0600, .unix_group = static_cast<gid_t>(-1)};
        auto u = net::Listener::open({net::Endpoint::Kind::Unix, dir_.path() + "/policy", {}, 0},
                                     lo);
        auto i = net::Listener::open(*net::parse_endpoint("inet:127.0.0.1:0").endpoint, lo);
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
    ~PolicyServer() { stop(); }

    // After stop() the stats may be read from the test's thread.
    void stop() {
        if (!thread_.joinable()) return;
        loop_.stop();
        thread_.join();
    }
    const policy::Stats& stats() const { return *stats_; }
    const net::ServerStats& server_stats() const { return server_->stats(); }
    const net::Endpoint& unix_endpoint() const { return unix_; }
    const net::Endpoint& inet_endpoint() const { return inet_; }
    const std::string& error() const { return error_; }

private:
    std::string handle(const policy::Request& req) {
        if (req.recipient() == "boom@example.org") throw std::runtime_error("rate store on fire");
        return "OK " + std::string(req.recipient()) +
               " conns=" + std::to_string(server_->connections()) +
               " n=" + std::to_string(++count_);
    }

    harness::TempDir dir_;
    net::EventLoop loop_;
    std::shared_ptr<policy::Stats> stats_;
    std::unique_ptr<net::StreamServer> server_;
    net::Endpoint unix_, inet_;
    std::thread thread_;
    std::string error_;
    uint64_t count_ = 0;
};

bool send_all(int fd, std::string_view data) {
    while (!data.empty()) {
        const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;  // EPIPE/ECONNRESET: the server closed first
        data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
}

// A client connection: the blocking socket connect_endpoint gives (10s
// receive time-out) and its receive buffer.
class Client {
public:
    explicit Client(const net::Endpoint& ep) : fd_(net::connect_endpoint(ep, 10s)) {}
    int fd() const { return fd_.get(); }
    bool send(std::string_view data) { return send_all(fd_.get(), data); }

    // The next reply's action; throws when the server closes or on time-out.
    std::string read_reply() {
        for (;;) {
            const auto r = policy::decode_reply(buf_, 1 << 20);
            if (r.status == policy::DecodeStatus::Done) {
                std::string action(r.action);
                buf_.erase(0, r.consumed);
                return action;
            }
            if (r.status == policy::DecodeStatus::Error)
                throw std::runtime_error("bad reply: " + std::string(r.error));
            if (!fill()) throw std::runtime_error("connection closed before the reply");
        }
    }
    std::string ask(std::string_view request) {
        if (!send(request)) throw std::runtime_error("send failed");
        return read_reply();
    }
    // Reads until the server closes: true for EOF or reset (what was
    // received before stays in rest()), false on time-out.
    bool wait_closed() {
        for (;;) {
            char b[65536];
            const ssize_t n = ::recv(fd_.get(), b, sizeof b, 0);
            if (n > 0) {
                buf_.append(b, static_cast<size_t>(n));
                continue;
            }
            if (n < 0 && errno == EINTR) continue;
            return n == 0 || errno == ECONNRESET;
        }
    }
    const std::string& rest() const { return buf_; }

private:
    bool fill() {
        char b[65536];
        for (;;) {
            const ssize_t n = ::recv(fd_.get(), b, sizeof b, 0);
            if (n > 0) {
                buf_.append(b, static_cast<size_t>(n));
                return true;
            }
            if (n < 0 && errno == EINTR) continue;
            return false;
        }
    }
    sys::Fd fd_;
    std::string buf_;
};

// "OK rcpt conns=N n=M" -> the field's value.
std::string field(const std::string& action, const std::string& name) {
    const size_t at = action.find(" " + name + "=");
    if (at == std::string::npos) return "";
    const size_t start = at + name.size() + 2;
    return action.substr(start, action.find(' ', start) - start);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(policy_protocol)

BOOST_AUTO_TEST_CASE(persistent_connection_many_requests) {
    PolicyServer srv;
    for (const auto* ep : {&srv.unix_endpoint(), &srv.inet_endpoint()}) {
        Client c(*ep);
        for (int i = 0; i < 500; ++i) {
            const std::string rcpt = "u" + std::to_string(i) + "@example.net";
            const std::string action = c.ask(rcpt_request("alice", rcpt));
            BOOST_REQUIRE_MESSAGE(action.rfind("OK " + rcpt + " conns=", 0) == 0, action);
        }
    }
    srv.stop();
    BOOST_TEST(srv.error() == "");
    BOOST_TEST(srv.stats().requests == 1000u);
    BOOST_TEST(srv.server_stats().accepted == 2u);
}

BOOST_AUTO_TEST_CASE(pipelined_requests_answered_in_order) {
    PolicyServer srv;
    Client c(srv.inet_endpoint());
    std::string batch;
    for (int i = 0; i < 300; ++i) batch += rcpt_request("bob", "p" + std::to_string(i) + "@x.example");
    BOOST_REQUIRE(c.send(batch));  // ~300 KB in one go
    for (int i = 0; i < 300; ++i) {
        const std::string action = c.read_reply();
        BOOST_REQUIRE_MESSAGE(action.rfind("OK p" + std::to_string(i) + "@x.example ", 0) == 0,
                              action);
    }
}

BOOST_AUTO_TEST_CASE(malformed_input_closes_that_connection_only) {
    PolicyServer srv;
    Client good(srv.unix_endpoint());
    BOOST_TEST(good.ask(rcpt_request("a", "one@example.net")).rfind("OK one@", 0) == 0);

    struct Case {
        std::string bytes;
        std::string error;
    };
    const std::vector<Case> cases = {
        {"request=smtpd_access_policy\nthis line has no equals sign\n\n", "line without '='"},
        {"=x\n\n", "empty attribute name"},
        {"bad name=x\n\n", "bad attribute name"},
        {std::string("sender=a\0b\n\n", 12), "NUL byte in a line"},
        {"\n", "empty request"},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.error) {
            logging::clear_captured();
            Client bad(srv.inet_endpoint());
            // A good request first: answered before the connection closes.
            BOOST_REQUIRE(bad.send(rcpt_request("a", "first@example.net") + c.bytes +
                                   rcpt_request("a", "never@example.net")));
            BOOST_TEST(bad.read_reply().rfind("OK first@", 0) == 0);
            BOOST_TEST(bad.wait_closed());
            BOOST_TEST(bad.rest() == "");
            const std::string log = logging::captured();
            BOOST_TEST(log.find("warning: policyd: peer=127.0.0.1:") != std::string::npos, log);
            BOOST_TEST(log.find("error=" + c.error) != std::string::npos, log);
            // The other connection is unaffected.
            BOOST_TEST(good.ask(rcpt_request("a", "again@example.net")).rfind("OK again@", 0) == 0);
            std::this_thread::sleep_for(1100ms);  // past the warning rate limit
        }
    }
    srv.stop();
    BOOST_TEST(srv.stats().malformed == cases.size());
    BOOST_TEST(srv.stats().requests == 2 * cases.size() + 1);
}

BOOST_AUTO_TEST_CASE(huge_line_closes) {
    PolicyServer srv;
    for (const auto* ep : {&srv.unix_endpoint(), &srv.inet_endpoint()}) {
        Client c(*ep);
        // 4 MiB without a line end: refused once max_line bytes are in,
        // whatever the sender goes on writing (the send may fail).
        const std::string huge = "sender=" + std::string(4 << 20, 'x');
        c.send(huge);
        BOOST_TEST(c.wait_closed());
        BOOST_TEST(c.rest() == "");
        // A long line of many small attributes, over max_request in total.
        Client d(*ep);
        std::string many = "request=smtpd_access_policy\n";
        for (int i = 0; i < 99; ++i) many += "x" + std::to_string(i) + "=" + std::string(1000, 'v') + "\n";
        d.send(many + "\n");
        BOOST_TEST(d.wait_closed());
        BOOST_TEST(d.rest() == "");
    }
    srv.stop();
    BOOST_TEST(srv.stats().malformed == 4u);
    const std::string log = logging::captured();
    BOOST_TEST(log.find("error=line too long") != std::string::npos, log);
}

BOOST_AUTO_TEST_CASE(half_request_then_eof) {
    PolicyServer srv;
    {
        Client c(srv.unix_endpoint());
        const std::string full = rcpt_request("a", "whole@example.net");
        const std::string half = rcpt_request("a", "half@example.net").substr(0, 200);
        BOOST_REQUIRE(c.send(full + half));
        ::shutdown(c.fd(), SHUT_WR);
        BOOST_TEST(c.read_reply().rfind("OK whole@", 0) == 0);
        BOOST_TEST(c.wait_closed());
        BOOST_TEST(c.rest() == "");
    }
    {
        Client c(srv.inet_endpoint());
        BOOST_REQUIRE(c.send("request=smtpd_access_policy\nprotocol_state=RCPT\n"));
        ::shutdown(c.fd(), SHUT_WR);
        BOOST_TEST(c.wait_closed());
        BOOST_TEST(c.rest() == "");
    }
    srv.stop();
    BOOST_TEST(srv.stats().requests == 1u);
    BOOST_TEST(srv.stats().truncated == 2u);
    BOOST_TEST(srv.stats().malformed == 0u);
}

BOOST_AUTO_TEST_CASE(handler_throwing_gets_error_action) {
    PolicyServer srv;
    Client c(srv.unix_endpoint());
    BOOST_TEST(c.ask(rcpt_request("a", "boom@example.org")) == "DUNNO");
    // The connection stays open for the next request.
    BOOST_TEST(c.ask(rcpt_request("a", "fine@example.org")).rfind("OK fine@", 0) == 0);
    srv.stop();
    BOOST_TEST(srv.stats().handler_errors == 1u);
    const std::string log = logging::captured();
    BOOST_TEST(log.find("warning: policyd: peer=unix uid=") != std::string::npos, log);
    BOOST_TEST(log.find("reason=handler error, error=rate store on fire") != std::string::npos,
               log);
}

// A request type other than smtpd_access_policy (or none) never reaches
// the handler: it is answered DUNNO on a connection that stays open, and
// logged once for all connections; the next real request is answered.
BOOST_AUTO_TEST_CASE(unknown_request_type_gets_dunno_logged_once) {
    PolicyServer srv;
    Client c(srv.unix_endpoint());
    std::string other = rcpt_request("a", "x@example.org");
    other.replace(0, std::string("request=smtpd_access_policy").size(), "request=smtpd_future_policy");
    BOOST_TEST(c.ask(other) == "DUNNO");
    BOOST_TEST(c.ask("protocol_state=RCPT\nrecipient=y@example.org\n\n") == "DUNNO");
    Client c2(srv.inet_endpoint());
    BOOST_TEST(c2.ask(other) == "DUNNO");
    // The handler saw none of them: its first request is n=1.
    BOOST_TEST(field(c.ask(rcpt_request("a", "fine@example.org")), "n") == "1");
    srv.stop();
    BOOST_TEST(srv.stats().unknown_requests == 3u);
    BOOST_TEST(srv.stats().requests == 1u);
    BOOST_TEST(srv.stats().malformed == 0u);
    const std::string log = logging::captured();
    const std::string want = "reason=unknown policy request type, request=smtpd_future_policy, "
                             "expected=smtpd_access_policy, action=DUNNO";
    BOOST_TEST(log.find(want) != std::string::npos, log);
    BOOST_TEST(log.find("unknown policy request type") == log.rfind("unknown policy request type"), log);
}

// 2000 connections open at once (1000 UNIX, 1000 TCP), each answered, in
// two rounds: in the second every connection is known to be accepted, so
// every reply sees all 2000.
BOOST_AUTO_TEST_CASE(thousands_of_concurrent_connections) {
    constexpr size_t kConns = 2000;
    rlimit rl{};
    BOOST_REQUIRE(::getrlimit(RLIMIT_NOFILE, &rl) == 0);
    const rlim_t want = 3 * kConns + 200;  // both ends in this process
    if (rl.rlim_cur < want) {
        rlimit up = rl;
        up.rlim_cur = want;
        if (up.rlim_max < want) up.rlim_max = want;  // root may raise it
        BOOST_REQUIRE_MESSAGE(::setrlimit(RLIMIT_NOFILE, &up) == 0,
                              "cannot raise RLIMIT_NOFILE to " << want);
    }
    PolicyServer srv(server_limits(kConns + 10));
    std::vector<std::unique_ptr<Client>> clients;
    clients.reserve(kConns);
    for (size_t i = 0; i < kConns; ++i)
        clients.push_back(std::make_unique<Client>(i % 2 ? srv.inet_endpoint()
                                                         : srv.unix_endpoint()));
    for (int round = 0; round < 2; ++round) {
        for (size_t i = 0; i < kConns; ++i)
            BOOST_REQUIRE(clients[i]->send(
                rcpt_request("user" + std::to_string(i % 97), "c" + std::to_string(i) + "@example.net")));
        for (size_t i = 0; i < kConns; ++i) {
            const std::string action = clients[i]->read_reply();
            const std::string rcpt = "c" + std::to_string(i) + "@example.net";
            BOOST_REQUIRE_MESSAGE(action.rfind("OK " + rcpt + " ", 0) == 0, action);
            if (round == 1) BOOST_REQUIRE_EQUAL(field(action, "conns"), std::to_string(kConns));
        }
    }
    clients.clear();
    srv.stop();
    BOOST_TEST(srv.error() == "");
    BOOST_TEST(srv.stats().requests == 2 * kConns);
    BOOST_TEST(srv.server_stats().accepted == kConns);
    BOOST_TEST(srv.server_stats().refused == 0u);
    ::setrlimit(RLIMIT_NOFILE, &rl);
}

BOOST_AUTO_TEST_SUITE_END()
