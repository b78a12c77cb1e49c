// fuzz_verp.cc - libFuzzer target: VERP decoder and the address parsers
//
// The first input byte picks the entry point (mod 5), the rest is the text:
//   0  VerpCodec::decode       3  normalise_domain
//   1  parse_path              4  VerpCodec::decode, upper-cased
//   2  extract_all_from_header
// (Seed files start with 'A'..'E', which are 0..4 mod 5.)
// Besides "no crash, no sanitizer report", each mode checks invariants and
// traps when one breaks: str() parses back to the same Address, domains
// normalise idempotently, every mailbox encodes to a Dot-string local part
// of at most 64 octets that decodes to the same normalised recipient, and
// a decoded recipient encodes and decodes again.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/address/address.h"
#include "common/address/verp.h"
#include "common/address/verp_setup.h"

namespace {

const std::chrono::sys_days kDay{std::chrono::year{2024} / 6 / 15};

const address::VerpCodec& codec() {
    static const address::VerpCodec c = [] {
        const address::VerpConfig cfg = address::verp_config(config::Config::defaults(), "bounces.example.org");
        return address::VerpCodec(cfg, address::VerpKeys::from_strings(
                                           {"fuzz-key-0123456789abcdef", "old-fuzz-key-0123456789"}));
    }();
    return c;
}

void check(bool ok) {
    if (!ok) __builtin_trap();
}

std::string local_of(const std::string& a) { return a.substr(0, a.rfind('@')); }

// Encodes a, decodes the result, and checks that both directions agree.
void verp_round_trip(const address::Address& a) {
    int calls = 0;
    auto e = codec().encode(a, [&] { ++calls; return std::string("fuzztoken"); }, kDay);
    check(e.has_value());
    check(local_of(e->address).size() <= address::kMaxLocalPart);
    check(address::is_dot_string(local_of(e->address)));
    check(e->is_token == (calls == 1));
    const auto d = codec().decode(e->address, kDay);
    check(d.status == address::VerpStatus::Ok);
    check(d.is_token == e->is_token);
    if (d.is_token)
        check(d.token == "fuzztoken");
    else
        check(d.recipient.normalised() == a.normalised());
}

void reparse(const address::Address& a) {
    if (a.is_null()) return;
    auto b = address::parse_path(a.str());
    check(b.ok() && *b == a);
    auto n = address::parse_path(a.normalised());
    check(n.ok() && n->normalised() == a.normalised());
    verp_round_trip(a);
}

void decode(std::string_view text) {
    const auto d = codec().decode(text, kDay);
    if (d.status != address::VerpStatus::Ok) return;
    check(d.is_token ? !d.token.empty() : !d.recipient.is_null());
    if (!d.is_token) verp_round_trip(d.recipient);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
    switch (data[0] % 5) {
    case 0:
        decode(text);
        break;
    case 1:
        if (auto a = address::parse_path(text)) reparse(*a);
        break;
    case 2:
        if (auto all = address::extract_all_from_header(text, 50))
            for (const auto& a : *all) reparse(a);
        break;
    case 3:
        if (auto d = address::normalise_domain(text)) {
            auto again = address::normalise_domain(d->str());
            check(again.ok() && *again == *d);
        }
        break;
    case 4: {
        std::string up(text);
        for (auto& c : up)
            if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
        decode(up);
        break;
    }
    }
    return 0;
}
