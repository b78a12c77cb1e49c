// backoff.h - AIMD backoff of a provider's allowed rate
//
// When a provider answers with rate limiting, the rate we allow ourselves
// towards it is cut multiplicatively (AIMD: additive increase,
// multiplicative decrease, as TCP does with its window); after a quiet
// period without such a reply it grows back by a fixed step, and once it
// reaches the configured rate (or max_per_hour) the provider is back to
// normal. Rates are messages per hour; times microseconds since the epoch.
//
//   on_signal(p, s, now, configured, retry_after)  a rate-limit reply:
//       - outside the hold-down (level 0, or now - last_change >= hold_us;
//         last_change is the last decrease or recovery step):
//         allowed = clamp(base * decrease_factor, min_per_hour, base), where
//         base = allowed (in backoff) or the configured rate (0: none
//         configured, then max_per_hour, then min_per_hour), at least 1/h;
//         level + 1; last_change = now. When allowed is at that floor
//         already (in backoff and the cut would not lower it), nothing of
//         that changes: level counts the decreases applied, so it stops
//         at the floor (log2(configured / min) decreases at factor 0.5).
//         Signals within hold_us of the last decrease are the same incident.
//       - a retry_after (> 0) asks for a suspension: suspended_until =
//         max(suspended_until, now + min(retry_after, max_suspend_us)),
//         within the hold-down too. Any signal sets last_signal = now.
//   on_tick(p, s, now, configured)  the passing of time:
//       counting from the latest of last_signal, last_change and
//       suspended_until, every full quiet_us adds increase_per_hour_step
//       (several at once after a long pause; last_change moves by whole
//       quiet periods); when allowed reaches the target (the configured
//       rate, else max_per_hour; never above max_per_hour) the state is
//       normal again: allowed 0, level 0. A step of 0 returns to normal
//       after one quiet period.
//   effective_per_hour(s, configured)  the rate that applies: the
//       configured one when not in backoff, else min(allowed, configured)
//       (configured 0 = no configured limit: allowed alone)
//   in_backoff(s, now)  level > 0 or suspended
//   suspended(s, now)   now < suspended_until
// The functions return the new state and leave the argument alone, so a
// caller can compare before and after (for logs and persistence).
// Parameters are the caller's (checked by its Settings): decrease_factor in
// (0, 1) (else 0.5), min_per_hour <= max_per_hour (max 0: no maximum),
// times >= 0 (a max_suspend_us of 0: no suspension); values out of range or
// not finite are taken as 0 here, never trusted for arithmetic.
// Errors: none. Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>

namespace policyd {

// Filled from the caller's parameters (their defaults live in the table).
struct AimdParams {
    double min_per_hour = 0;
    double max_per_hour = 0;
    double decrease_factor = 0.5;
    double increase_per_hour_step = 0;
    int64_t quiet_us = 0;
    int64_t hold_us = 0;
    int64_t max_suspend_us = 0;
};

struct BackoffState {
    double allowed_per_hour = 0;   // 0: not in backoff, the configured rate applies
    uint32_t level = 0;            // decreases applied (0: normal)
    int64_t suspended_until_us = 0;
    int64_t last_signal_us = 0;
    int64_t last_change_us = 0;
    bool operator==(const BackoffState&) const = default;
};

BackoffState on_signal(const AimdParams& p, const BackoffState& s, int64_t now_us,
                       double configured_per_hour, std::optional<int64_t> retry_after_us = std::nullopt);
BackoffState on_tick(const AimdParams& p, const BackoffState& s, int64_t now_us, double configured_per_hour);
double effective_per_hour(const BackoffState& s, double configured_per_hour) noexcept;
bool in_backoff(const BackoffState& s, int64_t now_us) noexcept;
bool suspended(const BackoffState& s, int64_t now_us) noexcept;

}  // namespace policyd
