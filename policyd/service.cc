// service.cc - see service.h
#include "policyd/service.h"

#include <cstdio>
#include <utility>
#include <vector>

#include "common/daemon/log_setup.h"
#include "common/log/log.h"
#include "common/net/event_loop.h"
#include "common/net/listener.h"
#include "common/store/setup.h"
#include "policyd/socketmap_service.h"

namespace policyd {
namespace {

std::string join(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& e : v) s += (s.empty() ? "" : ", ") + e;
    return s;
}

std::string octal(mode_t m) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(m));
    return buf;
}

class PolicydService final : public daemons::Service<Settings> {
public:
    explicit PolicydService(const Settings& s)
        : settings_(s),
          maps_(store::open_suppression_store(*s.config, false), s.maps),
          server_(
              loop_, "socketmap",
              [this](const net::Peer& peer) -> std::unique_ptr<net::Protocol> {
                  return std::make_unique<net::SocketmapProtocol>(handler_, settings_.socketmap,
                                                                  peer);
              },
              s.limits) {
        handler_ = std::make_shared<const net::SocketmapHandler>(
            [this](const net::Peer& peer, std::string_view n, std::string_view k) {
                return maps_.lookup(peer, n, k);
            });
        const net::ListenOptions lo{.unix_mode = s.socket_mode, .unix_group = s.socket_gid};
        for (const auto& ep : s.socketmap_listen) {
            try {
                server_.add_listener(net::Listener::open(ep, lo));
            } catch (const std::exception& e) {
                throw daemons::invalid(*s.config, "policyd_socketmap_listen", ep.str(), e.what());
            }
            logging::info(logging::Line("policyd").kv("listen", ep.str()));
        }
    }

    void serve(daemons::Control& control) override {
        loop_.handle_signals([&control] { control.reload(); }, [this] { stop(); });
        arm_store_check();
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
        changes.store_restart_only(*run.config, *next.config);
        server_.set_limits(next.limits);  // throws (nothing changed yet) only for a zero limit
        settings_.limits = next.limits;
        settings_.socketmap = next.socketmap;  // new connections
        settings_.maps = next.maps;
        maps_.set_settings(next.maps);
        check_store();
    }

private:
    void stop() {
        if (stopping_) return;
        stopping_ = true;
        logging::info(logging::Line("policyd")
                              .kv("stop", "draining")
                              .kv("connections", static_cast<long long>(server_.connections())));
        server_.drain(loop_.now() + settings_.limits.request_timeout, [this] { loop_.stop(); });
    }

    void arm_store_check() {
        loop_.add_timer(kStoreCheckInterval, [this] {
            check_store();
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
            maps_.set_store(nullptr);  // the last reference: closes the old env
        }
        try {
            maps_.set_store(store::open_suppression_store(*settings_.config, false));
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

    Settings settings_;
    SuppressionMaps maps_;
    net::EventLoop loop_;
    std::shared_ptr<const net::SocketmapHandler> handler_;
    net::StreamServer server_;
    bool stopping_ = false;
};

}  // namespace

std::unique_ptr<daemons::Service<Settings>> make_service(const Settings& settings) {
    return std::make_unique<PolicydService>(settings);
}

}  // namespace policyd
