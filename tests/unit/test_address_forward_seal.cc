// test_address_forward_seal.cc - the seal of a forwarded reply: what
// verifies and what does not
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <string>

#include "common/address/forward_seal.h"
#include "common/address/verp.h"

namespace {

using namespace std::chrono_literals;

const std::string kKeyA = "first-key-0123456789abcdef";
const std::string kKeyB = "second-key-fedcba9876543210";
const std::chrono::sys_seconds kNow{1796126400s};
const std::string kFrom = "Alice Replier <alice@example.net>";
const std::string kTo = "news@example.org";

address::VerpKeys keys(std::vector<std::string> k = {kKeyA}) { return address::VerpKeys::from_strings(std::move(k)); }

}  // namespace

BOOST_AUTO_TEST_SUITE(forward_seal)

BOOST_AUTO_TEST_CASE(format_is_version_time_mac) {
    const std::string v = address::seal_forward(keys(), kTo, kFrom, kNow);
    BOOST_TEST(v.starts_with("v=1; t=1796126400; s="), v);
    BOOST_TEST(v.size() == std::string("v=1; t=1796126400; s=").size() + 64, v);
}

BOOST_AUTO_TEST_CASE(verify_table) {
    const std::string good = address::seal_forward(keys(), kTo, kFrom, kNow);
    std::string flipped = good;
    flipped.back() = flipped.back() == '0' ? '1' : '0';
    struct Case {
        std::string what;
        std::vector<std::string> keys;
        std::string value, to, from;
        std::chrono::sys_seconds now;
        address::SealStatus want;
    } cases[] = {
        {"as made", {kKeyA}, good, kTo, kFrom, kNow, address::SealStatus::Ok},
        {"old key still verifies after rotation", {kKeyB, kKeyA}, good, kTo, kFrom, kNow, address::SealStatus::Ok},
        {"recipient case and brackets do not matter", {kKeyA}, good, "<NEWS@example.org>", kFrom, kNow,
         address::SealStatus::Ok},
        {"From: folded and spaced differently", {kKeyA}, good, kTo, "  Alice\r\n\t Replier   <alice@example.net> ",
         kNow, address::SealStatus::Ok},
        {"value folded by a relay", {kKeyA}, "v=1;\n t=1796126400;\n\ts=" + good.substr(good.find("s=") + 2), kTo,
         kFrom, kNow, address::SealStatus::Ok},
        {"one day old", {kKeyA}, good, kTo, kFrom, kNow + 24h, address::SealStatus::Ok},
        {"wrong key", {kKeyB}, good, kTo, kFrom, kNow, address::SealStatus::BadMac},
        {"other recipient", {kKeyA}, good, "boss@example.org", kFrom, kNow, address::SealStatus::BadMac},
        {"changed From:", {kKeyA}, good, kTo, "Mallory <mallory@example.net>", kNow, address::SealStatus::BadMac},
        {"changed MAC", {kKeyA}, flipped, kTo, kFrom, kNow, address::SealStatus::BadMac},
        {"time changed", {kKeyA}, "v=1; t=1796126401; s=" + good.substr(good.find("s=") + 2), kTo, kFrom, kNow,
         address::SealStatus::BadMac},
        {"older than a day", {kKeyA}, good, kTo, kFrom, kNow + 24h + 1s, address::SealStatus::Expired},
        {"from the future", {kKeyA}, good, kTo, kFrom, kNow - 301s, address::SealStatus::Expired},
        {"empty", {kKeyA}, "", kTo, kFrom, kNow, address::SealStatus::Malformed},
        {"other version", {kKeyA}, "v=2" + good.substr(3), kTo, kFrom, kNow, address::SealStatus::Malformed},
        {"short MAC", {kKeyA}, good.substr(0, good.size() - 1), kTo, kFrom, kNow, address::SealStatus::Malformed},
        {"upper-case MAC", {kKeyA}, "v=1; t=1; s=" + std::string(64, 'A'), kTo, kFrom, kNow,
         address::SealStatus::Malformed},
        {"time not digits", {kKeyA}, "v=1; t=-5; s=" + std::string(64, 'a'), kTo, kFrom, kNow,
         address::SealStatus::Malformed},
        {"extra part", {kKeyA}, good + "; x=1", kTo, kFrom, kNow, address::SealStatus::Malformed},
        {"parts reordered", {kKeyA}, "t=1796126400; v=1; " + good.substr(good.find("s=")), kTo, kFrom, kNow,
         address::SealStatus::Malformed},
        {"too long", {kKeyA}, good + std::string(300, ' '), kTo, kFrom, kNow, address::SealStatus::Malformed},
    };
    for (const auto& c : cases) {
        const auto got = address::verify_forward_seal(keys(c.keys), c.value, c.to, c.from, c.now);
        BOOST_TEST((got == c.want), c.what << ": got " << address::to_string(got) << ", want "
                                         << address::to_string(c.want));
    }
}

BOOST_AUTO_TEST_CASE(canonical_from_unfolds_and_squeezes) {
    struct Case {
        std::string in, want;
    } cases[] = {
        {" a b ", "a b"},
        {"a\r\n b", "a b"},
        {"a\n\t\tb", "a b"},
        {"\"x  y\" <x@y>", "\"x y\" <x@y>"},
        {"", ""},
    };
    for (const auto& c : cases)
        BOOST_TEST(address::canonical_from(c.in) == c.want, "got " << address::canonical_from(c.in) << ", want "
                                                                   << c.want);
}

BOOST_AUTO_TEST_SUITE_END()
