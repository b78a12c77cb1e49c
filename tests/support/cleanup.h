// cleanup.h - last-resort teardown and skip handling for e2e tests
//
// Every harness object that leaves something behind in the system (a child
// process group, a Postfix master, a network namespace, a temp directory)
// cleans up in its destructor.  Destructors do not run when a test calls
// exit(), when Boost.Test recovers from a fatal signal with longjmp, or when
// the process is torn down by an uncaught exception, so each such object also
// registers a self-contained cleanup action here; whatever is still
// registered when the process exits is run by an atexit handler, newest
// first.  A destructor that did its own job simply drops its registration.
//
// API:
//   CleanupGuard g = register_cleanup("netns sg-123", [name] { ... });
//       g.release();      // done by the owner: forget the action
//       g.run();          // run it now (once) and forget it
//   in_ci()               // env CI is "true"/"1"/"yes" (case-insensitive)
//   skip_test("why")      // prints "SKIP: why" and exits 77 (ctest
//                         // SKIP_RETURN_CODE); under CI throws instead,
//                         // so a missing prerequisite fails the test
//   skip_if(reason)       // skip_test(*reason) when reason is set
//   current_test_failed() // the running Boost test case has a failed
//                         // assertion or an exception is unwinding: used by
//                         // destructors to print diagnostics (logs)
//
// Actions must not throw (exceptions are swallowed) and must capture by value
// (the owner may be gone).  Call skip_test() before creating harness
// objects: the atexit handler still cleans up, but more slowly.
// Thread safety: the registry is guarded by a mutex; actions run without it.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace harness {

class CleanupGuard {
public:
    CleanupGuard() = default;
    ~CleanupGuard() { release(); }
    CleanupGuard(CleanupGuard&& o) noexcept : id_(o.id_) { o.id_ = 0; }
    CleanupGuard& operator=(CleanupGuard&& o) noexcept;
    CleanupGuard(const CleanupGuard&) = delete;
    CleanupGuard& operator=(const CleanupGuard&) = delete;

    void release() noexcept;  // forget the action without running it
    void run() noexcept;      // run the action now, then forget it
    explicit operator bool() const noexcept { return id_ != 0; }

private:
    friend CleanupGuard register_cleanup(std::string, std::function<void()>);
    explicit CleanupGuard(uint64_t id) : id_(id) {}
    uint64_t id_ = 0;
};

CleanupGuard register_cleanup(std::string what, std::function<void()> action);

bool in_ci();
[[noreturn]] void skip_test(const std::string& reason);
void skip_if(const std::optional<std::string>& reason);
bool current_test_failed() noexcept;

}  // namespace harness
