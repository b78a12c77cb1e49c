// service.h - sendguard-policyd's service: listeners, store and maps on one event loop
//
// make_service(settings), called by the daemon skeleton (common/daemon)
// while still root: opens the suppression store and the listeners of
// policyd_socketmap_listen (UNIX sockets get policyd_socket_mode and
// policyd_socket_group) and returns the Service. serve() runs the event loop:
//   SIGHUP          control.reload() -> apply(next): the reply text, the
//                   record_clients rule and the connection limits apply to
//                   the next request or connection (policyd_socketmap_max_request
//                   to new connections); listeners, socket mode and group,
//                   policyd_user, state_directory and the store_* parameters
//                   need a restart and are reported as such;
//   SIGTERM/SIGINT  stop accepting, let requests in progress finish and their
//                   replies go out for at most policyd_request_timeout, return.
// Every kStoreCheckInterval, and on each reload, the store files are
// compared with those opened (store::Env::replaced_file): a deleted or
// replaced lock.mdb or data.mdb would leave this process reading a snapshot
// nobody writes any more. The store is then closed and opened again, with a
// warning; until that succeeds lookups answer TEMP (retried at each check).
//
// Errors: make_service throws (std::system_error, store::Error) when a socket
// or the store cannot be opened; apply() throws nothing.
// Thread safety: everything runs on the loop's thread.
#pragma once

#include <chrono>
#include <memory>

#include "common/daemon/daemon.h"
#include "policyd/settings.h"

namespace policyd {

inline constexpr std::chrono::seconds kStoreCheckInterval{5};

std::unique_ptr<daemons::Service<Settings>> make_service(const Settings& settings);

}  // namespace policyd
