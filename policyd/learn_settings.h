// learn_settings.h - the parameters of backoff learning (sendguard-policyd)
//
// learn_settings(cfg) reads the policyd_backoff_* parameters, the
// throttled transports and the reply-pattern file name, and checks what the
// parameter table cannot (the transport list's syntax, min rate below the
// assumed rate, ...). Defaults live only in common/config/param_table.h.
//
// policyd_throttled_transports is a list of entries
//     PROVIDER=TRANSPORT[/TRANSPORT...]      default=TRANSPORT[/TRANSPORT...]
// naming, per provider (a row of the provider table), the master.cf
// transports its domains are routed to while the provider is in backoff:
// the first transport at backoff level 1, the second at level 2, and so on;
// levels past the last transport use the last one (so "gmx=gmx-slow/gmx-crawl"
// gives gmx-slow at level 1, gmx-crawl at level 2 and above). "default="
// applies to providers without an entry of their own; without it such a
// provider is paced by the policy service only and never rerouted. The
// transports are fixed (a rate delay needs `postfix reload` to change, see
// FACTS.md): the map only switches between them. A transport name is what
// master.cf's first column says: [A-Za-z0-9._-], at most 64 bytes.
//
// Rates are messages per second, as doubles (config::Rate "60/h" is 1/60).
//
// policyd_reply_patterns names a file of extra classifier rows
// (policyd/reply_class.h, ReplyPatterns::load); learn_settings() reads it.
//
// Errors: learn_settings() throws config::Error naming the parameter, the
// offending entry and what to write instead (daemons::invalid); for the
// pattern file, its path and line.
// Thread safety: a LearnSettings is an immutable value.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/config/config.h"
#include "policyd/reply_class.h"

namespace policyd {

struct ThrottledTransports {
    // Transports by level (index 0 = level 1), per provider name.
    std::map<std::string, std::vector<std::string>, std::less<>> by_provider;
    std::vector<std::string> fallback;  // the "default=" entry; empty: none
    // The transport for provider at backoff level (>= 1); "" when the
    // provider has no entry and there is no default, or level < 1.
    std::string_view for_level(std::string_view provider, int level) const;
    bool operator==(const ThrottledTransports&) const = default;
};

struct LearnSettings {
    // Multiplicative decrease: the allowed rate is multiplied by this on a
    // rate-limit signal (policyd_backoff_decrease, percent / 100).
    double decrease = 0;
    double min_rate = 0;       // messages/s, the floor of the learned rate
    double recovery_step = 0;  // messages/s added per quiet period
    std::chrono::seconds quiet_period{};  // no signal this long: one recovery step
    std::chrono::seconds hold_down{};     // signals this soon after a decrease: same incident
    std::chrono::seconds max_suspend{};   // longest suspension a retry-after asks for
    // The rate assumed for a provider that has no configured limit: the
    // ceiling it recovers to, and what the first decrease starts from.
    double default_rate = 0;
    ThrottledTransports transports;
    std::string reply_patterns;  // file extending the classifier; "" = shipped table only
    // Its rows, loaded by learn_settings() (nullptr: none).
    std::shared_ptr<const ReplyPatterns> patterns;
    bool operator==(const LearnSettings&) const = default;
};

LearnSettings learn_settings(const config::Config& cfg);

// Parses a policyd_throttled_transports list (the entries as config::Config
// splits them); on error throws config::Error via daemons::invalid(cfg, ...).
ThrottledTransports parse_throttled_transports(const config::Config& cfg,
                                               const std::vector<std::string>& entries);

}  // namespace policyd
