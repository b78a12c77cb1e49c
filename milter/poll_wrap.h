// poll_wrap.h - libmilter's workers wait longer for an MTA's next command
//
// Debian's libmilter runs connections on a pool of workers (libmilter
// worker.c, engine.c): after each command a worker polls the connection
// for the next one for 1 ms only (mi_rd_socket_ready), and when none has
// come it hands the connection back to the pool's controller thread: a
// write to the controller's pipe, the controller rebuilds its poll set
// and polls, and when the command comes it wakes a worker (a condition
// variable), or starts a thread when none is idle. An MTA's next command
// takes longer than 1 ms whenever its reply had to go through an SMTP
// client first (MAIL, RCPT, the message), so on a busy machine nearly
// every command paid for that hand-off: three thread wake-ups and the
// controller's work, ~40% of the milter's CPU time per message in
// bench_milter (0.51 ms with 1 ms, 0.36 ms with kCommandWait).
//
// The program is linked with -Wl,--wrap=poll (milter/CMakeLists.txt), so
// libmilter's poll() calls come here first. worker_poll_timeout() picks
// the time-out: the one libmilter's worker uses on an MTA connection (one
// descriptor, POLLIN, 1 ms, an fd the accept wrapper admitted:
// connection_limit.h) becomes kCommandWait; every other call keeps its
// own. poll() returns as soon as the command is there, so the longer wait
// costs a connection that has gone quiet one worker thread for at most
// kCommandWait, then it is back in the controller's set as before.
//
// Only the program links the wrapper (-Wl,--undefined=__wrap_poll); tests
// that link the milter's library call the real poll().
#pragma once

#include <poll.h>

#include <chrono>

namespace milter {

inline constexpr std::chrono::milliseconds kCommandWait{20};
// libmilter's own wait for the next command (engine.c MI_RD_CMD_TO).
inline constexpr int kLibmilterCommandWaitMs = 1;

// The time-out for this poll(): kCommandWait for libmilter's worker
// waiting on an MTA connection, else timeout.
inline int worker_poll_timeout(const pollfd* fds, nfds_t n, int timeout, bool mta_connection) noexcept {
    if (n != 1 || timeout != kLibmilterCommandWaitMs || fds[0].events != POLLIN || !mta_connection) return timeout;
    return static_cast<int>(kCommandWait.count());
}

}  // namespace milter

extern "C" {
int __real_poll(pollfd* fds, nfds_t n, int timeout);
int __wrap_poll(pollfd* fds, nfds_t n, int timeout);
}
