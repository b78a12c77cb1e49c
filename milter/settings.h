// settings.h - everything sendguard-milter reads from the configuration
//
// milter::Settings::from(cfg) reads every parameter the milter uses, typed,
// and checks what the table cannot: the listen endpoint parses, the socket
// group and the user exist, the action keywords are known, the VERP key
// file and milter_bounce_domain_maps load and agree with bounce_domains,
// dns_servers are addresses (the DNS lookup of milter_reply_check).
// It builds the run-time Policy (policy.h) that sessions read; the service
// swaps it on SIGHUP. Nothing else in milter/ reads the Config (the store is
// opened from `config` by store::open_suppression_store).
//
// Errors: from() throws config::Error naming file:line (or "the default"),
// address::KeyFileError for the key file. Thread safety: immutable once
// built.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>

#include "common/config/config.h"
#include "common/net/endpoint.h"
#include "milter/connection_limit.h"
#include "milter/policy.h"

namespace milter {

// milter_store_sync: what each send-log commit flushes (service.h).
enum class StoreSync { Commit, Data, Interval };

struct Settings {
    net::Endpoint listen;
    std::string listen_text;   // canonical, for messages
    std::string listen_spec;   // the same in libmilter's syntax ("unix:/p", "inet:25@host")
    mode_t socket_mode = 0;
    std::string socket_group;  // "" : keep the creator's
    gid_t socket_gid = static_cast<gid_t>(-1);
    std::chrono::seconds timeout{};
    ConnectionLimits limits;   // milter_max_connections, milter_max_client_connections
    std::string user;      // milter_user (daemon.h, "Users")
    std::string pid_file;  // milter_pid_file: "" writes none
    std::string state_directory;
    StoreSync store_sync = StoreSync::Commit;
    std::shared_ptr<const Policy> policy;
    std::shared_ptr<const config::Config> config;

    static Settings from(const config::Config& cfg);
};

// "inet:HOST:PORT" / "unix:PATH" (net::Endpoint) in libmilter's
// smfi_setconn syntax: "inet:PORT@HOST", "inet6:PORT@HOST", "unix:PATH".
std::string libmilter_spec(const net::Endpoint& ep);

}  // namespace milter
