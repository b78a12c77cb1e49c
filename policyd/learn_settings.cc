// learn_settings.cc - see learn_settings.h
#include "policyd/learn_settings.h"

#include <string>

#include "common/config/error.h"
#include "common/daemon/log_setup.h"

namespace policyd {

namespace {

constexpr size_t kMaxTransportName = 64;
constexpr size_t kMaxLevels = 8;
constexpr size_t kMaxProviderName = 64;

bool transport_char(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
}

bool provider_char(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

double per_second(const config::Rate& r) {
    return static_cast<double>(r.count) / static_cast<double>(r.per.count());
}

std::string rate_text(const config::Rate& r) {
    const long long per = r.per.count();
    const char* unit = per == 86400 ? "d" : per == 3600 ? "h" : per == 60 ? "m" : per == 1 ? "s" : nullptr;
    if (unit) return std::to_string(r.count) + "/" + unit;
    return std::to_string(r.count) + "/" + std::to_string(per) + "s";
}

}  // namespace

std::string_view ThrottledTransports::for_level(std::string_view provider, int level) const {
    if (level < 1) return {};
    auto it = by_provider.find(provider);
    const std::vector<std::string>& levels = it != by_provider.end() ? it->second : fallback;
    if (levels.empty()) return {};
    size_t i = static_cast<size_t>(level) - 1;
    return levels[i < levels.size() ? i : levels.size() - 1];
}

ThrottledTransports parse_throttled_transports(const config::Config& cfg,
                                               const std::vector<std::string>& entries) {
    constexpr config::AnyKey key = "policyd_throttled_transports";
    ThrottledTransports t;
    bool have_default = false;
    for (const std::string& entry : entries) {
        size_t eq = entry.find('=');
        if (eq == std::string::npos || eq == 0)
            throw daemons::invalid(cfg, key, entry,
                                   "expected PROVIDER=TRANSPORT[/TRANSPORT...] or default=TRANSPORT");
        std::string provider = entry.substr(0, eq);
        if (provider.size() > kMaxProviderName)
            throw daemons::invalid(cfg, key, entry, "provider name longer than 64 bytes");
        for (char c : provider)
            if (!provider_char(c))
                throw daemons::invalid(cfg, key, entry,
                                       "a provider name is a provider table row's name: [a-z0-9._-]");
        std::vector<std::string> levels;
        std::string_view rest = std::string_view(entry).substr(eq + 1);
        if (rest.empty())
            throw daemons::invalid(cfg, key, entry, "no transport after '='; name a master.cf transport");
        while (true) {
            size_t slash = rest.find('/');
            std::string_view name = rest.substr(0, slash);
            if (name.empty())
                throw daemons::invalid(cfg, key, entry, "empty transport name between '/'");
            if (name.size() > kMaxTransportName)
                throw daemons::invalid(cfg, key, entry, "transport name longer than 64 bytes");
            for (char c : name)
                if (!transport_char(c))
                    throw daemons::invalid(
                        cfg, key, entry,
                        "a transport is a master.cf service name ([A-Za-z0-9._-]); the map answers "
                        "TRANSPORT: and keeps the recipient domain as next hop");
            levels.emplace_back(name);
            if (levels.size() > kMaxLevels)
                throw daemons::invalid(cfg, key, entry, "more than 8 levels");
            if (slash == std::string_view::npos) break;
            rest.remove_prefix(slash + 1);
        }
        if (provider == "default") {
            if (have_default) throw daemons::invalid(cfg, key, entry, "default= given twice");
            have_default = true;
            t.fallback = std::move(levels);
        } else if (!t.by_provider.emplace(provider, std::move(levels)).second) {
            throw daemons::invalid(cfg, key, entry, "provider " + provider + " given twice");
        }
    }
    return t;
}

LearnSettings learn_settings(const config::Config& cfg) {
    LearnSettings s;
    s.decrease = static_cast<double>(cfg.integer("policyd_backoff_decrease")) / 100.0;
    s.min_rate = per_second(cfg.rate("policyd_backoff_min_rate"));
    s.recovery_step = per_second(cfg.rate("policyd_backoff_recovery_step"));
    s.quiet_period = cfg.duration("policyd_backoff_quiet_period");
    s.hold_down = cfg.duration("policyd_backoff_hold_down");
    s.max_suspend = cfg.duration("policyd_backoff_max_suspend");
    s.default_rate = per_second(cfg.rate("policyd_backoff_default_rate"));
    if (s.min_rate > s.default_rate)
        throw daemons::invalid(cfg, "policyd_backoff_min_rate",
                               rate_text(cfg.rate("policyd_backoff_min_rate")),
                               "above policyd_backoff_default_rate (" +
                                   rate_text(cfg.rate("policyd_backoff_default_rate")) +
                                   "); the floor must not exceed the assumed rate");
    s.transports = parse_throttled_transports(cfg, cfg.list("policyd_throttled_transports"));
    s.reply_patterns = cfg.str("policyd_reply_patterns");
    if (!s.reply_patterns.empty()) {
        try {
            s.patterns = std::make_shared<const ReplyPatterns>(ReplyPatterns::load(s.reply_patterns));
        } catch (const config::Error& e) {
            throw daemons::invalid(cfg, "policyd_reply_patterns", s.reply_patterns, e.what());
        }
    }
    return s;
}

}  // namespace policyd
