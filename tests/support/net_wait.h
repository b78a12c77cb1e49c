// net_wait.h - bounded waiting and loopback socket helpers for e2e tests
//
// e2e tests poll: a daemon is "up" when its socket accepts, a message is
// "delivered" when a log line appears.  Every wait here has a deadline and
// sleeps in short, growing naps (a few ms up to 50 ms), so a test never
// hangs and rarely waits longer than needed.
//
// API:
//   wait_until([&] { return cond(); }, 5s)        -> bool (false: timed out)
//   connect_tcp("127.0.0.1", port, 2s, ns)        -> sys::Fd (empty on failure,
//                                                    *error says why)
//   wait_for_tcp("127.0.0.2", port, 5s, ns)       -> bool
//   wait_for_unix("/tmp/.../milter.sock", 5s)     -> bool
//   free_tcp_port("127.0.0.2", ns)                -> a port that was free a
//       moment ago (bind port 0, read it, close).  Another process may take
//       it before you do: servers started on it should be checked with
//       wait_for_tcp and restarted on a new port if they fail to bind.
// When ns is given the socket is created inside that network namespace
// (NetNs::run_in) and may be used from any thread afterwards.
//
// Errors: failures to connect are values (empty Fd / false); only resource
// exhaustion (socket(2) failing) throws std::system_error.
// Thread safety: all functions are reentrant.
#pragma once

#include "common/sys/fd.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace harness {

class NetNs;

bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout);

sys::Fd connect_tcp(const std::string& ip, uint16_t port, std::chrono::milliseconds timeout,
                    const NetNs* ns = nullptr, std::string* error = nullptr);
sys::Fd connect_unix(const std::string& path, std::string* error = nullptr);

bool wait_for_tcp(const std::string& ip, uint16_t port, std::chrono::milliseconds timeout,
                  const NetNs* ns = nullptr);
bool wait_for_unix(const std::string& path, std::chrono::milliseconds timeout);

uint16_t free_tcp_port(const std::string& ip = "127.0.0.1", const NetNs* ns = nullptr);

}  // namespace harness
