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
//                   milter_timeout, milter_store_sync, milter_user, milter_pid_file,
//                   state_directory and the store_* parameters need a
//                   restart and are reported as such;
//   SIGTERM/SIGINT  libmilter stops accepting, lets connections finish (its
//                   own bounded wait, ~5s) and smfi_main() returns.
// Connections: at most milter_max_connections at once (and
// milter_max_client_connections per TCP client address), counted by the
// accept() wrapper (accept_wrap.h, connection_limit.h); the limits change
// on SIGHUP for the next connection. The file-descriptor limit
// (RLIMIT_NOFILE) is raised to hold them, plus kFdReserve; when it cannot
// be, a warning says so.
//
// Packet size: libmilter drops the connection on a packet whose data
// exceeds its limit, 64 KiB by default, and the MTA then applies
// milter_default_action to the message (a tempfail that never clears).
// Postfix sends a header field of up to header_size_limit (102400 bytes by
// default) in one packet, so the limit is kMaxPacketData: a header field at
// Postfix's default limit gets an answer, and larger packets still end the
// connection. The session keeps only what it needs of a header
// (session.h), so the packet size does not set the memory a message keeps.
//
// Send-log durability (milter_store_sync): the milter answers end of
// message after its commit. "commit" flushes data and LMDB's meta page at
// each commit (two fsyncs, the cost of most of the milter's time per
// message); "data" sets MDB_NOMETASYNC (one fsync: the meta page goes with
// the next commit, so the store stays intact and a power loss may undo the
// last entry); "interval" sets MDB_NOSYNC. With either, a thread of ours
// flushes everything every kStoreSyncInterval (mdb_env_sync) and once more
// when the milter stops. store_sync = no leaves MDB_NOSYNC on whatever this
// says. Only this process's handle changes: sendguard-bounce and the others
// keep store_sync.
//
// Every kSendLogPurgeInterval the same thread removes the send-log entries
// older than verp_max_age (store::SendLog::purge_expired), logged with their
// count.
//
// Errors: make_service throws config::Error naming milter_listen when the
// socket cannot be opened, store::Error when the store cannot; apply()
// throws nothing. Thread safety: apply() runs on the reload thread; the
// callbacks read the Policy through an atomic pointer.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>

#include "common/daemon/daemon.h"
#include "milter/settings.h"

namespace milter {

inline constexpr std::chrono::seconds kSendLogPurgeInterval{3600};
inline constexpr std::chrono::seconds kStoreSyncInterval{1};
inline constexpr std::size_t kMaxPacketData = 256 * 1024;  // libmilter's own step above 64 KiB (SMFIP_MDS_256K)
inline constexpr std::size_t kFdReserve = 64;               // the store, the log, the listener, libmilter's pipe

std::unique_ptr<daemons::Service<Settings>> make_service(const Settings& settings);

}  // namespace milter
