// test_net_netstring.cc - netstring decoder and encoder tables
#define BOOST_TEST_NO_MAIN
#include <boost/test/unit_test.hpp>

#include "common/net/netstring.h"

#include <string>
#include <vector>

using net::NetstringStatus;

namespace {

const char* name(NetstringStatus s) {
    switch (s) {
    case NetstringStatus::NeedMore: return "NeedMore";
    case NetstringStatus::Ok: return "Ok";
    case NetstringStatus::Error: return "Error";
    }
    return "?";
}

struct DecodeCase {
    std::string input;
    size_t max_len;
    NetstringStatus status;
    std::string payload;  // Ok
    size_t consumed;      // Ok
    std::string error;    // Error
};

std::string s(const char* p, size_t n) { return std::string(p, n); }

}  // namespace

BOOST_AUTO_TEST_SUITE(net_netstring)

BOOST_AUTO_TEST_CASE(decode_table) {
    const std::vector<DecodeCase> cases = {
        // valid
        {"5:hello,", 100, NetstringStatus::Ok, "hello", 8, ""},
        {"0:,", 100, NetstringStatus::Ok, "", 3, ""},
        {"3:a,b,", 100, NetstringStatus::Ok, "a,b", 6, ""},
        {s("4:\0\n:,,", 7), 100, NetstringStatus::Ok, s("\0\n:,", 4), 7, ""},
        {"10:0123456789,", 10, NetstringStatus::Ok, "0123456789", 14, ""},
        {"5:hello,3:abc,", 100, NetstringStatus::Ok, "hello", 8, ""},
        // partial
        {"", 100, NetstringStatus::NeedMore, "", 0, ""},
        {"5", 100, NetstringStatus::NeedMore, "", 0, ""},
        {"12", 100, NetstringStatus::NeedMore, "", 0, ""},
        {"5:", 100, NetstringStatus::NeedMore, "", 0, ""},
        {"5:hel", 100, NetstringStatus::NeedMore, "", 0, ""},
        {"5:hello", 100, NetstringStatus::NeedMore, "", 0, ""},
        {"0", 100, NetstringStatus::NeedMore, "", 0, ""},
        {"0:", 100, NetstringStatus::NeedMore, "", 0, ""},
        // too long: refused from the length alone
        {"11:hello world,", 10, NetstringStatus::Error, "", 0, "length too long"},
        {"11", 10, NetstringStatus::Error, "", 0, "length too long"},
        {"100001:", 100000, NetstringStatus::Error, "", 0, "length too long"},
        {"99999999999:", ~size_t{0}, NetstringStatus::Error, "", 0, "length too long"},
        {"9999999999:", 100, NetstringStatus::Error, "", 0, "length too long"},
        // garbage
        {"x:abc,", 100, NetstringStatus::Error, "", 0, "bad length digits"},
        {":abc,", 100, NetstringStatus::Error, "", 0, "bad length digits"},
        {"-1:a,", 100, NetstringStatus::Error, "", 0, "bad length digits"},
        {" 5:hello,", 100, NetstringStatus::Error, "", 0, "bad length digits"},
        {"+5:hello,", 100, NetstringStatus::Error, "", 0, "bad length digits"},
        {"GET / HTTP/1.0\r\n", 100, NetstringStatus::Error, "", 0, "bad length digits"},
        {"3x", 100, NetstringStatus::Error, "", 0, "missing colon"},
        {"3 :abc,", 100, NetstringStatus::Error, "", 0, "missing colon"},
        {"5:hellox", 100, NetstringStatus::Error, "", 0, "missing comma"},
        {"5:hello\n", 100, NetstringStatus::Error, "", 0, "missing comma"},
        {"0:x", 100, NetstringStatus::Error, "", 0, "missing comma"},
        // leading zeros: strict (see netstring.h)
        {"05:hello,", 100, NetstringStatus::Error, "", 0, "leading zero in length"},
        {"00:,", 100, NetstringStatus::Error, "", 0, "leading zero in length"},
        {"00000000000000000000", 100, NetstringStatus::Error, "", 0, "leading zero in length"},
    };
    for (const auto& c : cases) {
        const auto r = net::decode_netstring(c.input, c.max_len);
        BOOST_TEST_CONTEXT("input \"" << c.input << "\" max " << c.max_len) {
            BOOST_CHECK_MESSAGE(r.status == c.status,
                                "status: got " << name(r.status) << ", want " << name(c.status)
                                               << " (error \"" << r.error << "\")");
            if (c.status == NetstringStatus::Ok && r.status == NetstringStatus::Ok) {
                BOOST_CHECK_MESSAGE(r.payload == c.payload,
                                    "payload: got \"" << r.payload << "\", want \"" << c.payload
                                                      << "\"");
                BOOST_CHECK_MESSAGE(r.consumed == c.consumed,
                                    "consumed: got " << r.consumed << ", want " << c.consumed);
            }
            if (c.status == NetstringStatus::Error) {
                BOOST_CHECK_MESSAGE(r.error == c.error,
                                    "error: got \"" << r.error << "\", want \"" << c.error << "\"");
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(several_in_one_buffer) {
    const std::string buf = "3:abc,0:,5:hello,12:hello world!,2:x";
    const std::vector<std::string> want = {"abc", "", "hello", "hello world!"};
    std::vector<std::string> got;
    size_t pos = 0;
    for (;;) {
        const auto r = net::decode_netstring(std::string_view(buf).substr(pos), 1000);
        if (r.status != NetstringStatus::Ok) {
            BOOST_CHECK_MESSAGE(r.status == NetstringStatus::NeedMore,
                                "tail: got " << name(r.status) << ", want NeedMore");
            break;
        }
        got.emplace_back(r.payload);
        pos += r.consumed;
    }
    BOOST_CHECK_EQUAL_COLLECTIONS(got.begin(), got.end(), want.begin(), want.end());
    BOOST_CHECK_MESSAGE(buf.substr(pos) == "2:x", "left over: got \"" << buf.substr(pos)
                                                                       << "\", want \"2:x\"");
}

// Byte by byte, the decoder says NeedMore until the comma arrives.
BOOST_AUTO_TEST_CASE(incremental) {
    const std::string frame = "11:hello world,";
    for (size_t n = 0; n < frame.size(); ++n) {
        const auto r = net::decode_netstring(std::string_view(frame).substr(0, n), 100);
        BOOST_CHECK_MESSAGE(r.status == NetstringStatus::NeedMore,
                            "prefix " << n << ": got " << name(r.status) << ", want NeedMore");
    }
    const auto r = net::decode_netstring(frame, 100);
    BOOST_CHECK_MESSAGE(r.status == NetstringStatus::Ok && r.payload == "hello world",
                        "full frame: got " << name(r.status) << " \"" << r.payload << "\"");
}

BOOST_AUTO_TEST_CASE(encode_table) {
    struct Case {
        std::string payload;
        std::string want;
    };
    const std::vector<Case> cases = {
        {"", "0:,"},
        {"hello", "5:hello,"},
        {"a,b:c", "5:a,b:c,"},
        {std::string(10, 'x'), "10:" + std::string(10, 'x') + ","},
        {s("\0", 1), s("1:\0,", 4)},
    };
    for (const auto& c : cases) {
        const std::string got = net::encode_netstring(c.payload);
        BOOST_CHECK_MESSAGE(got == c.want, "encode: got \"" << got << "\", want \"" << c.want
                                                             << "\"");
        std::string appended = "pre";
        net::append_netstring(appended, c.payload);
        BOOST_CHECK_MESSAGE(appended == "pre" + c.want, "append: got \"" << appended << "\"");
    }
}

BOOST_AUTO_TEST_CASE(frame_size_and_round_trip) {
    for (size_t len : {0u, 1u, 9u, 10u, 99u, 100u, 999u, 1000u, 99999u, 100000u}) {
        const std::string payload(len, 'k');
        const std::string frame = net::encode_netstring(payload);
        BOOST_CHECK_MESSAGE(net::netstring_frame_size(len) == frame.size(),
                            "frame size of " << len << ": got " << net::netstring_frame_size(len)
                                             << ", want " << frame.size());
        const auto r = net::decode_netstring(frame, len);
        BOOST_CHECK_MESSAGE(r.status == NetstringStatus::Ok && r.payload == payload &&
                                r.consumed == frame.size(),
                            "round trip of " << len << " bytes: got " << name(r.status));
        if (len > 0) {
            const auto over = net::decode_netstring(frame, len - 1);
            BOOST_CHECK_MESSAGE(over.status == NetstringStatus::Error,
                                "max " << len - 1 << " for " << len << " bytes: got "
                                       << name(over.status) << ", want Error");
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
