// rate.cc - rate grammar and GCRA over several windows (see rate.h)
#include "common/rate/rate.h"

#include <algorithm>
#include <stdexcept>

#include "common/sys/ascii.h"

namespace rate {

namespace {

// A window written without "burst" is a quota (rate.h).
uint64_t default_burst(uint64_t count) { return count < kMaxBurst ? count : kMaxBurst; }

__extension__ typedef __int128 i128;

constexpr std::string_view kForms =
    "accepted: COUNT/UNIT [burst N] windows separated by commas, e.g. \"600/h burst 20, 10000/day\" "
    "or \"100/10min\"; UNIT s|sec|second, m|min|minute, h|hour, d|day";

int64_t clamp64(i128 v) noexcept {
    if (v > std::numeric_limits<int64_t>::max()) return std::numeric_limits<int64_t>::max();
    if (v < std::numeric_limits<int64_t>::min()) return std::numeric_limits<int64_t>::min();
    return static_cast<int64_t>(v);
}

struct Unit {
    std::string_view name;
    int64_t us;
};
constexpr Unit kUnits[] = {
    {"s", kSecondUs},         {"sec", kSecondUs},        {"secs", kSecondUs},
    {"second", kSecondUs},    {"seconds", kSecondUs},    {"m", 60 * kSecondUs},
    {"min", 60 * kSecondUs},  {"mins", 60 * kSecondUs},  {"minute", 60 * kSecondUs},
    {"minutes", 60 * kSecondUs}, {"h", 3600 * kSecondUs}, {"hour", 3600 * kSecondUs},
    {"hours", 3600 * kSecondUs}, {"d", 86400 * kSecondUs}, {"day", 86400 * kSecondUs},
    {"days", 86400 * kSecondUs},
};

// Reads a decimal number of at most 19 digits at s[i]; false if none.
bool read_number(std::string_view s, size_t& i, uint64_t& out, bool& too_big) {
    const size_t start = i;
    out = 0;
    too_big = false;
    while (i < s.size() && sys::is_digit(s[i])) {
        if (out > (std::numeric_limits<uint64_t>::max() - 9) / 10)
            too_big = true;
        else
            out = out * 10 + static_cast<uint64_t>(s[i] - '0');
        ++i;
    }
    return i > start;
}

void skip_space(std::string_view s, size_t& i) {
    while (i < s.size() && sys::is_space(s[i])) ++i;
}

std::string quoted(std::string_view s) {
    std::string out = "\"";
    for (char c : s.substr(0, 80)) out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
    if (s.size() > 80) out += "...";
    return out + "\"";
}

// A burst above the count would let more than COUNT through in one
// period (rate.h); the error shows the window that paces the same with
// that many at once, when one exists.
std::string burst_over_count(uint64_t count, int64_t period_us, uint64_t burst) {
    std::string e = "burst " + std::to_string(burst) + " is over the count " + std::to_string(count) +
                    ": a window lets at most COUNT through in its period, so its burst is at most " +
                    std::to_string(count);
    const i128 period = static_cast<i128>(period_us) * burst;
    if (period % (static_cast<i128>(count) * kSecondUs) == 0 && period / count <= kMaxPeriodUs)
        return e + "; for " + std::to_string(burst) + " at once at the same pace write " +
               std::to_string(burst) + "/" + std::to_string(static_cast<int64_t>(period / count / kSecondUs)) + "s";
    return e + "; no window of at most 31 days paces " + std::to_string(count) + " a period with " +
           std::to_string(burst) + " at once";
}

// One WINDOW; returns "" or the error.
std::string parse_window(std::string_view text, Window& w) {
    const std::string where = "window " + quoted(text) + ": ";
    size_t i = 0;
    uint64_t count = 0;
    bool big = false;
    if (!read_number(text, i, count, big)) return where + "expected a COUNT first";
    if (big || count > kMaxCount) return where + "count over " + std::to_string(kMaxCount);
    if (count == 0) return where + "count must be at least 1";
    skip_space(text, i);
    if (i >= text.size() || text[i] != '/') return where + "expected \"/\" after the count";
    ++i;
    skip_space(text, i);
    uint64_t mult = 1;
    if (i < text.size() && sys::is_digit(text[i])) {
        read_number(text, i, mult, big);
        if (big || mult == 0 || mult > 31LL * 86400) return where + "bad period multiplier";
        skip_space(text, i);
    }
    const size_t u0 = i;
    while (i < text.size() && sys::is_alpha(text[i])) ++i;
    const std::string unit = sys::to_lower_ascii(text.substr(u0, i - u0));
    if (unit.empty()) return where + "expected a UNIT after \"/\"";
    const Unit* found = nullptr;
    for (const Unit& u : kUnits)
        if (u.name == unit) found = &u;
    if (!found) return where + "unknown unit " + quoted(unit);
    const i128 period = static_cast<i128>(mult) * found->us;
    if (period < kMinPeriodUs || period > kMaxPeriodUs)
        return where + "period must be between 1s and 31 days";
    w.count = count;
    w.period_us = static_cast<int64_t>(period);
    w.burst = default_burst(count);
    // At most kMaxPerSecond per second: count * 1s <= kMaxPerSecond * period.
    if (static_cast<i128>(count) * kSecondUs > static_cast<i128>(kMaxPerSecond) * w.period_us)
        return where + "faster than " + std::to_string(kMaxPerSecond) + "/s, the most one window expresses";
    skip_space(text, i);
    if (i == text.size()) return "";
    const size_t b0 = i;
    while (i < text.size() && sys::is_alpha(text[i])) ++i;
    const std::string word = sys::to_lower_ascii(text.substr(b0, i - b0));
    if (word != "burst") return where + "unexpected " + quoted(text.substr(b0)) + " after the unit";
    skip_space(text, i);
    uint64_t burst = 0;
    if (!read_number(text, i, burst, big)) return where + "expected a number after \"burst\"";
    if (big || burst > kMaxBurst) return where + "burst over " + std::to_string(kMaxBurst);
    if (burst == 0) return where + "burst must be at least 1";
    skip_space(text, i);
    if (i != text.size()) return where + "unexpected " + quoted(text.substr(i)) + " after the burst";
    if (burst > count) return where + burst_over_count(count, w.period_us, burst);
    w.burst = burst;
    return "";
}

void check_sizes(std::span<const Window> windows, size_t states) {
    if (windows.size() != states)
        throw std::invalid_argument("rate: " + std::to_string(windows.size()) + " windows but " +
                                    std::to_string(states) + " states");
}

struct One {
    bool allowed;
    int64_t retry;  // refused: wait
};

// The TAT a window is checked and charged from: max(TAT, now), and a TAT
// further ahead than now + burst*T (no sequence of requests leaves one
// there; the clock went back, or the rule changed) taken as now + tau, so
// one more passes now and the window then paces (rate.h).
i128 tat_at(const Window& w, const GcraState& s, int64_t now) noexcept {
    const i128 t = emission_interval_us(w);
    const i128 burst = static_cast<i128>(std::max<uint64_t>(w.burst, 1));
    if (s.tat_us - static_cast<i128>(now) > burst * t) return static_cast<i128>(now) + (burst - 1) * t;
    return std::max<i128>(s.tat_us, now);
}

One check_one(const Window& w, const GcraState& s, int64_t now, uint64_t cost) noexcept {
    if (cost == 0) return {true, 0};
    const i128 t = emission_interval_us(w);
    const i128 tat = tat_at(w, s, now);
    const i128 next = tat + static_cast<i128>(cost) * t;
    const i128 limit = static_cast<i128>(now) + static_cast<i128>(w.burst) * t;
    if (next <= limit) return {true, 0};
    if (cost > w.burst) return {false, kNever};
    return {false, clamp64(next - limit)};
}

}  // namespace

int64_t emission_interval_us(const Window& w) noexcept {
    if (w.count == 0 || w.period_us <= 0) return std::max<int64_t>(w.period_us, 1);
    const i128 t = (static_cast<i128>(w.period_us) + static_cast<i128>(w.count) - 1) / w.count;
    return std::max<int64_t>(clamp64(t), 1);
}

LimitsParse parse_limits(std::string_view text) {
    LimitsParse r;
    const std::string_view all = sys::trim(text);
    if (all.empty()) {
        r.error = std::string("empty limits; ") + std::string(kForms);
        return r;
    }
    size_t pos = 0;
    while (pos <= all.size()) {
        const size_t comma = all.find(',', pos);
        const std::string_view part =
            sys::trim(all.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos));
        if (part.empty()) {
            r.windows.clear();
            r.error = "empty window (two commas, or one at an end); " + std::string(kForms);
            return r;
        }
        if (r.windows.size() == kMaxWindows) {
            r.windows.clear();
            r.error = "more than " + std::to_string(kMaxWindows) + " windows";
            return r;
        }
        Window w;
        std::string e = parse_window(part, w);
        if (!e.empty()) {
            r.windows.clear();
            r.error = e + "; " + std::string(kForms);
            return r;
        }
        r.windows.push_back(w);
        if (comma == std::string_view::npos) break;
        pos = comma + 1;
    }
    return r;
}

std::string format_window(const Window& w) {
    static constexpr Unit kOut[] = {{"d", 86400 * kSecondUs}, {"h", 3600 * kSecondUs}, {"m", 60 * kSecondUs}};
    std::string out = std::to_string(w.count) + "/";
    int64_t n = w.period_us / kSecondUs;
    std::string_view unit = "s";
    if (w.period_us % kSecondUs != 0) {
        n = w.period_us;  // not produced by parse_limits; shown exactly
        unit = "us";
    } else {
        for (const Unit& u : kOut)
            if (w.period_us % u.us == 0) {
                n = w.period_us / u.us;
                unit = u.name;
                break;
            }
    }
    if (n != 1) out += std::to_string(n);
    out += unit;
    if (w.burst != default_burst(w.count)) out += " burst " + std::to_string(w.burst);
    return out;
}

std::string format_limits(std::span<const Window> windows) {
    std::string out;
    for (const Window& w : windows) {
        if (!out.empty()) out += ", ";
        out += format_window(w);
    }
    return out;
}

Verdict check(std::span<const Window> windows, std::span<const GcraState> states, int64_t now_us,
              uint64_t cost) {
    check_sizes(windows, states.size());
    Verdict v;
    for (size_t i = 0; i < windows.size(); ++i) {
        const One o = check_one(windows[i], states[i], now_us, cost);
        if (!o.allowed && (v.allowed || o.retry > v.retry_after_us)) {
            v.allowed = false;
            v.window = i;
            v.retry_after_us = o.retry;
        }
    }
    return v;
}

Verdict consume(std::span<const Window> windows, std::span<GcraState> states, int64_t now_us,
                uint64_t cost) {
    const Verdict v = check(windows, std::span<const GcraState>(states.data(), states.size()), now_us, cost);
    if (!v.allowed || cost == 0) return v;
    charge(windows, states, now_us, cost);
    return v;
}

void charge(std::span<const Window> windows, std::span<GcraState> states, int64_t now_us, uint64_t cost) {
    check_sizes(windows, states.size());
    if (cost == 0) return;
    for (size_t i = 0; i < windows.size(); ++i) {
        const i128 tat = tat_at(windows[i], states[i], now_us);
        states[i].tat_us = clamp64(tat + static_cast<i128>(cost) * emission_interval_us(windows[i]));
    }
}

void refund(std::span<const Window> windows, std::span<GcraState> states, int64_t now_us, uint64_t cost) {
    check_sizes(windows, states.size());
    for (size_t i = 0; i < windows.size(); ++i) {
        if (states[i].tat_us <= now_us) continue;  // nothing outstanding to give back
        const i128 back = tat_at(windows[i], states[i], now_us) -
                          static_cast<i128>(cost) * emission_interval_us(windows[i]);
        states[i].tat_us = clamp64(std::max<i128>(back, now_us));
    }
}

uint64_t remaining(const Window& w, const GcraState& s, int64_t now_us) noexcept {
    const i128 t = emission_interval_us(w);
    const i128 debt = tat_at(w, s, now_us) - now_us;
    const i128 room = static_cast<i128>(w.burst) * t - debt;
    return room <= 0 ? 0 : static_cast<uint64_t>(room / t);
}

uint64_t used(const Window& w, const GcraState& s, int64_t now_us) noexcept {
    const i128 t = emission_interval_us(w);
    const i128 debt = tat_at(w, s, now_us) - now_us;
    if (debt <= 0) return 0;
    const i128 n = (debt + t - 1) / t;
    return n >= static_cast<i128>(w.burst) ? w.burst : static_cast<uint64_t>(n);
}

int64_t window_start_us(int64_t period_us, int64_t t_us) noexcept {
    if (period_us <= 0) return t_us;
    return t_us - t_us % period_us;
}

uint64_t count_as_of(uint64_t count, int64_t period_us, int64_t then_us, int64_t now_us) noexcept {
    return window_start_us(period_us, then_us) == window_start_us(period_us, now_us) ? count : 0;
}

}  // namespace rate
