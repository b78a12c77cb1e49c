// test_policyd_learn_support.h - settings and destinations for the learner tests
//
// settings(conf): learn_settings() of a sendguard.conf text (kConf by default).
// destinations(pending): make_destinations() over the shipped provider table
// (ProviderTable::builtin()) and fixed MX hosts in place of the MX cache:
//   gmx.de, web.de -> GMX/web.de hosts; gmail.com -> Google's; yahoo.com ->
//   Yahoo's; pending.example -> pending (nullopt); pending->domain -> nullopt
//   until pending->resolved, then a GMX host; any other domain -> "mail.DOMAIN"
//   (its own destination)
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/config/config.h"
#include "policyd/learn_settings.h"
#include "policyd/learner.h"
#include "policyd/providers.h"

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

// The shipped provider table: the learner's tests use the real patterns.
inline const policyd::ProviderTable& table() {
    static const policyd::ProviderTable t = policyd::ProviderTable::builtin();
    return t;
}

// MX hosts of the test domains, as the MX cache would give them.
inline std::optional<std::vector<std::string>> mx_of(std::string_view domain,
                                                    const PendingDomain* pending) {
    using V = std::vector<std::string>;
    if (domain == "gmx.de") return V{"mx00.emig.gmx.net", "mx01.emig.gmx.net"};
    if (domain == "web.de") return V{"mx-ha03.web.de", "mx-ha02.web.de"};
    if (domain == "gmail.com") return V{"gmail-smtp-in.l.google.com", "alt1.gmail-smtp-in.l.google.com"};
    if (domain == "yahoo.com") return V{"mta5.am0.yahoodns.net", "mta6.am0.yahoodns.net"};
    if (domain == "pending.example") return std::nullopt;
    if (pending && domain == pending->domain) {
        if (!pending->resolved) return std::nullopt;
        return V{"mx00.emig.gmx.net"};
    }
    return V{"mail." + std::string(domain)};  // its own destination
}

inline policyd::Destinations destinations(const PendingDomain* pending = nullptr) {
    return policyd::make_destinations(
        table(), [pending](std::string_view domain) { return mx_of(domain, pending); });
}

}  // namespace learn_test
