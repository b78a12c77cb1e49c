// throttle_cmd.cc - "sendguard status" and "sendguard backoff clear": the
// throttle state sendguard-policyd keeps in the store (common/store/throttle.h)
//
// status reads the store read-only (as suppress list does) and prints the
// providers' rates and backoff, each customer's usage and each rate bucket's
// use: a table for people, or with --json one JSON document. Counts are
// shown as of now, as sendguard-policyd would count them (common/rate):
// a usage window that has ended since the row was written counts 0, and a
// bucket's use is what its GCRA state still holds now (the stored TATs
// decay); with the time each row last changed. backoff clear PROVIDER marks the
// provider cleared; sendguard-policyd sees that at its next flush (about a
// second) and goes back to the configured rate. Every clear leaves an audit
// line ("backoff: action=clear, provider=..., uid=..., user=...").
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "common/config/load.h"
#include "common/config/value.h"
#include "common/log/json.h"
#include "common/log/log.h"
#include "common/rate/rate.h"
#include "common/store/record_format.h"
#include "common/store/suppression.h"
#include "common/store/throttle.h"

namespace cli {
namespace {

constexpr const char* kEmpty = "no throttle state yet (sendguard-policyd has not recorded any)";
// Texts from remote servers and customer keys, as a table shows them.
constexpr size_t kMaxReplyShown = 200;
constexpr size_t kMaxKeyShown = 100;

int64_t now_us() {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

void out(const std::string& line) {
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fputc('\n', stdout);
}

// A rate as the shortest decimal that reads back the same ("3600", "900.5").
std::string rate_text(double r) {
    if (!std::isfinite(r)) return "0";
    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof buf, r);
    return std::string(buf, res.ptr);
}

// Microseconds as RFC 3339 UTC, "-" for 0.
std::string time_text(int64_t us) { return us == 0 ? "-" : store::iso_time(us / 1'000'000); }

// How long ago: "45s", "3m12s", "2h5m", "3d4h"; "in the future" when the
// clocks disagree.
std::string age_text(int64_t then_us, int64_t now) {
    if (then_us > now) return "in the future";
    long long s = (now - then_us) / 1'000'000;
    static constexpr std::pair<long long, char> kUnits[] = {{86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}};
    for (size_t i = 0; i < 4; ++i) {
        const auto [unit, suffix] = kUnits[i];
        if (s < unit && i < 3) continue;
        std::string t = std::to_string(s / unit) + suffix;
        if (i < 3 && s % unit != 0) {
            const auto [next, nsuffix] = kUnits[i + 1];
            t += std::to_string((s % unit) / next) + nsuffix;
        }
        return t;
    }
    return "0s";
}

std::string u64(uint64_t v) { return std::to_string(v); }

// A text table: columns padded to their widest cell (right-aligned where
// numeric), two spaces between.
class Table {
public:
    explicit Table(std::vector<std::string> head, std::vector<bool> right)
        : right_(std::move(right)) { rows_.push_back(std::move(head)); }
    void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
    void print() const {
        std::vector<size_t> w(rows_[0].size(), 0);
        for (const auto& r : rows_)
            for (size_t i = 0; i < r.size(); ++i) w[i] = std::max(w[i], r[i].size());
        for (const auto& r : rows_) {
            std::string line;
            for (size_t i = 0; i < r.size(); ++i) {
                const size_t pad = w[i] - r[i].size();
                if (i) line += "  ";
                if (right_[i]) line.append(pad, ' ');
                line += r[i];
                if (!right_[i] && i + 1 < r.size()) line.append(pad, ' ');
            }
            while (!line.empty() && line.back() == ' ') line.pop_back();
            out(line);
        }
    }

private:
    std::vector<bool> right_;
    std::vector<std::vector<std::string>> rows_;
};

struct State {
    std::vector<store::ProviderState> providers;
    std::vector<store::UsageState> usage;
    std::vector<store::BucketState> bucket_rows;
};

// A usage window's count as of now: 0 once the window it was counted in ended.
uint64_t used_now(const store::UsageState& u, const store::UsageState::Window& w, int64_t now) {
    return rate::count_as_of(w.used, w.period_s * 1'000'000, u.updated, now);
}

// What a bucket's window still holds now (GCRA: the TAT decays with time).
uint64_t bucket_used_now(const store::BucketState& b, size_t i, int64_t now) {
    return rate::used(b.windows[i], rate::GcraState{b.tat_us[i]}, now);
}

State load(const store::ThrottleState* ts) {
    State s;
    if (!ts) return s;
    ts->for_each_provider([&](const store::ProviderState& p) {
        s.providers.push_back(p);
        return true;
    });
    ts->for_each_usage([&](const store::UsageState& u) {
        s.usage.push_back(u);
        return true;
    });
    ts->for_each_bucket([&](const store::BucketState& b) {
        s.bucket_rows.push_back(b);
        return true;
    });
    return s;
}

bool in_backoff(const store::ProviderState& p) { return p.allowed_per_hour > 0 || p.level > 0; }
double effective(const store::ProviderState& p) {
    return p.allowed_per_hour > 0 ? p.allowed_per_hour : p.configured_per_hour;
}

std::string provider_json(const store::ProviderState& p, int64_t now) {
    logging::JsonObject j;
    j.add("provider", p.provider)
        .add_raw("configured_per_hour", rate_text(p.configured_per_hour))
        .add_raw("allowed_per_hour", rate_text(p.allowed_per_hour))
        .add_raw("effective_per_hour", rate_text(effective(p)))
        .add("in_backoff", in_backoff(p))
        .add("level", static_cast<long long>(p.level))
        .add("suspended", p.suspended_until > now)
        .add("suspended_until", static_cast<long long>(p.suspended_until))
        .add("suspended_until_iso", p.suspended_until ? time_text(p.suspended_until) : "")
        .add("last_signal", static_cast<long long>(p.last_signal))
        .add("last_change", static_cast<long long>(p.last_change))
        .add("last_reply", p.last_reply)
        .add("last_reply_at", static_cast<long long>(p.last_reply_at))
        .add("last_reply_at_iso", p.last_reply_at ? time_text(p.last_reply_at) : "");
    if (p.last_reply_at) j.add("last_reply_age_s", static_cast<long long>(std::max<int64_t>(0, now - p.last_reply_at) / 1'000'000));
    else j.add_null("last_reply_age_s");
    j.add("deferrals", static_cast<long long>(p.deferrals))
        .add("rate_signals", static_cast<long long>(p.rate_signals))
        .add("successes", static_cast<long long>(p.successes))
        .add("cleared_at", static_cast<long long>(p.cleared_at))
        .add("cleared_at_iso", p.cleared_at ? time_text(p.cleared_at) : "")
        .add("updated", static_cast<long long>(p.updated))
        .add("updated_iso", p.updated ? time_text(p.updated) : "");
    return j.str();
}

std::string usage_json(const store::UsageState& u, int64_t now) {
    logging::JsonArray windows;
    for (const auto& w : u.windows)
        windows.add_raw(logging::JsonObject()
                            .add("period_s", static_cast<long long>(w.period_s))
                            .add("period", config::format_duration(w.period_s))
                            .add("limit", static_cast<long long>(w.limit))
                            .add("used", static_cast<long long>(used_now(u, w, now)))
                            .add("used_stored", static_cast<long long>(w.used))
                            .str());
    return logging::JsonObject()
        .add("rule", u.rule)
        .add("key", u.key)
        .add_raw("windows", windows.str())
        .add("refused", static_cast<long long>(u.refused))
        .add("first_refused_at", static_cast<long long>(u.first_refused_at))
        .add("first_refused_at_iso", u.first_refused_at ? time_text(u.first_refused_at) : "")
        .add("updated", static_cast<long long>(u.updated))
        .add("updated_iso", u.updated ? time_text(u.updated) : "")
        .str();
}

std::string bucket_json(const store::BucketState& b, int64_t now) {
    logging::JsonArray windows;
    for (size_t i = 0; i < b.windows.size(); ++i) {
        const auto& w = b.windows[i];
        windows.add_raw(logging::JsonObject()
                            .add("limit", rate::format_window(w))
                            .add("period_s", static_cast<long long>(w.period_us / 1'000'000))
                            .add("count", static_cast<long long>(w.count))
                            .add("burst", static_cast<long long>(w.burst))
                            .add("used", static_cast<long long>(bucket_used_now(b, i, now)))
                            .add("tat_us", static_cast<long long>(b.tat_us[i]))
                            .str());
    }
    logging::JsonObject j;
    j.add("rule", b.rule).add("key", b.key);
    // A row written before the windows were stored: its use is unknown.
    if (b.windows.empty()) j.add_null("windows");
    else j.add_raw("windows", windows.str());
    return j.add("refused", static_cast<long long>(b.refused))
        .add("refused_since", static_cast<long long>(b.refused_since))
        .add("refused_since_iso", b.refused_since ? time_text(b.refused_since) : "")
        .add("updated", static_cast<long long>(b.updated))
        .add("updated_iso", b.updated ? time_text(b.updated) : "")
        .str();
}

int status_json(const State& s, int64_t now) {
    logging::JsonArray providers, usage, buckets;
    for (const auto& p : s.providers) providers.add_raw(provider_json(p, now));
    for (const auto& u : s.usage) usage.add_raw(usage_json(u, now));
    for (const auto& b : s.bucket_rows) buckets.add_raw(bucket_json(b, now));
    out(logging::JsonObject()
            .add("now", static_cast<long long>(now))
            .add("now_iso", time_text(now))
            .add("empty", s.providers.empty() && s.usage.empty() && s.bucket_rows.empty())
            .add_raw("providers", providers.str())
            .add_raw("usage", usage.str())
            .add("buckets", static_cast<long long>(s.bucket_rows.size()))
            .add_raw("rate_buckets", buckets.str())
            .str());
    return 0;
}

void status_table(const State& s, int64_t now) {
    if (!s.providers.empty()) {
        out("providers (rates per hour; allowed - : not in backoff, the configured rate applies)");
        Table t({"PROVIDER", "CONFIGURED", "ALLOWED", "LEVEL", "SUSPENDED UNTIL", "DEFERRALS", "RATE SIGNALS",
                 "SUCCESSES", "CLEARED"},
                {false, true, true, true, false, true, true, true, false});
        for (const auto& p : s.providers)
            t.add({logging::printable(p.provider, kMaxKeyShown), rate_text(p.configured_per_hour),
                   p.allowed_per_hour > 0 ? rate_text(p.allowed_per_hour) : "-", std::to_string(p.level),
                   p.suspended_until > now ? time_text(p.suspended_until) : "-", u64(p.deferrals),
                   u64(p.rate_signals), u64(p.successes), p.cleared_at ? age_text(p.cleared_at, now) + " ago" : "never"});
        t.print();
        bool any = false;
        for (const auto& p : s.providers) {
            if (p.last_reply.empty()) continue;
            if (!any) out("\nlast 4xx reply per provider:");
            any = true;
            out("  " + logging::printable(p.provider, kMaxKeyShown) + " (" +
                (p.last_reply_at ? age_text(p.last_reply_at, now) + " ago" : "time unknown") +
                "): " + logging::printable(p.last_reply, kMaxReplyShown));
        }
    }
    if (!s.usage.empty()) {
        if (!s.providers.empty()) out("");
        out("customer usage (used/limit per window, as of now)");
        Table t({"RULE", "KEY", "WINDOW", "USED/LIMIT", "REFUSED", "FIRST REFUSED", "UPDATED"},
                {false, false, false, true, true, false, false});
        for (const auto& u : s.usage) {
            const std::string key = u.key.empty() ? "-" : logging::printable(u.key, kMaxKeyShown);
            const std::string updated = u.updated ? age_text(u.updated, now) + " ago" : "-";
            if (u.windows.empty()) {
                t.add({logging::printable(u.rule, kMaxKeyShown), key, "-", "-", u64(u.refused),
                       time_text(u.first_refused_at), updated});
                continue;
            }
            for (size_t i = 0; i < u.windows.size(); ++i) {
                const auto& w = u.windows[i];
                const std::string used = u64(used_now(u, w, now)) + "/" + u64(w.limit);
                if (i == 0)
                    t.add({logging::printable(u.rule, kMaxKeyShown), key, config::format_duration(w.period_s), used,
                           u64(u.refused), time_text(u.first_refused_at), updated});
                else
                    t.add({"", "", config::format_duration(w.period_s), used, "", "", ""});
            }
        }
        t.print();
    }
    if (!s.bucket_rows.empty()) {
        if (!s.providers.empty() || !s.usage.empty()) out("");
        out(std::to_string(s.bucket_rows.size()) + " rate bucket" + (s.bucket_rows.size() == 1 ? "" : "s") +
            " (used/burst per window, as of now)");
        Table t({"RULE", "KEY", "WINDOW", "USED/BURST", "REFUSED SINCE", "UPDATED"},
                {false, false, false, true, false, false});
        for (const auto& b : s.bucket_rows) {
            const std::string rule = logging::printable(b.rule, kMaxKeyShown);
            const std::string key = b.key.empty() ? "-" : logging::printable(b.key, kMaxKeyShown);
            const std::string refused = time_text(b.refused_since);
            const std::string updated = b.updated ? age_text(b.updated, now) + " ago" : "-";
            if (b.windows.empty()) {  // written before the windows were stored
                t.add({rule, key, "-", "?", refused, updated});
                continue;
            }
            for (size_t i = 0; i < b.windows.size(); ++i) {
                const std::string used = u64(bucket_used_now(b, i, now)) + "/" + u64(b.windows[i].burst);
                const std::string window = rate::format_window(b.windows[i]);
                if (i == 0)
                    t.add({rule, key, window, used, refused, updated});
                else
                    t.add({"", "", window, used, "", ""});
            }
        }
        t.print();
    }
}

constexpr const char* kStatusUsage = "usage: sendguard [-c config] [-o name=value] status [--json]\n";
constexpr const char* kBackoffUsage = "usage: sendguard [-c config] [-o name=value] backoff clear provider\n";

bool store_exists(const config::Config& cfg) {
    struct stat st {};
    const std::string data = store::suppression_dir(cfg.str("state_directory")) + "/data.mdb";
    return ::stat(data.c_str(), &st) == 0 || errno != ENOENT;
}

std::string known_list(const std::vector<std::string>& names) {
    if (names.empty()) return std::string(kEmpty);
    std::string s = "known providers: ";
    for (size_t i = 0; i < names.size(); ++i) {
        if (i) s += ", ";
        s += logging::printable(names[i], kMaxKeyShown);
    }
    return s;
}

}  // namespace

int status_command(const Global& g, const std::vector<std::string>& args) noexcept {
    if (wants_help(args)) {
        std::fputs(kStatusUsage, stdout);
        return 0;
    }
    bool json = false;
    for (const auto& a : args) {
        if (a == "--json") json = true;
        else {
            std::fprintf(stderr, "sendguard: status: unexpected %s\n%s", logging::printable(a, 100).c_str(),
                         kStatusUsage);
            return kUsage;
        }
    }
    try {
        const config::Config cfg = config::load(g.config_path, g.overrides);
        auto env = open_store(cfg, true);  // nullptr: no store yet
        std::optional<store::ThrottleState> ts;
        if (env) ts.emplace(env);
        const State s = load(ts ? &*ts : nullptr);
        const int64_t now = now_us();
        const bool empty = s.providers.empty() && s.usage.empty() && s.bucket_rows.empty();
        if (json) {
            status_json(s, now);
            if (empty) std::fprintf(stderr, "sendguard: note: %s\n", kEmpty);
        } else if (empty) {
            out(kEmpty);
        } else {
            status_table(s, now);
        }
        std::fflush(stdout);
        return std::ferror(stdout) ? kFailure : 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "sendguard: %s\n", e.what());
        return kFailure;
    }
}

int backoff_command(const Global& g, const std::vector<std::string>& args) noexcept {
    if (wants_help(args)) {
        std::fputs(kBackoffUsage, stdout);
        return 0;
    }
    if (args.size() != 2 || args[0] != "clear") {
        if (!args.empty() && args[0] != "clear")
            std::fprintf(stderr, "sendguard: backoff: unknown command %s\n", logging::printable(args[0], 100).c_str());
        else if (args.size() < 2)
            std::fputs("sendguard: backoff clear: name the provider (sendguard status lists them)\n", stderr);
        else
            std::fputs("sendguard: backoff clear: name one provider\n", stderr);
        std::fputs(kBackoffUsage, stderr);
        return kUsage;
    }
    const std::string& name = args[1];
    try {
        const config::Config cfg = config::load(g.config_path, g.overrides);
        // No store yet: nothing to clear, and nothing is created for it.
        if (!store_exists(cfg)) {
            std::fprintf(stderr, "sendguard: backoff clear: unknown provider %s: %s\n",
                         logging::printable(name, kMaxKeyShown).c_str(), kEmpty);
            return kUsage;
        }
        open_audit_log(cfg);
        store::ThrottleState ts(open_store(cfg, false));
        const int64_t now = now_us();
        auto p = ts.mark_cleared(name, now);
        logging::Line l("backoff");
        l.kv("action", "clear").kv("provider", name);
        audit_who(l).kv("result", p ? "cleared" : "unknown");
        logging::info(l);
        if (!p) {
            std::fprintf(stderr, "sendguard: backoff clear: unknown provider %s; %s\n",
                         logging::printable(name, kMaxKeyShown).c_str(), known_list(ts.provider_names()).c_str());
            return kUsage;
        }
        out(logging::printable(p->provider, kMaxKeyShown) + ": backoff cleared; sendguard-policyd restores the "
            "configured rate (" + rate_text(p->configured_per_hour) + "/h) at its next store check, within 5 seconds");
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "sendguard: %s\n", e.what());
        return kFailure;
    }
}

}  // namespace cli
