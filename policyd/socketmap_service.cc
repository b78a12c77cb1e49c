// socketmap_service.cc - see socketmap_service.h
#include "policyd/socketmap_service.h"

#include <ctime>

#include "common/store/record_format.h"
#include "common/address/verp_setup.h"
#include "common/config/load.h"
#include "common/store/setup.h"
#include "common/address/address.h"
#include "common/log/log.h"
#include "common/net/listener.h"
#include "common/sys/privilege.h"

namespace policyd {
SuppressionMaps::SuppressionMaps(std::shared_ptr<store::Env> env, std::string reply, Clock now)
    : list_(std::move(env)), reply_(std::move(reply)), now_(std::move(now)) {
    if (!now_) now_ = [] { return static_cast<int64_t>(std::time(nullptr)); };
}

net::SocketmapReply SuppressionMaps::lookup(std::string_view name, std::string_view key) const {
    try {
        if (name == "suppress") {
            size_t at = key.rfind('@');
            // access(5) also asks for the bare domain and, with Postfix's
            // default parent_domain_matches_subdomains, for every parent
            // domain. The address lookup already covers its own domain's
            // entry; answering bare domains would make "@example.com"
            // refuse all of *.example.com, which check and record deny.
            if (at == std::string_view::npos) return net::SocketmapReply::not_found();
            if (at + 1 == key.size() || at == 0)  // "user@" or "@domain" forms
                return net::SocketmapReply::not_found();
            // Postfix sends the address unbracketed, in external (quoted) form.
            auto k = address::suppression_key(key);
            return k && list_.is_suppressed(*k, now_()) ? net::SocketmapReply::ok(reply_)
                                                        : net::SocketmapReply::not_found();
        }
        if (name == "record") {
            // A bare domain asks for its domain-level entry.
            auto k = address::suppression_key(key.find('@') == std::string_view::npos
                                                   ? "@" + std::string(key) : std::string(key));
            if (!k) return net::SocketmapReply::not_found();
            auto r = list_.check(*k, now_());
            if (!r) return net::SocketmapReply::not_found();
            return net::SocketmapReply::ok(store::record_json(*k, *r, now_()));
        }
        return net::SocketmapReply::perm("unknown map name; use suppress or record");
    } catch (const store::Error& e) {
        logging::warning("", logging::Line("policyd").kv("error", e.what()));
        return net::SocketmapReply::temp("suppression store error");
    }
}

int run_policyd(const PolicydArgs& args) noexcept {
    logging::open("sendguard-policyd", logging::Sink::Stderr);
    logging::set_verbose(args.verbose);
    try {
        config::Config cfg = config::load(args.config_path, args.overrides);
        logging::open(cfg.str("syslog_name").c_str(),
                      cfg.boolean("log_to_stderr") ? logging::Sink::Stderr : logging::Sink::Syslog);
        auto maps = std::make_shared<SuppressionMaps>(store::open_suppression_store(cfg, false),
                                                      cfg.str("policyd_suppressed_reply"));
        net::EventLoop loop;
        net::SocketmapLimits sl;
        sl.max_request = cfg.size("policyd_socketmap_max_request");
        net::ServerLimits lim;
        lim.max_connections = static_cast<size_t>(cfg.integer("policyd_max_connections"));
        lim.idle_timeout = cfg.duration("policyd_idle_timeout");
        lim.max_input = net::SocketmapProtocol::server_max_input(sl);
        net::StreamServer server(loop, "socketmap",
            net::socketmap_factory([maps](std::string_view n, std::string_view k) {
                return maps->lookup(n, k);
            }, sl), lim);
        net::ListenOptions lo;
        lo.unix_mode = static_cast<mode_t>(cfg.mode("policyd_socket_mode"));
        for (const auto& spec : cfg.list("policyd_socketmap_listen")) {
            auto ep = net::parse_endpoint(spec);
            if (!ep.endpoint) throw config::Error(cfg.origin_of("policyd_socketmap_listen") + ": invalid policyd_socketmap_listen: " + ep.error);
            server.add_listener(net::Listener::open(*ep.endpoint, lo));
            logging::info("", logging::Line("policyd").kv("listen", ep.endpoint->str()));
        }
        sys::drop_privileges(cfg.str("policyd_user"));
        std::string path = args.config_path;
        auto overrides = args.overrides;
        loop.handle_signals([&] {
            try {
                config::Config next = config::load(path, overrides);
                maps->set_reply(next.str("policyd_suppressed_reply"));
                logging::info("", logging::Line("policyd").kv("reload", "ok"));
            } catch (const std::exception& e) {
                logging::warning("", logging::Line("policyd").kv("reload", "failed").kv("error", e.what()));
            }
        });
        loop.run();
        logging::info("", logging::Line("policyd").kv("stop", "signal"));
        return 0;
    } catch (const std::exception& e) {
        logging::fatal(e.what());
        return 1;
    }
}

}  // namespace policyd
