// backoff.cc - AIMD backoff of a provider's allowed rate (see backoff.h)
#include "policyd/backoff.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace policyd {

namespace {

__extension__ typedef __int128 i128;

int64_t clamp64(i128 v) noexcept {
    if (v > std::numeric_limits<int64_t>::max()) return std::numeric_limits<int64_t>::max();
    if (v < std::numeric_limits<int64_t>::min()) return std::numeric_limits<int64_t>::min();
    return static_cast<int64_t>(v);
}

double rate(double r) noexcept { return std::isfinite(r) && r > 0 ? r : 0; }
int64_t span(int64_t t) noexcept { return t > 0 ? t : 0; }

// The parameters as used: every value finite and in range.
struct Clean {
    double min, max, factor, step;
    int64_t quiet, hold, max_suspend;
};

Clean clean(const AimdParams& p) noexcept {
    Clean c{};
    c.min = rate(p.min_per_hour);
    c.max = rate(p.max_per_hour);
    if (c.max > 0 && c.min > c.max) c.min = c.max;
    c.factor = std::isfinite(p.decrease_factor) && p.decrease_factor > 0 && p.decrease_factor < 1
                   ? p.decrease_factor
                   : 0.5;
    c.step = rate(p.increase_per_hour_step);
    c.quiet = std::max<int64_t>(span(p.quiet_us), 1);
    c.hold = span(p.hold_us);
    c.max_suspend = span(p.max_suspend_us);
    return c;
}

// The rate a provider returns to: the configured one, else the maximum;
// never above the maximum. 0: unknown.
double target(const Clean& c, double configured) noexcept {
    double t = rate(configured);
    if (t == 0) t = c.max;
    if (c.max > 0 && t > c.max) t = c.max;
    return t;
}

BackoffState normal(BackoffState s, int64_t now) noexcept {
    s.allowed_per_hour = 0;
    s.level = 0;
    s.last_change_us = now;
    return s;
}

}  // namespace

BackoffState on_signal(const AimdParams& params, const BackoffState& s, int64_t now_us,
                       double configured_per_hour, std::optional<int64_t> retry_after_us) {
    const Clean c = clean(params);
    BackoffState n = s;
    n.last_signal_us = now_us;
    const bool held = s.level > 0 && static_cast<i128>(now_us) - s.last_change_us < c.hold;
    if (!held) {
        double base = rate(s.allowed_per_hour);
        if (s.level == 0 || base == 0) base = target(c, configured_per_hour);
        if (base == 0) base = c.min;
        double cut = std::max(c.min, base * c.factor);
        if (base > 0) cut = std::min(cut, base);
        cut = std::max(cut, 1.0);
        // At the floor already: no decrease, so neither level nor
        // last_change moves (level counts decreases applied).
        const bool floored = s.level > 0 && !(cut < rate(s.allowed_per_hour));
        if (!floored) {
            n.allowed_per_hour = cut;
            if (n.level < std::numeric_limits<uint32_t>::max()) ++n.level;
            n.last_change_us = now_us;
        }
    }
    if (retry_after_us && *retry_after_us > 0 && c.max_suspend > 0) {
        const int64_t until = clamp64(static_cast<i128>(now_us) + std::min(*retry_after_us, c.max_suspend));
        n.suspended_until_us = std::max(n.suspended_until_us, until);
    }
    return n;
}

BackoffState on_tick(const AimdParams& params, const BackoffState& s, int64_t now_us,
                     double configured_per_hour) {
    if (s.level == 0) return s;
    const Clean c = clean(params);
    const int64_t ref = std::max({s.last_signal_us, s.last_change_us, s.suspended_until_us});
    const i128 quiet_for = static_cast<i128>(now_us) - ref;
    if (quiet_for < c.quiet) return s;
    const double goal = target(c, configured_per_hour);
    if (goal == 0 || c.step == 0) return normal(s, now_us);
    const i128 steps = quiet_for / c.quiet;
    const double grown = rate(s.allowed_per_hour) + static_cast<double>(steps) * c.step;
    if (!(grown < goal)) return normal(s, now_us);
    BackoffState n = s;
    n.allowed_per_hour = grown;
    n.last_change_us = clamp64(static_cast<i128>(ref) + steps * c.quiet);
    return n;
}

double effective_per_hour(const BackoffState& s, double configured_per_hour) noexcept {
    const double configured = rate(configured_per_hour);
    const double allowed = rate(s.allowed_per_hour);
    if (s.level == 0 || allowed == 0) return configured;
    return configured > 0 ? std::min(allowed, configured) : allowed;
}

bool suspended(const BackoffState& s, int64_t now_us) noexcept { return now_us < s.suspended_until_us; }

bool in_backoff(const BackoffState& s, int64_t now_us) noexcept { return s.level > 0 || suspended(s, now_us); }

}  // namespace policyd
