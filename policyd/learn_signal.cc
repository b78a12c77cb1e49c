// learn_signal.cc - see learn_signal.h
#include "policyd/learn_signal.h"

#include <algorithm>
#include <cmath>

#include "common/store/throttle.h"

namespace policyd {

namespace {

constexpr uint32_t kMaxLevel = 16;

// The level a rate stands for: how many decreases from the ceiling it takes
// to get at or below it (1 for any rate under the ceiling).
uint32_t level_of_rate(double rate, const AimdBounds& b) {
    if (rate >= b.ceiling) return 0;
    if (rate <= 0) return kMaxLevel;
    const double n = std::log(b.ceiling / rate) / std::log(1.0 / b.decrease);
    const double up = std::ceil(n - 1e-9);
    return static_cast<uint32_t>(std::clamp(up, 1.0, static_cast<double>(kMaxLevel)));
}

}  // namespace

bool aimd_signal(store::ProviderState& s, const AimdBounds& b, int64_t retry_after_s,
                 int64_t now_us) {
    bool changed = false;
    const double cur = s.level ? s.allowed_per_hour / 3600.0 : b.ceiling;
    s.last_signal = now_us;
    if (retry_after_s > 0 && b.max_suspend_us > 0) {
        const int64_t want = std::min<int64_t>(retry_after_s, b.max_suspend_us / 1000000) * 1000000;
        if (now_us + want > s.suspended_until) {
            s.suspended_until = now_us + want;
            changed = true;
        }
    }
    // One decrease per hold-down: the deferrals of one burst (one per
    // recipient of every parallel delivery) are one signal.
    if (s.level == 0 || now_us - s.last_change >= b.hold_us) {
        const double next = std::max(b.min_rate, cur * b.decrease);
        const uint32_t level = std::min(kMaxLevel, std::max(s.level + 1, level_of_rate(next, b)));
        if (next != cur || level != s.level || s.level == 0) {
            s.allowed_per_hour = next * 3600.0;
            s.level = std::max<uint32_t>(level, 1);
            s.last_change = now_us;
            changed = true;
        }
    }
    return changed;
}

bool aimd_tick(store::ProviderState& s, const AimdBounds& b, int64_t now_us) {
    bool changed = false;
    if (s.suspended_until && s.suspended_until <= now_us) {
        // Nothing was sent while suspended: the quiet period that earns
        // recovery starts when the suspension ends.
        s.last_change = std::max(s.last_change, s.suspended_until);
        s.suspended_until = 0;
        changed = true;
    }
    if (s.level == 0 || s.suspended_until > now_us || b.quiet_us <= 0) return changed;
    const int64_t since = std::max(s.last_signal, s.last_change);
    if (now_us - since < b.quiet_us) return changed;
    const int64_t steps = (now_us - since) / b.quiet_us;
    double rate = s.allowed_per_hour / 3600.0 + static_cast<double>(steps) * b.recovery_step;
    rate = std::max(rate, b.min_rate);
    s.last_change = since + steps * b.quiet_us;
    if (rate >= b.ceiling) {
        s.allowed_per_hour = 0;
        s.level = 0;
    } else {
        s.allowed_per_hour = rate * 3600.0;
        s.level = std::min(s.level, level_of_rate(rate, b));
    }
    return true;
}

}  // namespace policyd

namespace policyd {

namespace {

bool digit(char c) noexcept { return c >= '0' && c <= '9'; }

// "4.7.1" (class.subject.detail, subject and detail 1-3 digits) at the front
// of key; returns its length or 0.
size_t enhanced_status(std::string_view key) noexcept {
    if (key.size() < 5 || (key[0] != '2' && key[0] != '4' && key[0] != '5') || key[1] != '.')
        return 0;
    size_t i = 2, n = 0;
    while (i < key.size() && digit(key[i]) && n < 3) ++i, ++n;
    if (n == 0 || i >= key.size() || key[i] != '.') return 0;
    ++i;
    n = 0;
    while (i < key.size() && digit(key[i]) && n < 3) ++i, ++n;
    if (n == 0 || (i < key.size() && key[i] != ' ')) return 0;
    return i;
}

}  // namespace

KeyParts split_status_key(std::string_view key) noexcept {
    KeyParts p;
    const size_t n = enhanced_status(key);
    if (n == 0 || n >= key.size()) return p;
    p.status = key.substr(0, n);
    p.text = key.substr(n + 1);
    // The forms smtp(8) writes (FACTS.md): "host H[IP] said: REPLY",
    // "connect to H[IP]:25: ...", "lost connection with H[IP] while ...",
    // "conversation with H[IP] timed out while ...".
    static constexpr std::string_view kLeads[] = {"host ", "connect to ", "lost connection with ",
                                                  "conversation with "};
    for (std::string_view lead : kLeads) {
        if (!p.text.starts_with(lead)) continue;
        std::string_view rest = p.text.substr(lead.size());
        const size_t bracket = rest.find('[');
        const size_t space = rest.find(' ');
        if (bracket == std::string_view::npos || bracket == 0 || space < bracket) break;
        p.host = rest.substr(0, bracket);
        if (lead == "host ") {
            const size_t said = rest.find("] said: ");
            if (said != std::string_view::npos) p.reply = rest.substr(said + 8);
        }
        break;
    }
    if (p.reply.empty()) p.reply = p.text;
    return p;
}

}  // namespace policyd

namespace policyd {

namespace {

std::string folded(std::string_view s) {
    std::string out(s.substr(0, 4096));
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

bool rate_limited(const std::string& t) {
    static constexpr std::string_view kPatterns[] = {
        "rate limit", "too many messages", "too many connections", "unusual rate",
        "too quickly", "temporarily deferred", "excessive volume", "rate limited",
        "trop de connexions", "reputation", "4.7.650", "4.7.651", "[tss04]"};
    for (std::string_view p : kPatterns)
        if (t.find(p) != std::string::npos) return true;
    return false;
}

int64_t retry_after(const std::string& t) {
    size_t at = t.find("try again in ");
    if (at == std::string::npos) return 0;
    at += 13;
    int64_t n = 0;
    size_t i = at;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9' && n < 1000000) n = n * 10 + (t[i++] - '0');
    if (i == at) return 0;
    while (i < t.size() && t[i] == ' ') ++i;
    std::string_view unit = std::string_view(t).substr(i);
    if (unit.starts_with("min")) return n * 60;
    if (unit.starts_with("hour")) return n * 3600;
    if (unit.starts_with("sec")) return n;
    return 0;
}

}  // namespace

StatusSignal classify_status_key(std::string_view key) {
    StatusSignal s;
    const KeyParts p = split_status_key(key);
    if (p.status.empty()) return s;
    s.host = std::string(p.host);
    s.reply = std::string(p.reply.substr(0, 1024));
    const std::string t = folded(p.text);
    if (p.status[0] == '2') s.kind = StatusKind::Success;
    else if (rate_limited(t)) s.kind = StatusKind::RateLimit;
    else s.kind = p.status[0] == '4' ? StatusKind::Temporary : StatusKind::Permanent;
    if (s.kind == StatusKind::RateLimit) s.retry_after_s = retry_after(t);
    return s;
}

}  // namespace policyd
