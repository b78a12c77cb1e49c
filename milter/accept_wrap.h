// accept_wrap.h - milter_max_connections: counting libmilter's connections
//
// libmilter's listener (listener.c, mi_listener) accept()s each connection
// and hands it to its pool of workers; the socket is closed with close()
// when the session ends, or at once when the session cannot be started. The program
// is linked with -Wl,--wrap=accept,--wrap=close (milter/CMakeLists.txt), so
// those calls come here first:
//   __wrap_accept  the real accept(); the new socket goes through the
//                  active ConnectionLimit (connection_limit.h). Refused, it
//                  is closed at once, before libmilter has any state for it, and accept() fails with ECONNABORTED,
//                  which libmilter's listener takes as "try the next one"
//                  (no error count, no sleep). At most one warning a
//                  minute names the limit (kRefusalLogInterval):
//                    warning: milter: refused=connection,
//                      limit=milter_max_connections, value=500,
//                      [client_addr=ADDR, ]refusals=N, effect=...
//                  N counts the refusals since the previous warning.
//   __wrap_close   release(fd) (a no-op for any fd that is not an admitted
//                  connection), then the real close().
// The MTA sees its connection closed before the option negotiation is
// answered and applies its own milter_default_action.
//
// Only the program links the wrapper (-Wl,--undefined=__wrap_accept);
// tests that link the milter's library call the real functions, and
// ConnectionLimit is tested on its own.
#pragma once

#include <sys/socket.h>

extern "C" {
int __real_accept(int fd, sockaddr* addr, socklen_t* len);
int __wrap_accept(int fd, sockaddr* addr, socklen_t* len);
int __real_close(int fd);
int __wrap_close(int fd);
}
