// test_policy_codec.cc - the policy delegation codec and PolicyProtocol without
// sockets (tests/protocol/test_policy_protocol.cc runs the real server)
#define BOOST_TEST_NO_MAIN
#include <boost/test/unit_test.hpp>

#include "common/log/log.h"
#include "common/policy/protocol.h"
#include "common/policy/request.h"

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

using policy::DecodeStatus;
using policy::Limits;
using policy::Request;
using policy::RequestDecoder;

namespace {

constexpr Limits kLimits{.max_line = 100, .max_attributes = 8, .max_request = 400};

// What Postfix 3.7 sends at RCPT time (SMTPD_POLICY_README, FACTS.md).
const std::string kRcpt =
    "request=smtpd_access_policy\n"
    "protocol_state=RCPT\n"
    "protocol_name=ESMTP\n"
    "client_address=192.0.2.10\n"
    "client_name=mail.example.com\n"
    "client_port=50312\n"
    "reverse_client_name=mail.example.com\n"
    "server_address=192.0.2.1\n"
    "server_port=587\n"
    "helo_name=mail.example.com\n"
    "sender=alice@example.com\n"
    "recipient=bob@example.net\n"
    "recipient_count=0\n"
    "queue_id=\n"
    "instance=1b3.6566d1e2.a1b2c.0\n"
    "size=0\n"
    "etrn_domain=\n"
    "stress=\n"
    "sasl_method=PLAIN\n"
    "sasl_username=alice\n"
    "sasl_sender=\n"
    "ccert_subject=\n"
    "ccert_issuer=\n"
    "ccert_fingerprint=\n"
    "ccert_pubkey_fingerprint=\n"
    "encryption_protocol=TLSv1.3\n"
    "encryption_cipher=TLS_AES_256_GCM_SHA384\n"
    "encryption_keysize=256\n"
    "policy_context=submission\n"
    "\n";

constexpr Limits kPostfixLimits{.max_line = 4096, .max_attributes = 100, .max_request = 65536};

struct Decoded {
    DecodeStatus status;
    std::string error;
    size_t consumed = 0;
    std::vector<std::pair<std::string, std::string>> attrs;
};

Decoded decode(std::string_view buf, Limits limits = kLimits) {
    RequestDecoder d(limits);
    Decoded r;
    r.status = d.decode(buf);
    r.error = std::string(d.error());
    if (r.status == DecodeStatus::Done) {
        r.consumed = d.consumed();
        for (size_t i = 0; i < d.request().count(); ++i)
            r.attrs.emplace_back(d.request().at(i).name, d.request().at(i).value);
    }
    return r;
}

policy::Handler echo_handler() {
    return [](const net::Peer&, const Request& req) -> std::string {
        if (req.get("boom") == "yes") throw std::runtime_error("store on fire");
        if (req.get("boom") == "int") throw 42;
        return "OK " + std::string(req.recipient());
    };
}

std::unique_ptr<net::Protocol> make_protocol(std::shared_ptr<policy::Stats> stats = nullptr,
                                            Limits limits = kLimits) {
    return policy::policy_factory(echo_handler(), limits,
                                  policy::Options{.error_action = "DUNNO", .component = "policy"},
                                  std::move(stats))(net::Peer::local(0, 0));
}

struct LogFixture {
    LogFixture() {
        logging::open("test", logging::Sink::None);
        logging::clear_captured();
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(policy_codec)

BOOST_AUTO_TEST_CASE(postfix_rcpt_request) {
    RequestDecoder d(kPostfixLimits);
    BOOST_REQUIRE(d.decode(kRcpt) == DecodeStatus::Done);
    BOOST_TEST(d.consumed() == kRcpt.size());
    const Request& r = d.request();
    BOOST_TEST(r.count() == 29u);
    BOOST_TEST(r.at(0).name == "request");
    BOOST_TEST(r.at(28).name == "policy_context");
    BOOST_TEST(r.request() == "smtpd_access_policy");
    BOOST_TEST(r.protocol_state() == "RCPT");
    BOOST_TEST((r.state() == policy::ProtocolState::Rcpt));
    BOOST_TEST(r.protocol_name() == "ESMTP");
    BOOST_TEST(r.sender() == "alice@example.com");
    BOOST_TEST(r.recipient() == "bob@example.net");
    BOOST_TEST(r.recipient_count() == 0u);
    BOOST_TEST(r.size() == 0u);
    BOOST_TEST(r.queue_id() == "");
    BOOST_TEST(r.has("queue_id"));
    BOOST_TEST(!r.has("compatibility_level"));
    BOOST_TEST(r.get("compatibility_level") == "");
    BOOST_TEST(r.instance() == "1b3.6566d1e2.a1b2c.0");
    BOOST_TEST(r.client_address() == "192.0.2.10");
    BOOST_TEST(r.client_name() == "mail.example.com");
    BOOST_TEST(r.helo_name() == "mail.example.com");
    BOOST_TEST(r.sasl_method() == "PLAIN");
    BOOST_TEST(r.sasl_username() == "alice");
    BOOST_TEST(r.sasl_sender() == "");
    BOOST_TEST(r.policy_context() == "submission");
    BOOST_TEST(r.get("encryption_keysize") == "256");
}

BOOST_AUTO_TEST_CASE(split_table) {
    using A = std::vector<std::pair<std::string, std::string>>;
    struct Case {
        std::string in;
        DecodeStatus status;
        A attrs;
        size_t consumed;
        std::string error;
    };
    const std::vector<Case> cases = {
        {"a=1\n\n", DecodeStatus::Done, {{"a", "1"}}, 5, ""},
        {"a=1\r\n\r\n", DecodeStatus::Done, {{"a", "1"}}, 7, ""},
        {"a=1\r\nb=2\n\n", DecodeStatus::Done, {{"a", "1"}, {"b", "2"}}, 10, ""},
        {"a=\n\n", DecodeStatus::Done, {{"a", ""}}, 4, ""},
        {"a==b=c\n\n", DecodeStatus::Done, {{"a", "=b=c"}}, 8, ""},
        {"a= spaced value \n\n", DecodeStatus::Done, {{"a", " spaced value "}}, 18, ""},
        {"sender=j\xc3\xb6rg@example.de\n\n", DecodeStatus::Done,
         {{"sender", "j\xc3\xb6rg@example.de"}}, 25, ""},
        {"a=1\na=2\n\n", DecodeStatus::Done, {{"a", "1"}, {"a", "2"}}, 9, ""},
        {"Name-1.x_Y=v\n\n", DecodeStatus::Done, {{"Name-1.x_Y", "v"}}, 14, ""},
        {"a=1\n\nb=2\n\n", DecodeStatus::Done, {{"a", "1"}}, 5, ""},
        {"", DecodeStatus::NeedMore, {}, 0, ""},
        {"a=1", DecodeStatus::NeedMore, {}, 0, ""},
        {"a=1\n", DecodeStatus::NeedMore, {}, 0, ""},
        {"a=1\r\n\r", DecodeStatus::NeedMore, {}, 0, ""},
        {"\n", DecodeStatus::Error, {}, 0, "empty request"},
        {"\r\n", DecodeStatus::Error, {}, 0, "empty request"},
        {"novalue\n\n", DecodeStatus::Error, {}, 0, "line without '='"},
        {"=value\n\n", DecodeStatus::Error, {}, 0, "empty attribute name"},
        {"bad name=x\n\n", DecodeStatus::Error, {}, 0, "bad attribute name"},
        {"bad:name=x\n\n", DecodeStatus::Error, {}, 0, "bad attribute name"},
        {"b\xc3\xa4" "d=x\n\n", DecodeStatus::Error, {}, 0, "bad attribute name"},
        {std::string("a=x\0y\n\n", 7), DecodeStatus::Error, {}, 0, "NUL byte in a line"},
        {std::string("a=x\0", 4), DecodeStatus::Error, {}, 0, "NUL byte in a line"},
        {"a=x\ry\n\n", DecodeStatus::Error, {}, 0, "CR inside a line"},
        {"a=1\n\r\r\n", DecodeStatus::Error, {}, 0, "CR inside a line"},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT("input " << logging::printable(c.in)) {
            const Decoded d = decode(c.in);
            BOOST_TEST((d.status == c.status));
            BOOST_TEST(d.error == c.error);
            BOOST_TEST(d.consumed == c.consumed);
            BOOST_TEST((d.attrs == c.attrs));
        }
    }
}

// Every byte boundary: the decoder fed a growing buffer returns NeedMore
// until the empty line is in, and then the same request as in one piece.
BOOST_AUTO_TEST_CASE(partial_input_every_split) {
    RequestDecoder d(kPostfixLimits);
    for (size_t n = 0; n < kRcpt.size(); ++n) {
        BOOST_TEST_CONTEXT("prefix " << n) {
            BOOST_REQUIRE(d.decode(std::string_view(kRcpt).substr(0, n)) == DecodeStatus::NeedMore);
        }
    }
    BOOST_REQUIRE(d.decode(kRcpt) == DecodeStatus::Done);
    BOOST_TEST(d.consumed() == kRcpt.size());
    BOOST_TEST(d.request().count() == 29u);
    BOOST_TEST(d.request().sasl_username() == "alice");
    // Done is sticky until reset(); then the decoder takes the next one.
    BOOST_TEST((d.decode(kRcpt) == DecodeStatus::Done));
    d.reset();
    BOOST_REQUIRE(d.decode("x=1\n\n") == DecodeStatus::Done);
    BOOST_TEST(d.request().count() == 1u);
    BOOST_TEST(d.request().get("x") == "1");
}

BOOST_AUTO_TEST_CASE(limits_exact) {
    // max_line: the bytes before the LF; a trailing CR counts.
    const std::string line100 = "a=" + std::string(98, 'v');
    BOOST_TEST((decode(line100 + "\n\n").status == DecodeStatus::Done));
    BOOST_TEST(decode(line100 + "v\n\n").error == "line too long");
    BOOST_TEST(decode(line100 + "\r\n\r\n").error == "line too long");
    BOOST_TEST(decode("a=" + std::string(97, 'v') + "\r\n\r\n").error == "");
    // ...seen without waiting for the LF.
    BOOST_TEST((decode(line100).status == DecodeStatus::NeedMore));
    BOOST_TEST(decode(line100 + "v").error == "line too long");

    // max_attributes.
    std::string eight, nine;
    for (int i = 0; i < 8; ++i) eight += "a" + std::to_string(i) + "=x\n";
    nine = eight + "a8=x\n";
    BOOST_TEST((decode(eight + "\n").status == DecodeStatus::Done));
    BOOST_TEST(decode(nine + "\n").error == "too many attributes");
    BOOST_TEST(decode(nine).error == "too many attributes");

    // max_request: all bytes through the empty line.
    const Limits small{.max_line = 100, .max_attributes = 100, .max_request = 20};
    BOOST_TEST((decode("a=123456789012345\n\n", small).status == DecodeStatus::Done));  // 19
    BOOST_TEST((decode("a=1234567890123456\n\n", small).status == DecodeStatus::Done));  // 20
    BOOST_TEST(decode("a=12345678901234567\n\n", small).error == "request too long");   // 21
    BOOST_TEST(decode("a=1234567890\nb=1234\n\n", small).error == "request too long");
    // ...seen as soon as it cannot fit: 18 bytes of a line need LF + LF.
    BOOST_TEST((decode("a=1234567890123456", small).status == DecodeStatus::NeedMore));
    BOOST_TEST(decode("a=12345678901234567", small).error == "request too long");
    BOOST_TEST((decode("a=1234567890123456\n", small).status == DecodeStatus::NeedMore));
    BOOST_TEST(decode("a=12345678901234567\n", small).error == "request too long");

    BOOST_CHECK_THROW(RequestDecoder(Limits{0, 1, 1}), std::invalid_argument);
    BOOST_CHECK_THROW(RequestDecoder(Limits{1, 0, 1}), std::invalid_argument);
    BOOST_CHECK_THROW(RequestDecoder(Limits{1, 1, 0}), std::invalid_argument);
    BOOST_CHECK_THROW(policy::policy_factory(echo_handler(), Limits{1, 1, 0}, {}),
                      std::invalid_argument);
    BOOST_TEST(policy::server_max_input(kLimits) == kLimits.max_request);
}

BOOST_AUTO_TEST_CASE(counts) {
    struct Case {
        std::string_view in;
        uint64_t want;
    };
    const Case cases[] = {
        {"", 0},          {"0", 0},          {"1", 1},          {"42", 42},
        {"007", 7},       {"-1", 0},         {"+1", 0},         {" 1", 0},
        {"1 ", 0},        {"1x", 0},         {"18446744073709551615", UINT64_MAX},
        {"18446744073709551616", 0},         {"99999999999999999999", 0},
        {"000000000000000000001", 1},
    };
    for (const auto& c : cases) BOOST_TEST(policy::parse_count(c.in) == c.want, c.in);
    Request r;
    r.add("recipient_count", "3");
    r.add("size", "12345");
    BOOST_TEST(r.recipient_count() == 3u);
    BOOST_TEST(r.size() == 12345u);
    Request bad;
    bad.add("recipient_count", "three");
    BOOST_TEST(bad.recipient_count() == 0u);
    BOOST_TEST(bad.size() == 0u);
}

BOOST_AUTO_TEST_CASE(protocol_states) {
    using S = policy::ProtocolState;
    BOOST_TEST((policy::parse_protocol_state("RCPT") == S::Rcpt));
    BOOST_TEST((policy::parse_protocol_state("END-OF-MESSAGE") == S::EndOfMessage));
    BOOST_TEST((policy::parse_protocol_state("CONNECT") == S::Connect));
    BOOST_TEST((policy::parse_protocol_state("EHLO") == S::Ehlo));
    BOOST_TEST((policy::parse_protocol_state("HELO") == S::Helo));
    BOOST_TEST((policy::parse_protocol_state("MAIL") == S::Mail));
    BOOST_TEST((policy::parse_protocol_state("DATA") == S::Data));
    BOOST_TEST((policy::parse_protocol_state("VRFY") == S::Vrfy));
    BOOST_TEST((policy::parse_protocol_state("ETRN") == S::Etrn));
    BOOST_TEST((policy::parse_protocol_state("rcpt") == S::Other));
    BOOST_TEST((policy::parse_protocol_state("") == S::Other));
}

BOOST_AUTO_TEST_CASE(replies_sanitised) {
    struct Case {
        std::string action;
        std::string want;
    };
    const std::string max(policy::kMaxAction, 'x');
    // 2047 ASCII bytes and a 2-byte UTF-8 character across the limit.
    const std::string utf8_edge = std::string(policy::kMaxAction - 1, 'x') + "\xc3\xa9";
    const std::vector<Case> cases = {
        {"DUNNO", "action=DUNNO\n\n"},
        {"DEFER_IF_PERMIT rate exceeded", "action=DEFER_IF_PERMIT rate exceeded\n\n"},
        {"", "action=DUNNO\n\n"},
        {"  \t ", "action=DUNNO\n\n"},
        {"\r\n", "action=DUNNO\n\n"},
        {"  OK  ", "action=OK\n\n"},
        {"451 4.7.1 line\none", "action=451 4.7.1 line one\n\n"},
        {"451 4.7.1 a\r\nb\n", "action=451 4.7.1 a  b\n\n"},
        {std::string("REJECT a\0b", 10), "action=REJECT a b\n\n"},
        {"\nREJECT\n\naction=OK", "action=REJECT  action=OK\n\n"},
        {max, "action=" + max + "\n\n"},
        {max + "y", "action=" + max + "\n\n"},
        {utf8_edge, "action=" + std::string(policy::kMaxAction - 1, 'x') + "\n\n"},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT("action " << logging::printable(c.action)) {
            BOOST_TEST(policy::format_reply(c.action) == c.want);
            // Every reply reads back as exactly one reply.
            const auto r = policy::decode_reply(c.want, 4096);
            BOOST_TEST((r.status == DecodeStatus::Done));
            BOOST_TEST(r.consumed == c.want.size());
        }
    }
}

BOOST_AUTO_TEST_CASE(request_round_trip_and_reply_decoding) {
    RequestDecoder d(kPostfixLimits);
    BOOST_REQUIRE(d.decode(kRcpt) == DecodeStatus::Done);
    BOOST_TEST(policy::format_request(d.request()) == kRcpt);

    Request odd;
    odd.add("a=b", "line\nbreak\r");
    BOOST_TEST(policy::format_request(odd) == "a_b=line break \n\n");

    const auto ok = policy::decode_reply("action=OK\n\n", 100);
    BOOST_TEST((ok.status == DecodeStatus::Done));
    BOOST_TEST(ok.action == "OK");
    const auto extra = policy::decode_reply("x=1\r\naction=DUNNO\r\n\r\nrest", 100);
    BOOST_TEST((extra.status == DecodeStatus::Done));
    BOOST_TEST(extra.action == "DUNNO");
    BOOST_TEST(extra.consumed == 21u);
    BOOST_TEST((policy::decode_reply("action=OK\n", 100).status == DecodeStatus::NeedMore));
    BOOST_TEST(policy::decode_reply("\n", 100).error == "reply without action");
    BOOST_TEST(policy::decode_reply("junk\n\n", 100).error == "reply line without name=value");
    BOOST_TEST(policy::decode_reply(std::string(100, 'x'), 100).error == "reply too long");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(policy_protocol_codec, LogFixture)

BOOST_AUTO_TEST_CASE(pipelined_in_order) {
    auto stats = std::make_shared<policy::Stats>();
    auto p = make_protocol(stats);
    std::string in, out;
    for (int i = 0; i < 5; ++i) in += "request=smtpd_access_policy\nrecipient=r" + std::to_string(i) + "@example.net\n\n";
    in += "request=smtpd_access_policy\nrecipient=half";
    BOOST_TEST(p->on_data(in, out));
    BOOST_TEST(out ==
               "action=OK r0@example.net\n\naction=OK r1@example.net\n\n"
               "action=OK r2@example.net\n\naction=OK r3@example.net\n\n"
               "action=OK r4@example.net\n\n");
    BOOST_TEST(in == "request=smtpd_access_policy\nrecipient=half");  // the incomplete request stays
    out.clear();
    in += "@example.net\r\n";
    BOOST_TEST(p->on_data(in, out));
    BOOST_TEST(out == "");
    in += "\r\n";
    BOOST_TEST(p->on_data(in, out));
    BOOST_TEST(out == "action=OK half@example.net\n\n");
    BOOST_TEST(in == "");
    BOOST_TEST(stats->requests == 6u);
    BOOST_TEST(stats->malformed == 0u);
}

BOOST_AUTO_TEST_CASE(byte_at_a_time) {
    auto p = make_protocol(nullptr, kPostfixLimits);
    std::string in, out;
    const std::string two = kRcpt + kRcpt;
    for (const char c : two) {
        in.push_back(c);
        BOOST_REQUIRE(p->on_data(in, out));
    }
    BOOST_TEST(out == "action=OK bob@example.net\n\naction=OK bob@example.net\n\n");
    BOOST_TEST(in.empty());
}

BOOST_AUTO_TEST_CASE(malformed_closes_after_earlier_replies) {
    auto stats = std::make_shared<policy::Stats>();
    auto p = make_protocol(stats);
    std::string in = "request=smtpd_access_policy\nrecipient=a\n\nnot an attribute\n\nrequest=smtpd_access_policy\nrecipient=b\n\n", out;
    BOOST_TEST(!p->on_data(in, out));
    BOOST_TEST(out == "action=OK a\n\n");
    BOOST_TEST(in.empty());
    BOOST_TEST(stats->malformed == 1u);
    BOOST_TEST(stats->requests == 1u);
    const std::string log = logging::captured();
    BOOST_TEST(log.find("warning: policy: peer=unix uid=0") != std::string::npos, log);
    BOOST_TEST(log.find("reason=malformed policy request, error=line without '='") !=
                   std::string::npos,
               log);
}

BOOST_AUTO_TEST_CASE(handler_error_gets_error_action) {
    auto stats = std::make_shared<policy::Stats>();
    auto p = make_protocol(stats);
    std::string in = "request=smtpd_access_policy\nboom=yes\nrecipient=x\n\nrequest=smtpd_access_policy\nrecipient=y\n\nrequest=smtpd_access_policy\nboom=int\n\n", out;
    BOOST_TEST(p->on_data(in, out));
    BOOST_TEST(out == "action=DUNNO\n\naction=OK y\n\naction=DUNNO\n\n");
    BOOST_TEST(stats->handler_errors == 2u);
    BOOST_TEST(stats->requests == 1u);
    const std::string log = logging::captured();
    BOOST_TEST(log.find("reason=handler error, error=store on fire") != std::string::npos, log);
    BOOST_TEST(log.find("recipient=x, action=DUNNO") != std::string::npos, log);
    // The second one within the same second is counted, not logged.
    BOOST_TEST(log.find("unknown exception") == std::string::npos, log);
}

BOOST_AUTO_TEST_CASE(warnings_rate_limited) {
    auto stats = std::make_shared<policy::Stats>();
    auto factory = policy::policy_factory(echo_handler(), kLimits,
                                          policy::Options{.error_action = "DUNNO"}, stats);
    for (int i = 0; i < 50; ++i) {
        auto p = factory(net::Peer::local(0, 0));
        std::string in = "=bad\n\n", out;
        BOOST_TEST(!p->on_data(in, out));
        BOOST_TEST(out.empty());
    }
    BOOST_TEST(stats->malformed == 50u);
    const std::string log = logging::captured();
    size_t n = 0;
    for (size_t at = log.find("malformed policy request"); at != std::string::npos;
         at = log.find("malformed policy request", at + 1))
        ++n;
    BOOST_TEST(n == 1u, log);
}

BOOST_AUTO_TEST_CASE(high_water_mark) {
    const Limits limits{.max_line = 4096, .max_attributes = 10, .max_request = 8192};
    auto p = policy::policy_factory(
        [](const net::Peer&, const Request&) { return std::string(2000, 'a'); }, limits,
        policy::Options{.error_action = "DUNNO"})(net::Peer::local(0, 0));
    std::string in, out;
    const int total = 400;  // 400 x 2009 bytes of replies: over 256 KiB
    for (int i = 0; i < total; ++i) in += "request=smtpd_access_policy\nn=" + std::to_string(i) + "\n\n";
    BOOST_TEST(p->on_data(in, out));
    BOOST_TEST(out.size() >= net::kOutputHighWater);
    BOOST_TEST(out.size() < net::kOutputHighWater + 2009);
    BOOST_TEST(!in.empty());
    size_t replies = out.size() / 2009;
    while (!in.empty()) {
        out.clear();
        BOOST_TEST(p->on_data(in, out));
        replies += out.size() / 2009;
    }
    BOOST_TEST(replies == static_cast<size_t>(total));
}

BOOST_AUTO_TEST_CASE(truncated_request_counted) {
    auto stats = std::make_shared<policy::Stats>();
    {
        auto p = make_protocol(stats);
        std::string in = "request=smtpd_access_policy\nrecipient=a\n\nrequest=smtpd_access_policy\nrecipient=b\n", out;
        BOOST_TEST(p->on_data(in, out));
        BOOST_TEST(out == "action=OK a\n\n");
    }
    BOOST_TEST(stats->truncated == 1u);
    {
        auto p = make_protocol(stats);
        std::string in = "request=smtpd_access_policy\nrecipient=a\n\n", out;
        BOOST_TEST(p->on_data(in, out));
    }
    BOOST_TEST(stats->truncated == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
