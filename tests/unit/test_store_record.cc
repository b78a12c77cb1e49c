// test_store_record.cc - record encodings: round trip, version byte, bad input
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "common/store/record.h"

using store::Decode;

BOOST_AUTO_TEST_SUITE(store_record)

namespace {

store::Record sample() {
    store::Record r;
    r.klass = store::Class::Soft;
    r.source = store::Source::Import;
    r.suppressed = true;
    r.first_seen = 1'700'000'000;
    r.last_seen = 1'700'086'400;
    r.expiry = -5;  // any int64 survives
    r.window_start = 1'700'000'001;
    r.count = 0xfffffffe;
    r.window_count = 3;
    r.reason = "mailboxfull";
    r.status = "4.2.2";
    r.diagnostic = std::string("smtp; 452 4.2.2 full\0x", 22);
    r.remote_mta = "mx1.example.net";
    r.evidence = "4XkQ2m1Zz9z";
    return r;
}

}  // namespace

BOOST_AUTO_TEST_CASE(record_round_trip_and_version_byte) {
    const store::Record in = sample();
    const std::string bytes = store::encode(in);
    BOOST_TEST(static_cast<int>(static_cast<unsigned char>(bytes[0])) == store::kRecordVersion,
               "first byte got " << int(bytes[0]) << ", want " << int(store::kRecordVersion));
    store::Record out;
    BOOST_TEST(store::to_string(store::decode(bytes, out)) == "ok");
    BOOST_TEST((out == in), "decoded record differs from encoded one");

    // The fixed part alone leaves strings untouched.
    store::Record fixed;
    fixed.reason = "untouched";
    BOOST_TEST(store::to_string(store::decode_fixed(bytes, fixed)) == "ok");
    BOOST_TEST(fixed.count == in.count);
    BOOST_TEST(fixed.window_start == in.window_start);
    BOOST_TEST(fixed.reason == "untouched");
    std::string_view reason;
    BOOST_TEST(store::to_string(store::decode_reason(bytes, reason)) == "ok");
    BOOST_TEST(reason == "mailboxfull");

    // Fields appended by a later revision of version 1 (after the last
    // field this one writes) are ignored.
    store::Record named = in;
    named.message_id = "<m1@example.org>";
    store::Record ext;
    BOOST_TEST(store::to_string(store::decode(store::encode(named) + "future", ext)) == "ok");
    BOOST_TEST((ext == named));
}

// The message a record is about: Message-ID and header fields, appended to
// version 1. Without them the value is what older versions wrote; with them
// an older reader (which stops after evidence) still reads the rest.
BOOST_AUTO_TEST_CASE(record_message_names_are_appended) {
    const store::Record plain = sample();
    store::Record named = plain;
    named.message_id = "<m1@example.org>";
    named.headers = {{"Feedback-ID", "42:news:esp"}, {"List-Id", "<news.example.org>"}};
    const std::string pb = store::encode(plain), nb = store::encode(named);
    BOOST_TEST(nb.substr(0, pb.size()) == pb, "the named value does not start with the plain one");
    BOOST_TEST(nb.size() > pb.size());
    store::Record out;
    BOOST_TEST(store::to_string(store::decode(nb, out)) == "ok");
    BOOST_TEST((out == named));
    BOOST_TEST(store::to_string(store::decode(pb, out)) == "ok");
    BOOST_TEST(out.message_id.empty());
    BOOST_TEST(out.headers.empty());
    // Cut anywhere inside the appended fields: truncated, never half-read.
    for (size_t n = pb.size() + 1; n < nb.size(); ++n)
        BOOST_TEST(store::to_string(store::decode(nb.substr(0, n), out)) == "truncated value", "cut at " << n);
    // Caps: at most kMaxHeaders fields, each value kMaxHeaderValue bytes.
    store::Record big = plain;
    for (size_t i = 0; i < store::kMaxHeaders + 3; ++i)
        big.headers.emplace_back("X-H" + std::to_string(i), std::string(store::kMaxHeaderValue + 10, 'v'));
    BOOST_TEST(store::to_string(store::decode(store::encode(big), out)) == "ok");
    BOOST_TEST(out.headers.size() == store::kMaxHeaders);
    BOOST_TEST(out.headers.front().second.size() == store::kMaxHeaderValue);
}

BOOST_AUTO_TEST_CASE(record_bad_input_is_a_value_not_a_crash) {
    const std::string good = store::encode(sample());
    std::string v9 = good;
    v9[0] = 9;
    std::string v0 = good;
    v0[0] = 0;
    std::string bad_class = good;
    bad_class[1] = 7;
    std::string bad_source = good;
    bad_source[2] = 4;
    std::string bad_flags = good;
    bad_flags[3] = 0x02;
    std::string long_string = good.substr(0, 44) + std::string("\xff\xff", 2) + "abc";
    struct {
        std::string name, in;
        Decode want;
    } cases[] = {
        {"empty", "", Decode::Empty},
        {"version 9", v9, Decode::UnknownVersion},
        {"version 0", v0, Decode::UnknownVersion},
        {"version byte only", std::string(1, '\x01'), Decode::Truncated},
        {"fixed part cut", good.substr(0, 43), Decode::Truncated},
        {"strings cut", good.substr(0, good.size() - 1), Decode::Truncated},
        {"string length past end", long_string, Decode::Truncated},
        {"class 7", bad_class, Decode::BadValue},
        {"source 4", bad_source, Decode::BadValue},
        {"unknown flag", bad_flags, Decode::BadValue},
    };
    for (const auto& c : cases) {
        store::Record out;
        const Decode got = store::decode(c.in, out);
        BOOST_TEST((got == c.want),
                   c.name << ": got " << store::to_string(got) << ", want " << store::to_string(c.want));
    }
    // Every prefix of a good value decodes to an error or Ok, never crashes.
    for (size_t n = 0; n < good.size(); ++n) {
        store::Record out;
        BOOST_TEST((store::decode(good.substr(0, n), out) != Decode::Ok), "prefix " << n << " decoded");
    }
}

BOOST_AUTO_TEST_CASE(block_record_round_trip) {
    store::BlockRecord in;
    in.count = 1ull << 40;
    in.first_seen = 10;
    in.last_seen = 20;
    in.reason = "spamdetected";
    in.status = "5.7.1";
    in.diagnostic = "smtp; 550 5.7.1 rejected as spam";
    in.remote_mta = "mx.example.org";
    in.evidence = "4XkQ3b7Lq2z";
    const std::string bytes = store::encode(in);
    BOOST_TEST(int(bytes[0]) == int(store::kBlockVersion));
    store::BlockRecord out;
    BOOST_TEST(store::to_string(store::decode(bytes, out)) == "ok");
    BOOST_TEST((out == in));
    // A value written before the evidence field was appended still reads.
    std::string old_value = bytes.substr(0, bytes.size() - 2 - in.evidence.size());
    BOOST_TEST(store::to_string(store::decode(old_value, out)) == "ok");
    BOOST_TEST(out.evidence == "");
    BOOST_TEST(out.remote_mta == in.remote_mta);
    std::string v2 = bytes;
    v2[0] = 2;
    BOOST_TEST(store::to_string(store::decode(v2, out)) == "unknown format version");
    BOOST_TEST(store::to_string(store::decode(bytes.substr(0, 30), out)) == "truncated value");
}

BOOST_AUTO_TEST_CASE(encode_caps_fields_at_utf8_boundaries) {
    store::Record r;
    r.diagnostic = std::string(store::kMaxDiagnostic - 1, 'a') + "\xc3\xa9" + "tail";  // é straddles the cap
    r.reason = std::string(500, 'r');
    store::Record out;
    BOOST_TEST(store::to_string(store::decode(store::encode(r), out)) == "ok");
    BOOST_TEST(out.diagnostic.size() == store::kMaxDiagnostic - 1,
               "got " << out.diagnostic.size() << ", want " << store::kMaxDiagnostic - 1);
    BOOST_TEST(out.reason.size() == store::kMaxReason);

    struct {
        std::string in;
        size_t max;
        std::string want;
    } cases[] = {
        {"abc", 5, "abc"},
        {"abcdef", 3, "abc"},
        {"a\xc3\xa9", 2, "a"},
        {"a\xc3\xa9", 3, "a\xc3\xa9"},
        {"\xe2\x82\xac\xe2\x82\xac", 4, "\xe2\x82\xac"},
        {"abc", 0, ""},
    };
    for (const auto& c : cases) {
        const std::string got(store::cap_utf8(c.in, c.max));
        BOOST_TEST(got == c.want, "cap_utf8(" << c.in << ", " << c.max << "): got " << got
                                              << ", want " << c.want);
    }
}

BOOST_AUTO_TEST_CASE(enum_names_round_trip) {
    for (auto c : {store::Class::Hard, store::Class::Soft, store::Class::Complaint, store::Class::Manual}) {
        auto back = store::parse_class(store::to_string(c));
        BOOST_TEST((back && *back == c), "class " << store::to_string(c));
    }
    for (auto s : {store::Source::Dsn, store::Source::Arf, store::Source::Manual, store::Source::Import}) {
        auto back = store::parse_source(store::to_string(s));
        BOOST_TEST((back && *back == s), "source " << store::to_string(s));
    }
    BOOST_TEST(!store::parse_class("Hard"));
    BOOST_TEST(!store::parse_source(""));
    BOOST_TEST(store::strength(store::Class::Soft) < store::strength(store::Class::Hard));
    BOOST_TEST(store::strength(store::Class::Hard) < store::strength(store::Class::Complaint));
    BOOST_TEST(store::strength(store::Class::Complaint) < store::strength(store::Class::Manual));
}

BOOST_AUTO_TEST_SUITE_END()
