// fuzz_dsn.cc - libFuzzer entry point for dsn::parse()
//
// Any byte string is a possible message from the pipe transport: parse()
// must return a value (never crash, hang or throw other than bad_alloc),
// and the report must respect its limits.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/dsn/dsn.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view msg(reinterpret_cast<const char*>(data), size);
    dsn::Limits limits{};
    limits.max_recipients = 50;
    limits.max_diagnostic = 200;
    const dsn::Report r = dsn::parse(msg, limits);
    if (r.recipients.size() > limits.max_recipients) std::abort();
    bool bounce = false;
    for (const auto& rc : r.recipients) {
        if (rc.diagnostic.size() > limits.max_diagnostic) std::abort();
        if (dsn::to_string(rc.reason).empty() || dsn::to_string(rc.klass).empty()) std::abort();
        bounce |= rc.klass == dsn::Class::Hard || rc.klass == dsn::Class::Soft
            || rc.klass == dsn::Class::Complaint;
    }
    if (bounce != r.is_bounce) std::abort();
    return 0;
}
