// test_policy_codec_client.cc - the client side of the policy protocol:
// reading an answer as smtpd would (answer.h) and ClientPool over a real
// socket (a thread playing the service on a socketpair-free UNIX socket)
#define BOOST_TEST_NO_MAIN
#include <boost/test/unit_test.hpp>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "common/policy/answer.h"
#include "common/policy/client.h"
#include "common/sys/fd.h"
#include "tests/support/temp_dir.h"

using policy::Answer;
using policy::Verdict;

namespace {

std::string describe(const Answer& a) {
    return std::string(policy::to_string(a.verdict)) + "|" + a.code + "|" + a.xcode + "|" + a.text;
}

// A UNIX-socket service answering each request with the next of answers
// ("" : close the connection without answering; "-" : say nothing).
struct Service {
    harness::TempDir dir{"sg-policy-client-"};
    std::string path = dir.sub("policy.sock");
    sys::Fd listener;
    std::thread thread;
    std::vector<std::string> answers;
    std::atomic<int> connections{0};
    std::atomic<int> requests{0};

    explicit Service(std::vector<std::string> a) : answers(std::move(a)) {
        listener = sys::Fd(::socket(AF_UNIX, SOCK_STREAM, 0));
        sockaddr_un sa{};
        sa.sun_family = AF_UNIX;
        path.copy(sa.sun_path, sizeof sa.sun_path - 1);
        BOOST_REQUIRE(::bind(listener.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
        BOOST_REQUIRE(::listen(listener.get(), 8) == 0);
        thread = std::thread([this] { run(); });
    }
    ~Service() {
        ::shutdown(listener.get(), SHUT_RDWR);
        thread.join();
    }
    void run() {
        size_t next = 0;
        for (;;) {
            sys::Fd c(::accept(listener.get(), nullptr, nullptr));
            if (!c) return;
            ++connections;
            std::string in;
            char buf[4096];
            bool open = true;
            while (open) {
                const ssize_t n = ::recv(c.get(), buf, sizeof buf, 0);
                if (n <= 0) break;
                in.append(buf, static_cast<size_t>(n));
                size_t end;
                while ((end = in.find("\n\n")) != std::string::npos) {
                    in.erase(0, end + 2);
                    ++requests;
                    const std::string a = next < answers.size() ? answers[next++] : "DUNNO";
                    if (a.empty()) {
                        open = false;
                        break;
                    }
                    if (a == "-") continue;
                    const std::string reply = "action=" + a + "\n\n";
                    (void)::send(c.get(), reply.data(), reply.size(), MSG_NOSIGNAL);
                }
            }
        }
    }
    net::Endpoint endpoint() const { return net::Endpoint{net::Endpoint::Kind::Unix, path, {}, 0}; }
};

policy::Request rcpt() {
    policy::Request r;
    r.add("request", "smtpd_access_policy");
    r.add("protocol_state", "RCPT");
    r.add("instance", "i1");
    return r;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(policy_client)

BOOST_AUTO_TEST_CASE(answers_read_as_smtpd_reads_them) {
    struct Case {
        std::string action, want;
    };
    const Case cases[] = {
        {"DUNNO", "continue|||"},
        {"ok", "continue|||"},
        {"PERMIT", "continue|||"},
        {"12345", "continue|||"},
        {"DEFER_IF_PERMIT 4.7.1 rule r: 2/h for k reached; try again in 60s",
         "tempfail|450|4.7.1|rule r: 2/h for k reached; try again in 60s"},
        {"defer", "tempfail|450|4.7.1|Service unavailable"},
        {"DEFER try later", "tempfail|450|4.7.1|try later"},
        {"451 4.3.5 Server configuration problem", "tempfail|451|4.3.5|Server configuration problem"},
        {"450 5.7.1 wrong class", "tempfail|450|4.7.1|5.7.1 wrong class"},
        {"REJECT 5.7.1 quota", "reject|554|5.7.1|quota"},
        {"REJECT", "reject|554|5.7.1|Access denied"},
        {"550 5.7.26 no", "reject|550|5.7.26|no"},
        {"550 5.7.1234 no", "reject|550|5.7.1|5.7.1234 no"},
        {"  HOLD  rule r reached ", "hold|||rule r reached"},
        {"HOLD", "hold|||held by the policy service"},
        {"FILTER smtp:[127.0.0.1]:10025", "other|||FILTER smtp:[127.0.0.1]:10025"},
        {"DEFER_IF_REJECT x", "other|||DEFER_IF_REJECT x"},
        {"250 fine", "other|||250 fine"},
        {"", "other|||"},
    };
    for (const Case& c : cases) BOOST_TEST(describe(policy::classify_action(c.action)) == c.want, "for " << c.action);
}

// One connection serves many requests; a connection the service closed
// while idle is replaced without the caller seeing it.
BOOST_AUTO_TEST_CASE(pool_keeps_and_renews_its_connection) {
    Service svc({"DUNNO", "DEFER_IF_PERMIT 4.7.1 full", "", "OK"});
    policy::ClientPool pool(svc.endpoint(), std::chrono::seconds(2));
    policy::Asked a = pool.ask(rcpt());
    BOOST_TEST(a.action.value_or("none") == "DUNNO", a.error);
    a = pool.ask(rcpt());
    BOOST_TEST(a.action.value_or("none") == "DEFER_IF_PERMIT 4.7.1 full", a.error);
    BOOST_TEST(svc.connections.load() == 1);
    BOOST_TEST(pool.idle() == 1u);
    // The service closes on the third request without a reply: resent once
    // on a new connection, which answers OK.
    a = pool.ask(rcpt());
    BOOST_TEST(a.action.value_or("none") == "OK", a.error);
    BOOST_TEST(svc.connections.load() == 2);
    BOOST_TEST(svc.requests.load() == 4);
}

// A silent service costs the timeout, no more; an absent one fails at once.
BOOST_AUTO_TEST_CASE(pool_is_bounded_by_its_timeout) {
    Service svc({"-"});
    policy::ClientPool pool(svc.endpoint(), std::chrono::milliseconds(300));
    const auto t0 = std::chrono::steady_clock::now();
    const policy::Asked a = pool.ask(rcpt());
    const long long took =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    BOOST_TEST(!a.action.has_value());
    BOOST_TEST(a.error.find("timed out after 300ms") != std::string::npos, a.error);
    BOOST_TEST(took >= 290);
    BOOST_TEST(took < 1500);
    BOOST_TEST(pool.idle() == 0u);  // a timed-out connection is not kept

    policy::ClientPool none(net::Endpoint{net::Endpoint::Kind::Unix, svc.dir.sub("absent.sock"), {}, 0},
                            std::chrono::seconds(5));
    const auto t1 = std::chrono::steady_clock::now();
    const policy::Asked b = none.ask(rcpt());
    BOOST_TEST(!b.action.has_value());
    BOOST_TEST(b.error.find("absent.sock") != std::string::npos, b.error);
    const long long took_absent =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t1).count();
    BOOST_TEST(took_absent < 1000);
}

// A malformed reply is an error, and its connection is not reused.
BOOST_AUTO_TEST_CASE(pool_refuses_a_bad_reply) {
    Service svc({"DUNNO", "x\nnot a line"});
    policy::ClientPool pool(svc.endpoint(), std::chrono::seconds(2));
    BOOST_TEST(pool.ask(rcpt()).action.value_or("") == "DUNNO");
    // "action=x\nnot a line\n\n": a line without '='.
    const policy::Asked a = pool.ask(rcpt());
    BOOST_TEST(!a.action.has_value());
    BOOST_TEST(a.error.find("bad reply") != std::string::npos, a.error);
    BOOST_TEST(pool.idle() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
