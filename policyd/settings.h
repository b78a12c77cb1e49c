// settings.h - everything sendguard-policyd reads from the configuration
//
// policyd::Settings::from(cfg) reads every parameter the daemon uses, typed,
// and checks what the table cannot: listen endpoints parse, the socket group
// and the users and groups of policyd_record_clients exist, policyd_count_at
// is a known word and policyd_limit_notify an address. The rate rules and the
// provider table are files: the service loads them (load_policy_tables) at
// start and at each reload, so a bad file names its own file:line. Nothing else in
// policyd/ reads the Config (the store is opened from `config`, through
// store::open_suppression_store, which reads the store_* parameters).
//
// ClientList::allows(peer) is the access rule of the record map
// (policyd_record_clients), the learn maps (policyd_learn_clients) and the
// policy service (policyd_policy_clients): a UNIX-domain peer whose uid is
// one of the listed users, or whose primary or supplementary group is one of
// the listed @groups. Inet peers carry no credentials: they are allowed only
// where `inet` is set (policyd_trust_inet_clients, never for the record map).
//
// check_files_readable(settings) opens each file a reload reads again
// (policyd_rate_rules, policyd_provider_table, policyd_reply_patterns) for
// reading, as the calling process: at start before anything else (a missing
// file), after the privilege drop (a file policyd_user cannot read would
// break every reload) and at each reload. A failure throws config::Error
// naming file:line, the parameter, the file, the reason and the fix.
//
// Errors: from() throws config::Error naming file:line (or "the default").
// Thread safety: a Settings is immutable once built.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/config/config.h"
#include "common/dns/cache.h"
#include "common/dns/resolver.h"
#include "common/net/endpoint.h"
#include "common/net/socketmap.h"
#include "common/net/stream_server.h"
#include "policyd/learn_settings.h"
#include "policyd/policy_service.h"

namespace policyd {

struct ClientList {
    std::vector<std::string> names;  // as configured: "root", "@sendguard"
    std::vector<uid_t> uids;
    std::vector<gid_t> gids;
    bool inet = false;  // inet peers (no credentials) allowed
    bool allows(const net::Peer& peer) const;
    bool operator==(const ClientList&) const = default;
};

// What the maps answer (SuppressionMaps), changeable by a reload.
struct MapSettings {
    std::string suppressed_reply;
    ClientList record_clients;
    ClientList learn_clients;  // status, status-PROVIDER, transport
    bool operator==(const MapSettings&) const = default;
};

struct Settings {
    std::vector<net::Endpoint> socketmap_listen;
    std::vector<std::string> socketmap_listen_text;  // as configured, for messages
    mode_t socket_mode = 0;
    std::string socket_group;  // "" : keep the creator's
    gid_t socket_gid = static_cast<gid_t>(-1);
    net::ServerLimits limits{};
    net::SocketmapLimits socketmap{};
    MapSettings maps;
    ClientList policy_clients;  // who the policy service serves
    PolicySettings policy;  // the policy delegation service (policy_service.h)
    LearnSettings learn;    // backoff learning (learn_settings.h)
    // The MX lookups of the roll-up (dns_servers, dns_cache_*, dns_lookup_timeout).
    struct Dns {
        std::vector<dns::Server> servers;  // empty: /etc/resolv.conf
        dns::CacheLimits cache{};
        std::chrono::seconds timeout{};
    } dns;
    std::string user;      // policyd_user: who to run as (daemon.h, "Users")
    std::string pid_file;  // policyd_pid_file: "" writes none
    std::string state_directory;
    // The store_* parameters, for telling what a reload would change; the
    // store itself is opened from `config` by store::open_suppression_store,
    // the one place that turns them into LMDB options.
    struct Store {
        uint64_t map_size = 0;
        uint64_t max_map_size = 0;
        long long max_readers = 0;
        bool sync = false;
        bool operator==(const Store&) const = default;
    } store;
    std::shared_ptr<const config::Config> config;

    static Settings from(const config::Config& cfg);
};

void check_files_readable(const Settings& s);

}  // namespace policyd
