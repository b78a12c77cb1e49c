// service.cc - see service.h
#include "policyd/service.h"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include <chrono>

#include "common/daemon/instance_lock.h"
#include "common/daemon/log_setup.h"
#include "common/log/log.h"
#include "common/net/event_loop.h"
#include "common/net/listener.h"
#include "common/policy/protocol.h"
#include "common/store/setup.h"
#include "common/store/suppression.h"
#include "common/store/throttle.h"
#include "policyd/learner.h"
#include "policyd/limit_notice.h"
#include "policyd/mx_cache.h"
#include "policyd/policy_service.h"
#include "policyd/providers.h"
#include "policyd/rate.h"
#include "policyd/rules.h"
#include "policyd/socketmap_service.h"

namespace policyd {
namespace {

std::string join(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& e : v) s += (s.empty() ? "" : ", ") + e;
    return s;
}

// Rule and backoff state use the wall clock; a step back of more than a
// second is logged once (rate.h clamps state left ahead of it).
void watch_clock(int64_t now_us) {
    static int64_t latest_us = 0;  // the loop's thread only
    if (latest_us != 0 && now_us < latest_us - 1'000'000)
        logging::warning(logging::Line("policyd")
                             .kv("clock", "stepped back")
                             .kv("by_seconds", static_cast<long long>((latest_us - now_us) / 1'000'000))
                             .kv("effect", "rate state ahead of the clock is clamped to one burst"));
    latest_us = now_us;
}

std::string octal(mode_t m) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(m));
    return buf;
}

int64_t wall_now_us() {
    const int64_t now = std::chrono::duration_cast<std::chrono::microseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    watch_clock(now);
    return now;
}

// The connection limits of next with the request limits the policy
// connections run with (policy_limits fixed at start: see apply()).
net::ServerLimits policy_limits(const net::ServerLimits& limits, const policy::Limits& request) {
    net::ServerLimits l = limits;
    l.max_input = policy::server_max_input(request);
    return l;
}

MxCacheOptions mx_options(const Settings& s) {
    MxCacheOptions o;
    o.limits = s.dns.cache;
    o.budget = s.dns.timeout;
    return o;
}

constexpr std::chrono::minutes kPurgeInterval{10};

// The rules and provider table, and how long a throttle row may stay idle.
// Loads policyd_rate_rules and policyd_provider_table, once each file is
// known to open (check_files_readable names the parameter); a bad file is a
// config::Error naming file:line, at start a fatal error.
std::shared_ptr<const PolicyTables> load_tables(const Settings& s) {
    check_files_readable(s);
    return load_policy_tables(s.policy);
}

// The lock that keeps a second daemon off this state_directory, taken
// before the listeners open (a second one would replace their sockets).
daemons::InstanceLock lock_state_directory(const Settings& s) {
    const std::string path = s.state_directory + "/sendguard-policyd.lock";
    try {
        return daemons::InstanceLock(path);
    } catch (const daemons::InstanceLock::Busy& e) {
        throw daemons::invalid(
            *s.config, "state_directory", s.state_directory,
            "in use by another sendguard-policyd: " + std::string(e.what()) +
                "; stop that one, or give each daemon its own state_directory");
    } catch (const std::exception& e) {
        throw daemons::invalid(*s.config, "state_directory", s.state_directory, e.what());
    }
}

class PolicydService final : public daemons::Service<Settings> {
public:
    explicit PolicydService(const Settings& s)
        : settings_(s),
          tables_(load_tables(s)),
          maps_(store::open_suppression_store(*s.config, false), s.maps),
          lock_(lock_state_directory(s)),
          throttle_(std::in_place, maps_.env()),
          mx_(loop_,
              std::make_shared<const dns::Resolver>(dns::ResolverOptions{.servers = s.dns.servers}),
              mx_options(s)),
          learner_(s.learn, destinations()),
          engine_(tables_, [this](std::string_view d) { return provider_of_domain(d); },
                  s.policy.count_at, s.policy.pending_timeout, s.policy.max_pending),
          policy_server_(loop_, "policy",
                         policy::policy_factory(
                             [this](const net::Peer& peer, const policy::Request& req) {
                                 if (!settings_.policy_clients.allows(peer))
                                     return refuse_policy(peer);
                                 return engine_.decide(req, wall_now_us());
                             },
                             s.policy.limits,
                             policy::Options{.error_action = s.policy.error_action,
                                             .component = "policyd"},
                             policy_stats_),
                         policy_limits(s.limits, s.policy.limits)),
          server_(
              loop_, "socketmap",
              [this](const net::Peer& peer) -> std::unique_ptr<net::Protocol> {
                  return std::make_unique<net::SocketmapProtocol>(handler_, settings_.socketmap,
                                                                  peer);
              },
              s.limits) {
        handler_ = std::make_shared<const net::SocketmapHandler>(
            [this](const net::Peer& peer, std::string_view n, std::string_view k) {
                return socketmap_lookup(maps_, learner_, peer, n, k, wall_now_us());
            });
        learner_.set_ceilings(provider_ceilings(*tables_));
        // Deferrals charge the provider buckets; their state paces transports.
        learner_.set_budget(&engine_);
        mx_.set_on_result([this](const std::string& domain) {
            if (!logging::verbose()) return;
            auto hosts = mx_.hosts(domain);
            if (!hosts) return;
            const Destination d = provider_table(*tables_).rollup(domain, *hosts);
            logging::debug(logging::Line("policyd")
                               .kv("mx", domain)
                               .kv("hosts", join(*hosts))
                               .kv("provider", d.provider));
        });
        load_state();
        const net::ListenOptions lo{.unix_mode = s.socket_mode, .unix_group = s.socket_gid};
        for (const auto& ep : s.socketmap_listen) {
            try {
                server_.add_listener(net::Listener::open(ep, lo));
            } catch (const std::exception& e) {
                throw daemons::invalid(*s.config, "policyd_socketmap_listen", ep.str(), e.what());
            }
            logging::info(logging::Line("policyd").kv("listen", ep.str()));
        }
        for (const auto& ep : s.policy.listen) {
            try {
                policy_server_.add_listener(net::Listener::open(ep, lo));
            } catch (const std::exception& e) {
                throw daemons::invalid(*s.config, "policyd_policy_listen", ep.str(), e.what());
            }
            logging::info(logging::Line("policyd").kv("listen", ep.str()).kv("service", "policy"));
        }
    }

    ~PolicydService() override {
        try {
            flush_state(wall_now_us());
        } catch (const std::exception& e) {
            logging::warning(logging::Line("policyd").kv("state", "not saved").kv("error", e.what()));
        }
    }

    void serve(daemons::Control& control) override {
        // Now as policyd_user: a file only root can read would fail every
        // reload; better a fatal error now, naming the file and the fix.
        check_files_readable(settings_);
        loop_.handle_signals([&control] { control.reload(); }, [this] { stop(); });
        arm_store_check();
        arm_flush();
        arm_purge();
        loop_.run();
        logging::info(logging::Line("policyd").kv("stop", "signal"));
    }

    // settings_ keeps what needs a restart as it runs, so every later
    // reload reports it again until the restart; only the live fields change.
    void apply(const Settings& next, daemons::Changes& changes) override {
        const Settings& run = settings_;
        changes.restart_only("policyd_socketmap_listen", join(run.socketmap_listen_text),
                             join(next.socketmap_listen_text));
        changes.restart_only("policyd_socket_mode", octal(run.socket_mode),
                             octal(next.socket_mode));
        changes.restart_only("policyd_socket_group", run.socket_group, next.socket_group);
        changes.restart_only("policyd_user", run.user, next.user);
        changes.restart_only("policyd_pid_file", run.pid_file, next.pid_file);
        changes.restart_only("policyd_policy_listen", join(run.policy.listen_text),
                             join(next.policy.listen_text));
        changes.restart_only("dns_servers", join(servers_text(run)), join(servers_text(next)));
        // The policy decoder's limits and error action are fixed in the
        // policy listener's protocol factory at start.
        changes.restart_only("policyd_policy_max_line", std::to_string(run.policy.limits.max_line),
                             std::to_string(next.policy.limits.max_line));
        changes.restart_only("policyd_policy_max_attributes",
                             std::to_string(run.policy.limits.max_attributes),
                             std::to_string(next.policy.limits.max_attributes));
        changes.restart_only("policyd_policy_error_action", run.policy.error_action,
                             next.policy.error_action);
        changes.store_restart_only(*run.config, *next.config);
        // Everything that can fail first: a bad rules or provider file keeps
        // the running tables (reload=failed names its file:line).
        const std::shared_ptr<const PolicyTables> tables = load_tables(next);
        server_.set_limits(next.limits);  // throws (nothing changed yet) only for a zero limit
        policy_server_.set_limits(policy_limits(next.limits, run.policy.limits));
        tables_ = tables;
        engine_.set_tables(tables);
        engine_.set_options(next.policy.count_at, next.policy.pending_timeout,
                            next.policy.max_pending);
        learner_.set_settings(next.learn);
        learner_.set_ceilings(provider_ceilings(*tables));
        settings_.policy.count_at = next.policy.count_at;
        settings_.policy.pending_timeout = next.policy.pending_timeout;
        settings_.policy.max_pending = next.policy.max_pending;
        settings_.policy.flush_interval = next.policy.flush_interval;
        settings_.policy.limit_notify = next.policy.limit_notify;
        settings_.policy.notify_command = next.policy.notify_command;
        notices_.set_command(next.policy.notify_command);
        settings_.policy.rate_rules = next.policy.rate_rules;
        settings_.policy.provider_table = next.policy.provider_table;
        settings_.learn = next.learn;
        logging::info(logging::Line("policyd")
                          .kv("rules", static_cast<long long>(rule_count(*tables)))
                          .kv("rate_rules", next.policy.rate_rules.empty() ? "none"
                                                                           : next.policy.rate_rules)
                          .kv("provider_table", next.policy.provider_table.empty()
                                                    ? "built-in"
                                                    : next.policy.provider_table));
        settings_.limits = next.limits;
        settings_.socketmap = next.socketmap;  // new connections
        settings_.maps = next.maps;
        settings_.policy_clients = next.policy_clients;
        maps_.set_settings(next.maps);
        check_store();
    }

private:
    static std::vector<std::string> servers_text(const Settings& s) {
        std::vector<std::string> v;
        for (const auto& sv : s.dns.servers) v.push_back(sv.ipv4 + ":" + std::to_string(sv.port));
        return v;
    }

    // A request from a peer not in policyd_policy_clients: counted nowhere,
    // answered as an internal failure would be.
    std::string refuse_policy(const net::Peer& peer) {
        policy_refusals_.refuse("service", "policy", peer, "policyd_policy_clients",
                                wall_now_us() / 1'000'000);
        return settings_.policy.error_action;
    }

    Destinations destinations() {
        return Destinations{
            .provider_of_host =
                [this](std::string_view host) {
                    return provider_table(*tables_).provider_of_host(host).value_or("");
                },
            .provider_of_domain = [this](std::string_view d) { return provider_of_domain(d); },
            .is_provider = [this](std::string_view name) {
                return provider_table(*tables_).find(name) != nullptr;
            }};
    }

    // The MX roll-up: "" for a domain of its own, nullopt while pending.
    std::optional<std::string> provider_of_domain(std::string_view domain) {
        auto hosts = mx_.hosts(domain);
        if (!hosts) return std::nullopt;
        Destination d = provider_table(*tables_).rollup(domain, *hosts);
        if (d.provider == kDefaultProvider) return std::string();
        return d.provider;
    }

    void load_state() {
        if (!throttle_) return;
        std::vector<store::ProviderState> providers;
        store::ThrottleState::LiveRows live;
        try {
            throttle_->for_each_provider([&](const store::ProviderState& p) {
                providers.push_back(p);
                return true;
            });
            // Idle rows (the purge removes them later) are skipped, so the
            // cap never hides live state behind them.
            throttle_->live_rows(wall_now_us(), kMaxLoadedRows, live);
        } catch (const std::exception& e) {
            // A row that does not decode: start from what was read; the
            // purge removes such rows.
            logging::warning(logging::Line("policyd")
                                 .kv("state", "partly loaded")
                                 .kv("error", e.what()));
        }
        if (live.capped)
            logging::warning(logging::Line("policyd")
                                 .kv("state", "partly loaded")
                                 .kv("reason", "more than " + std::to_string(kMaxLoadedRows) +
                                                   " live rows of one kind")
                                 .kv("action", "the rest start afresh"));
        learner_.load(providers);
        engine_.load(live.buckets, live.usage);
        logging::info(logging::Line("policyd")
                          .kv("state", "loaded")
                          .kv("providers", static_cast<long long>(providers.size()))
                          .kv("buckets", static_cast<long long>(live.buckets.size()))
                          .kv("usage", static_cast<long long>(live.usage.size()))
                          .kv("idle_skipped", static_cast<long long>(live.idle_buckets + live.idle_usage)));
    }

    // Writes what changed in one transaction; the learner's providers too.
    void flush_state(int64_t now_us) {
        std::vector<store::ProviderState> providers;
        if (learner_.dirty()) providers = learner_.states();
        auto buckets = engine_.dirty_buckets();
        auto usage = engine_.dirty_usage();
        if (providers.empty() && buckets.empty() && usage.empty()) return;
        if (!throttle_) throw std::runtime_error("the store is closed (being reopened)");
        auto cleared = throttle_->write_batch(providers, buckets, usage);
        learner_.mark_clean();
        engine_.mark_clean();
        if (!cleared.empty()) learner_.merge_cleared(cleared, now_us);
    }

    void arm_flush() {
        loop_.add_timer(settings_.policy.flush_interval, [this] {
            const int64_t now = wall_now_us();
            learner_.tick(now);
            engine_.expire(now);
            send_notices();
            try {
                flush_state(now);
                flush_failing_ = false;
            } catch (const std::exception& e) {
                if (!flush_failing_)
                    logging::warning(logging::Line("policyd")
                                         .kv("state", "not saved")
                                         .kv("error", e.what())
                                         .kv("action", "kept in memory, retried every flush"));
                flush_failing_ = true;
            }
            if (!stopping_) arm_flush();
        });
    }

    void send_notices() {
        notices_.reap();
        auto notices = engine_.take_notices();
        if (settings_.policy.limit_notify.empty()) return;
        for (const LimitNotice& n : notices)
            notices_.send(settings_.policy.limit_notify,
                          notice_message(n, settings_.policy.limit_notify));
    }

    // Every kPurgeInterval a purge of the rows idle for the rules' longest window,
    // in steps of store::kPurgeBatch rows, one per loop turn: requests are
    // answered and policyd's own flushes get the writer lock between steps.
    void arm_purge() {
        loop_.add_timer(kPurgeInterval, [this] {
            purge_ = store::PurgeCursor{};
            // Rows idle for the longest window of the rules: equal to a
            // fresh bucket by now.
            purge_older_than_ = wall_now_us() - purge_idle_us(rules(*tables_));
            purge_step();
        });
    }

    void purge_step() {
        bool done = true;
        try {
            if (throttle_) done = throttle_->purge_step(purge_older_than_, purge_);
        } catch (const std::exception& e) {
            logging::warning(logging::Line("policyd").kv("purge", "failed").kv("error", e.what()));
        }
        if (stopping_) return;
        if (!done) {
            loop_.add_timer(std::chrono::milliseconds(0), [this] { purge_step(); });
            return;
        }
        if (logging::verbose())
            logging::debug(logging::Line("policyd")
                               .kv("purge", "done")
                               .kv("buckets", static_cast<long long>(purge_.purged.buckets))
                               .kv("usage", static_cast<long long>(purge_.purged.usage)));
        arm_purge();
    }

    // `sendguard backoff clear` stamps and new block events, at each store check.
    void scan_store() {
        const int64_t now = wall_now_us();
        if (!throttle_) return;
        try {
            std::vector<store::ProviderState> rows;
            throttle_->for_each_provider([&](const store::ProviderState& p) {
                rows.push_back(p);
                return true;
            });
            learner_.merge_cleared(rows, now);
            if (auto env = maps_.env()) {
                store::SuppressionList list(env);
                scanner_.scan(list, learner_, now);
            }
        } catch (const std::exception& e) {
            logging::warning(logging::Line("policyd").kv("scan", "failed").kv("error", e.what()));
        }
    }

    void stop() {
        if (stopping_) return;
        stopping_ = true;
        logging::info(logging::Line("policyd")
                              .kv("stop", "draining")
                              .kv("connections", static_cast<long long>(server_.connections())));
        const auto deadline = loop_.now() + settings_.limits.request_timeout;
        policy_server_.drain(deadline, [this] {
            policy_drained_ = true;
            if (socketmap_drained_) loop_.stop();
        });
        server_.drain(deadline, [this] {
            socketmap_drained_ = true;
            if (policy_drained_) loop_.stop();
        });
    }

    void arm_store_check() {
        loop_.add_timer(kStoreCheckInterval, [this] {
            check_store();
            scan_store();
            if (!stopping_) arm_store_check();
        });
    }

    void check_store() {
        if (const store::Env* env = maps_.store()) {
            const std::string f = env->replaced_file();
            if (f.empty()) return;
            logging::warning(logging::Line("policyd")
                                 .kv("store", env->path())
                                 .kv("reason", f + " was removed or replaced since it was opened")
                                 .kv("action", "reopen"));
            throttle_.reset();
            maps_.set_store(nullptr);  // the last reference: closes the old env
        }
        try {
            maps_.set_store(store::open_suppression_store(*settings_.config, false));
            throttle_.emplace(maps_.env());
            logging::info(logging::Line("policyd")
                                  .kv("store", maps_.store()->path())
                                  .kv("action", "reopened"));
        } catch (const std::exception& e) {
            logging::warning(logging::Line("policyd")
                                     .kv("store", "unavailable")
                                     .kv("error", e.what())
                                     .kv("action", "answering TEMP until it opens"));
        }
    }

    static constexpr size_t kMaxLoadedRows = 1'000'000;

    Settings settings_;
    std::shared_ptr<const PolicyTables> tables_;
    net::EventLoop loop_;
    SuppressionMaps maps_;  // creates state_directory, where lock_ lives
    daemons::InstanceLock lock_;
    std::optional<store::ThrottleState> throttle_;  // in the store's env; reopened with it
    MxCache mx_;  // before the loop goes: declared after it
    Learner learner_;
    PolicyEngine engine_;
    BlockScanner scanner_;
    NoticeSender notices_{settings_.policy.notify_command};
    RefusalLog policy_refusals_;
    std::shared_ptr<policy::Stats> policy_stats_ = std::make_shared<policy::Stats>();
    net::StreamServer policy_server_;
    std::shared_ptr<const net::SocketmapHandler> handler_;
    net::StreamServer server_;
    store::PurgeCursor purge_;      // the purge in progress (see arm_purge)
    int64_t purge_older_than_ = 0;
    bool stopping_ = false;
    bool flush_failing_ = false;
    bool policy_drained_ = false;
    bool socketmap_drained_ = false;
};

}  // namespace

int64_t purge_idle_us(const std::vector<Rule>& rules) noexcept {
    int64_t longest = 0;
    for (const Rule& r : rules)
        for (const Window& w : r.limits) longest = std::max(longest, w.period_us);
    return longest;
}

std::unique_ptr<daemons::Service<Settings>> make_service(const Settings& settings) {
    return std::make_unique<PolicydService>(settings);
}

}  // namespace policyd
