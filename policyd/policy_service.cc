// policy_service.cc - see policy_service.h
#include "policyd/policy_service.h"

#include <algorithm>
#include <cstdio>
#include <list>
#include <map>
#include <optional>
#include <span>
#include <stdexcept>
#include <unordered_map>
#include <utility>

#include "common/address/address.h"
#include "common/config/config.h"
#include "common/log/log.h"
#include "common/store/throttle.h"
#include "policyd/providers.h"
#include "policyd/rate.h"
#include "policyd/rules.h"

namespace policyd {

struct PolicyTables {
    std::vector<Rule> rules;
    ProviderTable providers;
};

std::shared_ptr<const PolicyTables> load_policy_tables(const PolicySettings& s) {
    auto t = std::make_shared<PolicyTables>();
    if (!s.rate_rules.empty()) t->rules = load_rules(s.rate_rules);
    t->providers = s.provider_table.empty() ? ProviderTable::builtin()
                                            : ProviderTable::load(s.provider_table);
    // A provider= naming no row would be a rule that never applies.
    std::vector<std::string> names;
    for (const ProviderRow& row : t->providers.rows()) names.push_back(row.name);
    check_rule_providers(t->rules, s.rate_rules, names,
                         s.provider_table.empty()
                             ? std::string("the built-in rows (policyd_provider_table is empty)")
                             : "the built-in rows with policyd_provider_table " + s.provider_table +
                                   " applied");
    return t;
}

std::shared_ptr<const PolicyTables> make_policy_tables(std::vector<Rule> rules,
                                                       ProviderTable providers) {
    auto t = std::make_shared<PolicyTables>();
    t->rules = std::move(rules);
    t->providers = std::move(providers);
    return t;
}

const ProviderTable& provider_table(const PolicyTables& t) noexcept { return t.providers; }

size_t rule_count(const PolicyTables& t) noexcept { return t.rules.size(); }

const std::vector<Rule>& rules(const PolicyTables& t) noexcept { return t.rules; }

std::map<std::string, double, std::less<>> provider_ceilings(const PolicyTables& t) {
    // A provider's configured limit, for the learner: the slowest sustained
    // rate of the rules written for that provider alone.
    std::map<std::string, double, std::less<>> c;
    for (const Rule& r : t.rules) {
        if (r.provider.empty() || r.provider == kDefaultProvider) continue;
        for (const Window& w : r.limits) {
            const double per_s =
                static_cast<double>(w.count) * 1e6 / static_cast<double>(w.period_us);
            auto [it, fresh] = c.emplace(r.provider, per_s);
            if (!fresh) it->second = std::min(it->second, per_s);
        }
    }
    return c;
}

namespace {

// One (rule, key) bucket in memory.
struct Bucket {
    std::vector<GcraState> gcra;
    int64_t updated_us = 0;
    int64_t refused_since_us = 0;  // start of the current refusal window (0: none)
    uint64_t refused = 0;
    uint64_t reserved = 0;  // units open transactions (every instance) hold here
    bool dirty = false;
};

// The usage windows of a customer rule's key, for `sendguard status`.
struct Usage {
    std::vector<store::UsageState::Window> windows;
    std::vector<int64_t> window_start_us;
    uint64_t refused = 0;
    int64_t first_refused_at = 0;
    int64_t updated_us = 0;
    bool dirty = false;
};

// What one transaction has reserved for one bucket.
struct Reservation {
    std::string rule;
    std::string key;
    uint64_t messages = 0;    // 0 or 1
    uint64_t recipients = 0;  // recipients reserved at RCPT
    bool per_message_total;   // count=recipients without a provider dimension
    uint64_t units = 0;       // held in the bucket's reserved units
};

struct Pending {
    int64_t created_us = 0;
    std::string client;  // client_address, for the per-client share
    std::vector<Reservation> reservations;
    std::list<std::string>::iterator order, client_order;
};

constexpr int64_t kEvictionWarnUs = 60 * kSecondUs;  // evictions: one warning a minute

using BucketId = std::pair<std::string, std::string>;  // rule, key

struct BucketIdHash {
    size_t operator()(const BucketId& b) const noexcept {
        return std::hash<std::string>()(b.first) * 31 ^ std::hash<std::string>()(b.second);
    }
};

int64_t longest_period_us(const Rule& r) {
    int64_t p = 0;
    for (const Window& w : r.limits) p = std::max(p, w.period_us);
    return p;
}

// A rule with a provider dimension counts the recipients reserved for it;
// one without counts recipient_count at END-OF-MESSAGE.
bool has_provider_dimension(const Rule& r) {
    if (!r.provider.empty()) return true;
    return std::find(r.key.begin(), r.key.end(), KeyPart::Provider) != r.key.end();
}

// The key of a rule whose bucket belongs to one provider alone: written
// for it (provider=NAME) or keyed on nothing but the provider; nullopt for
// other rules (a customer's bucket, or one keyed on a login too).
std::optional<std::string> provider_key(const Rule& r, std::string_view provider) {
    if (provider.empty() || provider == kDefaultProvider) return std::nullopt;
    if (r.provider != provider && !(r.provider.empty() && !r.key.empty())) return std::nullopt;
    for (KeyPart k : r.key)
        if (k != KeyPart::Provider) return std::nullopt;
    RequestValues values;
    values.provider = provider;
    if (!rule_applies(r, values)) return std::nullopt;
    return rule_key(r, values);
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

// The domain of an address as Postfix sends it (no angle brackets); "" for
// the null sender or text that is no address.
std::string domain_part(std::string_view addr) {
    if (addr.empty()) return {};
    auto d = address::domain_of(addr);
    if (d) return d->str();
    // Postfix may pass addresses the strict parser refuses (a quoted local
    // part it accepted): fall back to the text after the last '@'.
    const size_t at = addr.rfind('@');
    if (at == std::string_view::npos || at + 1 >= addr.size()) return {};
    return lower(addr.substr(at + 1));
}

std::string seconds_text(int64_t us) {
    if (us == kNever) return "never (the limit's burst is below one request)";
    const int64_t s = std::max<int64_t>(1, (us + kSecondUs - 1) / kSecondUs);
    return std::to_string(s) + " s";
}

std::string display_key(std::string_view key) { return key.empty() ? "all senders" : std::string(key); }

}  // namespace

struct PolicyEngine::Impl {
    std::shared_ptr<const PolicyTables> tables;
    ProviderOf provider_of;
    CountAt count_at;
    int64_t pending_timeout_us;
    int64_t no_eom_warned_us = 0;  // last "no END-OF-MESSAGE requests" warning
    size_t max_pending;
    size_t max_pending_per_client;  // max_pending / kPendingClientShare, rounded up

    std::unordered_map<BucketId, Bucket, BucketIdHash> buckets;
    std::unordered_map<BucketId, Usage, BucketIdHash> usage;
    std::unordered_map<std::string, Pending> pending;
    std::list<std::string> pending_order;  // oldest first
    std::unordered_map<std::string, std::list<std::string>> pending_by_client;  // oldest first
    // Evictions not yet in a warning (one a minute).
    uint64_t evicted_unlogged = 0, client_cap_unlogged = 0;
    std::string client_cap_last;  // the last client that reached its share
    int64_t evict_warned_us = 0;
    std::vector<LimitNotice> notices;
    uint64_t notices_unlogged = 0;  // dropped past kMaxNotices since take_notices()
    PolicyCounters counters;

    const Rule* find_rule(std::string_view name) const {
        for (const Rule& r : tables->rules)
            if (r.name == name) return &r;
        return nullptr;
    }

    Bucket& bucket(const Rule& r, const std::string& key) {
        auto [it, fresh] = buckets.try_emplace(BucketId{r.name, key});
        if (it->second.gcra.size() != r.limits.size()) it->second.gcra.assign(r.limits.size(), {});
        return it->second;
    }

    Usage& usage_of(const Rule& r, const std::string& key, int64_t now_us) {
        auto [it, fresh] = usage.try_emplace(BucketId{r.name, key});
        Usage& u = it->second;
        if (u.windows.size() != r.limits.size()) {
            u.windows.assign(r.limits.size(), {});
            u.window_start_us.assign(r.limits.size(), 0);
        }
        for (size_t i = 0; i < r.limits.size(); ++i) {
            const int64_t period = r.limits[i].period_us;
            const int64_t start = window_start_us(period, now_us);  // aligned windows
            auto& w = u.windows[i];
            w.period_s = period / kSecondUs;
            w.limit = r.limits[i].count;
            if (u.window_start_us[i] != start) {
                u.window_start_us[i] = start;
                if (w.used != 0) u.dirty = true;
                w.used = 0;
            }
        }
        return u;
    }

    Pending* find_pending(std::string_view instance) {
        if (instance.empty()) return nullptr;
        auto it = pending.find(std::string(instance));
        return it == pending.end() ? nullptr : &it->second;
    }

    // The transaction's entry, made when absent (nullptr without instance).
    // Making one past a bound evicts first: the client's oldest when it holds
    // its share, then the oldest of all while the table is full.
    Pending* open_pending(std::string_view instance, std::string_view client, int64_t now_us) {
        if (instance.empty()) return nullptr;
        if (Pending* p = find_pending(instance)) return p;
        const std::string client_key(client);
        if (auto mine = pending_by_client.find(client_key);
            mine != pending_by_client.end() && mine->second.size() >= max_pending_per_client)
            evict(mine->second.front(), true, now_us);
        while (pending.size() >= max_pending && !pending_order.empty())
            evict(pending_order.front(), false, now_us);
        std::list<std::string>& mine = pending_by_client[client_key];
        pending_order.emplace_back(instance);
        mine.emplace_back(instance);
        Pending& p = pending[std::string(instance)];
        p.created_us = now_us;
        p.client = client_key;
        p.order = std::prev(pending_order.end());
        p.client_order = std::prev(mine.end());
        return &p;
    }

    // Forgets a transaction (its reservations released or committed before).
    void close_pending(const std::string& instance) {
        auto it = pending.find(instance);
        if (it == pending.end()) return;
        pending_order.erase(it->second.order);
        auto mine = pending_by_client.find(it->second.client);
        if (mine != pending_by_client.end()) {
            mine->second.erase(it->second.client_order);
            if (mine->second.empty()) pending_by_client.erase(mine);
        }
        pending.erase(it);
    }

    // Units a transaction holds in a bucket, seen by every other's check.
    void hold(Bucket& b, Reservation& res, uint64_t units) {
        b.reserved += units;
        res.units += units;
    }

    void release(Reservation& res) {
        auto it = buckets.find(BucketId{res.rule, res.key});
        if (it != buckets.end()) it->second.reserved -= std::min(it->second.reserved, res.units);
        res.units = 0;
    }

    // A transaction that ends without END-OF-MESSAGE: nothing counted.
    void release_all(Pending& p) {
        for (Reservation& res : p.reservations) release(res);
    }

    // END-OF-MESSAGE (or an eviction): the reserved units move to the
    // buckets' committed state; rcpt_count 0 keeps the recipients reserved.
    void commit_all(Pending& p, uint64_t rcpt_count, int64_t now_us) {
        for (Reservation& res : p.reservations) {
            release(res);
            const Rule* r = find_rule(res.rule);
            if (!r) continue;  // removed by a reload since
            const uint64_t recipients =
                res.per_message_total && rcpt_count > 0 ? rcpt_count : res.recipients;
            commit(*r, res.key, res.messages, recipients, now_us);
        }
    }

    // Evicted: counted as sent (its mail may still be), never dropped, so a
    // flood of half transactions frees no budget.
    void evict(std::string instance, bool client_cap, int64_t now_us) {
        auto it = pending.find(instance);
        if (it == pending.end()) return;
        if (client_cap) {
            ++counters.pending_client_cap;
            ++client_cap_unlogged;
            client_cap_last = it->second.client;
        }
        commit_all(it->second, 0, now_us);
        close_pending(instance);
        ++counters.pending_dropped;
        ++evicted_unlogged;
        report_evictions(now_us);
    }

    void report_evictions(int64_t now_us) {
        if (evicted_unlogged == 0) return;
        if (evict_warned_us != 0 && now_us - evict_warned_us < kEvictionWarnUs) return;
        evict_warned_us = now_us;
        logging::Line l("policyd");
        l.kv("pending", "evicted")
            .kv("transactions", static_cast<long long>(evicted_unlogged))
            .kv("reason", "policyd_max_pending transactions hold reservations")
            .kv("max_pending", static_cast<long long>(max_pending))
            .kv("action", "their reservations are counted as sent");
        if (client_cap_unlogged > 0)
            l.kv("client_share", static_cast<long long>(client_cap_unlogged))
                .kv("per_client", static_cast<long long>(max_pending_per_client))
                .kv("last_client", client_cap_last);
        logging::warning(l);
        evicted_unlogged = 0;
        client_cap_unlogged = 0;
    }

    static Reservation* reservation(Pending* p, std::string_view rule, std::string_view key) {
        if (!p) return nullptr;
        for (Reservation& r : p->reservations)
            if (r.rule == rule && r.key == key) return &r;
        return nullptr;
    }

    // Commits units to a bucket (and the usage of rules without a provider
    // dimension); the check was made at RCPT, so a commit over the limit
    // still counts (the mail was accepted).
    void commit(const Rule& r, const std::string& key, uint64_t messages, uint64_t recipients,
                int64_t now_us) {
        const uint64_t cost = r.count == Rule::Count::Messages ? messages : recipients;
        if (cost == 0) return;
        Bucket& b = bucket(r, key);
        charge(r.limits, b.gcra, now_us, cost);  // never fails as a whole
        b.updated_us = now_us;
        b.dirty = true;
        if (!has_provider_dimension(r)) {
            Usage& u = usage_of(r, key, now_us);
            for (auto& w : u.windows) w.used += cost;
            u.updated_us = now_us;
            u.dirty = true;
        }
        ++counters.committed;
    }

    std::string refusal(const Rule& r, const std::string& key, const Verdict& v,
                        const policy::Request& req, int64_t now_us) {
        ++counters.refused;
        Bucket& b = bucket(r, key);
        ++b.refused;
        const int64_t window = std::max<int64_t>(longest_period_us(r), kSecondUs);
        const bool first = b.refused_since_us == 0 || now_us - b.refused_since_us >= window;
        if (first) {
            // Persisted (store::BucketState::refused_since), so a restart
            // does not take the next refusal of this window for a first one.
            b.refused_since_us = now_us;
            b.updated_us = now_us;
            b.dirty = true;
        }
        const std::string limits = format_limits(r.limits);
        if (!has_provider_dimension(r)) {
            Usage& u = usage_of(r, key, now_us);
            ++u.refused;
            if (first || u.first_refused_at == 0) u.first_refused_at = now_us;
            u.updated_us = now_us;
            u.dirty = true;
        }
        if (first) {
            logging::warning(logging::Line("policyd")
                                 .kv("limit", "reached")
                                 .kv("rule", r.name)
                                 .kv("key", display_key(key))
                                 .kv("limits", limits)
                                 .kv("action", action_name(r.action))
                                 .kv("sender", req.sender())
                                 .kv("recipient", req.recipient())
                                 .kv("client", req.client_address())
                                 .kv("sasl_username", req.sasl_username()));
            logging::info(logging::Line("policyd")
                              .kv("event", "limit")
                              .kv("rule", r.name)
                              .kv("key", display_key(key))
                              .kv("window", format_window(r.limits[v.window]))
                              .kv("retry_after", seconds_text(v.retry_after_us)));
            if (notices.size() < kMaxNotices) {
                notices.push_back(LimitNotice{r.name, key, limits, std::string(req.sender()),
                                              std::string(req.recipient()),
                                              std::string(req.client_address()),
                                              std::string(req.sasl_username()), now_us,
                                              has_provider_dimension(r)});
            } else {
                ++counters.notices_dropped;  // reported by take_notices()
                ++notices_unlogged;
            }
        }
        const std::string text = "rule " + r.name + ": " + format_window(r.limits[v.window]) +
                                 " for " + display_key(key) + " reached";
        switch (r.action) {
        case Rule::Action::Defer:
            return "DEFER_IF_PERMIT 4.7.1 " + text + "; try again in " +
                   seconds_text(v.retry_after_us);
        case Rule::Action::Hold:
            return "HOLD " + text;
        case Rule::Action::Reject:
            return "REJECT 5.7.1 " + text;
        case Rule::Action::Filter:
            return "FILTER " + r.filter;
        }
        return "DUNNO";
    }

    std::string rcpt(const policy::Request& req, int64_t now_us) {
        ++counters.rcpt;
        const std::string rcpt_domain = domain_part(req.recipient());
        std::string provider = std::string(kDefaultProvider);
        if (!rcpt_domain.empty() && provider_of) {
            if (auto p = provider_of(rcpt_domain); p && !p->empty()) provider = *p;
        }
        const std::string sender_domain = domain_part(req.sender());
        RequestValues values{.sasl_username = req.sasl_username(),
                             .sender_domain = sender_domain,
                             .client_address = req.client_address(),
                             .policy_context = req.policy_context(),
                             .provider = rcpt_domain.empty() ? std::string_view{} : provider,
                             .recipient_domain = rcpt_domain};
        // With count_at = rcpt, pending only remembers which buckets already
        // counted this message (what it holds is in the buckets already).
        Pending* p = find_pending(req.instance());
        struct Take {
            const Rule* rule;
            std::string key;
            uint64_t messages, recipients;
        };
        std::vector<Take> take;
        for (const Rule& r : tables->rules) {
            if (!rule_applies(r, values)) continue;
            auto key = rule_key(r, values);
            if (!key) continue;
            // Already reserved by this transaction for this bucket.
            const Reservation* held = reservation(p, r.name, *key);
            const uint64_t messages = held && held->messages ? 0 : 1;
            const uint64_t cost = r.count == Rule::Count::Messages ? messages : 1;
            // What every open transaction holds here counts as sent: two
            // transactions never both take the last unit.
            Bucket& b = bucket(r, *key);
            Verdict v = check(r.limits, b.gcra, now_us, b.reserved + cost);
            if (!v.allowed && v.retry_after_us == kNever && b.reserved > 0) {
                // The reservations fill the burst: the recipient fits (in
                // another message) once they are counted.
                std::vector<GcraState> after = b.gcra;
                charge(r.limits, after, now_us, b.reserved);
                v.retry_after_us = check(r.limits, after, now_us, cost).retry_after_us;
            }
            if (!v.allowed && cost > 0) return refusal(r, *key, v, req, now_us);
            take.push_back(Take{&r, std::move(*key), messages, 1});
        }
        if (take.empty()) return "DUNNO";
        if (count_at == CountAt::Rcpt) {
            // Counted now; a message counts once per transaction.
            Pending* seen = open_pending(req.instance(), req.client_address(), now_us);
            for (const Take& t : take) {
                Reservation* held = reservation(seen, t.rule->name, t.key);
                const uint64_t messages = held && held->messages ? 0 : 1;
                commit(*t.rule, t.key, messages, 1, now_us);
                if (seen) {
                    if (!held) seen->reservations.push_back({t.rule->name, t.key, 0, 0, false});
                    reservation(seen, t.rule->name, t.key)->messages = 1;
                }
            }
            return "DUNNO";
        }
        p = open_pending(req.instance(), req.client_address(), now_us);
        if (!p) {
            // No instance to tie END-OF-MESSAGE to: count now.
            for (const Take& t : take) commit(*t.rule, t.key, 1, 1, now_us);
            return "DUNNO";
        }
        for (Take& t : take) {
            Reservation* held = reservation(p, t.rule->name, t.key);
            if (!held) {
                p->reservations.push_back(Reservation{t.rule->name, t.key, 0, 0,
                                                      t.rule->count == Rule::Count::Recipients &&
                                                          !has_provider_dimension(*t.rule)});
                held = &p->reservations.back();
            }
            const uint64_t units =
                t.rule->count == Rule::Count::Messages ? (held->messages ? 0 : 1) : t.recipients;
            held->messages = 1;
            held->recipients += t.recipients;
            hold(bucket(*t.rule, t.key), *held, units);
            ++counters.reserved;
        }
        return "DUNNO";
    }

    std::string end_of_message(const policy::Request& req, int64_t now_us) {
        ++counters.end_of_message;
        const std::string instance(req.instance());
        auto it = pending.find(instance);
        if (it == pending.end()) return "DUNNO";
        if (count_at == CountAt::EndOfMessage)
            commit_all(it->second, req.recipient_count(), now_us);
        else
            release_all(it->second);  // counted at RCPT
        close_pending(instance);
        return "DUNNO";
    }
};

PolicyEngine::PolicyEngine(std::shared_ptr<const PolicyTables> tables, ProviderOf provider_of,
                           CountAt count_at, std::chrono::seconds pending_timeout,
                           size_t max_pending)
    : impl_(std::make_unique<Impl>()) {
    if (!tables) throw std::invalid_argument("PolicyEngine: no tables");
    impl_->tables = std::move(tables);
    impl_->provider_of = std::move(provider_of);
    set_options(count_at, pending_timeout, max_pending);
}

PolicyEngine::~PolicyEngine() = default;

std::string PolicyEngine::decide(const policy::Request& req, int64_t now_us) {
    switch (req.state()) {
    case policy::ProtocolState::Rcpt:
        return impl_->rcpt(req, now_us);
    case policy::ProtocolState::EndOfMessage:
        return impl_->end_of_message(req, now_us);
    default:
        ++impl_->counters.other;
        return "DUNNO";
    }
}

void PolicyEngine::set_tables(std::shared_ptr<const PolicyTables> tables) {
    if (!tables) throw std::invalid_argument("PolicyEngine: no tables");
    // Buckets whose rule changed its windows start again (their TATs belong
    // to other windows).
    for (auto it = impl_->buckets.begin(); it != impl_->buckets.end();) {
        const Rule* old_rule = impl_->find_rule(it->first.first);
        const Rule* new_rule = nullptr;
        for (const Rule& r : tables->rules)
            if (r.name == it->first.first) new_rule = &r;
        if (new_rule && old_rule && new_rule->limits == old_rule->limits) {
            ++it;
        } else if (it->second.reserved > 0) {
            // Open transactions still hold units here: start the windows
            // again but keep the count they release or commit.
            it->second.gcra.clear();
            it->second.dirty = false;
            ++it;
        } else {
            it = impl_->buckets.erase(it);
        }
    }
    impl_->tables = std::move(tables);
}

void PolicyEngine::set_options(CountAt count_at, std::chrono::seconds pending_timeout,
                               size_t max_pending) {
    impl_->count_at = count_at;
    impl_->pending_timeout_us = std::max<int64_t>(pending_timeout.count(), 1) * kSecondUs;
    impl_->max_pending = std::max<size_t>(max_pending, 1);
    impl_->max_pending_per_client =
        (impl_->max_pending + kPendingClientShare - 1) / kPendingClientShare;
}

void PolicyEngine::expire(int64_t now_us) {
    uint64_t expired = 0;
    while (!impl_->pending_order.empty()) {
        const std::string& oldest = impl_->pending_order.front();
        const auto it = impl_->pending.find(oldest);
        if (it != impl_->pending.end() && now_us - it->second.created_us < impl_->pending_timeout_us)
            break;
        if (it == impl_->pending.end()) {
            impl_->pending_order.pop_front();  // never left behind; cannot loop
            continue;
        }
        impl_->release_all(it->second);
        impl_->close_pending(std::string(oldest));
        ++impl_->counters.pending_expired;
        ++expired;
    }
    impl_->report_evictions(now_us);
    // Reservations that expire while no END-OF-MESSAGE request ever came:
    // check_policy_service is only in smtpd_recipient_restrictions, and
    // with policyd_count_at = end-of-message nothing is ever counted. Say
    // so, once an hour, instead of enforcing nothing in silence.
    if (expired && impl_->counters.end_of_message == 0 && impl_->count_at == CountAt::EndOfMessage &&
        (impl_->no_eom_warned_us == 0 || now_us - impl_->no_eom_warned_us >= 3600 * kSecondUs)) {
        impl_->no_eom_warned_us = now_us;
        logging::warning(logging::Line("policyd")
                             .kv("reservations_expired", static_cast<long long>(expired))
                             .kv("reason", "no END-OF-MESSAGE policy request seen: nothing is counted")
                             .kv("fix", "add check_policy_service to smtpd_end_of_data_restrictions too, "
                                        "or set policyd_count_at = rcpt"));
    }
    // A bucket whose every TAT has passed holds nothing: drop it once
    // written (a later request starts a fresh one, which is the same).
    for (auto it = impl_->buckets.begin(); it != impl_->buckets.end();) {
        const Bucket& b = it->second;
        const bool idle = std::all_of(b.gcra.begin(), b.gcra.end(),
                                      [&](const GcraState& g) { return g.tat_us <= now_us; });
        const Rule* r = impl_->find_rule(it->first.first);
        const bool refusal_over =
            b.refused_since_us == 0 ||
            (r && now_us - b.refused_since_us >= std::max<int64_t>(longest_period_us(*r), kSecondUs));
        if (!b.dirty && idle && refusal_over && b.reserved == 0)
            it = impl_->buckets.erase(it);
        else
            ++it;
    }
    for (auto it = impl_->usage.begin(); it != impl_->usage.end();) {
        const Rule* r = impl_->find_rule(it->first.first);
        const bool stale = !r || now_us - it->second.updated_us >= longest_period_us(*r);
        if (!it->second.dirty && stale)
            it = impl_->usage.erase(it);
        else
            ++it;
    }
}

void PolicyEngine::load(const std::vector<store::BucketState>& buckets,
                        const std::vector<store::UsageState>& usage) {
    for (const store::BucketState& s : buckets) {
        const Rule* r = impl_->find_rule(s.rule);
        if (!r || s.tat_us.size() != r->limits.size()) continue;  // rule gone or changed
        // A v1 row has no windows: its TAT count decides. Otherwise the TATs
        // of other windows mean nothing here.
        if (!s.windows.empty() && s.windows != r->limits) continue;
        Bucket& b = impl_->bucket(*r, s.key);
        for (size_t i = 0; i < s.tat_us.size(); ++i) b.gcra[i].tat_us = s.tat_us[i];
        b.updated_us = s.updated;
        b.refused_since_us = s.refused_since;
        b.refused = s.refused;
    }
    for (const store::UsageState& s : usage) {
        const Rule* r = impl_->find_rule(s.rule);
        if (!r || s.windows.size() != r->limits.size()) continue;
        Usage& u = impl_->usage[BucketId{s.rule, s.key}];
        u.windows = s.windows;
        u.window_start_us.assign(s.windows.size(), 0);
        for (size_t i = 0; i < s.windows.size(); ++i) {
            const int64_t period = r->limits[i].period_us;
            // The stored count belongs to the window the row was updated in.
            u.window_start_us[i] = window_start_us(period, s.updated);
        }
        u.refused = s.refused;
        u.first_refused_at = s.first_refused_at;
        u.updated_us = s.updated;
    }
}

std::vector<store::BucketState> PolicyEngine::dirty_buckets() const {
    std::vector<store::BucketState> out;
    for (const auto& [id, b] : impl_->buckets) {
        if (!b.dirty) continue;
        store::BucketState s{.rule = id.first,
                             .key = id.second,
                             .tat_us = {},
                             .updated = b.updated_us,
                             .refused_since = b.refused_since_us,
                             .refused = b.refused,
                             .windows = {}};
        for (const GcraState& g : b.gcra) s.tat_us.push_back(g.tat_us);
        // The rule's limits, so the row says what its TATs mean (sendguard status).
        if (const Rule* r = impl_->find_rule(id.first); r && r->limits.size() == b.gcra.size())
            s.windows = r->limits;
        out.push_back(std::move(s));
    }
    return out;
}

std::vector<store::UsageState> PolicyEngine::dirty_usage() const {
    std::vector<store::UsageState> out;
    for (const auto& [id, u] : impl_->usage) {
        if (!u.dirty) continue;
        out.push_back(store::UsageState{.rule = id.first,
                                        .key = id.second,
                                        .windows = u.windows,
                                        .refused = u.refused,
                                        .first_refused_at = u.first_refused_at,
                                        .updated = u.updated_us});
    }
    return out;
}

void PolicyEngine::mark_clean() noexcept {
    for (auto& [id, b] : impl_->buckets) b.dirty = false;
    for (auto& [id, u] : impl_->usage) u.dirty = false;
}

void PolicyEngine::charge_retry(std::string_view provider, int64_t now_us) {
    bool charged = false;
    for (const Rule& r : impl_->tables->rules) {
        if (auto key = provider_key(r, provider)) {
            impl_->commit(r, *key, 1, 1, now_us);
            charged = true;
        }
    }
    if (charged) ++impl_->counters.retries_charged;
}

bool PolicyEngine::over_limit(std::string_view provider, int64_t now_us) const {
    for (const Rule& r : impl_->tables->rules) {
        auto key = provider_key(r, provider);
        if (!key) continue;
        auto it = impl_->buckets.find(BucketId{r.name, *key});
        if (it == impl_->buckets.end() || it->second.gcra.size() != r.limits.size()) continue;
        if (!check(r.limits, it->second.gcra, now_us, 1).allowed) return true;
    }
    return false;
}

std::vector<LimitNotice> PolicyEngine::take_notices() {
    if (impl_->notices_unlogged > 0) {
        logging::warning(logging::Line("policyd")
                             .kv("notices", "dropped")
                             .kv("count", static_cast<long long>(impl_->notices_unlogged))
                             .kv("reason", "more than " + std::to_string(kMaxNotices) +
                                               " first refusals between two flushes")
                             .kv("action", "their limit=reached warnings are logged above"));
        impl_->notices_unlogged = 0;
    }
    return std::exchange(impl_->notices, {});
}

size_t PolicyEngine::pending() const noexcept { return impl_->pending.size(); }

const PolicyCounters& PolicyEngine::counters() const noexcept { return impl_->counters; }

}  // namespace policyd
