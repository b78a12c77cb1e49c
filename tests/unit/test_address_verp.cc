// test_address_verp.cc - VERP codec: format, round trips, forgery, expiry, keys
#include <boost/test/unit_test.hpp>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "common/address/verp.h"
#include "common/address/verp_setup.h"
#include "common/config/config.h"

namespace {

using namespace std::chrono_literals;
using std::chrono::sys_days;

const std::string kKeyA = "first-key-0123456789abcdef";
const std::string kKeyB = "second-key-fedcba9876543210";
const sys_days kToday{std::chrono::year{2024} / 6 / 15};

// Explicit values: VerpConfig has no defaults (the table has them).
address::VerpConfig test_config(std::string domain = "Bounces.Example.ORG.") {
    address::VerpConfig c;
    c.prefix = "bounce";
    c.delimiter = '+';
    c.bounce_domain = std::move(domain);
    c.max_age = std::chrono::days{30};
    return c;
}

address::VerpCodec codec(std::vector<std::string> keys = {kKeyA}) {
    return address::VerpCodec(test_config(), address::VerpKeys::from_strings(std::move(keys)));
}

address::Address addr(const std::string& s) {
    auto a = address::parse_path(s);
    BOOST_REQUIRE_MESSAGE(a, "test address " << s << " does not parse");
    return *a;
}

std::string status(const address::Decoded& d) { return std::string(address::to_string(d.status)); }

std::string upper(std::string s) {
    for (auto& c : s)
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    return s;
}

std::string local_of(const std::string& a) { return a.substr(0, a.rfind('@')); }

const address::VerpCodec::TokenSource kNoToken;

}  // namespace

BOOST_AUTO_TEST_SUITE(verp_suite)

// The format written in verp.h, computed here independently.
BOOST_AUTO_TEST_CASE(golden_format) {
    const long long day = kToday.time_since_epoch().count();
    const std::string b32 = "abcdefghijklmnopqrstuvwxyz234567";
    const std::string time = {b32[static_cast<std::size_t>((day % 1024) >> 5)],
                              b32[static_cast<std::size_t>(day % 32)]};
    std::string msg = std::string("sendguard-verp-1") + '\0' + 'r' + '\0' + time + '\0' +
                      "bounces.example.org" + '\0' + "bob.o'neil" + '\0' + "example.net";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), kKeyA.data(), static_cast<int>(kKeyA.size()),
         reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), md, &len);
    unsigned long long bits = 0;
    for (int i = 0; i < 5; ++i) bits = (bits << 8) | md[i];
    std::string mac;
    for (int i = 7; i >= 0; --i) mac += b32[(bits >> (5 * i)) & 31];
    const std::string want = "bounce+r" + time + mac + "-bob.o_27neil=example.net@bounces.example.org";

    auto e = codec().encode(addr("Bob.O'Neil@Example.NET"), kNoToken, kToday);
    BOOST_REQUIRE(e);
    BOOST_TEST(e->address == want, "got " << e->address << ", want " << want);
    BOOST_TEST(!e->is_token);
    BOOST_TEST(e->token.empty());
}

BOOST_AUTO_TEST_CASE(round_trip_awkward_recipients) {
    const struct {
        std::string rcpt;  // as parse_path takes it
        std::string want;  // normalised() of the decoded recipient
    } cases[] = {
        {"bob@example.net", "bob@example.net"},
        {"Bob.Smith@Example.NET", "bob.smith@example.net"},
        {"a+tag@example.com", "a+tag@example.com"},
        {"a=b@example.com", "a=b@example.com"},
        {"a%b@example.com", "a%b@example.com"},
        {"a/b@example.com", "a/b@example.com"},
        {"user_name@example.com", "user_name@example.com"},
        {"o'brien@example.ie", "o'brien@example.ie"},
        {"{w}|~@x.org", "{w}|~@x.org"},
        {"`^!#$&*?@x.org", "`^!#$&*?@x.org"},
        {"\"a b\"@x.org", "\"a b\"@x.org"},
        {"\"a\\\"b@c\"@x.org", "\"a\\\"b@c\"@x.org"},
        {"john..doe@x.org", "\"john..doe\"@x.org"},
        {"...@x.org", "\"...\"@x.org"},
        {".lead@x.org", "\".lead\"@x.org"},
        {"trail.@x.org", "\"trail.\"@x.org"},
        {"J\xc3\xb6rg@example.de", "j\xc3\xb6rg@example.de"},
        {"x@b\xc3\xbc" "cher.example", "x@xn--bcher-kva.example"},
        {"x@[192.0.2.1]", "x@[192.0.2.1]"},
        {"x@[IPv6:2001:db8::1]", "x@[IPv6:2001:db8::1]"},
        {"a-b.c@x-y.z", "a-b.c@x-y.z"},
        {"_5f@x.org", "_5f@x.org"},
    };
    const auto c = codec();
    for (const auto& k : cases) {
        auto e = c.encode(addr(k.rcpt), kNoToken, kToday);
        BOOST_REQUIRE_MESSAGE(e, "encode(" << k.rcpt << ") failed");
        BOOST_TEST(!e->is_token, k.rcpt);
        const std::string local = local_of(e->address);
        BOOST_TEST(local.size() <= 64u, "local part of " << e->address);
        BOOST_TEST(address::is_dot_string(local), "not a Dot-string: " << local);
        for (char ch : e->address) {
            const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
                            ch == '-' || ch == '.' || ch == '_' || ch == '=' || ch == '+' || ch == '@';
            BOOST_TEST(ok, "character '" << ch << "' in " << e->address);
        }
        // As sent, and as remote MTAs may fold it.
        for (const std::string& form : {e->address, upper(e->address), "<" + upper(e->address) + ">"}) {
            auto d = c.decode(form, kToday);
            BOOST_TEST(status(d) == "ok", "decode(" << form << "): got " << status(d) << ", want ok");
            BOOST_TEST(d.recipient.normalised() == k.want,
                       "decode(" << form << "): got " << d.recipient.normalised() << ", want " << k.want);
            BOOST_TEST(!d.is_token);
            BOOST_TEST(d.age_days == 0);
        }
    }
}

BOOST_AUTO_TEST_CASE(forged_altered_and_not_ours) {
    const auto c = codec();
    auto e = c.encode(addr("bob@example.net"), kNoToken, kToday);
    BOOST_REQUIRE(e);
    const std::string a = e->address;  // bounce+rTTMMMMMMMM-bob=example.net@...
    const std::size_t tag = std::string("bounce+").size();
    auto flip = [&](std::size_t i) {
        std::string s = a;
        s[i] = s[i] == 'a' ? 'b' : 'a';
        return s;
    };
    std::string other_rcpt = a;
    other_rcpt.replace(a.find("-bob="), 5, "-rob=");
    std::string other_form = a;
    other_form[tag] = 't';
    const struct {
        std::string in, want;
    } cases[] = {
        {flip(tag + 3), "bad_mac"},           // MAC
        {flip(tag + 10), "bad_mac"},
        {flip(tag + 1), "bad_mac"},           // time
        {other_rcpt, "bad_mac"},              // recipient swapped
        {other_form, "bad_mac"},              // form letter
        {a.substr(0, a.find('@')) + "@other.example.org", "not_verp"},
        {"other+" + a.substr(tag), "not_verp"},
        {"bounce-" + a.substr(tag), "not_verp"},
        {"bob@example.net", "not_verp"},
        {"<>", "not_verp"},
        {"", "not_verp"},
        {"not an address", "not_verp"},
        {"bounce+@bounces.example.org", "truncated"},
        {"bounce+r@bounces.example.org", "truncated"},
        {"bounce+rabc@bounces.example.org", "truncated"},
        {"bounce+raaaaaaaaaa@bounces.example.org", "truncated"},
        {"bounce+raaaaaaaaaa-@bounces.example.org", "truncated"},
        {"bounce+raaaaaaaaaa-bob@bounces.example.org", "truncated"},
        {"bounce+raaaaaaaaaa-bob=@bounces.example.org", "truncated"},
        {"bounce+raaaaaaaaaa-bob=x_2@bounces.example.org", "truncated"},
        {"bounce+taaaaaaaaaa-to_4@bounces.example.org", "truncated"},
        {"bounce+xaaaaaaaaaa-bob=example.net@bounces.example.org", "malformed"},
        {"bounce+ra1aaaaaaaa-bob=example.net@bounces.example.org", "malformed"},
        {"bounce+raaaaaaaaaa.bob=example.net@bounces.example.org", "malformed"},
        {"bounce+raaaaaaaaaax@bounces.example.org", "malformed"},
        {"bounce+raaaaaaaaaa-=example.net@bounces.example.org", "malformed"},
        {"bounce+raaaaaaaaaa-b=c=example.net@bounces.example.org", "malformed"},
        {"bounce+raaaaaaaaaa-b_zz=example.net@bounces.example.org", "malformed"},
        {"bounce+raaaaaaaaaa-b_2=example.net@bounces.example.org", "malformed"},
        {"bounce+raaaaaaaaaa-bob=example.net@bounces.example.org", "bad_mac"},
    };
    for (const auto& k : cases) {
        const std::string got = status(c.decode(k.in, kToday));
        BOOST_TEST(got == k.want, "decode(" << k.in << "): got " << got << ", want " << k.want);
    }
}

BOOST_AUTO_TEST_CASE(every_truncation_fails) {
    const auto c = codec();
    auto e = c.encode(addr("alice.long-name@mail.example.com"), kNoToken, kToday);
    BOOST_REQUIRE(e);
    const std::string local = local_of(e->address);
    for (std::size_t n = 0; n < local.size(); ++n) {
        const std::string cut = local.substr(0, n) + "@bounces.example.org";
        const std::string got = status(c.decode(cut, kToday));
        BOOST_TEST((got == "truncated" || got == "malformed" || got == "bad_mac" || got == "not_verp"),
                   "decode(" << cut << "): got " << got);
        BOOST_TEST(got != "ok", "a cut tag decoded: " << cut);
    }
}

BOOST_AUTO_TEST_CASE(expiry) {
    address::VerpConfig cfg = test_config();
    cfg.max_age = std::chrono::days{30};
    const address::VerpCodec c(cfg, address::VerpKeys::from_strings({kKeyA}));
    auto e = c.encode(addr("bob@example.net"), kNoToken, kToday);
    BOOST_REQUIRE(e);
    const struct {
        int offset;
        std::string want;
        int age;
    } cases[] = {
        {0, "ok", 0}, {1, "ok", 1}, {30, "ok", 30}, {31, "expired", 31}, {500, "expired", 500},
        {-1, "ok", 0},          // one day of clock skew is tolerated
        {-2, "expired", 1022},  // more is not: the stamp reads as old
    };
    for (const auto& k : cases) {
        const auto d = c.decode(e->address, kToday + std::chrono::days{k.offset});
        BOOST_TEST(status(d) == k.want, "day " << k.offset << ": got " << status(d) << ", want " << k.want);
        BOOST_TEST(d.age_days == k.age, "day " << k.offset << ": got age " << d.age_days << ", want " << k.age);
        // Expired tags are authentic: the recipient is still reported.
        BOOST_TEST(d.recipient.str() == "bob@example.net", "day " << k.offset);
    }
}

BOOST_AUTO_TEST_CASE(key_rotation) {
    const auto old_codec = codec({kKeyA});
    const auto new_codec = codec({kKeyB, kKeyA});
    const auto b_only = codec({kKeyB});
    const auto rcpt = addr("carol@example.org");

    auto by_old = old_codec.encode(rcpt, kNoToken, kToday);
    auto by_new = new_codec.encode(rcpt, kNoToken, kToday);
    auto by_b = b_only.encode(rcpt, kNoToken, kToday);
    BOOST_REQUIRE((by_old && by_new && by_b));
    BOOST_TEST(by_new->address == by_b->address, "the first key signs");
    BOOST_TEST(by_new->address != by_old->address);
    BOOST_TEST(status(new_codec.decode(by_old->address, kToday)) == "ok", "old key still verifies");
    BOOST_TEST(status(new_codec.decode(by_new->address, kToday)) == "ok");
    BOOST_TEST(status(old_codec.decode(by_new->address, kToday)) == "bad_mac", "unknown key");
}

BOOST_AUTO_TEST_CASE(bounce_domain_binds_the_tag) {
    const auto c = codec();
    const address::VerpCodec other(test_config("bounces.example.com"), address::VerpKeys::from_strings({kKeyA}));
    auto e = c.encode(addr("bob@example.net"), kNoToken, kToday);
    BOOST_REQUIRE(e);
    std::string moved = local_of(e->address) + "@bounces.example.com";
    BOOST_TEST(status(other.decode(moved, kToday)) == "bad_mac");
    BOOST_TEST(status(other.decode(e->address, kToday)) == "not_verp");
}

BOOST_AUTO_TEST_CASE(token_form) {
    const auto c = codec();
    const std::string long_local = std::string(40, 'x') + ".very.long.local.part";
    const auto rcpt = addr(long_local + "@example.com");
    int calls = 0;
    auto e = c.encode(rcpt, [&] { ++calls; return std::string("tok123"); }, kToday);
    BOOST_REQUIRE(e);
    BOOST_TEST(calls == 1);
    BOOST_TEST(e->is_token);
    BOOST_TEST(e->token == "tok123");
    BOOST_TEST(local_of(e->address).size() <= 64u);
    BOOST_TEST(e->address.find("+t") != std::string::npos, e->address);
    auto d = c.decode(upper(e->address), kToday);
    BOOST_TEST(status(d) == "ok");
    BOOST_TEST(d.is_token);
    BOOST_TEST(d.token == "tok123");
    BOOST_TEST(d.recipient.is_null());

    // A short recipient does not consume a token.
    calls = 0;
    auto s = c.encode(addr("bob@example.net"), [&] { ++calls; return std::string("x"); }, kToday);
    BOOST_REQUIRE(s);
    BOOST_TEST(!s->is_token);
    BOOST_TEST(calls == 0);

    // Tokens with upper case and specials survive case folding too.
    const std::string odd = "Tok/En+1=A";
    auto o = c.encode(rcpt, [&] { return odd; }, kToday);
    BOOST_REQUIRE(o);
    auto od = c.decode(upper(o->address), kToday);
    BOOST_TEST(status(od) == "ok");
    BOOST_TEST(od.token == odd, "got " << od.token << ", want " << odd);

    // Dots in a token never end the local part or come in pairs.
    for (const std::string t : {"a.", "..", ".x", "a..b.", "x"}) {
        auto dt = c.encode(rcpt, [&] { return t; }, kToday);
        BOOST_REQUIRE_MESSAGE(dt, "token " << t);
        BOOST_TEST(address::is_dot_string(local_of(dt->address)), dt->address);
        const auto back = c.decode(dt->address, kToday);
        BOOST_TEST(status(back) == "ok", dt->address);
        BOOST_TEST(back.token == t, "got " << back.token << ", want " << t);
    }

    // No usable token: no encoding.
    const std::string bad_tokens[] = {"", std::string(33, 'a'), "has space", std::string("nul\0x", 5), std::string(30, '/')};
    for (const auto& t : bad_tokens) {
        auto b = c.encode(rcpt, [&] { return t; }, kToday);
        BOOST_TEST(!b, "token of " << t.size() << " octets accepted: " << (b ? b->address : ""));
    }
    BOOST_TEST(!c.encode(rcpt, kNoToken, kToday));
    BOOST_TEST(!c.encode(address::Address(), kNoToken, kToday), "null path encoded");

    // The random token fits, with the longest prefix allowed.
    address::VerpConfig cfg = test_config();
    cfg.prefix = std::string(32, 'p');
    const address::VerpCodec longest(cfg, address::VerpKeys::from_strings({kKeyA}));
    auto r = longest.encode(rcpt, address::make_random_token, kToday);
    BOOST_REQUIRE(r);
    BOOST_TEST(r->is_token);
    BOOST_TEST(r->token.size() == 16u);
    BOOST_TEST(local_of(r->address).size() <= 64u);
    BOOST_TEST(longest.decode(r->address, kToday).token == r->token);
    BOOST_TEST(address::make_random_token() != address::make_random_token());
}

BOOST_AUTO_TEST_CASE(other_delimiter_and_prefix) {
    address::VerpConfig cfg = test_config();
    cfg.prefix = "List_News";
    cfg.delimiter = '-';
    const address::VerpCodec c(cfg, address::VerpKeys::from_strings({kKeyA}));
    auto e = c.encode(addr("a-b@example.net"), kNoToken, kToday);
    BOOST_REQUIRE(e);
    BOOST_TEST(e->address.rfind("list_news-r", 0) == 0, e->address);
    BOOST_TEST(status(c.decode(e->address, kToday)) == "ok");
    BOOST_TEST(status(c.decode("LIST_NEWS" + e->address.substr(9), kToday)) == "ok");
}

BOOST_AUTO_TEST_CASE(bad_config_throws) {
    auto make = [](auto change) {
        address::VerpConfig c = test_config();
        change(c);
        address::VerpCodec v(c, address::VerpKeys::from_strings({kKeyA}));
    };
    BOOST_CHECK_NO_THROW(make([](address::VerpConfig&) {}));
    BOOST_CHECK_THROW(make([](address::VerpConfig& c) { c.delimiter = 'a'; }), std::invalid_argument);
    BOOST_CHECK_THROW(make([](address::VerpConfig& c) { c.delimiter = '.'; }), std::invalid_argument);
    BOOST_CHECK_THROW(make([](address::VerpConfig& c) { c.delimiter = '='; }), std::invalid_argument);
    BOOST_CHECK_THROW(make([](address::VerpConfig& c) { c.delimiter = '@'; }), std::invalid_argument);
    BOOST_CHECK_THROW(make([](address::VerpConfig& c) { c.prefix = ""; }), std::invalid_argument);
    BOOST_CHECK_THROW(make([](address::VerpConfig& c) { c.prefix = "a+b"; }), std::invalid_argument);
    BOOST_CHECK_THROW(make([](address::VerpConfig& c) { c.prefix = "a b"; }), std::invalid_argument);
    BOOST_CHECK_THROW(make([](address::VerpConfig& c) { c.prefix = std::string(33, 'p'); }),
                      std::invalid_argument);
    BOOST_CHECK_THROW(make([](address::VerpConfig& c) { c.max_age = std::chrono::days{0}; }),
                      std::invalid_argument);
    BOOST_CHECK_THROW(make([](address::VerpConfig& c) { c.max_age = std::chrono::days{1001}; }),
                      std::invalid_argument);
    BOOST_CHECK_THROW(make([](address::VerpConfig& c) { c.bounce_domain = "[192.0.2.1]"; }),
                      std::invalid_argument);
    BOOST_CHECK_THROW(make([](address::VerpConfig& c) { c.bounce_domain = ""; }), std::invalid_argument);
    BOOST_CHECK_THROW(make([](address::VerpConfig& c) {
        c.bounce_domain = std::string(63, 'a') + "." + std::string(63, 'b') + "." + std::string(63, 'c');
    }), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(keys_from_strings) {
    BOOST_CHECK_THROW(address::VerpKeys::from_strings({}), std::invalid_argument);
    BOOST_CHECK_THROW(address::VerpKeys::from_strings({"short"}), std::invalid_argument);
    BOOST_CHECK_THROW(address::VerpKeys::from_strings({kKeyA, std::string(15, 'k')}), std::invalid_argument);
    BOOST_CHECK_THROW(address::VerpKeys::from_strings({std::string(1025, 'k')}), std::invalid_argument);
    BOOST_TEST(address::VerpKeys::from_strings({std::string(16, 'k')}).size() == 1u);
    try {
        address::VerpKeys::from_strings({kKeyA, "tooshort-secret"});
        BOOST_FAIL("short key accepted");
    } catch (const std::invalid_argument& e) {
        const std::string m = e.what();
        BOOST_TEST(m.find("key 2") != std::string::npos, m);
        BOOST_TEST(m.find("tooshort-secret") == std::string::npos, "key in message: " << m);
    }
}

namespace {

struct TempDir {
    std::string path;
    TempDir() {
        char tmpl[] = "/tmp/sg-verp-keys-XXXXXX";
        const char* p = mkdtemp(tmpl);
        BOOST_REQUIRE(p);
        path = p;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    std::string write(const std::string& name, const std::string& text, mode_t mode) {
        const std::string f = path + "/" + name;
        std::ofstream(f) << text;
        ::chmod(f.c_str(), mode);
        return f;
    }
};

// The message KeyFileError gives for load_file(f), or "" when it loads.
std::string load_error(const std::string& f) {
    try {
        address::VerpKeys::load_file(f);
        return "";
    } catch (const address::KeyFileError& e) {
        return e.what();
    }
}

}  // namespace

BOOST_AUTO_TEST_CASE(key_file) {
    TempDir dir;
    const std::string good = dir.write("good", "# VERP keys, newest first\n\n  " + kKeyB + "  \r\n" +
                                                   "# retired 2024-05\n" + kKeyA + "\n", 0640);
    auto keys = address::VerpKeys::load_file(good);
    BOOST_TEST(keys.size() == 2u);
    // The file's keys work like the same keys from strings.
    const address::VerpCodec from_file(test_config(), keys);
    auto e = codec({kKeyB, kKeyA}).encode(addr("bob@example.net"), kNoToken, kToday);
    BOOST_REQUIRE(e);
    BOOST_TEST(status(from_file.decode(e->address, kToday)) == "ok");

    const struct {
        std::string name, text;
        mode_t mode;
        std::string want;  // a part of the message
    } cases[] = {
        {"world", kKeyA + "\n", 0644, "world: refusing a key file that others can read or write (mode 0644)"},
        {"worldw", kKeyA + "\n", 0602, "others can read or write (mode 0602)"},
        {"short", "# c\n" + kKeyA + "\nsecret-short\n", 0600, "short:3: key too short (12 bytes"},
        {"empty", "# nothing here\n\n", 0600, "empty: no keys"},
        {"long", std::string(70000, 'k') + "\n", 0600, "long: larger than 65536 bytes"},
    };
    for (const auto& c : cases) {
        const std::string f = dir.write(c.name, c.text, c.mode);
        const std::string got = load_error(f);
        BOOST_TEST(got.find(c.want) != std::string::npos, c.name << ": got \"" << got << "\", want \"" << c.want << "\"");
        BOOST_TEST(got.find(kKeyA) == std::string::npos, "key in message: " << got);
        BOOST_TEST(got.find("secret-short") == std::string::npos, "key in message: " << got);
    }
    BOOST_TEST(load_error(dir.path + "/missing").find("cannot open") != std::string::npos);
    BOOST_TEST(load_error(dir.path).find("not a regular file") != std::string::npos);
}

// The defaults live in the parameter table only: a VerpConfig nobody
// filled is refused, and verp_config() takes every field from the table.
BOOST_AUTO_TEST_CASE(config_has_no_defaults_of_its_own) {
    address::VerpConfig unset;
    unset.bounce_domain = "bounces.example.org";
    BOOST_CHECK_THROW(address::VerpCodec(unset, address::VerpKeys::from_strings({kKeyA})), std::invalid_argument);

    const config::Config cfg = config::Config::parse(
        "verp_local_part = rt\nverp_delimiter = -\nverp_max_age = 12d\n", "test");
    const address::VerpConfig vc = address::verp_config(cfg, "bounces.example.org");
    BOOST_TEST(vc.prefix == "rt");
    BOOST_TEST(vc.delimiter == '-');
    BOOST_TEST(vc.bounce_domain == "bounces.example.org");
    BOOST_TEST(vc.max_age.count() == 12);
    const address::VerpConfig d = address::verp_config(config::Config::defaults(), "b.example");
    BOOST_TEST(d.prefix == config::Config::defaults().str("verp_local_part"));
    BOOST_TEST(d.max_age.count() * 86400 == config::Config::defaults().duration("verp_max_age").count());
    BOOST_CHECK_NO_THROW(address::VerpCodec(d, address::VerpKeys::from_strings({kKeyA})));
}

BOOST_AUTO_TEST_SUITE_END()
