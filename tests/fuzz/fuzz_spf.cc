// fuzz_spf.cc - libFuzzer target: arbitrary TXT answers through our libspf2
// DNS layer into an SPF evaluation (libspf2's parser is hostile ground:
// Debian lacks upstream's later integer-underflow fix)
//
// The input is split at '\n' into TXT records; every TXT query (any name)
// gets them, A queries get 192.0.2.1, AAAA 2001:db8::1, MX "mx.example.com",
// PTR "host.example.com". The first byte picks the client: even 192.0.2.1,
// odd 2001:db8::1. Besides "no crash, no sanitizer report", it traps when
// the result is not one of the seven, or the evaluation asked more than
// kMaxQueries queries.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/dns/resolver.h"
#include "common/mailauth/spf.h"

namespace {

void check(bool ok) {
    if (!ok) __builtin_trap();
}

class FuzzQuerier final : public dns::Querier {
public:
    explicit FuzzQuerier(std::vector<std::string> txt) : txt_(std::move(txt)) {}
    dns::Answer query(std::string_view, dns::Type type, std::chrono::seconds) const override {
        ++queries;
        dns::Answer a{dns::Status::Ok, {}, std::chrono::seconds(60)};
        switch (type) {
        case dns::Type::TXT:
            for (const auto& t : txt_) a.records.push_back({0, t});
            break;
        case dns::Type::A: a.records.push_back({0, "192.0.2.1"}); break;
        case dns::Type::AAAA: a.records.push_back({0, "2001:db8::1"}); break;
        case dns::Type::MX: a.records.push_back({10, "mx.example.com"}); break;
        case dns::Type::PTR: a.records.push_back({0, "host.example.com"}); break;
        }
        if (a.records.empty()) a.status = dns::Status::NoData;
        return a;
    }
    mutable int queries = 0;

private:
    std::vector<std::string> txt_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    const char* ip = data[0] % 2 ? "2001:db8::1" : "192.0.2.1";
    std::vector<std::string> txt;
    const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
    std::size_t start = 0;
    while (start <= rest.size() && txt.size() < dns::kMaxRecords) {
        const std::size_t nl = rest.find('\n', start);
        txt.emplace_back(rest.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start));
        if (nl == std::string_view::npos) break;
        start = nl + 1;
    }
    const FuzzQuerier q(std::move(txt));
    const mailauth::SpfResult r =
        mailauth::evaluate(q, ip, "example.com", "relay.example.net", mailauth::Deadline(std::chrono::seconds(5)));
    const auto s = static_cast<int>(r.result);
    check(s >= static_cast<int>(mailauth::Spf::Pass) && s <= static_cast<int>(mailauth::Spf::TempError));
    check(q.queries <= mailauth::kMaxQueries);
    return 0;
}
