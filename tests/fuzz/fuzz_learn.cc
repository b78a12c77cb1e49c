// fuzz_learn.cc - the Learner over arbitrary status keys, block events,
// transport lookups and times
//
// Input: lines; the first byte of a line picks the operation and how far
// time moves on (op = byte % 6, then (byte / 6) seconds * 37):
//   0 status KEY   1 status-gmx KEY   2 status-NAME KEY (NAME up to a space)
//   3 transport KEY   4 block event "DOMAIN REASON TEXT"   5 tick
// Invariants checked (std::abort on violation):
//   - a status map answers NOTFOUND, always;
//   - the transport map answers NOTFOUND or OK with one of the configured
//     transports followed by ':';
//   - an unknown map name answers PERM;
//   - every state has a finite allowed rate >= 0, 0 exactly when its level
//     is 0, never above the ceiling; a suspension only while in backoff.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/log/log.h"
#include "policyd/learner.h"
#include "tests/unit/test_policyd_learn_support.h"

namespace {

void check_states(const policyd::Learner& l) {
    for (const store::ProviderState& s : l.states()) {
        if (!std::isfinite(s.allowed_per_hour) || s.allowed_per_hour < 0) std::abort();
        if ((s.level == 0) != (s.allowed_per_hour == 0)) std::abort();
        if (s.allowed_per_hour > 3600.0 + 1e-6) std::abort();  // kConf's default rate
    }
}

bool configured_transport(std::string_view t) {
    return t == "gmx-slow:" || t == "gmx-crawl:" || t == "throttled:";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const bool once = [] {
        logging::open("fuzz", logging::Sink::None);
        return true;
    }();
    (void)once;
    static const policyd::LearnSettings settings = learn_test::settings();
    policyd::Learner l(settings, learn_test::destinations());
    int64_t now = learn_test::kT0;
    std::string_view in(reinterpret_cast<const char*>(data), size);
    while (!in.empty()) {
        const size_t nl = in.find('\n');
        std::string_view line = in.substr(0, nl);
        in.remove_prefix(nl == std::string_view::npos ? in.size() : nl + 1);
        if (line.empty()) continue;
        const auto op = static_cast<unsigned char>(line[0]);
        line.remove_prefix(1);
        now += static_cast<int64_t>(op / 6) * 37 * learn_test::kSec;
        switch (op % 6) {
        case 0:
        case 1:
        case 2: {
            std::string map = op % 6 == 0 ? "status" : "status-gmx";
            if (op % 6 == 2) {
                const size_t sp = line.find(' ');
                map = "status-" + std::string(line.substr(0, sp));
                line.remove_prefix(sp == std::string_view::npos ? line.size() : sp + 1);
            }
            const net::SocketmapReply r = policyd::learn_lookup(l, map, line, now);
            if (policyd::is_learn_map(map)) {
                if (r.status != net::SocketmapStatus::NotFound) std::abort();
            } else if (r.status != net::SocketmapStatus::Perm) {
                std::abort();
            }
            break;
        }
        case 3: {
            const net::SocketmapReply r = policyd::learn_lookup(l, "transport", line, now);
            if (r.status == net::SocketmapStatus::Ok) {
                if (!configured_transport(r.data)) std::abort();
            } else if (r.status != net::SocketmapStatus::NotFound) {
                std::abort();
            }
            break;
        }
        case 4: {
            const size_t a = line.find(' ');
            const std::string_view domain = line.substr(0, a);
            std::string_view rest = a == std::string_view::npos ? std::string_view() : line.substr(a + 1);
            const size_t b = rest.find(' ');
            const std::string_view reason = rest.substr(0, b);
            const std::string_view text = b == std::string_view::npos ? std::string_view() : rest.substr(b + 1);
            l.on_block_event(domain, reason, text, now, text);
            break;
        }
        default:
            l.tick(now);
            break;
        }
        check_states(l);
    }
    return 0;
}
