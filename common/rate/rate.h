// rate.h - rate limits: the COUNT/UNIT grammar, GCRA over several windows,
// and what a stored state means as of now
//
// A library of its own (common::rate) because two programs read the same
// state: sendguard-policyd decides with it, and `sendguard status` shows the
// stored throttle rows (common/store/throttle.h) as of now with the same
// functions, so the two never disagree about what a state means.
//
// Grammar (parameter values and the LIMITS of policyd_rate_rules):
//     LIMITS = WINDOW *( "," WINDOW )
//     WINDOW = COUNT "/" [N] UNIT [ "burst" BURST ]
//     UNIT   = s | sec | second | m | min | minute | h | hour | d | day
//              (plurals too: secs, seconds, mins, minutes, hours, days)
// e.g. "600/h burst 20, 10000/day", "100/10min". Case does not matter.
// Without "burst" a window is a quota: BURST = COUNT (at most kMaxBurst),
// so "10000/day" lets a customer send 10000 at once and then refills at
// 10000 a day, as "10000 recipients a day" reads; "burst N" paces within
// the window (600/h burst 20: 20 at once, then one every 6 s).
// BURST is at most COUNT: a window lets at most COUNT through in any one
// period ("10/h burst 1000000" is refused; "1/s burst 100" is written
// "100/100s", which paces the same). The error shows that form.
// Bounds: 1 <= COUNT <= kMaxCount, 1 <= BURST <= kMaxBurst, 1 s <= period
// <= 31 days, at most kMaxWindows windows, and at most
// kMaxPerSecond per second in one window (the emission interval is kept in
// whole microseconds, rounded up, so a faster rate would be inexact).
//
//   parse_limits("600/h burst 20, 10000/day") -> LimitsParse{windows, error}
//   format_limits(windows) -> "600/h burst 20, 10000/d" (parses back equal)
//
// GCRA (generic cell rate algorithm, virtual scheduling form): per window
// the emission interval T = ceil(period/count) and the tolerance
// tau = T * (burst - 1); a state holds the theoretical arrival time (TAT).
// A request of cost n conforms at now when max(TAT, now) + n*T <= now +
// burst*T, and then TAT becomes max(TAT, now) + n*T: at most `burst` at
// once, then one every T. A cost above the burst never conforms
// (retry_after_us = kNever). Cost 0 always conforms and changes nothing.
// No sequence of requests leaves a TAT beyond now + burst*T; one that lies
// there (the wall clock was stepped back, or a rule was made stricter) is
// taken as now + tau by every function below: one more conforms now, then
// the window paces, instead of refusing until the clock catches up.
//
//   check(windows, states, now_us, cost)    -> Verdict, states unchanged
//   consume(windows, states, now_us, cost)  -> Verdict; allowed: every
//       window's TAT advanced; refused: nothing changed (all or nothing)
//   charge(windows, states, now_us, cost)   every window's TAT advanced by
//       cost*T whether or not it conforms (a commit of what was accepted)
//   refund(windows, states, now_us, cost)   TAT moves back by cost*T, never
//       below now (a refund of a request that was refused elsewhere)
//   remaining(window, state, now_us)        how many more conform now
//   used(window, state, now_us)             requests still counted against
//       the window now (0 .. burst): ceil((TAT - now) / T), capped at burst
//
// Aligned windows (the per-customer usage counts): a window of period P
// holds the times [k*P, (k+1)*P) since the epoch.
//   window_start_us(period_us, t_us)        k*P for the window holding t_us
//   count_as_of(count, period_us, then_us, now_us)   a count taken in the
//       window holding then_us, as of now_us: count while now_us is in that
//       same window, 0 once a later window began (nothing carries over)
// A Verdict that refuses names the window whose retry is latest and the
// time after which all windows would accept (the largest retry of any).
// states.size() must equal windows.size() (std::invalid_argument if not).
//
// Integer arithmetic only; sums and products saturate at the int64_t range,
// so extreme now_us, TATs and costs neither overflow nor wrap.
// Errors: parse_limits returns the error text (which names what is wrong
// and shows the accepted forms); nothing else throws except as said above.
// Thread safety: pure functions; states are the caller's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace rate {

inline constexpr size_t kMaxWindows = 8;
inline constexpr uint64_t kMaxCount = 1'000'000'000;
inline constexpr uint64_t kMaxBurst = 1'000'000;
inline constexpr uint64_t kMaxPerSecond = 10'000;
inline constexpr int64_t kSecondUs = 1'000'000;
inline constexpr int64_t kMinPeriodUs = kSecondUs;
inline constexpr int64_t kMaxPeriodUs = 31LL * 86400 * kSecondUs;
inline constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

struct Window {
    uint64_t count = 0;     // requests per period
    int64_t period_us = 0;  // the period
    uint64_t burst = 1;     // at most this many at once
    bool operator==(const Window&) const = default;
};

struct LimitsParse {
    std::vector<Window> windows;  // set when error is empty
    std::string error;            // "" on success
    explicit operator bool() const noexcept { return error.empty(); }
};

LimitsParse parse_limits(std::string_view text);
std::string format_limits(std::span<const Window> windows);
std::string format_window(const Window& w);

struct GcraState {
    int64_t tat_us = 0;  // theoretical arrival time, us since the epoch
    bool operator==(const GcraState&) const = default;
};

struct Verdict {
    bool allowed = true;
    size_t window = 0;           // refused: index of the window that refused
    int64_t retry_after_us = 0;  // refused: wait this long (kNever: cost > burst)
};

// T = ceil(period/count) in microseconds (>= 1).
int64_t emission_interval_us(const Window& w) noexcept;

Verdict check(std::span<const Window> windows, std::span<const GcraState> states, int64_t now_us,
              uint64_t cost = 1);
Verdict consume(std::span<const Window> windows, std::span<GcraState> states, int64_t now_us,
                uint64_t cost = 1);
void charge(std::span<const Window> windows, std::span<GcraState> states, int64_t now_us,
            uint64_t cost = 1);
void refund(std::span<const Window> windows, std::span<GcraState> states, int64_t now_us,
            uint64_t cost = 1);
uint64_t remaining(const Window& w, const GcraState& s, int64_t now_us) noexcept;
uint64_t used(const Window& w, const GcraState& s, int64_t now_us) noexcept;

int64_t window_start_us(int64_t period_us, int64_t t_us) noexcept;
uint64_t count_as_of(uint64_t count, int64_t period_us, int64_t then_us, int64_t now_us) noexcept;

}  // namespace rate
