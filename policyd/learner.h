// learner.h - backoff learned from delivery results (sendguard-policyd)
//
// A Learner keeps, per provider (a row of the provider table, policyd/
// providers.h), an AIMD backoff state (policyd/backoff.h) learned from three
// sources, and answers Postfix's transport_maps with a throttled transport
// while a provider is in backoff.
//
//   1. smtp_delivery_status_filter = socketmap:unix:PATH:status   (or
//      :status-PROVIDER on a per-provider transport). The key is
//      "<enhanced status> <text>" (FACTS.md); on_status() parses and
//      classifies it (policyd/reply_class.h). A deferral names the remote
//      host ("host mx01.gmx.net[212.227.15.9] said: 421 ..."): the host is
//      mapped to a provider with Destinations::provider_of_host, the same
//      patterns the MX roll-up uses. A rate-limit, too-many-connections or
//      reputation reply is a signal: on_signal() decreases that provider's
//      allowed rate, or suspends it for the retry-after it asked for (at
//      most max_suspend). Ordinary temporary failures (mailbox full,
//      greylisting, DNS, connection refused) never throttle a provider.
//      A success carries no host name (FACTS.md), so it is credited only
//      when the map name names the provider: status-gmx counts for "gmx"
//      (and so does any deferral on it, whatever the host); a success is
//      counted in the provider's state (ProviderState::successes, shown by
//      sendguard status) and does not itself change the rate. A name that is
//      no valid provider name ([a-z0-9._-], not "default") is taken as
//      "status" and counted.
//      A host matching no provider row is learned nothing from: the
//      destination is one domain, and Postfix's own per-destination
//      concurrency feedback already slows it; the status key gives no
//      recipient domain to route by. (Such a host is counted in Counters.)
//      The status map's answer is always NOTFOUND: learning never changes
//      a delivery.
//      Every deferral (rate-limit or ordinary temporary failure) of a
//      provider is one more delivery attempt later, and providers count
//      attempts: it is charged to the policy service's buckets of that
//      provider (ProviderBudget::charge_retry, policyd/provider_budget.h,
//      set by set_budget), one unit per deferral, so the acceptance check
//      at RCPT sees a budget that includes retries. Permanent failures are
//      not retried and charge nothing.
//   2. Block events of the bounce pipeline (ratelimited / blocked DSNs that
//      arrive after the fact, store::SuppressionList::for_each_block):
//      on_block_event(domain, ...) maps the recipient domain to its provider
//      through Destinations::provider_of_domain (the MX cache and roll-up)
//      and feeds a signal. BlockScanner reads the rows new since its last
//      scan; an event whose MX lookup is still pending waits for tick().
//   3. Time: tick(now) gives recovery (backoff.h on_tick). After
//      quiet_period without a signal (counted from the end of a suspension)
//      the rate grows by recovery_step per quiet period up to the
//      provider's ceiling (its configured limit from set_ceilings, else
//      default_rate); at the ceiling the provider leaves backoff (level 0).
//      Signals within hold_down of a decrease are one incident. tick() also
//      retries block events whose MX lookup was pending.
//
// Levels: level() is backoff.h's (decreases applied; it stays until the
// provider is normal again). The transport a level selects follows the
// rate instead (learn_signal.h, transport_level): a provider whose rate has
// grown back above ceiling * decrease is on the level-1 transport again,
// and so on, so recovery climbs back through the throttled transports. A
// suspended provider gets the last (slowest) transport configured for it.
//
// transport_maps = socketmap:unix:PATH:transport. trivial-rewrite looks up
// the full address "user@domain", then (for tables that are not patterns)
// "domain" and its parent domains, and finally "*" (transport(5)). Postfix
// flags a socketmap as a pattern table (like regexp:), so the map is asked
// for the full address and "*" only, never for "domain" (FACTS.md).
// transport_for() therefore takes the domain after the key's last '@' (a
// key without '@', as `postmap -q domain` sends, is the domain itself): a
// provider in backoff is routed to policyd_throttled_transports' transport
// for its level as "OK TRANSPORT:" (empty nexthop: Postfix keeps the
// recipient domain as next hop, so MX lookups are as without the map).
// Everything else - "user@" with no domain, ".parent" forms, "*", a domain
// of a provider not in backoff, a domain whose MX lookup is still pending,
// a provider with no transport configured - answers NOTFOUND, which lets
// the rest of transport_maps and default_transport decide as before.
// A provider not in backoff whose policy-service bucket is over its limit
// (ProviderBudget::over_limit: accepted mail and retries beyond the rule)
// is routed as at level 1, to its first throttled transport, until the
// bucket conforms again.
//
// How fast Postfix applies a changed answer (FACTS.md, Postfix 3.7):
// trivial-rewrite asks afresh per request (only "*" is cached, 30 s) but
// its client in the queue manager keeps a one-entry cache for 30 s, and the
// queue manager resolves a message once, when it enters the active queue.
// So a new backoff reroutes messages entering the active queue from then on
// (only the address resolved last may reuse its old answer, for up to 30 s:
// the one-entry cache is keyed by address); messages already active keep
// their route and leave by the old transport, and deferred ones are routed
// afresh at their next retry. Recovery likewise returns domains to the
// normal transport as their messages next enter the active queue.
//
// Logging: every change of a provider's state is one line
//   policyd: backoff=status, provider=gmx, old_rate=3600/h, new_rate=1800/h,
//   old_level=0, level=1, reply="421 Rate limit reached ..."
// backoff= says what caused it: status (the status filter), block (a block
// event), recovery, suspension-end or cleared; suspended_for=SECONDS is
// added while a retry-after suspends the provider.
//
// Persistence: states() gives every provider's state as store::ProviderState
// (common/store/throttle.h) for ThrottleState to write; load() takes them
// back at start-up. dirty() says whether anything changed since the last
// mark_clean(). A loaded state whose cleared_at (stamped by `sendguard
// backoff clear PROVIDER`) is newer than the learner's copy resets that
// provider: load() and merge_cleared() honour it.
//
// Time: every call takes now_us (microseconds since the Unix epoch, wall
// clock). No call blocks or does I/O except BlockScanner::scan (one store
// scan) and logging.
// Errors: malformed keys are counted and ignored (never thrown); the
// socketmap handlers never throw for bad input.
// Thread safety: one thread (the event loop's); not thread safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/net/socketmap.h"
#include "common/store/suppression.h"
#include "common/store/throttle.h"
#include "policyd/learn_settings.h"
#include "policyd/mx_cache.h"
#include "policyd/provider_budget.h"
#include "policyd/providers.h"

namespace policyd {

// How the learner tells a destination's provider: make_destinations()
// builds it from the ProviderTable and the MxCache (policyd/providers.h,
// policyd/mx_cache.h).
struct Destinations {
    // The provider whose patterns match this MX host name; "" for none.
    std::function<std::string(std::string_view host)> provider_of_host;
    // The provider a recipient domain rolls up to; "" when it belongs to no
    // provider (its own destination); nullopt while its MX lookup is
    // pending (the lookup is started; ask again later).
    std::function<std::optional<std::string>(std::string_view domain)> provider_of_domain;
    // Whether name is a row of the provider table: a status-NAME map of
    // any other name is the shared map, so a client cannot create states.
    std::function<bool(std::string_view name)> is_provider;
};

// provider_of_host: table.provider_of_host; provider_of_domain: the roll-up
// (table.rollup) of mx_hosts(domain), "" for a domain of its own
// ("default"), nullopt while mx_hosts gives nullopt (lookup pending). The
// result refers to table and mx_hosts' captures: they must outlive it.
using MxHosts = std::function<std::optional<std::vector<std::string>>(std::string_view domain)>;
Destinations make_destinations(const ProviderTable& table, MxHosts mx_hosts);
// The same over the daemon's MX cache (mx.hosts(domain)); mx must outlive it.
Destinations make_destinations(const ProviderTable& table, MxCache& mx);

// One change of a provider's state, as logged.
struct BackoffChange {
    std::string provider;
    double old_rate = 0, new_rate = 0;  // messages/s
    int old_level = 0, new_level = 0;
    int64_t suspended_until_us = 0;  // 0: not suspended
    std::string source;  // "status", "block", "recovery", "suspension-end", "cleared"
    std::string reply;               // the reply that caused it ("" for recovery)
};

struct LearnCounters {
    uint64_t status_keys = 0;       // keys seen by on_status
    uint64_t malformed = 0;         // keys that did not parse
    uint64_t signals = 0;           // rate-limit signals applied
    uint64_t ordinary = 0;          // temporary failures that throttle nothing
    uint64_t successes_credited = 0;
    uint64_t successes_uncredited = 0;  // on the shared "status" map: no provider
    uint64_t unknown_host = 0;      // deferrals from hosts matching no provider
    uint64_t block_events = 0;
    uint64_t transport_answers = 0;  // OK answers of transport_for
    uint64_t bad_map_names = 0;      // "status-X" with X no provider name: used as "status"
    uint64_t retries_charged = 0;    // deferrals passed to ProviderBudget::charge_retry
    uint64_t over_limit_answers = 0; // of transport_answers, for a bucket over its limit
};

class Learner {
public:
    Learner(LearnSettings settings, Destinations destinations);
    ~Learner();
    Learner(const Learner&) = delete;
    Learner& operator=(const Learner&) = delete;

    // A reload: new parameters apply to the next signal and tick; learned
    // states are kept (rates are clamped to the new bounds at the next tick).
    void set_settings(LearnSettings settings);
    // Ceilings from the rate rules: a provider's configured limit in
    // messages/s (providers not listed use default_rate).
    void set_ceilings(std::map<std::string, double, std::less<>> ceilings);
    // The policy service's provider buckets (nullptr: none); budget must
    // outlive the learner's use of it (or be reset to nullptr first).
    void set_budget(ProviderBudget* budget) noexcept;

    // The status filter: map_name is "status" or "status-PROVIDER", key the
    // filter's key. Returns the change it made, if any.
    std::optional<BackoffChange> on_status(std::string_view map_name, std::string_view key,
                                           int64_t now_us);
    // A block event for a recipient domain (reason as the bounce classifier
    // names it: "ratelimited", "blocked", ...; text: its diagnostic).
    // Reasons other than ratelimited and blocked change nothing. While the
    // domain's MX lookup is pending the event waits (at most
    // kMaxPendingBlocks of them) and tick() feeds it once the lookup is done.
    // remote_mta (the DSN's Remote-MTA, "dns; mx01.gmx.net" or a bare host)
    // names the provider when the domain's roll-up does not (yet).
    std::optional<BackoffChange> on_block_event(std::string_view domain, std::string_view reason,
                                                std::string_view text, int64_t now_us,
                                                std::string_view remote_mta = {});
    // Recovery and suspension ends; returns the changes made.
    std::vector<BackoffChange> tick(int64_t now_us);

    // The transport_maps answer for key (see above): "TRANSPORT:" or nullopt.
    std::optional<std::string> transport_for(std::string_view key, int64_t now_us);

    // The learned allowed rate of a provider in backoff (messages/s), for
    // the policy service's provider buckets; nullopt when not in backoff.
    std::optional<double> allowed_rate(std::string_view provider, int64_t now_us) const;
    // Backoff level (0 = none) and whether suspended at now_us.
    int level(std::string_view provider) const;
    bool suspended(std::string_view provider, int64_t now_us) const;

    // Persistence through store::ThrottleState (common/store/throttle.h).
    std::vector<store::ProviderState> states() const;
    void load(const std::vector<store::ProviderState>& states);
    // Applies `sendguard backoff clear` stamps from the store: a state whose
    // cleared_at is newer than the one known resets that provider.
    std::vector<BackoffChange> merge_cleared(const std::vector<store::ProviderState>& states,
                                             int64_t now_us);
    bool dirty() const noexcept;
    void mark_clean() noexcept;

    const LearnCounters& counters() const noexcept;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

inline constexpr size_t kMaxPendingBlocks = 256;
inline constexpr size_t kMaxBlocksPerScan = 4096;  // events fed per BlockScanner::scan

// Socketmap map names (see sendguard-policyd(8)).
inline constexpr std::string_view kStatusMap = "status";         // and "status-PROVIDER"
inline constexpr std::string_view kStatusMapPrefix = "status-";
inline constexpr std::string_view kTransportMap = "transport";

// True for "status", "status-PROVIDER" and "transport": the maps the
// learner answers (the dispatcher sends others to SuppressionMaps).
bool is_learn_map(std::string_view name) noexcept;
// The socketmap answer for one request on those maps: status maps always
// NOTFOUND (after learning), transport "OK TRANSPORT:" or NOTFOUND; an
// unknown map name PERM. Never throws for bad input.
net::SocketmapReply learn_lookup(Learner& learner, std::string_view name, std::string_view key,
                                 int64_t now_us);

// Reads block-event rows new since the last scan and feeds them to the
// learner. The first scan only notes where the table stands (events from
// before the daemon started are already reflected in persisted states).
class BlockScanner {
public:
    // Returns the number of events fed.
    size_t scan(const store::SuppressionList& list, Learner& learner, int64_t now_us);

private:
    bool started_ = false;
    int64_t mark_ = 0;                            // highest last_seen seen (unix seconds)
    std::set<std::string, std::less<>> at_mark_;  // domains seen with last_seen == mark_
};

}  // namespace policyd
