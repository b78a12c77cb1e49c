// test_milter_protocol_limits.cc - sendguard-milter's connection limits and
// packet size over the wire
//
// milter_max_connections: with N open, connection N+1 is closed at once
// (before the option negotiation is answered, so the MTA applies its
// milter_default_action), the N open ones still work, one warning names the
// limit, and once one closes a new one is served. For an inet: listener,
// milter_max_client_connections counts per client address (127.0.0.1 and
// 127.0.0.2 here): one client at its limit does not lock another out.
//
// Packet size: a header field as large as Postfix's header_size_limit
// (102400) gets an answer; a packet past the milter's limit (256 KiB) is
// closed, and the milter goes on serving.
#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "common/sys/fd.h"
#include "tests/support/milter_client.h"
#include "tests/support/sendguard_milter.h"

using namespace std::chrono_literals;
using harness::MilterClient;
using harness::MilterError;
using harness::MilterStatus;
using harness::MilterTransaction;

namespace {

// "negotiated", "closed", "silence" or "error: ..." for a fresh connection.
std::string negotiation(MilterClient& c, std::chrono::milliseconds wait = 2000ms) {
    c.set_timeout(wait);
    try {
        c.negotiate();
        c.set_timeout(10s);
        return "negotiated";
    } catch (const MilterError& e) {
        switch (e.kind()) {
        case MilterError::Kind::Closed: return "closed";
        case MilterError::Kind::Timeout: return "silence";
        default: return std::string("error: ") + e.what();
        }
    }
}

// A whole allowed message on c, which has negotiated: its VERP sender.
bool message_works(MilterClient& c, const std::string& queue_id) {
    MilterTransaction t = harness::allowed_transaction(queue_id);
    t.end = harness::MilterEnd::QuitNc;
    const auto r = c.transaction(t);
    return r.change_from().has_value();
}

// A new connection negotiates within `within` (the milter notices closed
// ones when it reads their end).
bool new_one_served(const harness::SendguardMilter& m, std::chrono::milliseconds within) {
    for (auto end = std::chrono::steady_clock::now() + within; std::chrono::steady_clock::now() < end;
         std::this_thread::sleep_for(50ms)) {
        MilterClient c = m.client();
        if (negotiation(c) == "negotiated") return message_works(c, "QAFTER1");
    }
    return false;
}

// A new connection, negotiated. Places freed by connections just closed
// (start()'s probe among them) come back once the milter has read their
// end: a refusal meanwhile is tried again, for up to 5 s.
template <class Open>
MilterClient admitted(const harness::SendguardMilter& m, Open open) {
    for (int t = 0;; ++t) {
        MilterClient c = open();
        const std::string got = negotiation(c);
        if (got == "negotiated") return c;
        BOOST_TEST_REQUIRE(t < 50, "no place for a new connection: " << got << "; " << m.err());
        std::this_thread::sleep_for(100ms);
    }
}
MilterClient admitted(const harness::SendguardMilter& m) {
    return admitted(m, [&] { return m.client(); });
}

// A TCP connection to 127.0.0.1:port from the given local address.
MilterClient from_address(const std::string& local, uint16_t port) {
    sys::Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    BOOST_REQUIRE(fd.get() >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    ::inet_pton(AF_INET, local.c_str(), &a.sin_addr);
    BOOST_REQUIRE(::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    ::inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    BOOST_REQUIRE(::connect(fd.get(), reinterpret_cast<sockaddr*>(&to), sizeof to) == 0);
    return MilterClient(std::move(fd), {});
}

uint16_t port_of(const std::string& spec) {  // "inet:PORT@HOST"
    return static_cast<uint16_t>(std::stoi(spec.substr(5, spec.find('@') - 5)));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(milter_protocol_limits)

BOOST_AUTO_TEST_CASE(the_connection_past_the_limit_is_refused_at_once) {
    constexpr size_t kLimit = 5;
    harness::SendguardMilter m({.extra = "milter_max_connections = " + std::to_string(kLimit) + "\n"});
    m.start();
    std::vector<MilterClient> open;
    for (size_t i = 0; i < kLimit; ++i) open.push_back(admitted(m));
    for (int round = 0; round < 3; ++round) {
        MilterClient extra = m.client();
        const auto t0 = std::chrono::steady_clock::now();
        BOOST_TEST(negotiation(extra) == "closed", "connection " << kLimit + 1 << ", try " << round + 1);
        BOOST_TEST((std::chrono::steady_clock::now() - t0) < 1s, "the refusal took more than a second");
    }
    BOOST_TEST(m.logged("limit=milter_max_connections, value=5", 2s), m.err());
    BOOST_TEST(m.err().find("refusals=1") != std::string::npos, m.err());
    // One warning for the three refusals (a minute apart at most one).
    size_t warnings = 0;
    for (size_t p = m.err().find("refused=connection"); p != std::string::npos;
         p = m.err().find("refused=connection", p + 1))
        ++warnings;
    BOOST_TEST(warnings == 1u, m.err());
    for (size_t i = 0; i < open.size(); ++i)
        BOOST_TEST(message_works(open[i], "QOPEN" + std::to_string(i)), "connection " << i + 1);
    BOOST_TEST(m.running());

    open.pop_back();  // closes it: the milter reads the end and frees the place
    BOOST_TEST(new_one_served(m, 5s), m.err());
    open.clear();
    std::vector<MilterClient> again;
    for (size_t i = 0; i < kLimit; ++i) again.push_back(admitted(m));
    MilterClient extra = m.client();
    BOOST_TEST(negotiation(extra) == "closed", "the limit holds again");
}

BOOST_AUTO_TEST_CASE(an_idle_connection_counts_until_it_is_closed) {
    // A client that connects and sends nothing holds its place (libmilter
    // keeps it until it has been silent for milter_timeout); closing it
    // frees it.
    harness::SendguardMilter m({.extra = "milter_max_connections = 2\n"});
    m.start();
    std::vector<MilterClient> idle;
    for (int i = 0; i < 2; ++i) {
        // start()'s own probe connection holds a place until the milter has
        // read its end: a connection refused meanwhile is opened again.
        idle.push_back(m.client());
        for (int t = 0; t < 50 && idle.back().wait_closed(200ms); ++t) idle.back() = m.client();
        BOOST_TEST_REQUIRE(!idle.back().wait_closed(200ms), "idle connection " << i + 1 << " refused");
    }
    MilterClient extra = m.client();
    BOOST_TEST(negotiation(extra) == "closed");
    idle.clear();
    BOOST_TEST(new_one_served(m, 5s), m.err());
}

BOOST_AUTO_TEST_CASE(the_per_client_limit_counts_each_address) {
    harness::SendguardMilter m({.inet = true,
                                .extra = "milter_max_connections = 10\nmilter_max_client_connections = 2\n"});
    m.start();
    const uint16_t port = port_of(m.spec());
    std::vector<MilterClient> open;
    for (int i = 0; i < 2; ++i) open.push_back(admitted(m, [&] { return from_address("127.0.0.1", port); }));
    MilterClient third = from_address("127.0.0.1", port);
    BOOST_TEST(negotiation(third) == "closed");
    BOOST_TEST(m.logged("limit=milter_max_client_connections, value=2, client_addr=127.0.0.1", 2s), m.err());
    MilterClient other = from_address("127.0.0.2", port);
    BOOST_TEST(negotiation(other) == "negotiated", "another client address is refused too");
    BOOST_TEST(message_works(other, "QOTHER1"));
    for (size_t i = 0; i < open.size(); ++i) BOOST_TEST(message_works(open[i], "QPEER" + std::to_string(i)));
}

BOOST_AUTO_TEST_CASE(a_header_at_postfix_header_size_limit_gets_an_answer) {
    harness::SendguardMilter m;
    m.start();
    for (size_t size : {70000u, 102400u - 16u}) {
        MilterClient c = m.client();
        MilterTransaction t = harness::allowed_transaction("QBIGHDR1");
        t.headers.push_back({"X-Big", " " + std::string(size, 'x')});
        const auto r = c.transaction(t);
        BOOST_TEST(r.eoh.status == MilterStatus::NoReply, size << " bytes: " << r.str());
        BOOST_TEST(r.change_from().has_value(), size << " bytes: " << r.eom.str());
    }
    {
        // A From: that large is judged, not dropped (it names no valid mailbox).
        MilterClient c = m.client();
        MilterTransaction t = harness::allowed_transaction("QBIGHDR2");
        t.headers = {{"From", " " + std::string(100000, 'f')}};
        const auto r = c.transaction(t);
        BOOST_TEST(r.eom.code() == 550, r.eom.str());
    }
    for (size_t size : {(256u << 10) + 1u, 1u << 20}) {
        // Past the limit: the connection ends, promptly, and nothing else.
        MilterClient c = m.client();
        c.negotiate();
        c.connect({});
        c.mail("news@customer-a.example");
        c.set_timeout(5s);
        bool closed = false;
        try {
            // The milter may close while the packet is still being written.
            c.send_packet('L', std::string("X-Big") + '\0' + std::string(size, 'x') + '\0');
            closed = c.wait_closed(5s);
        } catch (const MilterError& e) {
            closed = e.kind() == MilterError::Kind::Closed || e.kind() == MilterError::Kind::Io;
        }
        BOOST_TEST(closed, size << " bytes: the milter kept the connection open");
        BOOST_TEST_REQUIRE(m.running(), m.err());
    }
    MilterClient c = m.client();
    BOOST_TEST(message_works(c, "QBIGHDR3"), m.err());
}

BOOST_AUTO_TEST_SUITE_END()
