// test_store_codec.cc - the little-endian value layouts, byte for byte
//
// The expected bytes were written by the per-file encoders that le_codec.h
// replaced: a store written before must read the same after.
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "common/store/le_codec.h"
#include "common/store/record.h"
#include "common/store/sendlog.h"
#include "tests/unit/test_store_support.h"

namespace {

std::string hex(std::string_view s) {
    static const char* d = "0123456789abcdef";
    std::string out;
    for (unsigned char c : s) {
        out += d[c >> 4];
        out += d[c & 15];
    }
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(store_codec)

BOOST_AUTO_TEST_CASE(record_bytes_unchanged) {
    store::Record r;
    r.klass = store::Class::Complaint;
    r.source = store::Source::Arf;
    r.suppressed = true;
    r.first_seen = 1700000000;
    r.last_seen = -2;
    r.expiry = 0x0102030405060708LL;
    r.window_start = 5;
    r.count = 0xA1B2C3D4u;
    r.window_count = 7;
    r.reason = "abuse";
    r.status = "5.7.1";
    r.diagnostic = "d";
    r.evidence = "Q1";
    const std::string want =
        "0102010100f1536500000000feffffffffffffff08070605040302010500000000000000d4c3b2a1"
        "07000000050061627573650500352e372e31010064000002005131";
    BOOST_TEST(hex(store::encode(r)) == want);
    store::Record back;
    BOOST_TEST(store::to_string(store::decode(store::encode(r), back)) == "ok");
    BOOST_TEST((back == r));

    store::BlockRecord b;
    b.count = 0x1122334455667788ULL;
    b.first_seen = 1;
    b.last_seen = 256;
    b.reason = "blocked";
    b.status = "5.7.1";
    b.remote_mta = "mx";
    BOOST_TEST(hex(store::encode(b)) ==
               "018877665544332211010000000000000000010000000000000700626c6f636b65640500352e372e31000002006d78");
}

// Version 1 (one recipient, written before the milter recorded whole
// messages) is still read: a token signed then resolves until it expires.
BOOST_AUTO_TEST_CASE(sendlog_version_1_still_read) {
    store_test::TempDir td;
    auto env = store::Env::open(td.env_dir(), store_test::test_opts());
    store::SendLog log(env);
    const MDB_dbi dbi = env->dbi("sendlog");
    const std::string v1 = std::string("\x01" "\x08\x07\x06\x05\x04\x03\x02\x01", 9) + "bob@example.net";
    env->write([&](store::WriteTxn& w) { w.put(dbi, "tok", v1); });
    const auto e = log.lookup("tok", 1);
    BOOST_REQUIRE(e);
    BOOST_TEST(e->expiry == 0x0102030405060708LL);
    BOOST_TEST(e->recipients == std::vector<std::string>{"bob@example.net"});
    BOOST_TEST(e->sender.empty());
    BOOST_TEST(e->queue_id.empty());
    BOOST_TEST(log.get("tok", 1).value_or("") == "bob@example.net");
}

// Version 2 (sender, queue id, recipients; written before Message-ID and
// headers were kept) is still read, with neither.
BOOST_AUTO_TEST_CASE(sendlog_version_2_still_read) {
    store_test::TempDir td;
    auto env = store::Env::open(td.env_dir(), store_test::test_opts());
    store::SendLog log(env);
    const MDB_dbi dbi = env->dbi("sendlog");
    const auto len = [](char n) { return std::string(1, n) + std::string(1, '\0'); };
    const std::string v2 = std::string("\x02" "\x08\x07\x06\x05\x04\x03\x02\x01", 9) + len(16) +
                           "news@example.org" + len(4) + "4XkQ" + std::string("\x02\x00\x00\x00", 4) + len(15) +
                           "bob@example.net" + len(11) + "c@x.example";
    env->write([&](store::WriteTxn& w) { w.put(dbi, "tok", v2); });
    const store::SendLogEntry want{.expiry = 0x0102030405060708LL,
                                   .sender = "news@example.org",
                                   .queue_id = "4XkQ",
                                   .recipients = {"bob@example.net", "c@x.example"}};
    const auto e = log.lookup("tok", 1);
    BOOST_REQUIRE(e);
    BOOST_TEST((*e == want));
    BOOST_TEST(e->message_id.empty());
    BOOST_TEST(e->headers.empty());
    BOOST_TEST(!store::decode_sendlog(v2 + "x"), "padded");
    BOOST_TEST(!store::decode_sendlog(v2.substr(0, v2.size() - 1)), "truncated");
    // Purged like the others once expired.
    BOOST_TEST(log.purge_expired(0x0102030405060708LL) == 1u);
}

BOOST_AUTO_TEST_CASE(sendlog_version_3_bytes) {
    store_test::TempDir td;
    auto env = store::Env::open(td.env_dir(), store_test::test_opts());
    store::SendLog log(env);
    const store::SendLogEntry e{.expiry = 0x0102030405060708LL,
                                .sender = "news@example.org",
                                .queue_id = "4XkQ",
                                .recipients = {"bob@example.net", "c@x.example"},
                                .message_id = "<m1@x>",
                                .headers = {{"Feedback-ID", "42:news"}, {"List-Id", ""}}};
    log.put("tok", e);
    const MDB_dbi dbi = env->dbi("sendlog");
    {
        store::ReadTxn txn = env->read();
        auto v = txn.get(dbi, "tok");
        BOOST_REQUIRE(v);
        BOOST_TEST(hex(*v) == "03" "0807060504030201" "1000" + hex("news@example.org") + "0400" + hex("4XkQ") +
                                  "02000000" "0f00" + hex("bob@example.net") + "0b00" + hex("c@x.example") +
                                  "0600" + hex("<m1@x>") + "02" "0b00" + hex("Feedback-ID") + "0700" +
                                  hex("42:news") + "0700" + hex("List-Id") + "0000");
    }
    BOOST_TEST((log.lookup("tok", 1).value() == e));
    BOOST_TEST(!log.lookup("tok", 0x0102030405060708LL), "expired at its expiry");
    // Truncated or padded values are format errors, not partial entries.
    std::string v = store::encode_sendlog(e);
    BOOST_TEST(!store::decode_sendlog(v.substr(0, v.size() - 1)));
    BOOST_TEST(!store::decode_sendlog(v + "x"));
    BOOST_TEST(!store::decode_sendlog("\x04" + v.substr(1)), "an unknown version");
    // A header count past kSendLogMaxHeaders is damage, not 200 headers.
    std::string many = store::encode_sendlog(store::SendLogEntry{.expiry = 1});
    many.back() = static_cast<char>(store::kSendLogMaxHeaders + 1);
    BOOST_TEST(!store::decode_sendlog(many));
    // An entry under a recipient key reads back the same way.
    const std::string rk = store::recipient_key("bob@example.net", "bounces.example.org");
    BOOST_TEST(rk == "r:bob@example.net:bounces.example.org");
    log.put(rk, e);
    BOOST_TEST((log.lookup(rk, 1).value() == e));
}

// put refuses what the layout or the limits cannot hold: each string at
// most kSendLogMaxString bytes, at most kSendLogMaxHeaders header fields.
BOOST_AUTO_TEST_CASE(sendlog_limits) {
    store_test::TempDir td;
    auto env = store::Env::open(td.env_dir(), store_test::test_opts());
    store::SendLog log(env);
    const std::string at_limit(store::kSendLogMaxString, 'v');
    struct Case {
        std::string what;
        store::SendLogEntry e;
        bool fits;
    };
    std::vector<std::pair<std::string, std::string>> sixteen, seventeen;
    for (size_t i = 0; i < store::kSendLogMaxHeaders; ++i) sixteen.emplace_back("X-H" + std::to_string(i), "v");
    seventeen = sixteen;
    seventeen.emplace_back("X-More", "v");
    const Case cases[] = {
        {"values at the limit", {.expiry = 9, .message_id = at_limit, .headers = {{"X-Campaign", at_limit}}}, true},
        {"Message-ID over", {.expiry = 9, .message_id = at_limit + "v"}, false},
        {"header value over", {.expiry = 9, .headers = {{"X-Campaign", at_limit + "v"}}}, false},
        {"header name over", {.expiry = 9, .headers = {{at_limit + "v", "x"}}}, false},
        {"16 headers", {.expiry = 9, .headers = sixteen}, true},
        {"17 headers", {.expiry = 9, .headers = seventeen}, false},
    };
    for (const Case& c : cases) {
        bool stored = true;
        try {
            log.put("tok", c.e);
        } catch (const store::Error& e) {
            stored = false;
            BOOST_TEST((e.kind() == store::Error::Kind::Usage), c.what);
        }
        BOOST_TEST(stored == c.fits, c.what << ": got stored=" << stored << ", want " << c.fits);
        if (stored) BOOST_TEST((log.lookup("tok", 1).value() == c.e), c.what);
    }
}

BOOST_AUTO_TEST_CASE(le_helpers) {
    std::string out;
    store::put_le<uint16_t>(out, 0x0102);
    store::put_le<int32_t>(out, -1);
    store::put_le<int64_t>(out, 0x0807060504030201LL);
    BOOST_TEST(hex(out) == "0201ffffffff0102030405060708");
    BOOST_TEST(store::get_le<uint16_t>(out.data()) == 0x0102);
    BOOST_TEST(store::get_le<int32_t>(out.data() + 2) == -1);
    BOOST_TEST(store::get_le<int64_t>(out.data() + 6) == 0x0807060504030201LL);

    store::LeReader rd(out);
    BOOST_TEST(rd.uint(2) == 0x0102u);
    BOOST_TEST(rd.uint(4) == 0xffffffffu);
    BOOST_TEST(rd.i64() == 0x0807060504030201LL);
    BOOST_TEST(rd.ok());
    BOOST_TEST(rd.uint(1) == 0u);
    BOOST_TEST(!rd.ok(), "reading past the end must clear ok()");

    std::string s;
    store::put_le_str(s, "abc");
    store::LeReader sr(s);
    BOOST_TEST(sr.str() == "abc");
    BOOST_TEST(sr.ok());
    store::LeReader cut(std::string_view(s).substr(0, 4));
    BOOST_TEST(cut.str().empty());
    BOOST_TEST(!cut.ok(), "a string longer than the value is truncated");
}

BOOST_AUTO_TEST_CASE(sendlog_put_all_is_all_or_none) {
    store_test::TempDir td;
    auto env = store::Env::open(td.env_dir(), store_test::test_opts());
    store::SendLog log(env);
    const store::SendLogEntry a{.expiry = 9, .sender = "a@x.example", .recipients = {"r@y.example"}};
    const store::SendLogEntry b{.expiry = 9, .sender = "b@x.example", .recipients = {"s@y.example"}};
    log.put_all({{"tok1", a}, {"tok2", b}});
    BOOST_TEST((log.lookup("tok1", 1).value() == a));
    BOOST_TEST((log.lookup("tok2", 1).value() == b));
    const store::SendLogEntry over{.expiry = 9, .message_id = std::string(store::kSendLogMaxString + 1, 'v')};
    bool refused = false;
    try {
        log.put_all({{"tok3", a}, {"tok4", over}});
    } catch (const store::Error& e) {
        refused = e.kind() == store::Error::Kind::Usage;
    }
    BOOST_TEST(refused, "an entry over the limits refuses the batch");
    BOOST_TEST(!log.lookup("tok3", 1).has_value(), "got tok3 stored, want none of the refused batch");
}

BOOST_AUTO_TEST_SUITE_END()
