// test_net_socketmap.cc - socketmap replies, requests and the protocol
// (no sockets here; see test_net_server.cc for the real server)
#define BOOST_TEST_NO_MAIN
#include <boost/test/unit_test.hpp>

#include "common/log/log.h"
#include "common/net/netstring.h"
#include "common/net/socketmap.h"
#include "test_net_util.h"

#include <stdexcept>
#include <string>
#include <vector>

using net::SocketmapReply;
using net::SocketmapStatus;

namespace {

// The map used by these tests: users/<name>, boom (throws), big (oversized).
SocketmapReply test_handler(std::string_view name, std::string_view key) {
    if (name == "users") {
        if (key == "bob") return SocketmapReply::ok("bob@example.org");
        return SocketmapReply::not_found();
    }
    if (name == "echo") return SocketmapReply::ok(std::string(key));
    if (name == "boom") throw std::runtime_error("database on fire");
    if (name == "big") return SocketmapReply::ok(std::string(200000, 'b'));
    return SocketmapReply::perm("unknown map");
}

std::string ns(const std::string& s) { return net::encode_netstring(s); }

std::string show(const SocketmapReply& r) {
    return std::string(net::status_name(r.status)) + "|" + r.data;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(net_socketmap)

BOOST_AUTO_TEST_CASE(format_reply_table) {
    struct Case {
        SocketmapReply reply;
        size_t max;
        std::string want;
    };
    const std::string near(99997, 'n');  // "OK " + 99997 = the limit exactly
    const std::vector<Case> cases = {
        {SocketmapReply::ok("relay:[mx.example]"), 100000, "OK relay:[mx.example]"},
        {SocketmapReply::ok(""), 100000, "OK "},
        {SocketmapReply::not_found(), 100000, "NOTFOUND "},
        {SocketmapReply{SocketmapStatus::NotFound, "ignored"}, 100000, "NOTFOUND "},
        {SocketmapReply::temp("store busy"), 100000, "TEMP store busy"},
        {SocketmapReply::timeout("lookup took 5s"), 100000, "TIMEOUT lookup took 5s"},
        {SocketmapReply::perm(""), 100000, "PERM "},
        {SocketmapReply::ok(near), 100000, "OK " + near},
        {SocketmapReply::ok(near + "x"), 100000, "TEMP reply too long"},
        {SocketmapReply::perm(std::string(20, 'r')), 15, "PERM rrrrrrrrrr"},
        {SocketmapReply::ok("12345678901"), 10, "TEMP reply"},
    };
    for (const auto& c : cases) {
        const std::string got = net::format_reply(c.reply, c.max);
        BOOST_CHECK_MESSAGE(got == c.want, "format " << show(c.reply).substr(0, 40) << " max "
                                                      << c.max << ": got \"" << got.substr(0, 40)
                                                      << "\" (" << got.size() << " bytes), want \""
                                                      << c.want.substr(0, 40) << "\" ("
                                                      << c.want.size() << " bytes)");
    }
    const std::string long_reason =
        net::format_reply(SocketmapReply::temp(std::string(300000, 't')));
    BOOST_CHECK_EQUAL(long_reason.size(), net::kSocketmapMaxReply);
    BOOST_CHECK(long_reason.rfind("TEMP ttt", 0) == 0);
}

BOOST_AUTO_TEST_CASE(parse_reply_table) {
    struct Case {
        std::string payload;
        std::string want;  // show() or "none"
    };
    const std::vector<Case> cases = {
        {"OK a b c", "OK|a b c"},
        {"OK ", "OK|"},
        {"NOTFOUND ", "NOTFOUND|"},
        {"NOTFOUND", "NOTFOUND|"},
        {"TEMP try later", "TEMP|try later"},
        {"TIMEOUT slow", "TIMEOUT|slow"},
        {"PERM bad request: missing comma", "PERM|bad request: missing comma"},
        {"OK", "none"},
        {"ok found", "none"},
        {"FOUND x", "none"},
        {"", "none"},
        {" OK x", "none"},
    };
    for (const auto& c : cases) {
        const auto r = net::parse_reply(c.payload);
        const std::string got = r ? show(*r) : "none";
        BOOST_CHECK_MESSAGE(got == c.want, "parse \"" << c.payload << "\": got \"" << got
                                                      << "\", want \"" << c.want << "\"");
    }
}

BOOST_AUTO_TEST_CASE(parse_request_table) {
    struct Case {
        std::string payload;
        std::string want;  // "name|key" or "none"
    };
    const std::vector<Case> cases = {
        {"users bob", "users|bob"},
        {"status 4.7.1 host mx.example[192.0.2.4] said: 451 4.7.1 try again",
         "status|4.7.1 host mx.example[192.0.2.4] said: 451 4.7.1 try again"},
        {"users ", "users|"},
        {"users  two", "users| two"},
        {" bob", "none"},
        {"usersbob", "none"},
        {"", "none"},
    };
    for (const auto& c : cases) {
        const auto r = net::parse_socketmap_request(c.payload);
        const std::string got = r ? std::string(r->name) + "|" + std::string(r->key) : "none";
        BOOST_CHECK_MESSAGE(got == c.want, "parse \"" << c.payload << "\": got \"" << got
                                                      << "\", want \"" << c.want << "\"");
    }
}

BOOST_AUTO_TEST_CASE(protocol_table) {
    logging::open("test", logging::Sink::None);
    struct Case {
        std::string what;
        std::string in;
        std::string want_out;
        bool want_keep;
        std::string want_left;
    };
    const std::string perm_space = ns("PERM bad request: expected \"name key\"");
    const std::vector<Case> cases = {
        {"found", ns("users bob"), ns("OK bob@example.org"), true, ""},
        {"not found", ns("users eve"), ns("NOTFOUND "), true, ""},
        {"unknown map", ns("nomap x"), ns("PERM unknown map"), true, ""},
        {"pipelined", ns("users bob") + ns("users eve") + ns("echo a b"),
         ns("OK bob@example.org") + ns("NOTFOUND ") + ns("OK a b"), true, ""},
        {"partial kept", "9:users b", "", true, "9:users b"},
        {"complete then partial", ns("echo 1") + "6:echo", ns("OK 1"), true, "6:echo"},
        {"empty input", "", "", true, ""},
        {"no space", ns("usersbob"), perm_space, true, ""},
        {"bad length", "x:abc,", ns("PERM bad request: bad length digits"), false, ""},
        {"missing comma", "9:users bob;", ns("PERM bad request: missing comma"), false, ""},
        {"good then garbage", ns("echo 1") + "zz" + ns("echo 2"),
         ns("OK 1") + ns("PERM bad request: bad length digits"), false, ""},
        {"too long", "100001:", ns("PERM bad request: length too long"), false, ""},
        {"handler throws", ns("boom x") + ns("echo y"), ns("TEMP internal error") + ns("OK y"),
         true, ""},
        {"reply too long", ns("big x"), ns("TEMP reply too long"), true, ""},
    };
    for (const auto& c : cases) {
        auto proto = net::socketmap_factory(test_handler, net_test::socketmap_limits())(net_test::peer());
        std::string in = c.in;
        std::string out;
        const bool keep = proto->on_data(in, out);
        BOOST_TEST_CONTEXT(c.what) {
            BOOST_CHECK_MESSAGE(out == c.want_out,
                                "out: got \"" << out << "\", want \"" << c.want_out << "\"");
            BOOST_CHECK_MESSAGE(keep == c.want_keep,
                                "keep: got " << keep << ", want " << c.want_keep);
            BOOST_CHECK_MESSAGE(in == c.want_left,
                                "left: got \"" << in << "\", want \"" << c.want_left << "\"");
        }
    }
    const std::string log = logging::captured();
    BOOST_CHECK_MESSAGE(log.find("socketmap: reason=bad request, error=bad length digits") !=
                            std::string::npos,
                        "bad request not logged: " << log);
    BOOST_CHECK_MESSAGE(log.find("socketmap: map=boom, reason=handler error, "
                                 "error=database on fire") != std::string::npos,
                        "handler error not logged: " << log);
    BOOST_CHECK_MESSAGE(log.find("socketmap: map=big, reason=reply too long, size=200000") !=
                            std::string::npos,
                        "long reply not logged: " << log);
    logging::clear_captured();
}

// Byte-at-a-time input gives the same replies as one buffer.
BOOST_AUTO_TEST_CASE(protocol_byte_by_byte) {
    const std::string stream = ns("users bob") + ns("echo hello world") + ns("users eve");
    auto proto = net::socketmap_factory(test_handler, net_test::socketmap_limits())(net_test::peer());
    std::string in, out;
    for (char ch : stream) {
        in.push_back(ch);
        BOOST_REQUIRE(proto->on_data(in, out));
    }
    const std::string want = ns("OK bob@example.org") + ns("OK hello world") + ns("NOTFOUND ");
    BOOST_CHECK_MESSAGE(out == want, "got \"" << out << "\", want \"" << want << "\"");
    BOOST_CHECK(in.empty());
}

// The protocol stops at the output high-water mark and resumes later, so a
// buffer of small requests with large replies cannot balloon the output.
BOOST_AUTO_TEST_CASE(protocol_output_high_water) {
    const std::string key(40000, 'k');
    std::string in;
    for (int i = 0; i < 20; ++i) in += ns("echo " + key);
    auto proto = net::socketmap_factory(test_handler, net_test::socketmap_limits())(net_test::peer());
    std::string out;
    BOOST_REQUIRE(proto->on_data(in, out));
    const size_t first = out.size();
    BOOST_CHECK_MESSAGE(first >= net::kOutputHighWater && first < net::kOutputHighWater + 50000,
                        "first batch: got " << first << " bytes");
    BOOST_CHECK_MESSAGE(!in.empty(), "everything consumed despite the high-water mark");
    size_t replies = first / ns("OK " + key).size();
    for (int round = 0; round < 20 && !in.empty(); ++round) {
        out.clear();
        BOOST_REQUIRE(proto->on_data(in, out));
        replies += out.size() / ns("OK " + key).size();
    }
    BOOST_CHECK_MESSAGE(replies == 20, "replies: got " << replies << ", want 20");
    BOOST_CHECK(in.empty());
}

BOOST_AUTO_TEST_SUITE_END()
