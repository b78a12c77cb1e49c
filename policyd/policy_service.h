// policy_service.h - sendguard-policyd's policy delegation service: rate limits and quotas
//
// Postfix asks (check_policy_service, SMTPD_POLICY_README) at RCPT and, when
// the service is also in smtpd_end_of_data_restrictions, at END-OF-MESSAGE.
// PolicyEngine::decide(request, now_us) answers one request; it is a pure
// function of (tables, state, request, now) plus logging, so unit tests drive
// it with a clock of their own. The service (service.cc) runs it behind a
// policy::PolicyProtocol on the same event loop as the socketmaps.
//
// At RCPT (protocol_state=RCPT):
//   1. the recipient domain is rolled up to its provider (ProviderOf: the MX
//      cache and the provider table; while the MX lookup is pending the
//      domain stands for itself under the provider name "default" - the
//      answer never waits for DNS);
//   2. every rule that applies is checked: customer rules (key= made of
//      sasl_username, sender_domain, client_address, policy_context) and the
//      rules of the recipient's provider (provider=NAME, or provider=default
//      for a domain that matches no provider row, keyed per domain), each
//      with the units every open transaction holds reserved in that bucket
//      (all instances, not only this one: hundreds of smtpd processes ask
//      at once, and each may not take the last unit another holds);
//   3. refused by a rule: that rule's action, by default
//        DEFER_IF_PERMIT 4.7.1 <rule NAME: LIMITS for KEY reached; try again in N s>
//      (HOLD, REJECT 5.7.1 ... or FILTER TRANSPORT:NEXTHOP per rule; see
//      sendguard-policyd(8)). Otherwise the transaction reserves one message
//      per rule key (once per transaction) and, for rules counting
//      recipients, one recipient; the answer is DUNNO.
// At END-OF-MESSAGE: the reservations of that instance move from the
//   buckets' reserved units to what they committed, and to usage (customer
//   rules counting recipients take recipient_count; provider rules the
//   recipients reserved for them); the answer is DUNNO. A transaction that
//   ends without END-OF-MESSAGE (RSET, QUIT, a later REJECT) never reaches
//   it: its reservations are released after policyd_pending_timeout, so
//   refused mail never consumes budget. With policyd_count_at = rcpt every
//   RCPT commits at once instead.
// Any other protocol_state: DUNNO.
//
// Retries (ProviderBudget, policyd/provider_budget.h): the learner reports
// each deferral it sees; charge_retry() commits one unit to every bucket
// keyed on that provider alone, and over_limit() tells the transport map
// when such a bucket is past its limit.
//
// The first refusal of a (rule, key) in a window, customer or provider
// rule, logs one warning and one event line (policyd: event=limit ...),
// and queues a notice for policyd_limit_notify; later refusals of the same
// window are counted only. At most kMaxNotices wait for take_notices();
// more are counted (PolicyCounters::notices_dropped) and take_notices()
// logs how many were dropped since its last call.
//
// Bounds: at most policyd_max_pending transactions hold reservations, and
// one client_address at most a kPendingClientShare-th of them. Past either
// the oldest transaction (of all, or of that client) is evicted and its
// reservations are committed as END-OF-MESSAGE would (conservative: its mail
// may still be sent; dropping them would let a flood of half transactions
// free budget); a warning once a minute counts the evictions. Every key is
// cut to store::kThrottleMaxKey bytes, in-memory buckets not touched for
// their longest window (and holding no reservation) are dropped by
// expire().
//
// Persistence: dirty_buckets()/dirty_usage() give what changed since the last
// mark_clean(), for store::ThrottleState::write_batch; load() takes the rows
// read at start. A bucket row carries its TATs, the rule's windows and the
// start of its refusal window (so a restart does not repeat a first-refusal
// warning or notice). Buckets of rules that no longer exist, or whose
// windows changed, are ignored.
//
// Errors: decide() throws (std::exception) only for internal failures; the
// protocol then answers policyd_policy_error_action with a warning.
// load_policy_tables() throws config::Error naming file:line of a bad rule
// or provider row. Thread safety: one thread (the event loop's).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/net/endpoint.h"
#include "common/policy/request.h"
#include "policyd/provider_budget.h"

namespace store {
struct BucketState;
struct UsageState;
}  // namespace store

namespace policyd {

enum class CountAt { EndOfMessage, Rcpt };

// The policy service's parameters (policyd_policy_*, policyd_count_at, ...),
// part of Settings (settings.h).
struct PolicySettings {
    std::vector<net::Endpoint> listen;      // policyd_policy_listen
    std::vector<std::string> listen_text;   // as configured, for messages
    policy::Limits limits{};                // max_line, max_attributes, max_request
    std::string error_action;               // policyd_policy_error_action
    CountAt count_at = CountAt::EndOfMessage;
    std::string limit_notify;               // "" : no notice mail
    std::string notify_command;             // policyd_notify_command (sendmail)
    std::chrono::seconds flush_interval{};  // policyd_state_flush_interval
    std::chrono::seconds pending_timeout{}; // policyd_pending_timeout
    size_t max_pending = 0;                 // policyd_max_pending
    std::string rate_rules;                 // file; "" : no rules
    std::string provider_table;             // file; "" : built-in rows only
    bool operator==(const PolicySettings&) const = default;
};

// The loaded rate rules and provider table (opaque here: see policy_service.cc).
struct PolicyTables;
struct Rule;
class ProviderTable;

// Loads policyd_rate_rules and policyd_provider_table; throws config::Error
// naming file:line (or the parameter) for a bad file.
std::shared_ptr<const PolicyTables> load_policy_tables(const PolicySettings& s);
// Tables from rules and a provider table already parsed (tests, benches).
std::shared_ptr<const PolicyTables> make_policy_tables(std::vector<Rule> rules,
                                                       ProviderTable providers);
size_t rule_count(const PolicyTables& t) noexcept;
const std::vector<Rule>& rules(const PolicyTables& t) noexcept;
// The provider table of the MX roll-up (the learner maps hosts with it too).
const ProviderTable& provider_table(const PolicyTables& t) noexcept;
// Per provider, the slowest sustained rate (messages/s) of the rules written
// for it (provider=NAME): the ceiling its learned rate recovers to.
std::map<std::string, double, std::less<>> provider_ceilings(const PolicyTables& t);

// A recipient domain's provider after the MX roll-up: the provider name,
// "" for a domain of its own (provider=default rules apply), nullopt while
// its MX lookup is pending (the lookup has been started).
using ProviderOf = std::function<std::optional<std::string>(std::string_view domain)>;

// A first refusal in a window, for the notice mail.
struct LimitNotice {
    std::string rule;
    std::string key;
    std::string limits;  // as written in the rule
    std::string sender, recipient, client_address, sasl_username;
    int64_t at_us = 0;
    bool provider_rule = false;  // the rule is written for recipients' providers
};

inline constexpr size_t kMaxNotices = 64;         // waiting for take_notices()
inline constexpr size_t kPendingClientShare = 8;  // one client: max_pending / 8

struct PolicyCounters {
    uint64_t rcpt = 0, end_of_message = 0, other = 0;
    uint64_t refused = 0, reserved = 0, committed = 0;
    uint64_t pending_expired = 0;
    uint64_t pending_dropped = 0;     // evicted (reservations committed), all causes
    uint64_t pending_client_cap = 0;  // of those, by the per-client share
    uint64_t retries_charged = 0;     // deferrals charged to provider buckets
    uint64_t notices_dropped = 0;     // first refusals past kMaxNotices
};

class PolicyEngine final : public ProviderBudget {
public:
    PolicyEngine(std::shared_ptr<const PolicyTables> tables, ProviderOf provider_of,
                 CountAt count_at, std::chrono::seconds pending_timeout, size_t max_pending);
    ~PolicyEngine() override;
    PolicyEngine(const PolicyEngine&) = delete;
    PolicyEngine& operator=(const PolicyEngine&) = delete;

    // The action for one request (see above).
    std::string decide(const policy::Request& req, int64_t now_us);

    // A reload: new tables and settings for the next request. Buckets of
    // rules kept by name stay; pending reservations stay.
    void set_tables(std::shared_ptr<const PolicyTables> tables);
    void set_options(CountAt count_at, std::chrono::seconds pending_timeout, size_t max_pending);

    // Releases expired reservations, drops idle buckets, logs evictions not
    // yet reported.
    void expire(int64_t now_us);

    // ProviderBudget (see above and provider_budget.h).
    void charge_retry(std::string_view provider, int64_t now_us) override;
    bool over_limit(std::string_view provider, int64_t now_us) const override;

    // Persistence (store::ThrottleState).
    void load(const std::vector<store::BucketState>& buckets,
              const std::vector<store::UsageState>& usage);
    std::vector<store::BucketState> dirty_buckets() const;
    std::vector<store::UsageState> dirty_usage() const;
    void mark_clean() noexcept;

    // First refusals since the last call (for policyd_limit_notify); logs
    // a warning with the count of those dropped past kMaxNotices.
    std::vector<LimitNotice> take_notices();

    size_t pending() const noexcept;
    const PolicyCounters& counters() const noexcept;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace policyd
