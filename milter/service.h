// service.h - sendguard-milter's service: the libmilter socket and loop
//
// make_service(settings), called by the daemon skeleton (common/daemon)
// while still root: opens the store (the send log of VERP tokens), registers
// the callbacks (callbacks.h), opens the milter_listen socket
// (smfi_setconn, smfi_opensocket; a UNIX socket gets milter_socket_mode and
// milter_socket_group) and returns the Service. serve() runs smfi_main():
//   SIGHUP          our own thread (sigwait_wrap.h) calls control.reload()
//                   -> apply(next): the new Policy (checks, VERP, dry run,
//                   tables, keys) is used from the next connection on;
//                   connections in progress keep the one they started
//                   with. milter_listen, the socket mode and group,
//                   milter_timeout, milter_user, milter_pid_file,
//                   state_directory and the store_* parameters need a
//                   restart and are reported as such;
//   SIGTERM/SIGINT  libmilter stops accepting, lets connections finish (its
//                   own bounded wait, ~5s) and smfi_main() returns.
//
// Errors: make_service throws config::Error naming milter_listen when the
// socket cannot be opened, store::Error when the store cannot; apply()
// throws nothing. Thread safety: apply() runs on the reload thread; the
// callbacks read the Policy through an atomic pointer.
#pragma once

#include <memory>

#include "common/daemon/daemon.h"
#include "milter/settings.h"

namespace milter {

std::unique_ptr<daemons::Service<Settings>> make_service(const Settings& settings);

}  // namespace milter
