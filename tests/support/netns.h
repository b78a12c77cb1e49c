// netns.h - a throw-away network namespace for hermetic e2e tests
//
// NetNs creates "sg-<pid>-<n>" with `ip netns add`, brings its loopback up,
// and writes /etc/netns/<name>/resolv.conf ("nameserver 127.0.0.1") and
// /etc/netns/<name>/hosts (localhost only).  `ip netns exec` bind-mounts
// those files over /etc for the programs it starts, so anything run through
// wrap() - a DNS server, a whole Postfix instance (the master and all its
// children inherit the namespaces), smtp-sink - sees only the namespace's
// loopback and the namespace's resolver.  Nothing reaches the real network.
//
// The test process itself stays outside.  run_in(fn) runs fn on a helper
// thread that joined the namespace with setns(2) (which is per-thread); a
// socket created there stays in the namespace, so connect_tcp() and the SMTP
// client can talk to servers inside (see net_wait.h, smtp_client.h).  Note
// that the thread's file system view is unchanged: /etc/resolv.conf there is
// the host's, so resolver calls must name their server explicitly
// (dns_harness.h does).
//
// The destructor SIGKILLs whatever still runs inside (`ip netns pids`: only
// what the test started), deletes the namespace and /etc/netns/<name>; the
// same happens at exit if the destructor never runs (cleanup.h).
//
// API:
//   skip_if(NetNs::unavailable());       // not root, no ip(8)
//   auto ns = make_netns_or_skip();      // skip (77) on EPERM, unless CI=true
//   ns->wrap({"getent", "ahosts", "a.test"})  -> {"ip","netns","exec",NAME,...}
//   int fd = ns->run_in([&] { return ::socket(...); });
//
// Errors: creation failures throw NetNsError (NetNsUnavailable when the
// kernel refuses: EPERM, no namespace support); run_in() rethrows fn's
// exceptions on the calling thread.
// Thread safety: const methods may be called from any thread.
#pragma once

#include "tests/support/cleanup.h"

#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <type_traits>
#include <vector>

namespace harness {

struct NetNsError : std::runtime_error {
    using std::runtime_error::runtime_error;
};
struct NetNsUnavailable : NetNsError {
    using NetNsError::NetNsError;
};

class NetNs {
public:
    // Why namespaces cannot be used here (not root, no ip(8)), or nullopt.
    static std::optional<std::string> unavailable();

    explicit NetNs(std::string name = {});
    ~NetNs();
    NetNs(const NetNs&) = delete;
    NetNs& operator=(const NetNs&) = delete;

    const std::string& name() const noexcept { return name_; }
    // {"ip", "netns", "exec", name, argv...}
    std::vector<std::string> wrap(std::vector<std::string> argv) const;
    // Writes /etc/netns/<name>/<file> (seen as /etc/<file> inside).
    void write_etc(std::string_view file, std::string_view text) const;
    // Pids of processes in the namespace.
    std::vector<pid_t> pids() const;

    // Runs fn on a thread inside the namespace and returns its result.
    template <class Fn>
    auto run_in(Fn&& fn) const -> std::invoke_result_t<Fn&> {
        using R = std::invoke_result_t<Fn&>;
        if constexpr (std::is_void_v<R>) {
            run_in_thread(std::function<void()>(std::ref(fn)));
        } else {
            std::optional<R> out;
            run_in_thread([&] { out.emplace(fn()); });
            return std::move(*out);
        }
    }

private:
    void run_in_thread(const std::function<void()>& fn) const;

    std::string name_;
    CleanupGuard guard_;
};

// Creates a namespace, or skips the test (exit 77; a failure under CI=true)
// when the system does not allow it.
std::unique_ptr<NetNs> make_netns_or_skip();

}  // namespace harness
