// learner.cc - see learner.h
#include "policyd/learner.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "common/log/log.h"
#include "common/store/suppression.h"
#include "common/store/throttle.h"
#include "policyd/learn_signal.h"

namespace policyd {

namespace {

constexpr int64_t kUsPerSec = 1000000;
constexpr size_t kMaxProviders = 4096;  // states kept; a provider table has tens of rows
constexpr size_t kMaxDomain = 253;

double per_hour(double per_second) { return per_second * 3600.0; }

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

bool no_provider(std::string_view p) { return p.empty() || p == "default"; }

std::string rate_text(double per_hour_value) {
    // Whole messages per hour is what operators read in sendguard status.
    return std::to_string(std::llround(per_hour_value)) + "/h";
}

void log_change(const BackoffChange& c, int64_t now_us) {
    logging::Line l("policyd");
    l.kv("backoff", c.source)
        .kv("provider", c.provider)
        .kv("old_rate", rate_text(per_hour(c.old_rate)))
        .kv("new_rate", c.new_level == 0 ? std::string("none") : rate_text(per_hour(c.new_rate)))
        .kv("old_level", c.old_level)
        .kv("level", c.new_level);
    if (c.suspended_until_us > now_us)
        l.kv("suspended_for", (c.suspended_until_us - now_us + kUsPerSec - 1) / kUsPerSec);
    if (!c.reply.empty()) l.kv("reply", c.reply);
    logging::info(l);
}

}  // namespace

struct Learner::Impl {
    LearnSettings settings;
    Destinations dest;
    std::map<std::string, double, std::less<>> ceilings;  // messages/s
    std::map<std::string, store::ProviderState, std::less<>> states;
    LearnCounters counters;
    ProviderBudget* budget = nullptr;
    bool dirty = false;
    struct PendingBlock {
        std::string domain, reason, text, remote_mta;
    };
    std::vector<PendingBlock> pending_blocks;  // MX lookup pending (kMaxPendingBlocks)
    // Providers whose suspension was logged and whose end is to be logged.
    std::set<std::string, std::less<>> suspended;

    double ceiling(std::string_view provider) const {
        auto it = ceilings.find(provider);
        return it != ceilings.end() && it->second > 0 ? it->second : settings.default_rate;
    }
    AimdBounds bounds(std::string_view provider) const {
        return AimdBounds{settings.decrease, settings.min_rate, settings.recovery_step,
                          settings.quiet_period.count() * kUsPerSec,
                          settings.hold_down.count() * kUsPerSec,
                          settings.max_suspend.count() * kUsPerSec, ceiling(provider)};
    }
    // The state of provider, created when absent (nullptr past kMaxProviders).
    store::ProviderState* state(const std::string& provider) {
        auto it = states.find(provider);
        if (it != states.end()) return &it->second;
        if (states.size() >= kMaxProviders) return nullptr;
        store::ProviderState s;
        s.provider = provider;
        s.configured_per_hour = per_hour(ceiling(provider));
        return &states.emplace(provider, std::move(s)).first->second;
    }
    std::optional<BackoffChange> signal(const std::string& provider, std::string_view reply,
                                        int64_t retry_after_s, std::string_view source,
                                        int64_t now_us);
    // A deferral is one more attempt the provider will count.
    void charge_retry(const std::string& provider, int64_t now_us) {
        if (!budget) return;
        budget->charge_retry(provider, now_us);
        ++counters.retries_charged;
    }
};

std::optional<BackoffChange> Learner::Impl::signal(const std::string& provider,
                                                   std::string_view reply, int64_t retry_after_s,
                                                   std::string_view source, int64_t now_us) {
    store::ProviderState* s = state(provider);
    if (!s) return std::nullopt;
    ++counters.signals;
    const AimdBounds b = bounds(provider);
    const double old_rate = s->allowed_per_hour / 3600.0;
    const int old_level = static_cast<int>(s->level);
    const bool changed = aimd_signal(*s, b, retry_after_s, now_us);
    s->last_reply = std::string(reply.substr(0, store::kThrottleMaxReply));
    s->last_reply_at = now_us;
    s->updated = now_us;
    dirty = true;
    if (!changed) return std::nullopt;
    if (s->suspended_until > now_us) suspended.insert(provider);
    BackoffChange c{provider,
                    old_level ? old_rate : b.ceiling,
                    s->allowed_per_hour / 3600.0,
                    old_level,
                    static_cast<int>(s->level),
                    s->suspended_until > now_us ? s->suspended_until : 0,
                    std::string(source),
                    s->last_reply};
    log_change(c, now_us);
    return c;
}

Destinations make_destinations(const ProviderTable& table, MxHosts mx_hosts) {
    Destinations d;
    d.provider_of_host = [&table](std::string_view host) {
        return table.provider_of_host(host).value_or(std::string());
    };
    d.is_provider = [&table](std::string_view name) { return table.find(name) != nullptr; };
    d.provider_of_domain = [&table, mx = std::move(mx_hosts)](
                               std::string_view domain) -> std::optional<std::string> {
        std::optional<std::vector<std::string>> hosts = mx(domain);
        if (!hosts) return std::nullopt;
        Destination dest = table.rollup(domain, *hosts);
        if (dest.provider == kDefaultProvider) return std::string();
        return std::move(dest.provider);
    };
    return d;
}

Destinations make_destinations(const ProviderTable& table, MxCache& mx) {
    return make_destinations(table, [&mx](std::string_view domain) { return mx.hosts(domain); });
}

Learner::Learner(LearnSettings settings, Destinations destinations)
    : impl_(std::make_unique<Impl>()) {
    impl_->settings = std::move(settings);
    impl_->dest = std::move(destinations);
}

Learner::~Learner() = default;

void Learner::set_settings(LearnSettings settings) { impl_->settings = std::move(settings); }

void Learner::set_budget(ProviderBudget* budget) noexcept { impl_->budget = budget; }

void Learner::set_ceilings(std::map<std::string, double, std::less<>> ceilings) {
    impl_->ceilings = std::move(ceilings);
    for (auto& [name, s] : impl_->states) {
        const double c = per_hour(impl_->ceiling(name));
        if (s.configured_per_hour != c) {
            s.configured_per_hour = c;
            impl_->dirty = true;
        }
    }
}

std::optional<BackoffChange> Learner::on_status(std::string_view map_name, std::string_view key,
                                                int64_t now_us) {
    Impl& m = *impl_;
    ++m.counters.status_keys;
    std::string named;  // the provider the map name names ("status-gmx")
    if (map_name.size() > kStatusMapPrefix.size() && map_name.starts_with(kStatusMapPrefix)) {
        named = std::string(map_name.substr(kStatusMapPrefix.size()));
        // Not a provider row's name: learn from the host as on "status".
        if (check_provider_name(named) || named == kDefaultProvider ||
            (m.dest.is_provider && !m.dest.is_provider(named))) {
            ++m.counters.bad_map_names;
            named.clear();
        }
    }
    const StatusSignal sig = classify_status_key(key, m.settings.patterns.get());
    if (sig.kind == StatusKind::Malformed) {
        ++m.counters.malformed;
        return std::nullopt;
    }
    if (sig.kind == StatusKind::Success) {
        // No host on a success (FACTS.md): only the map name can say whose.
        if (named.empty()) {
            ++m.counters.successes_uncredited;
            return std::nullopt;
        }
        if (store::ProviderState* s = m.state(named)) {
            ++s->successes;
            s->updated = now_us;
            m.dirty = true;
            ++m.counters.successes_credited;
        }
        return std::nullopt;
    }
    std::string provider = named;
    if (provider.empty() && !sig.host.empty() && m.dest.provider_of_host)
        provider = m.dest.provider_of_host(sig.host);
    if (no_provider(provider)) {
        ++m.counters.unknown_host;
        return std::nullopt;
    }
    if (sig.kind != StatusKind::RateLimit) {
        // Ordinary temporary (or permanent) failures: remembered, never a signal.
        ++m.counters.ordinary;
        if (sig.kind != StatusKind::Temporary) return std::nullopt;
        m.charge_retry(provider, now_us);
        if (store::ProviderState* s = m.state(provider)) {
            ++s->deferrals;
            s->last_reply = std::string(sig.reply.substr(0, store::kThrottleMaxReply));
            s->last_reply_at = now_us;
            s->updated = now_us;
            m.dirty = true;
        }
        return std::nullopt;
    }
    m.charge_retry(provider, now_us);
    if (store::ProviderState* s = m.state(provider)) {
        ++s->deferrals;
        ++s->rate_signals;
    }
    return m.signal(provider, sig.reply, sig.retry_after_s, "status", now_us);
}

std::optional<BackoffChange> Learner::on_block_event(std::string_view domain,
                                                     std::string_view reason,
                                                     std::string_view text, int64_t now_us,
                                                     std::string_view remote_mta) {
    Impl& m = *impl_;
    ++m.counters.block_events;
    if (reason != "ratelimited" && reason != "blocked") return std::nullopt;
    if (domain.empty() || domain.size() > kMaxDomain) return std::nullopt;
    std::optional<std::string> provider;
    if (m.dest.provider_of_domain) provider = m.dest.provider_of_domain(lower(domain));
    if ((!provider || no_provider(*provider)) && m.dest.provider_of_host) {
        std::string_view host = remote_mta;
        if (size_t semi = host.find(';'); semi != std::string_view::npos) host.remove_prefix(semi + 1);
        while (!host.empty() && (host.front() == ' ' || host.front() == '\t')) host.remove_prefix(1);
        while (!host.empty() && (host.back() == ' ' || host.back() == '.')) host.remove_suffix(1);
        if (!host.empty() && host.size() <= kMaxDomain) {
            std::string p = m.dest.provider_of_host(lower(host));
            if (!no_provider(p)) provider = std::move(p);
        }
    }
    if (!provider) {  // the MX lookup is pending: tick() tries again
        if (m.pending_blocks.size() < kMaxPendingBlocks)
            m.pending_blocks.push_back({lower(domain), std::string(reason),
                                        std::string(text.substr(0, store::kThrottleMaxReply)),
                                        std::string(remote_mta.substr(0, kMaxDomain + 8))});
        return std::nullopt;
    }
    if (no_provider(*provider)) return std::nullopt;
    if (store::ProviderState* s = m.state(*provider)) ++s->rate_signals;
    return m.signal(*provider, text, 0, "block", now_us);
}

std::vector<BackoffChange> Learner::tick(int64_t now_us) {
    Impl& m = *impl_;
    std::vector<BackoffChange> out;
    if (!m.pending_blocks.empty()) {
        std::vector<Impl::PendingBlock> waiting;
        waiting.swap(m.pending_blocks);
        for (const Impl::PendingBlock& p : waiting) {
            --m.counters.block_events;  // counted when it arrived
            if (auto c = on_block_event(p.domain, p.reason, p.text, now_us, p.remote_mta))
                out.push_back(std::move(*c));
        }
    }
    for (auto& [name, s] : m.states) {
        if (s.level == 0) continue;
        const AimdBounds b = m.bounds(name);
        const double old_rate = s.allowed_per_hour / 3600.0;
        const int old_level = static_cast<int>(s.level);
        const bool ended = s.suspended_until <= now_us && m.suspended.erase(name) > 0;
        if (!aimd_tick(s, b, now_us) && !ended) continue;
        s.updated = now_us;
        m.dirty = true;
        BackoffChange c{name,
                        old_rate,
                        s.allowed_per_hour / 3600.0,
                        old_level,
                        static_cast<int>(s.level),
                        0,
                        ended ? "suspension-end" : "recovery",
                        {}};
        log_change(c, now_us);
        out.push_back(std::move(c));
    }
    return out;
}

std::optional<std::string> Learner::transport_for(std::string_view key, int64_t now_us) {
    Impl& m = *impl_;
    // trivial-rewrite asks a socketmap for the full address only (learner.h):
    // the domain after its last '@' decides; a key without '@' is a domain.
    std::string_view domain = key;
    if (const size_t at = key.rfind('@'); at != std::string_view::npos) domain = key.substr(at + 1);
    if (domain.empty() || domain.size() > kMaxDomain || domain.front() == '.' || domain == "*" ||
        !m.dest.provider_of_domain)
        return std::nullopt;
    std::optional<std::string> provider = m.dest.provider_of_domain(lower(domain));
    if (!provider || no_provider(*provider)) return std::nullopt;
    int level = 0;
    if (auto it = m.states.find(*provider); it != m.states.end() && it->second.level > 0) {
        const store::ProviderState& s = it->second;
        // A suspended provider goes to its slowest transport.
        level = s.suspended_until > now_us ? 1000 : transport_level(s, m.bounds(*provider));
    }
    // Not in backoff, but over the budget of its rules: paced all the same.
    const bool over = level < 1 && m.budget && m.budget->over_limit(*provider, now_us);
    if (over) level = 1;
    if (level < 1) return std::nullopt;
    std::string_view t = m.settings.transports.for_level(*provider, level);
    if (t.empty()) return std::nullopt;
    ++m.counters.transport_answers;
    if (over) ++m.counters.over_limit_answers;
    return std::string(t) + ":";
}

std::optional<double> Learner::allowed_rate(std::string_view provider, int64_t now_us) const {
    auto it = impl_->states.find(provider);
    if (it == impl_->states.end() || it->second.level == 0) return std::nullopt;
    if (it->second.suspended_until > now_us) return 0.0;
    return it->second.allowed_per_hour / 3600.0;
}

int Learner::level(std::string_view provider) const {
    auto it = impl_->states.find(provider);
    return it == impl_->states.end() ? 0 : static_cast<int>(it->second.level);
}

bool Learner::suspended(std::string_view provider, int64_t now_us) const {
    auto it = impl_->states.find(provider);
    return it != impl_->states.end() && it->second.suspended_until > now_us;
}

std::vector<store::ProviderState> Learner::states() const {
    std::vector<store::ProviderState> out;
    out.reserve(impl_->states.size());
    for (const auto& [name, s] : impl_->states) out.push_back(s);
    return out;
}

void Learner::load(const std::vector<store::ProviderState>& states) {
    Impl& m = *impl_;
    for (const store::ProviderState& in : states) {
        if (in.provider.empty()) continue;
        auto it = m.states.find(in.provider);
        if (it == m.states.end()) {
            if (m.states.size() >= kMaxProviders) continue;
            m.states.emplace(in.provider, in);
        } else if (in.cleared_at > it->second.cleared_at) {
            it->second = in;
        } else {
            continue;
        }
        if (in.level > 0 && in.suspended_until > 0) m.suspended.insert(in.provider);
        else m.suspended.erase(in.provider);
    }
}

std::vector<BackoffChange> Learner::merge_cleared(const std::vector<store::ProviderState>& states,
                                                  int64_t now_us) {
    Impl& m = *impl_;
    std::vector<BackoffChange> out;
    for (const store::ProviderState& in : states) {
        auto it = m.states.find(in.provider);
        if (it == m.states.end()) continue;
        store::ProviderState& s = it->second;
        if (in.cleared_at <= s.cleared_at) continue;
        BackoffChange c{s.provider, s.allowed_per_hour / 3600.0, 0, static_cast<int>(s.level), 0,
                        0, "cleared", {}};
        s.cleared_at = in.cleared_at;
        s.allowed_per_hour = 0;
        s.level = 0;
        s.suspended_until = 0;
        s.last_change = now_us;
        s.updated = now_us;
        m.dirty = true;
        m.suspended.erase(s.provider);
        if (c.old_level == 0) continue;
        log_change(c, now_us);
        out.push_back(std::move(c));
    }
    return out;
}

bool Learner::dirty() const noexcept { return impl_->dirty; }
void Learner::mark_clean() noexcept { impl_->dirty = false; }
const LearnCounters& Learner::counters() const noexcept { return impl_->counters; }

bool is_learn_map(std::string_view name) noexcept {
    return name == kStatusMap || name == kTransportMap ||
           (name.size() > kStatusMapPrefix.size() && name.starts_with(kStatusMapPrefix));
}

net::SocketmapReply learn_lookup(Learner& learner, std::string_view name, std::string_view key,
                                 int64_t now_us) {
    if (name == kTransportMap) {
        std::optional<std::string> t = learner.transport_for(key, now_us);
        return t ? net::SocketmapReply::ok(std::move(*t)) : net::SocketmapReply::not_found();
    }
    if (is_learn_map(name)) {
        (void)learner.on_status(name, key, now_us);
        return net::SocketmapReply::not_found();  // never changes a delivery
    }
    return net::SocketmapReply::perm("unknown map name");
}

size_t BlockScanner::scan(const store::SuppressionList& list, Learner& learner, int64_t now_us) {
    struct Row {
        std::string domain, reason, text, remote_mta;
    };
    std::vector<Row> rows;
    int64_t high = mark_;
    std::set<std::string, std::less<>> at_high;
    list.for_each_block([&](std::string_view domain, const store::BlockRecord& r) {
        const bool fresh = r.last_seen > mark_ || (r.last_seen == mark_ && !at_mark_.contains(domain));
        if (fresh && started_ && rows.size() < kMaxBlocksPerScan) {
            std::string text = r.status.empty() ? r.diagnostic : r.status + " " + r.diagnostic;
            rows.push_back({std::string(domain), r.reason, std::move(text), r.remote_mta});
        }
        if (r.last_seen > high) {
            high = r.last_seen;
            at_high.clear();
        }
        if (r.last_seen == high && at_high.size() < kMaxBlocksPerScan) at_high.emplace(domain);
        return true;
    });
    if (high == mark_) at_mark_.merge(at_high);
    else at_mark_ = std::move(at_high);
    mark_ = high;
    started_ = true;
    for (const Row& r : rows) learner.on_block_event(r.domain, r.reason, r.text, now_us, r.remote_mta);
    return rows.size();
}

}  // namespace policyd
