// fuzz_dns.cc - libFuzzer target: DNS answer parsing and the reachability
// decision built on it
//
// The first input byte picks the record type asked (mod 3: MX, A, AAAA;
// seed files start with 0x00, 0x01, 0x02), the rest is the response packet
// for the name "example.com". Besides "no crash, no sanitizer report", it
// traps when an invariant breaks: an Ok answer has records, never more than
// kMaxRecords; A/AAAA values are addresses, MX values names; and the
// reachability check over a resolver answering every query with this
// packet gives an outcome whose text names the domain.
#include <arpa/inet.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "common/address/address.h"
#include "common/dns/answer.h"
#include "common/dns/reachability.h"
#include "common/dns/resolver.h"

namespace {

constexpr dns::Type kTypes[] = {dns::Type::MX, dns::Type::A, dns::Type::AAAA};

void check(bool ok) {
    if (!ok) __builtin_trap();
}

// Answers every query by parsing the same packet.
class PacketQuerier final : public dns::Querier {
public:
    explicit PacketQuerier(std::span<const unsigned char> p) : packet_(p) {}
    dns::Answer query(std::string_view name, dns::Type type, std::chrono::seconds) const override {
        return dns::parse_answer(packet_, name, type);
    }

private:
    std::span<const unsigned char> packet_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    const dns::Type type = kTypes[data[0] % 3];
    const std::span<const unsigned char> packet(data + 1, size - 1);

    const dns::Answer a = dns::parse_answer(packet, "example.com", type);
    check(a.status != dns::Status::Timeout);
    check((a.status == dns::Status::Ok) == !a.records.empty());
    check(a.records.size() <= dns::kMaxRecords);
    for (const dns::Record& r : a.records) {
        check(!r.value.empty());
        unsigned char buf[16];
        if (type == dns::Type::A) check(::inet_pton(AF_INET, r.value.c_str(), buf) == 1);
        if (type == dns::Type::AAAA) check(::inet_pton(AF_INET6, r.value.c_str(), buf) == 1);
        if (type != dns::Type::MX) check(r.preference == 0);
    }

    static const address::Domain domain = *address::normalise_domain("example.com");
    const PacketQuerier q(packet);
    const dns::Reachability r = dns::mail_reachability(q, domain, std::chrono::seconds(5));
    check(dns::describe(r, domain).find("example.com") != std::string::npos);
    return 0;
}
