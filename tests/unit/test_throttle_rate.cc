// test_throttle_rate.cc - policyd/rate.h: the COUNT/UNIT grammar, its
// errors, and GCRA over several windows (burst, all-or-nothing, refunds,
// saturation at the int64 range)
#include <boost/test/unit_test.hpp>

#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "policyd/rate.h"

using policyd::GcraState;
using policyd::Verdict;
using policyd::Window;

namespace {

constexpr int64_t kS = 1'000'000;
constexpr int64_t kMin = 60 * kS;
constexpr int64_t kHour = 3600 * kS;
constexpr int64_t kDay = 86400 * kS;
constexpr int64_t kT0 = 1'780'000'000 * kS;  // some time in 2026
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kLow = std::numeric_limits<int64_t>::min();

std::vector<Window> limits(std::string_view text) {
    policyd::LimitsParse p = policyd::parse_limits(text);
    BOOST_TEST_REQUIRE(p.error == "", "parse_limits(\"" << text << "\"): " << p.error);
    return p.windows;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(throttle_rate)

BOOST_AUTO_TEST_CASE(grammar_accepts) {
    struct Case {
        std::string_view text;
        std::vector<Window> want;
    };
    const Case cases[] = {
        {"600/h burst 20, 10000/day", {{600, kHour, 20}, {10000, kDay, 10000}}},
        {"1/s", {{1, kS, 1}}},
        {"5/sec", {{5, kS, 5}}},
        {"5/seconds", {{5, kS, 5}}},
        {"100/m", {{100, kMin, 100}}},
        {"100/min", {{100, kMin, 100}}},
        {"100/minutes", {{100, kMin, 100}}},
        {"100/10min", {{100, 10 * kMin, 100}}},
        {"100 / 10 min burst 5", {{100, 10 * kMin, 5}}},
        {"7/hour", {{7, kHour, 7}}},
        {"7/HOURS BURST 2", {{7, kHour, 2}}},
        {"1/31d", {{1, 31 * kDay, 1}}},
        {"  3/d ,4/day,5/days  ", {{3, kDay, 3}, {4, kDay, 4}, {5, kDay, 5}}},
        {"10000/s", {{10000, kS, 10000}}},
        {"1000000/100s", {{1000000, 100 * kS, 1000000}}},
        {"10/h burst 10", {{10, kHour, 10}}},
        {"1/s,2/s,3/s,4/s,5/s,6/s,7/s,8/s", {{1, kS, 1}, {2, kS, 2}, {3, kS, 3}, {4, kS, 4}, {5, kS, 5}, {6, kS, 6}, {7, kS, 7}, {8, kS, 8}}},
    };
    for (const Case& c : cases) {
        policyd::LimitsParse p = policyd::parse_limits(c.text);
        BOOST_TEST_CONTEXT("parse_limits(\"" << c.text << "\")") {
            BOOST_TEST(p.error == "");
            if (c.text.substr(0, 8) == "1/s,2/s,") {
                BOOST_TEST(p.windows.size() == 8u);
                continue;
            }
            BOOST_TEST_REQUIRE(p.windows.size() == c.want.size());
            for (size_t i = 0; i < c.want.size(); ++i) {
                BOOST_TEST(p.windows[i].count == c.want[i].count);
                BOOST_TEST(p.windows[i].period_us == c.want[i].period_us);
                BOOST_TEST(p.windows[i].burst == c.want[i].burst);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(grammar_rejects_with_reasons) {
    struct Case {
        std::string_view text, want;  // want: part of the error
    };
    const Case cases[] = {
        {"", "empty limits"},
        {"   ", "empty limits"},
        {"0/h", "count must be at least 1"},
        {"-5/h", "expected a COUNT first"},
        {"h/5", "expected a COUNT first"},
        {"600", "expected \"/\" after the count"},
        {"600/", "expected a UNIT"},
        {"600/week", "unknown unit \"week\""},
        {"600/h burst", "expected a number after \"burst\""},
        {"600/h burst 0", "burst must be at least 1"},
        {"600/h burst 1000001", "burst over 1000000"},
        // More at once than the count a period: the rate would not hold.
        {"10/h burst 1000000",
         "window \"10/h burst 1000000\": burst 1000000 is over the count 10: a window lets at most "
         "COUNT through in its period, so its burst is at most 10; no window of at most 31 days paces 10 "
         "a period with 1000000 at once"},
        {"1/s burst 100", "burst 100 is over the count 1: a window lets at most COUNT through in its period, "
                          "so its burst is at most 1; for 100 at once at the same pace write 100/100s"},
        {"600/h burst 601", "burst is at most 600; for 601 at once at the same pace write 601/3606s"},
        {"7/h burst 8", "burst is at most 7; no window of at most 31 days paces"},  // 3600*8/7 s not whole
        {"600/h bursts 3", "unexpected \"bursts 3\""},
        {"600/h burst 3 4", "unexpected \"4\" after the burst"},
        {"600/h,", "empty window"},
        {",600/h", "empty window"},
        {"600/h,,1/d", "empty window"},
        {"1/32d", "period must be between 1s and 31 days"},
        {"1/0s", "bad period multiplier"},
        {"1000000001/d", "count over 1000000000"},
        {"99999999999999999999999/d", "count over"},
        {"10001/s", "faster than 10000/s"},
        {"1/s,2/s,3/s,4/s,5/s,6/s,7/s,8/s,9/s", "more than 8 windows"},
        {"600/h; 1/d", "unexpected \"; 1/d\""},
    };
    for (const Case& c : cases) {
        const policyd::LimitsParse p = policyd::parse_limits(c.text);
        BOOST_TEST_CONTEXT("parse_limits(\"" << c.text << "\") = \"" << p.error << "\"") {
            BOOST_TEST(!p);
            BOOST_TEST(p.windows.empty());
            BOOST_TEST(p.error.find(c.want) != std::string::npos);
            // Every window error shows the accepted forms.
            if (c.want != "more than 8 windows")
                BOOST_TEST(p.error.find("COUNT/UNIT [burst N]") != std::string::npos);
        }
    }
}

BOOST_AUTO_TEST_CASE(format_round_trips) {
    const std::string_view cases[][2] = {
        {"600/h burst 20, 10000/day", "600/h burst 20, 10000/d"},
        {"100/10min", "100/10m"},
        {"5/90s", "5/90s"},
        {"1/120m", "1/2h"},
        {"1/48h", "1/2d"},
        {"3/sec", "3/s"},
    };
    for (const auto& c : cases) {
        const std::vector<Window> w = limits(c[0]);
        const std::string text = policyd::format_limits(w);
        BOOST_TEST(text == c[1]);
        BOOST_TEST((limits(text) == w));
    }
}

BOOST_AUTO_TEST_CASE(burst_then_one_per_interval) {
    const std::vector<Window> w = limits("600/h burst 20");  // T = 6 s
    BOOST_TEST(policyd::emission_interval_us(w[0]) == 6 * kS);
    std::vector<GcraState> s(1);
    for (int i = 0; i < 20; ++i) {
        const Verdict v = policyd::consume(w, s, kT0, 1);
        BOOST_TEST_REQUIRE(v.allowed, "request " << i);
    }
    BOOST_TEST(policyd::remaining(w[0], s[0], kT0) == 0u);
    BOOST_TEST(policyd::used(w[0], s[0], kT0) == 20u);
    const std::vector<GcraState> before = s;
    Verdict v = policyd::consume(w, s, kT0, 1);
    BOOST_TEST(!v.allowed);
    BOOST_TEST(v.window == 0u);
    BOOST_TEST(v.retry_after_us == 6 * kS);
    BOOST_TEST((s == before));  // refused: unchanged
    // One interval later exactly one more; half an interval is not enough.
    BOOST_TEST(!policyd::check(w, s, kT0 + 3 * kS, 1).allowed);
    BOOST_TEST(policyd::check(w, s, kT0 + 3 * kS, 1).retry_after_us == 3 * kS);
    BOOST_TEST(policyd::consume(w, s, kT0 + 6 * kS, 1).allowed);
    BOOST_TEST(!policyd::consume(w, s, kT0 + 6 * kS, 1).allowed);
    // After a whole idle period the full burst is back, not more.
    BOOST_TEST(policyd::remaining(w[0], s[0], kT0 + kHour) == 20u);
    BOOST_TEST(policyd::used(w[0], s[0], kT0 + kHour) == 0u);
    // TAT is now kT0 + 126 s: at +13 s 113 s are outstanding.
    BOOST_TEST(policyd::remaining(w[0], s[0], kT0 + 13 * kS) == 1u);
    BOOST_TEST(policyd::used(w[0], s[0], kT0 + 13 * kS) == 19u);
}

BOOST_AUTO_TEST_CASE(burst_one_spaces_requests) {
    const std::vector<Window> w = limits("10/min burst 1");  // T = 6 s
    std::vector<GcraState> s(1);
    BOOST_TEST(policyd::consume(w, s, kT0).allowed);
    const Verdict v = policyd::consume(w, s, kT0 + kS);
    BOOST_TEST(!v.allowed);
    BOOST_TEST(v.retry_after_us == 5 * kS);
    BOOST_TEST(policyd::consume(w, s, kT0 + 6 * kS).allowed);
}

BOOST_AUTO_TEST_CASE(never_more_than_the_rate_over_time) {
    // 7/h does not divide into whole microseconds: T is rounded up, so
    // over N periods at most count*N + burst pass, and not many fewer.
    for (std::string_view text : {"7/h", "7/h burst 3", "3/s burst 2", "1000/s", "999/d burst 50"}) {
        const std::vector<Window> w = limits(text);
        std::vector<GcraState> s(1);
        const int64_t periods = w[0].count < 100 ? 100 : 10;
        const int64_t span = periods * w[0].period_us;
        const int64_t step = std::max<int64_t>(policyd::emission_interval_us(w[0]) / 100, 1);
        uint64_t passed = 0;
        int64_t now = kT0;
        // Offer requests at a hundred times the allowed rate.
        while (now < kT0 + span) {
            if (policyd::consume(w, s, now).allowed) ++passed;
            now += step;
            if (passed > 200'000) break;
        }
        const uint64_t most = static_cast<uint64_t>(periods) * w[0].count + w[0].burst;
        BOOST_TEST_CONTEXT(text << ": passed " << passed) {
            BOOST_TEST(passed <= most);
            BOOST_TEST(passed * 100 >= most * 98);
        }
    }
}

BOOST_AUTO_TEST_CASE(windows_all_or_nothing) {
    const std::vector<Window> w = limits("3/min burst 3, 4/h burst 4");
    std::vector<GcraState> s(2);
    BOOST_TEST(policyd::consume(w, s, kT0, 3).allowed);
    const std::vector<GcraState> before = s;
    // The minute window refuses; the hour window would accept: nothing moves.
    Verdict v = policyd::consume(w, s, kT0, 1);
    BOOST_TEST(!v.allowed);
    BOOST_TEST(v.window == 0u);
    BOOST_TEST(v.retry_after_us == 20 * kS);
    BOOST_TEST((s == before));
    // A minute later the minute window has room for 3, the hour only for 1:
    // 2 is refused by the hour window with its (longer) retry.
    v = policyd::consume(w, s, kT0 + kMin, 2);
    BOOST_TEST(!v.allowed);
    BOOST_TEST(v.window == 1u);
    BOOST_TEST(v.retry_after_us == 15 * kMin - kMin);
    BOOST_TEST((s == before));
    v = policyd::consume(w, s, kT0 + kMin, 1);
    BOOST_TEST(v.allowed);
    BOOST_TEST(s[0].tat_us == kT0 + kMin + 20 * kS);
    BOOST_TEST(s[1].tat_us == kT0 + 4 * 15 * kMin);
}

BOOST_AUTO_TEST_CASE(retry_is_the_latest_window) {
    const std::vector<Window> w = limits("1/min, 1/h, 1/s");
    std::vector<GcraState> s(3);
    BOOST_TEST(policyd::consume(w, s, kT0).allowed);
    const Verdict v = policyd::check(w, s, kT0 + kS);
    BOOST_TEST(!v.allowed);
    BOOST_TEST(v.window == 1u);
    BOOST_TEST(v.retry_after_us == kHour - kS);
    // After that retry, all windows accept.
    BOOST_TEST(policyd::check(w, s, kT0 + kS + v.retry_after_us).allowed);
}

BOOST_AUTO_TEST_CASE(costs) {
    const std::vector<Window> w = limits("600/h burst 20");
    std::vector<GcraState> s(1);
    // Cost 0: always, no change.
    BOOST_TEST(policyd::consume(w, s, kT0, 0).allowed);
    BOOST_TEST(s[0].tat_us == 0);
    // Cost over the burst never fits.
    Verdict v = policyd::consume(w, s, kT0, 21);
    BOOST_TEST(!v.allowed);
    BOOST_TEST(v.retry_after_us == policyd::kNever);
    BOOST_TEST(s[0].tat_us == 0);
    BOOST_TEST(policyd::consume(w, s, kT0, 15).allowed);
    v = policyd::consume(w, s, kT0, 10);
    BOOST_TEST(!v.allowed);
    BOOST_TEST(v.retry_after_us == 5 * 6 * kS);
    BOOST_TEST(policyd::consume(w, s, kT0 + 30 * kS, 10).allowed);
}

BOOST_AUTO_TEST_CASE(refunds) {
    const std::vector<Window> w = limits("600/h burst 20, 100/100s");
    std::vector<GcraState> s(2);
    BOOST_TEST(policyd::consume(w, s, kT0, 5).allowed);
    policyd::refund(w, s, kT0, 2);
    BOOST_TEST(s[0].tat_us == kT0 + 3 * 6 * kS);
    BOOST_TEST(s[1].tat_us == kT0 + 3 * kS);
    // Never below now: a refund larger than what is outstanding.
    policyd::refund(w, s, kT0 + kS, 50);
    BOOST_TEST(s[0].tat_us == kT0 + kS);
    BOOST_TEST(s[1].tat_us == kT0 + kS);
    // Nothing outstanding: unchanged (an old TAT stays old).
    std::vector<GcraState> idle{{kT0 - kHour}, {kT0 - kHour}};
    policyd::refund(w, idle, kT0, 3);
    BOOST_TEST(idle[0].tat_us == kT0 - kHour);
    BOOST_TEST(policyd::remaining(w[0], idle[0], kT0) == 20u);
}

BOOST_AUTO_TEST_CASE(mismatched_sizes_throw) {
    const std::vector<Window> w = limits("1/s, 2/s");
    std::vector<GcraState> s(1);
    BOOST_CHECK_THROW(policyd::check(w, s, kT0), std::invalid_argument);
    BOOST_CHECK_THROW(policyd::consume(w, s, kT0), std::invalid_argument);
    BOOST_CHECK_THROW(policyd::refund(w, s, kT0), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(extreme_values_saturate) {
    // Not a window parse_limits accepts (burst over count): the arithmetic
    // saturates whatever the window.
    const std::vector<Window> w{{1, 31 * kDay, 1000000}};
    const uint64_t costs[] = {1, 1000000, 1000001, std::numeric_limits<uint64_t>::max()};
    const int64_t nows[] = {kLow, kLow + 1, -1, 0, kT0, kMax - 1, kMax};
    const int64_t tats[] = {kLow, 0, kT0, kMax - 1, kMax};
    for (int64_t now : nows)
        for (int64_t tat : tats)
            for (uint64_t cost : costs) {
                std::vector<GcraState> s{{tat}};
                const Verdict v = policyd::consume(w, s, now, cost);
                BOOST_TEST_CONTEXT("now " << now << " tat " << tat << " cost " << cost) {
                    if (cost > 1000000) BOOST_TEST(v.retry_after_us == policyd::kNever);
                    // Allowed: from max(TAT, now), or from now + tau when
                    // TAT lay beyond now + burst*T (clamped).
                    if (v.allowed) BOOST_TEST(s[0].tat_us >= now);
                    if (!v.allowed) BOOST_TEST(s[0].tat_us == tat);
                    BOOST_TEST(v.retry_after_us >= 0);
                    BOOST_TEST(policyd::remaining(w[0], s[0], now) <= 1000000u);
                    BOOST_TEST(policyd::used(w[0], s[0], now) <= 1000000u);
                    policyd::refund(w, s, now, cost);
                    if (tat > now) BOOST_TEST(s[0].tat_us >= now);
                }
            }
    // At the end of time the TAT stops at the maximum instead of wrapping.
    std::vector<GcraState> s(1);
    const std::vector<Window> fast = limits("1000000/100s");
    BOOST_TEST(policyd::consume(fast, s, kMax - 1, 1000000).allowed);
    BOOST_TEST(s[0].tat_us == kMax);
    BOOST_TEST(policyd::used(fast[0], s[0], kMax - 1) == 1u);
}

BOOST_AUTO_TEST_CASE(state_ahead_of_a_clock_stepped_back_is_clamped) {
    // 30/min burst 30 (T = 2 s): 5 used, then the wall clock goes back an
    // hour. The TAT lies beyond now + burst*T, which no sequence of
    // requests leaves: taken as now + tau, one passes, then one every T.
    const std::vector<Window> w = limits("30/min burst 30, 10000/day");
    std::vector<GcraState> s(2);
    for (int i = 0; i < 5; ++i) BOOST_REQUIRE(policyd::consume(w, s, kT0).allowed);
    const int64_t back = kT0 - kHour;
    const int64_t t = 2 * kS, t_day = policyd::emission_interval_us(w[1]);
    BOOST_TEST(policyd::used(w[0], s[0], back) == 29u);
    BOOST_TEST(policyd::remaining(w[0], s[0], back) == 1u);
    BOOST_TEST(policyd::check(w, s, back).allowed);
    BOOST_TEST(policyd::consume(w, s, back).allowed);
    BOOST_TEST(s[0].tat_us == back + 30 * t);      // no further than one burst ahead
    BOOST_TEST(s[1].tat_us == kT0 + 6 * t_day);    // within its day: counted as before
    Verdict v = policyd::check(w, s, back);
    BOOST_TEST(!v.allowed);
    BOOST_TEST(v.window == 0u);
    BOOST_TEST(v.retry_after_us == t);             // paced: not an hour
    BOOST_TEST(policyd::check(w, s, back + t).allowed);
    // charge() (a commit) clamps the same way.
    std::vector<GcraState> c{{kT0 + 10 * kS}, {kT0 + 5 * t_day}};
    policyd::charge(w, c, back, 1);
    BOOST_TEST(c[0].tat_us == back + 30 * t);
    BOOST_TEST(c[1].tat_us == kT0 + 6 * t_day);
    // refund() too: from now + tau, never below now.
    std::vector<GcraState> r{{kT0 + 10 * kS}, {kT0}};
    policyd::refund(w, r, back, 1);
    BOOST_TEST(r[0].tat_us == back + 28 * t);
    // A legal state at the edge (the burst just used up) is untouched.
    std::vector<GcraState> full(2);
    BOOST_REQUIRE(policyd::consume(w, full, kT0, 30).allowed);
    BOOST_TEST(full[0].tat_us == kT0 + 30 * t);
    v = policyd::check(w, full, kT0);
    BOOST_TEST(!v.allowed);
    BOOST_TEST(v.retry_after_us == t);
    BOOST_TEST(policyd::remaining(w[0], full[0], kT0) == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
