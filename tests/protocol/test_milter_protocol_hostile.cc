// test_milter_protocol_hostile.cc - sendguard-milter against malformed and
// hostile milter conversations
//
// One milter process for the whole suite, so that what each case does to it
// adds up: out-of-order commands (EOM, RCPT and headers before MAIL),
// 10^5 headers, a 1 MB header line, 10^4 From: mailboxes, ABORT mid-message,
// QUIT mid-headers, garbage and oversized packets, huge macro values, 2,000
// connections open at once and 10,000 in sequence. After each, the process
// is alive and a normal message still gets its VERP sender; at the end its
// resident memory is bounded.
//
// What libmilter does with a command out of sequence: it calls abort and
// ignores the command without a reply; a packet longer than its data limit
// (256 KiB, milter/service.h kMaxPacketData) or shorter than one byte ends
// the connection. Either is fine here:
// a hang (no reply and no close, then no service) or a crash is not.
#include <boost/test/unit_test.hpp>

#include <sys/resource.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/milter_client.h"
#include "tests/support/sendguard_milter.h"

using namespace std::chrono_literals;
using harness::MilterClient;
using harness::MilterError;
using harness::MilterStatus;
using harness::MilterTransaction;

namespace {

constexpr long kRssBoundKib = 100 * 1024;  // 100 MB
constexpr size_t kConcurrent = 2000;
constexpr size_t kSequential = 10000;

std::unique_ptr<harness::SendguardMilter> g_milter;
long g_rss_at_start = 0;

// The suite's milter, started once; the file-descriptor limit it inherits
// must hold kConcurrent connections.
struct SharedMilter {
    SharedMilter() {
        rlimit r{};
        if (::getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
            r.rlim_cur = r.rlim_max;
            ::setrlimit(RLIMIT_NOFILE, &r);
        }
        // The suite opens kConcurrent connections at once.
        g_milter = std::make_unique<harness::SendguardMilter>(harness::SendguardMilterOptions{
            .extra = "milter_max_connections = " + std::to_string(kConcurrent + 100) + "\n"});
        g_milter->start();
        g_rss_at_start = g_milter->rss_kib();
    }
    ~SharedMilter() { g_milter.reset(); }
};

harness::SendguardMilter& milter() { return *g_milter; }

// What came back for one step: "reply: ...", "silence" (no answer within
// the wait, the connection still open), "closed", or "protocol: ..." /
// "io: ..." for a reply the client could not take.
template <class Fn>
std::string attempt(MilterClient& c, Fn&& step, std::chrono::milliseconds wait = 1000ms) {
    c.set_timeout(wait);
    std::string out;
    try {
        out = "reply: " + step().str();
    } catch (const MilterError& e) {
        switch (e.kind()) {
        case MilterError::Kind::Timeout: out = "silence"; break;
        case MilterError::Kind::Closed: out = "closed"; break;
        case MilterError::Kind::Protocol: out = std::string("protocol: ") + e.what(); break;
        case MilterError::Kind::Io: out = std::string("io: ") + e.what(); break;
        }
    }
    c.set_timeout(10s);
    return out;
}

// A normal message on c (same connection) ends with an 'e' to VERP.
void message_works(MilterClient& c, const std::string& queue_id, harness::MilterEnd end = harness::MilterEnd::Quit) {
    MilterTransaction t = harness::allowed_transaction(queue_id);
    t.end = end;
    const harness::MilterTranscript r = c.transaction(t);
    BOOST_TEST(r.mail.status == MilterStatus::Continue, r.str());
    BOOST_TEST(r.eoh.status == MilterStatus::NoReply, r.str());
    const auto cf = r.change_from();
    BOOST_TEST(cf.has_value(), r.str());
    // The milter hands Postfix the new sender in angle brackets.
    if (cf) BOOST_TEST(cf->sender.ends_with("@bounces.customer-a.example>"), cf->sender);
}

// The process is alive and a new client gets a normal answer.
void still_serving(const std::string& after) {
    BOOST_TEST_CONTEXT("after " << after) {
        BOOST_REQUIRE_MESSAGE(milter().running(), "sendguard-milter is gone: " << milter().err());
        MilterClient c = milter().client();
        message_works(c, "QNEXT1");
    }
}

// A fresh connection, negotiated and past CONNECT (no HELO: the milter
// turns it off).
MilterClient connected() {
    MilterClient c = milter().client();
    c.negotiate();
    c.connect({});
    return c;
}

MilterTransaction with_headers(std::vector<harness::MilterHeader> headers, const std::string& queue_id) {
    MilterTransaction t = harness::allowed_transaction(queue_id);
    t.headers = std::move(headers);
    return t;
}

// " a, a, ..., last": n times address, then last (when given).
std::string mailboxes(size_t n, const std::string& address, const std::string& last = "",
                      const std::string& separator = ", ") {
    std::string v = " ";
    for (size_t i = 0; i < n; ++i) v += (i ? separator : "") + address;
    if (!last.empty()) v += separator + last;
    return v;
}

// The bytes of a literal, embedded NULs included (not the final one).
template <size_t N>
std::string bytes(const char (&s)[N]) {
    return std::string(s, N - 1);
}

std::string be32(uint32_t n) {
    return {static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8), static_cast<char>(n)};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(milter_protocol_hostile, *boost::unit_test::fixture<SharedMilter>())

// libmilter ignores a command that cannot follow the ones before it; the
// connection then serves a normal message.
BOOST_AUTO_TEST_CASE(out_of_order_commands) {
    {
        MilterClient c = connected();
        const std::string got = attempt(c, [&] { return c.eom({{"i", "QEOM1"}}); });
        BOOST_TEST_MESSAGE("EOM without MAIL: " << got);
        BOOST_TEST((got == "silence" || got.starts_with("reply: ")), "EOM without MAIL: " << got);
        message_works(c, "QEOM2");
    }
    {
        MilterClient c = connected();
        const std::string got = attempt(c, [&] { return c.rcpt("dest@remote.example"); });
        BOOST_TEST_MESSAGE("RCPT before MAIL: " << got);
        BOOST_TEST((got == "silence" || got.starts_with("reply: ")), "RCPT before MAIL: " << got);
        message_works(c, "QRCPT2");
    }
    {
        MilterClient c = connected();
        c.header("From", " Boss <boss@customer-b.example>");  // no reply negotiated
        c.header("From", " Boss <boss@customer-b.example>");
        const std::string got = attempt(c, [&] { return c.eoh(); });
        BOOST_TEST_MESSAGE("headers before MAIL: " << got);
        BOOST_TEST((got == "silence" || got.starts_with("reply: ")), "headers before MAIL: " << got);
        // The early From: values must not count for the next message.
        message_works(c, "QHDR2");
    }
    still_serving("out-of-order commands");
}

BOOST_AUTO_TEST_CASE(hundred_thousand_headers) {
    std::vector<harness::MilterHeader> many{{"From", " News <news@customer-a.example>"}};
    for (int i = 0; i < 100000; ++i) many.push_back({"X-Filler-" + std::to_string(i % 100), " value " + std::to_string(i)});
    {
        MilterClient c = milter().client();
        const auto t0 = std::chrono::steady_clock::now();
        const auto r = c.transaction(with_headers(many, "QMANY1"));
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
        BOOST_TEST_MESSAGE("10^5 headers: " << ms.count() << " ms");
        BOOST_TEST(r.eoh.status == MilterStatus::NoReply, r.eoh.str());
        BOOST_TEST(r.change_from().has_value(), r.eom.str());
    }
    // 10^5 From: fields: counted, not kept.
    std::vector<harness::MilterHeader> froms(100000, {"From", " news@customer-a.example"});
    {
        MilterClient c = milter().client();
        const auto r = c.transaction(with_headers(froms, "QMANY2"));
        BOOST_TEST(r.eom.text == "550 5.6.0 message has 100000 From: header fields", r.eom.str());
    }
    still_serving("10^5 headers");
}

// A header packet over the 256 KiB data limit ends the connection (the MTA
// then applies its milter_default_action); one under it is judged
// (test_milter_protocol_limits.cc: one at Postfix's header_size_limit).
BOOST_AUTO_TEST_CASE(huge_header_lines) {
    {
        MilterClient c = milter().client();
        const std::string name(60000, 'N');
        const auto r = c.transaction(
            with_headers({{"From", " \"" + name + "\" <news@customer-a.example>"}}, "QBIG1"));
        BOOST_TEST(r.eoh.status == MilterStatus::NoReply, r.eoh.str());
        BOOST_TEST(r.change_from().has_value(), r.eom.str());
    }
    for (size_t size : {70000u, 300000u, 1u << 20}) {
        MilterClient c = milter().client();
        std::string got;
        try {
            const auto r = c.transaction(with_headers(
                {{"From", " news@customer-a.example"}, {"X-Big", " " + std::string(size, 'x')}}, "QBIG2"));
            got = "eom: " + r.eom.str();
        } catch (const MilterError& e) {
            got = e.kind() == MilterError::Kind::Timeout ? "silence" : "closed";
        }
        BOOST_TEST_MESSAGE("a header line of " << size << " bytes: " << got);
        BOOST_TEST(got != "silence", size << " bytes: " << got);
        still_serving("a header line of " + std::to_string(size) + " bytes");
    }
}

BOOST_AUTO_TEST_CASE(ten_thousand_from_mailboxes) {
    // 10^4 mailboxes fit in one From: value (at most 64 KiB,
    // address::kMaxHeaderInput) only when short.
    for (const std::string mailbox : {"a@b.c", "n@customer-a.example"}) {
        const size_t n = mailbox.size() < 10 ? 10000 : 2900;
        MilterClient c = milter().client();
        const auto r = c.transaction(with_headers({{"From", mailboxes(n, mailbox, "", ",")}}, "QMBX1"));
        BOOST_TEST_MESSAGE(n << " From: mailboxes " << mailbox << ": " << r.eom.str());
        BOOST_TEST(r.eom.status != MilterStatus::NotSent, r.str());
    }
    MilterClient c = milter().client();
    const auto r = c.transaction(with_headers({{"From", mailboxes(10000, "a@b.c", "", ",")}}, "QMBX1"));
    BOOST_TEST(r.eom.code() == 550, r.eom.str());
    still_serving("10^4 From: mailboxes");
}

// Whatever limit the milter puts on the From: mailboxes it checks, a
// mailbox past it must not slip through unchecked: 100 of the login's own
// addresses, then another customer's.
BOOST_AUTO_TEST_CASE(from_mailbox_past_the_limit_is_not_let_through) {
    for (size_t n : {99u, 100u, 150u}) {
        MilterClient c = milter().client();
        const auto r = c.transaction(
            with_headers({{"From", mailboxes(n, "news@customer-a.example", "boss@customer-b.example")}}, "QMBX2"));
        BOOST_TEST(r.eom.code() == 550, n << " allowed mailboxes, then boss@customer-b.example: " << r.eom.str());
    }
}

BOOST_AUTO_TEST_CASE(abort_mid_message_then_a_new_message) {
    MilterClient c = connected();
    BOOST_TEST(c.mail("news@customer-a.example", {}, {{"{auth_authen}", "alice@customer-a.example"}}).status ==
               MilterStatus::Continue);
    BOOST_TEST(c.rcpt("dest@remote.example", {}, {{"{rcpt_mailer}", "smtp"}}).status == MilterStatus::Continue);
    c.header("From", " news@customer-a.example");
    c.header("Sender", " boss@customer-b.example");
    c.abort();
    // The aborted message's From: and Sender: are gone: no "2 From:", no
    // refusal for the Sender.
    message_works(c, "QABORT1", harness::MilterEnd::Keep);
    // ABORT after MAIL only, twice, then a message.
    BOOST_TEST(c.mail("news@customer-a.example", {}, {{"{auth_authen}", "alice@customer-a.example"}}).status ==
               MilterStatus::Continue);
    c.abort();
    c.abort();
    message_works(c, "QABORT2");
    still_serving("ABORT mid-message");
}

BOOST_AUTO_TEST_CASE(quit_mid_headers) {
    for (bool quit_nc : {false, true}) {
        MilterClient c = connected();
        c.mail("news@customer-a.example", {}, {{"{auth_authen}", "alice@customer-a.example"}});
        c.rcpt("dest@remote.example", {}, {{"{rcpt_mailer}", "smtp"}});
        c.header("From", " news@customer-a.example");
        if (quit_nc) {
            c.quit_nc();
            message_works(c, "QQUITNC1");  // a new SMTP connection on the same socket
        } else {
            c.quit();
            BOOST_TEST(c.wait_closed(5s), "the milter keeps the connection after QUIT");
        }
    }
    // The client goes away mid-headers without QUIT.
    {
        MilterClient c = connected();
        c.mail("news@customer-a.example", {}, {{"{auth_authen}", "alice@customer-a.example"}});
        c.header("From", " news@customer-a.example");
    }
    still_serving("QUIT mid-headers");
}

BOOST_AUTO_TEST_CASE(garbage_packets) {
    struct Case {
        const char* what;
        bool negotiate;
        std::string bytes;
    };
    std::string noise;
    for (int i = 0; i < 4096; ++i) noise += static_cast<char>((i * 7919 + 13) & 0xff);
    const Case cases[] = {
        {"noise before negotiation", false, noise},
        {"HTTP instead of milter", false, "GET / HTTP/1.0\r\n\r\n"},
        {"OPTNEG too short", false, harness::milter_packet('O', bytes("\0\0\0\6"))},
        {"OPTNEG version 0", false, harness::milter_packet('O', std::string(12, '\0'))},
        {"OPTNEG version 99", false, harness::milter_packet('O', be32(99) + be32(0x1ff) + be32(0x1fffff))},
        {"unknown command", true, harness::milter_packet('Z', "zzz")},
        {"CONNECT without NUL", true, harness::milter_packet('C', "host")},
        {"CONNECT family 4 without address", true, harness::milter_packet('C', bytes("host\0" "4"))},
        {"CONNECT family 6, bad address", true,
         harness::milter_packet('C', bytes("host\0" "6\x01\x02" "zz::zz::zz\0"))},
        {"MAIL without NUL", true, harness::milter_packet('M', "<a@b.c>")},
        {"MAIL empty", true, harness::milter_packet('M', "")},
        {"MACRO with an odd field", true, harness::milter_packet('D', bytes("M{auth_authen}\0"))},
        {"MACRO for no command", true, harness::milter_packet('D', "")},
        {"HEADER without value", true, harness::milter_packet('L', bytes("From\0"))},
        {"BODY before MAIL", true, harness::milter_packet('B', noise)},
        {"noise after negotiation", true, noise},
    };
    for (const Case& k : cases) {
        MilterClient c = milter().client();
        if (k.negotiate) {
            c.negotiate();
            c.connect({});
        }
        const std::string got = attempt(c, [&] {
            c.send_raw(k.bytes);
            return c.read_response();
        });
        BOOST_TEST_MESSAGE(k.what << ": " << got);
        BOOST_TEST_REQUIRE(milter().running(), k.what << ": " << milter().err());
    }
    still_serving("garbage packets");
}

BOOST_AUTO_TEST_CASE(oversized_packet_lengths) {
    for (uint32_t len : {0xffffffffu, 0x7fffffffu, (256u << 10) + 2, 0u}) {
        MilterClient c = milter().client();
        if (len != 0xffffffffu) c.negotiate();
        c.send_raw(be32(len) + "L" + std::string(1000, 'x'));
        BOOST_TEST(c.wait_closed(5s), "length " << len << ": the milter kept the connection open");
    }
    still_serving("oversized packet lengths");
}

BOOST_AUTO_TEST_CASE(macros_with_huge_values) {
    // One macro packet holds at most 256 KiB.
    const std::string huge(30000, 'm');
    {
        MilterClient c = milter().client();
        MilterTransaction t = harness::allowed_transaction("QMAC1");
        t.macros.connect = {{"{daemon_name}", huge + huge}};
        t.macros.mail = {{"{auth_authen}", huge + "@customer-z.example"}, {"i", huge}};
        const auto r = c.transaction(t);
        BOOST_TEST(r.mail.code() == 550, r.mail.str().substr(0, 300));
        BOOST_TEST(r.mail.text.size() < 1000u, "a reply of " << r.mail.text.size() << " bytes");
    }
    {
        // A login with control characters and a queue id full of them.
        MilterClient c = milter().client();
        MilterTransaction t = harness::allowed_transaction("QMAC3");
        t.macros.mail = {{"{auth_authen}", "alice\r\n550 fake\x1b[2J@customer-z.example"}, {"i", "Q\nQ\x7f"}};
        const auto r = c.transaction(t);
        BOOST_TEST(r.mail.code() == 550, r.mail.str());
        BOOST_TEST(r.mail.text.find_first_of("\r\n\x1b") == std::string::npos, r.mail.str());
    }
    {
        // Over the limit: libmilter ends the connection.
        MilterClient c = milter().client();
        c.negotiate();
        c.connect({});
        const std::string got = attempt(c, [&] {
            return c.mail("news@customer-a.example", {}, {{"{auth_authen}", std::string(300000, 'm')}});
        });
        BOOST_TEST_MESSAGE("a macro packet of 300000 bytes: " << got);
        BOOST_TEST(got != "silence");
    }
    {
        // Macros the milter did not ask for, thousands of them, again and again.
        MilterClient c = milter().client({.filter_macros = false});
        harness::MilterMacros junk;
        for (int i = 0; i < 1000; ++i) junk.push_back({"{junk" + std::to_string(i) + "}", std::string(50, 'j')});
        c.negotiate();
        c.connect({}, junk);
        for (int i = 0; i < 100; ++i) c.send_packet('D', bytes("M{x}\0") + std::string(60000, 'v') + '\0');
        message_works(c, "QMAC2");
    }
    still_serving("macros with huge values");
}

BOOST_AUTO_TEST_CASE(two_thousand_connections_at_once) {
    std::vector<MilterClient> open;
    open.reserve(kConcurrent);
    const auto t0 = std::chrono::steady_clock::now();
    for (size_t i = 0; i < kConcurrent; ++i) {
        open.push_back(milter().client());
        open.back().negotiate();
    }
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
    BOOST_TEST_MESSAGE(kConcurrent << " connections open and negotiated in " << ms.count() << " ms; milter threads "
                                   << milter().threads() << ", VmRSS " << milter().rss_kib() << " KiB");
    // Each still works, and a message goes through on every 100th.
    for (size_t i = 0; i < open.size(); i += 100) message_works(open[i], "QCONC" + std::to_string(i));
    open.clear();
    still_serving(std::to_string(kConcurrent) + " connections at once");
}

BOOST_AUTO_TEST_CASE(ten_thousand_connections_in_sequence) {
    MilterTransaction ok = harness::allowed_transaction("QSEQ1");
    MilterTransaction spoof = ok;
    spoof.mail_from = "boss@customer-b.example";
    size_t verp = 0, refused = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (size_t i = 0; i < kSequential; ++i) {
        MilterClient c = milter().client();
        const auto r = c.transaction(i % 2 ? spoof : ok);
        verp += r.change_from().has_value();
        refused += r.mail.code() == 550;
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    BOOST_TEST_MESSAGE(kSequential << " connections in sequence: " << s << " s, " << kSequential / s
                                   << " connections/s; VmRSS " << milter().rss_kib() << " KiB");
    BOOST_TEST(verp == kSequential / 2);
    BOOST_TEST(refused == kSequential / 2);
    still_serving(std::to_string(kSequential) + " connections in sequence");
}

// After everything above, the process is alive and its memory bounded.
BOOST_AUTO_TEST_CASE(memory_stays_bounded) {
    still_serving("the hostile runs");
    const long rss = milter().rss_kib();
    BOOST_TEST_MESSAGE("VmRSS: " << g_rss_at_start << " KiB at start, " << rss << " KiB after the hostile runs; "
                                 << milter().threads() << " threads");
    BOOST_TEST(rss > 0);
    BOOST_TEST(rss < kRssBoundKib, "VmRSS " << rss << " KiB");
}

BOOST_AUTO_TEST_SUITE_END()
