// service.h - sendguard-policyd's service: listeners, store, maps and the policy service on one event loop
//
// make_service(settings), called by the daemon skeleton (common/daemon)
// while still root: loads the rate rules and provider table
// (policyd_rate_rules, policyd_provider_table; a bad file throws
// config::Error naming file:line), opens the suppression store and the
// throttle state in it (store::ThrottleState: the provider rows and the
// bucket and usage rows that are not idle, read back into the policy engine
// and the learner), and the listeners of policyd_socketmap_listen
// and policyd_policy_listen (UNIX sockets get policyd_socket_mode and
// policyd_socket_group), and returns the Service. serve() runs the event loop:
//   socketmap       suppress and record (SuppressionMaps), status,
//                   status-PROVIDER and transport (the Learner);
//   policy          PolicyEngine behind policy::PolicyProtocol; a handler
//                   exception answers policyd_policy_error_action;
//   MX lookups      MxCache's workers; results land on the loop;
//   every policyd_state_flush_interval: learner tick, expiry of pending
//                   reservations and idle buckets, notice mails, and one
//                   write_batch of what changed (buckets, usage, providers);
//   every kStoreCheckInterval: the store check below, `sendguard backoff
//                   clear` stamps and new block events;
//   every kPurgeInterval (service.cc): old throttle rows purged, in steps of
//                   store::kPurgeBatch rows, one per loop turn;
//   SIGHUP          control.reload() -> apply(next): the reply text, the
//                   record_clients rule and the connection limits apply to
//                   the next request or connection (policyd_socketmap_max_request
//                   to new connections); the rules and provider table are
//                   loaded again first (a bad file fails the reload naming
//                   file:line; the running tables stay), then the policy
//                   and learning parameters apply; listeners, socket mode and
//                   group, policyd_user, dns_servers, the policy decoder's
//                   policyd_policy_max_line, policyd_policy_max_attributes
//                   and policyd_policy_error_action, state_directory and the
//                   store_* parameters need a restart and are reported as such;
//   SIGTERM/SIGINT  stop accepting, let requests in progress finish and their
//                   replies go out for at most policyd_request_timeout, write
//                   the state a last time, return.
// Every kStoreCheckInterval, and on each reload, the store files are
// compared with those opened (store::Env::replaced_file): a deleted or
// replaced lock.mdb or data.mdb would leave this process reading a snapshot
// nobody writes any more. The store is then closed and opened again, with a
// warning; until that succeeds lookups answer TEMP (retried at each check)
// and the state stays in memory.
//
// Errors: make_service throws (std::system_error, store::Error,
// config::Error) when a socket, the store or a table file cannot be opened;
// apply() throws config::Error for a bad table file, before changing anything.
// A failed flush is one warning; the state stays in memory and is retried.
// Thread safety: everything runs on the loop's thread (MX lookups on
// MxCache's workers, see mx_cache.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include "common/daemon/daemon.h"
#include "policyd/settings.h"

namespace policyd {

inline constexpr std::chrono::seconds kStoreCheckInterval{5};

std::unique_ptr<daemons::Service<Settings>> make_service(const Settings& settings);

struct Rule;
// How long a throttle row (bucket or usage) may go unchanged before the
// purge removes it: the longest window of any rule. By then every window's
// state equals a fresh bucket's, so nothing a rule counts is lost; with no
// rules every idle row goes.
int64_t purge_idle_us(const std::vector<Rule>& rules) noexcept;

}  // namespace policyd
