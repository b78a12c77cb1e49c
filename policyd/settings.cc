// settings.cc - see settings.h
#include "policyd/settings.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/address/address.h"
#include "common/daemon/log_setup.h"
#include "common/dns/setup.h"
#include "common/daemon/users.h"
#include "common/sys/fd.h"

namespace policyd {

bool ClientList::allows(const net::Peer& peer) const {
    if (!peer.has_creds) return inet && peer.addr != "unix";
    if (std::find(uids.begin(), uids.end(), peer.uid) != uids.end()) return true;
    for (gid_t g : gids) {
        if (peer.gid == g) return true;
        if (std::find(peer.groups.begin(), peer.groups.end(), g) != peer.groups.end()) return true;
    }
    return false;
}

namespace {

ClientList client_list(const config::Config& cfg, config::Key<config::Type::List> param) {
    ClientList l;
    for (const std::string& name : cfg.list(param)) {
        if (name.size() > 1 && name[0] == '@') {
            auto g = daemons::gid_of(name.substr(1));
            if (!g) throw daemons::invalid(cfg, param, name, "no such group " + name.substr(1));
            l.gids.push_back(*g);
        } else {
            auto u = daemons::uid_of(name);
            if (!u)
                throw daemons::invalid(cfg, param, name,
                                       "no such user " + name + "; write @name for a group");
            l.uids.push_back(*u);
        }
        l.names.push_back(name);
    }
    return l;
}

PolicySettings policy_settings(const config::Config& cfg) {
    PolicySettings p;
    for (const std::string& spec : cfg.list("policyd_policy_listen")) {
        auto ep = net::parse_endpoint(spec);
        if (!ep.endpoint) throw daemons::invalid(cfg, "policyd_policy_listen", spec, ep.error);
        p.listen.push_back(*ep.endpoint);
        p.listen_text.push_back(ep.endpoint->str());
    }
    p.limits.max_line = cfg.size("policyd_policy_max_line");
    p.limits.max_attributes = static_cast<size_t>(cfg.integer("policyd_policy_max_attributes"));
    // Every line at its longest, bounded: 1 MiB is far above any real request.
    p.limits.max_request = std::min<size_t>(p.limits.max_line * p.limits.max_attributes, 1 << 20);
    p.error_action = cfg.str("policyd_policy_error_action");
    const std::string count_at = cfg.str("policyd_count_at");
    if (count_at == "end-of-message")
        p.count_at = CountAt::EndOfMessage;
    else if (count_at == "rcpt")
        p.count_at = CountAt::Rcpt;
    else
        throw daemons::invalid(cfg, "policyd_count_at", count_at,
                               "write end-of-message or rcpt");
    p.limit_notify = cfg.str("policyd_limit_notify");
    if (!p.limit_notify.empty()) {
        auto a = address::parse_mailbox(p.limit_notify);
        if (!a)
            throw daemons::invalid(cfg, "policyd_limit_notify", p.limit_notify,
                                   std::string("not an address: ") +
                                       std::string(address::to_string(a.error())));
        p.limit_notify = a->str();
    }
    p.notify_command = cfg.str("policyd_notify_command");
    p.flush_interval = cfg.duration("policyd_state_flush_interval");
    p.pending_timeout = cfg.duration("policyd_pending_timeout");
    p.max_pending = static_cast<size_t>(cfg.integer("policyd_max_pending"));
    p.rate_rules = cfg.str("policyd_rate_rules");
    p.provider_table = cfg.str("policyd_provider_table");
    return p;
}

// "user sendguard (uid 998)" for the process as it runs now.
std::string running_user() {
    const uid_t uid = ::geteuid();
    const struct passwd* pw = ::getpwuid(uid);
    return "user " + std::string(pw ? pw->pw_name : "?") + " (uid " + std::to_string(uid) + ")";
}

// What to do about a file the running user cannot open.
std::string fix_for(int err, const std::string& path) {
    if (err == ENOENT) return "create it or correct the parameter";
    if (err != EACCES) return "check the file";
    const struct group* gr = ::getgrgid(::getegid());
    const std::string group = gr ? gr->gr_name : std::to_string(::getegid());
    return "sendguard-policyd reads it again at every reload as " + running_user() +
           ": chgrp " + group + " " + path + " && chmod g+r " + path +
           " (and let that user search its directories)";
}

}  // namespace

void check_files_readable(const Settings& s) {
    const config::Config& cfg = *s.config;
    struct File {
        config::Key<config::Type::Path> param;
        const std::string& path;
    };
    const File files[] = {
        {"policyd_rate_rules", s.policy.rate_rules},
        {"policyd_provider_table", s.policy.provider_table},
        {"policyd_reply_patterns", s.learn.reply_patterns},
    };
    for (const auto& [param, path] : files) {
        if (path.empty()) continue;
        sys::Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
        if (fd.get() >= 0) continue;
        const int err = errno;
        throw daemons::invalid(cfg, param, path,
                               std::string("cannot open: ") + std::strerror(err) + "; " +
                                   fix_for(err, path));
    }
}

Settings Settings::from(const config::Config& cfg) {
    Settings s;
    for (const std::string& spec : cfg.list("policyd_socketmap_listen")) {
        auto ep = net::parse_endpoint(spec);
        if (!ep.endpoint) throw daemons::invalid(cfg, "policyd_socketmap_listen", spec, ep.error);
        s.socketmap_listen.push_back(*ep.endpoint);
        s.socketmap_listen_text.push_back(ep.endpoint->str());
    }
    s.socket_mode = static_cast<mode_t>(cfg.mode("policyd_socket_mode"));
    s.socket_group = cfg.str("policyd_socket_group");
    if (auto g = daemons::socket_gid(cfg, "policyd_socket_group")) s.socket_gid = *g;
    s.socketmap.max_request = cfg.size("policyd_socketmap_max_request");
    s.limits.max_connections = static_cast<size_t>(cfg.integer("policyd_max_connections"));
    s.limits.max_connections_per_peer =
        static_cast<size_t>(cfg.integer("policyd_max_connections_per_peer"));
    s.limits.max_input = net::SocketmapProtocol::server_max_input(s.socketmap);
    s.limits.idle_timeout = cfg.duration("policyd_idle_timeout");
    s.limits.request_timeout = cfg.duration("policyd_request_timeout");
    s.maps.suppressed_reply = cfg.str("policyd_suppressed_reply");
    s.user = daemons::run_user(cfg, "policyd_user");
    s.pid_file = cfg.str("policyd_pid_file");
    s.maps.record_clients = client_list(cfg, "policyd_record_clients");
    const bool trust_inet = cfg.boolean("policyd_trust_inet_clients");
    s.maps.learn_clients = client_list(cfg, "policyd_learn_clients");
    s.maps.learn_clients.inet = trust_inet;
    s.policy_clients = client_list(cfg, "policyd_policy_clients");
    s.policy_clients.inet = trust_inet;
    s.policy = policy_settings(cfg);
    s.learn = learn_settings(cfg);
    s.dns.servers = dns::servers(cfg);
    s.dns.cache = dns::cache_limits(cfg);
    s.dns.timeout = cfg.duration("dns_lookup_timeout");
    s.state_directory = cfg.str("state_directory");
    s.store.map_size = cfg.size("store_map_size");
    s.store.max_map_size = cfg.size("store_max_map_size");
    s.store.max_readers = cfg.integer("store_max_readers");
    s.store.sync = cfg.boolean("store_sync");
    s.config = std::make_shared<const config::Config>(cfg);
    return s;
}

}  // namespace policyd
