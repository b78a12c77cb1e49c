// test_throttle_backoff.cc - policyd/backoff.h: AIMD as a table of
// (state, event, now) -> state, bounds, suspensions and bad parameters
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <limits>
#include <optional>
#include <string>

#include "policyd/backoff.h"

using policyd::AimdParams;
using policyd::BackoffState;

namespace {

constexpr int64_t kS = 1'000'000;
constexpr int64_t kT0 = 1'780'000'000 * kS;

const AimdParams kParams{.min_per_hour = 10,
                         .max_per_hour = 10000,
                         .decrease_factor = 0.5,
                         .increase_per_hour_step = 100,
                         .quiet_us = 300 * kS,
                         .hold_us = 60 * kS,
                         .max_suspend_us = 3600 * kS};

enum class Ev { Signal, Tick };

struct Step {
    Ev ev;
    int64_t at_s;                  // seconds after kT0
    std::optional<int64_t> retry;  // seconds, for Signal
    double allowed;
    uint32_t level;
    int64_t suspended_s;           // seconds after kT0; -1: never suspended
    int64_t last_change_s;
};

void run(const AimdParams& p, double configured, std::initializer_list<Step> steps) {
    BackoffState s;
    int n = 0;
    for (const Step& st : steps) {
        const int64_t now = kT0 + st.at_s * kS;
        const BackoffState before = s;
        if (st.ev == Ev::Signal)
            s = policyd::on_signal(p, s, now, configured,
                                   st.retry ? std::optional<int64_t>(*st.retry * kS) : std::nullopt);
        else
            s = policyd::on_tick(p, s, now, configured);
        BOOST_TEST_CONTEXT("step " << n << (st.ev == Ev::Signal ? " signal" : " tick") << " at +" << st.at_s
                                   << "s") {
            BOOST_TEST(s.allowed_per_hour == st.allowed);
            BOOST_TEST(s.level == st.level);
            BOOST_TEST(s.suspended_until_us == (st.suspended_s < 0 ? 0 : kT0 + st.suspended_s * kS));
            BOOST_TEST(s.last_change_us == kT0 + st.last_change_s * kS);
            if (st.ev == Ev::Signal) BOOST_TEST(s.last_signal_us == now);
            if (st.ev == Ev::Tick) BOOST_TEST(s.last_signal_us == before.last_signal_us);
        }
        ++n;
    }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(throttle_backoff)

BOOST_AUTO_TEST_CASE(decrease_hold_recover) {
    run(kParams, 1000,
        {
            // First signal: half the configured rate.
            {Ev::Signal, 0, {}, 500, 1, -1, 0},
            // Within the hold-down: the same incident.
            {Ev::Signal, 30, {}, 500, 1, -1, 0},
            {Ev::Signal, 59, {}, 500, 1, -1, 0},
            // Past it: halved again.
            {Ev::Signal, 60, {}, 250, 2, -1, 60},
            // Quiet counts from the last signal (60): nothing before 360.
            {Ev::Tick, 100, {}, 250, 2, -1, 60},
            {Ev::Tick, 359, {}, 250, 2, -1, 60},
            {Ev::Tick, 360, {}, 350, 2, -1, 360},
            {Ev::Tick, 361, {}, 350, 2, -1, 360},
            // A long pause: two whole quiet periods at once (650 s), the
            // cadence kept (last change 360 + 2 * 300).
            {Ev::Tick, 360 + 650, {}, 550, 2, -1, 960},
            // A signal with a retry-after inside the hold-down (960 + 55):
            // no decrease, but a suspension of min(7200, 3600) s.
            {Ev::Signal, 1015, 7200, 550, 2, 1015 + 3600, 960},
            // The quiet period counts from the end of the suspension.
            {Ev::Tick, 4615 + 299, {}, 550, 2, 4615, 960},
            {Ev::Tick, 4615 + 300, {}, 650, 2, 4615, 4915},
            // Far later: back to the configured rate, so back to normal.
            {Ev::Tick, 100000, {}, 0, 0, 4615, 100000},
            // Normal: ticks change nothing.
            {Ev::Tick, 200000, {}, 0, 0, 4615, 100000},
            // A new incident starts from the configured rate again.
            {Ev::Signal, 200001, {}, 500, 1, 4615, 200001},
        });
}

BOOST_AUTO_TEST_CASE(bounded_by_min) {
    run(kParams, 1000,
        {
            {Ev::Signal, 0, {}, 500, 1, -1, 0},
            {Ev::Signal, 100, {}, 250, 2, -1, 100},
            {Ev::Signal, 200, {}, 125, 3, -1, 200},
            {Ev::Signal, 300, {}, 62.5, 4, -1, 300},
            {Ev::Signal, 400, {}, 31.25, 5, -1, 400},
            {Ev::Signal, 500, {}, 15.625, 6, -1, 500},
            {Ev::Signal, 600, {}, 10, 7, -1, 600},
            // At the floor: no decrease, so level and last_change stay.
            {Ev::Signal, 700, {}, 10, 7, -1, 600},
            {Ev::Signal, 800, {}, 10, 7, -1, 600},
            {Ev::Signal, 5000, {}, 10, 7, -1, 600},
        });
}

BOOST_AUTO_TEST_CASE(no_configured_rate_uses_max) {
    run(kParams, 0,
        {
            {Ev::Signal, 0, {}, 5000, 1, -1, 0},
            {Ev::Tick, 300, {}, 5100, 1, -1, 300},
            {Ev::Tick, 300 + 300 * 49, {}, 0, 0, -1, 300 + 300 * 49},
        });
    // A configured rate above the maximum recovers only to the maximum.
    run(kParams, 50000,
        {
            {Ev::Signal, 0, {}, 5000, 1, -1, 0},
            {Ev::Tick, 300 * 50, {}, 0, 0, -1, 300 * 50},
        });
}

BOOST_AUTO_TEST_CASE(retry_after_suspends) {
    run(kParams, 1000,
        {
            {Ev::Signal, 0, 600, 500, 1, 600, 0},
            // A shorter retry never shortens a suspension.
            {Ev::Signal, 10, 5, 500, 1, 600, 0},
            // A longer one extends it, up to max_suspend from now.
            {Ev::Signal, 20, 999999, 500, 1, 20 + 3600, 0},
            // Zero and negative retries ask for nothing.
            {Ev::Signal, 30, 0, 500, 1, 20 + 3600, 0},
            {Ev::Signal, 40, -5, 500, 1, 20 + 3600, 0},
        });
    AimdParams none = kParams;
    none.max_suspend_us = 0;  // suspensions off
    run(none, 1000, {{Ev::Signal, 0, 600, 500, 1, -1, 0}});
}

BOOST_AUTO_TEST_CASE(zero_step_returns_after_one_quiet_period) {
    AimdParams p = kParams;
    p.increase_per_hour_step = 0;
    run(p, 1000,
        {
            {Ev::Signal, 0, {}, 500, 1, -1, 0},
            {Ev::Tick, 299, {}, 500, 1, -1, 0},
            {Ev::Tick, 300, {}, 0, 0, -1, 300},
        });
}

BOOST_AUTO_TEST_CASE(bad_parameters_are_clamped) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const double inf = std::numeric_limits<double>::infinity();
    // A factor outside (0, 1) acts as 0.5; not-finite rates as 0.
    for (double factor : {0.0, 1.0, 1.5, -1.0, nan, inf}) {
        AimdParams p = kParams;
        p.decrease_factor = factor;
        run(p, 1000, {{Ev::Signal, 0, {}, 500, 1, -1, 0}});
    }
    AimdParams p = kParams;
    p.min_per_hour = nan;
    p.max_per_hour = -5;
    p.increase_per_hour_step = inf;
    p.quiet_us = -1;
    p.hold_us = std::numeric_limits<int64_t>::min();
    run(p, 1000,
        {
            {Ev::Signal, 0, {}, 500, 1, -1, 0},
            {Ev::Signal, 0, {}, 250, 2, -1, 0},  // no hold-down
            {Ev::Tick, 1, {}, 0, 0, -1, 1},       // inf step: straight back
        });
    // The allowed rate never reaches 0 (0 means "not in backoff").
    AimdParams zero = kParams;
    zero.min_per_hour = 0;
    BackoffState s;
    for (int i = 0; i < 100; ++i) s = policyd::on_signal(zero, s, kT0 + i * 100 * kS, 1000);
    BOOST_TEST(s.allowed_per_hour == 1.0);
    BOOST_TEST(s.level == 10u);  // 1000 / 2^10 < 1: the floor of 1/h from the tenth on
    // Extreme times do not overflow.
    BackoffState far = policyd::on_signal(kParams, {}, std::numeric_limits<int64_t>::max(), 1000, 3600 * kS);
    BOOST_TEST(far.suspended_until_us == std::numeric_limits<int64_t>::max());
    far = policyd::on_tick(kParams, far, std::numeric_limits<int64_t>::min(), 1000);
    BOOST_TEST(far.level == 1u);
}

BOOST_AUTO_TEST_CASE(effective_rate_and_predicates) {
    BackoffState s;
    BOOST_TEST(policyd::effective_per_hour(s, 1000) == 1000);
    BOOST_TEST(policyd::effective_per_hour(s, 0) == 0);
    BOOST_TEST(!policyd::in_backoff(s, kT0));
    s = policyd::on_signal(kParams, s, kT0, 1000, 60 * kS);
    BOOST_TEST(policyd::effective_per_hour(s, 1000) == 500);
    // The configured rate lowered below the allowed one wins.
    BOOST_TEST(policyd::effective_per_hour(s, 200) == 200);
    BOOST_TEST(policyd::effective_per_hour(s, 0) == 500);
    BOOST_TEST(policyd::in_backoff(s, kT0));
    BOOST_TEST(policyd::suspended(s, kT0 + 59 * kS));
    BOOST_TEST(!policyd::suspended(s, kT0 + 60 * kS));
    BOOST_TEST(policyd::in_backoff(s, kT0 + 60 * kS));
    // A suspension alone, level 0 (a state as stored after a clear).
    BackoffState only;
    only.suspended_until_us = kT0 + kS;
    BOOST_TEST(policyd::in_backoff(only, kT0));
    BOOST_TEST(!policyd::in_backoff(only, kT0 + kS));
}

BOOST_AUTO_TEST_SUITE_END()
