// learn_signal.cc - see learn_signal.h
#include "policyd/learn_signal.h"

#include <algorithm>
#include <cmath>

#include "policyd/backoff.h"

namespace policyd {

namespace {

constexpr int kMaxTransportLevel = 64;

AimdParams params(const AimdBounds& b) {
    AimdParams p;
    p.min_per_hour = b.min_rate * 3600.0;
    p.max_per_hour = b.ceiling * 3600.0;
    p.decrease_factor = b.decrease;
    p.increase_per_hour_step = b.recovery_step * 3600.0;
    p.quiet_us = b.quiet_us;
    p.hold_us = b.hold_us;
    p.max_suspend_us = b.max_suspend_us;
    return p;
}

BackoffState backoff_of(const store::ProviderState& s) {
    return BackoffState{s.allowed_per_hour, s.level, s.suspended_until, s.last_signal, s.last_change};
}

bool assign(store::ProviderState& s, const BackoffState& n) {
    if (n == backoff_of(s)) return false;
    s.allowed_per_hour = n.allowed_per_hour;
    s.level = n.level;
    s.suspended_until = n.suspended_until_us;
    s.last_signal = n.last_signal_us;
    s.last_change = n.last_change_us;
    return true;
}

}  // namespace

StatusSignal classify_status_key(std::string_view key, const ReplyPatterns* extra) {
    StatusSignal out;
    const std::optional<StatusKey> k = parse_status_key(key);
    if (!k) return out;
    const Classification c = classify(*k, extra);
    out.host = k->host;
    out.reply = k->reply_code.empty() ? k->text : k->reply_code + " " + k->text;
    switch (c.signal) {
    case Signal::Success: out.kind = StatusKind::Success; break;
    case Signal::RateLimit: out.kind = StatusKind::RateLimit; break;
    case Signal::Ordinary: out.kind = StatusKind::Temporary; break;
    case Signal::Permanent:
        out.kind = c.kind == RateKind::None ? StatusKind::Permanent : StatusKind::RateLimit;
        break;
    case Signal::Other: out.kind = StatusKind::Malformed; break;
    }
    if (out.kind == StatusKind::RateLimit && c.retry_after_us)
        out.retry_after_s = (*c.retry_after_us + 999999) / 1000000;
    return out;
}

bool aimd_signal(store::ProviderState& s, const AimdBounds& b, int64_t retry_after_s, int64_t now_us) {
    const BackoffState before = backoff_of(s);
    std::optional<int64_t> retry;
    if (retry_after_s > 0) retry = std::min<int64_t>(retry_after_s, kMaxRetryAfterUs / 1000000) * 1000000;
    const BackoffState n = on_signal(params(b), before, now_us, b.ceiling * 3600.0, retry);
    assign(s, n);
    // last_signal moves on every signal; a change is of rate, level or suspension.
    return n.allowed_per_hour != before.allowed_per_hour || n.level != before.level ||
           n.suspended_until_us != before.suspended_until_us;
}

bool aimd_tick(store::ProviderState& s, const AimdBounds& b, int64_t now_us) {
    return assign(s, on_tick(params(b), backoff_of(s), now_us, b.ceiling * 3600.0));
}

int transport_level(const store::ProviderState& s, const AimdBounds& b) {
    if (s.level == 0) return 0;
    const double rate = s.allowed_per_hour / 3600.0;
    int by_rate = kMaxTransportLevel;
    if (rate >= b.ceiling) by_rate = 1;
    else if (rate > 0 && b.decrease > 0 && b.decrease < 1) {
        const double n = std::log(b.ceiling / rate) / std::log(1.0 / b.decrease);
        by_rate = static_cast<int>(std::clamp(std::ceil(n - 1e-9), 1.0, double{kMaxTransportLevel}));
    }
    return std::max(1, std::min(by_rate, static_cast<int>(std::min<uint32_t>(s.level, kMaxTransportLevel))));
}

}  // namespace policyd
