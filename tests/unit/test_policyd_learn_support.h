// test_policyd_learn_support.h - settings and destinations for the learner tests
//
// settings(conf): learn_settings() of a sendguard.conf text (kConf by default).
// destinations(pending): a Destinations over a fixed set of MX host suffixes
// and recipient domains:
//   hosts  *.gmx.net, *.web.de -> gmx; *.google.com -> google;
//          *.yahoodns.net -> yahoo; anything else -> "" (no provider)
//   domains gmx.de, web.de -> gmx; gmail.com -> google; yahoo.com -> yahoo;
//          small.example -> "" (its own destination); pending.example ->
//          pending (nullopt); pending->domain -> nullopt until
//          pending->resolved, then gmx
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/config/config.h"
#include "policyd/learn_settings.h"
#include "policyd/learner.h"

namespace learn_test {

inline constexpr int64_t kSec = 1000000;
inline constexpr int64_t kT0 = 1764000000LL * kSec;  // a fixed wall-clock time

inline const std::string kConfBase =
    "policyd_backoff_decrease = 50\n"
    "policyd_backoff_min_rate = 60/h\n"
    "policyd_backoff_recovery_step = 600/h\n"
    "policyd_backoff_quiet_period = 600s\n"
    "policyd_backoff_hold_down = 60s\n"
    "policyd_backoff_default_rate = 3600/h\n";
inline const std::string kConfNoDefault =
    kConfBase + "policyd_backoff_max_suspend = 1h\n"
                "policyd_throttled_transports = gmx=gmx-slow/gmx-crawl\n";
inline const std::string kConfTransports =
    "policyd_throttled_transports = gmx=gmx-slow/gmx-crawl, default=throttled\n";
inline const std::string kConf = kConfBase + "policyd_backoff_max_suspend = 1h\n" + kConfTransports;
// kConf with max_suspend 0.
inline const std::string kConfNoSuspend =
    kConfBase + "policyd_backoff_max_suspend = 0\n" + kConfTransports;

inline policyd::LearnSettings settings(const std::string& conf = kConf) {
    return policyd::learn_settings(config::Config::parse(conf, "sendguard.conf"));
}

struct PendingDomain {
    std::string domain;
    bool resolved = false;
};

inline bool ends_with_label(std::string_view host, std::string_view suffix) {
    return host.size() > suffix.size() && host.ends_with(suffix) &&
           host[host.size() - suffix.size() - 1] == '.';
}

inline policyd::Destinations destinations(const PendingDomain* pending = nullptr) {
    policyd::Destinations d;
    d.provider_of_host = [](std::string_view host) -> std::string {
        if (ends_with_label(host, "gmx.net") || ends_with_label(host, "web.de")) return "gmx";
        if (ends_with_label(host, "google.com")) return "google";
        if (ends_with_label(host, "yahoodns.net")) return "yahoo";
        return "";
    };
    d.provider_of_domain = [pending](std::string_view domain) -> std::optional<std::string> {
        if (domain == "gmx.de" || domain == "web.de") return "gmx";
        if (domain == "gmail.com") return "google";
        if (domain == "yahoo.com") return "yahoo";
        if (domain == "pending.example") return std::nullopt;
        if (pending && domain == pending->domain) {
            if (!pending->resolved) return std::nullopt;
            return "gmx";
        }
        return "";
    };
    return d;
}

}  // namespace learn_test
