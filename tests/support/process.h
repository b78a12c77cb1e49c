// process.h - child processes for e2e tests: spawn, capture, wait, kill
//
// Process spawns one program (posix_spawnp(3), PATH search) in its own
// process group, with stdin from a string (an unlinked temp file, so no
// pipe can dead-lock) or /dev/null, and stdout/stderr appended to files you
// name or to unlinked temp files you read back with out()/err().  The
// destructor stops the whole process group (SIGTERM, short grace, SIGKILL)
// and reaps the child, even when a test assertion failed; an exit-time
// cleanup entry (cleanup.h) covers the cases where destructors do not run.
//
//   harness::Process sink({.argv = {"smtp-sink", "127.0.0.2:2525", "10"},
//                          .stderr_path = dir.sub("sink.err")});
//   harness::RunResult r = harness::run({"postfix", "-c", cfg, "start"});
//   BOOST_TEST_REQUIRE(r.ok(), r.describe());
//
// Daemons that detach (the Postfix master) are re-parented to the nearest
// "child subreaper"; become_subreaper() makes the test process that
// subreaper, so such daemons become our children and can be reaped
// (reap_orphans()) instead of lingering as zombies under a PID 1 that does
// not reap (as in this VM).  process_alive() treats zombies as dead.
// kill_processes_using(root) finds and SIGKILLs processes whose working
// directory or command line lies under a harness temp tree: the stray-daemon
// net for teardown, limited to what the harness itself started.
//
// Set SG_E2E_TRACE=1 to have run() print each command with its duration.
//
// Errors: a program that cannot be spawned (not found, not executable)
// throws std::system_error naming argv[0]; exit statuses and time-outs are
// values (ExitStatus, RunResult::timed_out).
// Thread safety: a Process is used by one thread; the pid registry used by
// reap_orphans() is internally locked.
#pragma once

#include "common/sys/fd.h"
#include "tests/support/cleanup.h"

#include <chrono>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace harness {

using Millis = std::chrono::milliseconds;

struct ExitStatus {
    bool exited = false;  // normal exit (code valid)
    int code = -1;
    int signal = 0;       // killed by this signal
    bool ok() const noexcept { return exited && code == 0; }
    std::string str() const;  // "exit 0", "signal 9 (Killed)"
};

struct SpawnSpec {
    std::vector<std::string> argv{};  // argv[0] is looked up in PATH
    std::vector<std::string> env{};   // NAME=VALUE added to / overriding ours
    std::string cwd{};                // "" keeps ours
    std::string stdin_data{};         // fed as stdin; empty: /dev/null
    std::string stdout_path{};        // "" : unlinked temp file, see out()
    std::string stderr_path{};        // "" : unlinked temp file, see err()
};

class Process {
public:
    explicit Process(SpawnSpec spec);
    ~Process();
    Process(Process&& o) noexcept;
    Process& operator=(Process&&) = delete;
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;

    pid_t pid() const noexcept { return pid_; }
    const std::string& name() const noexcept { return name_; }
    // True while the child has not exited (reaps it once it has).
    bool running();
    // The exit status once known (after running() turned false or a wait).
    const std::optional<ExitStatus>& status() const noexcept { return status_; }
    // Waits up to timeout; nullopt when still running.
    std::optional<ExitStatus> wait_for(Millis timeout);
    // SIGTERM to the process group, wait up to grace, then SIGKILL; reaps.
    ExitStatus stop(Millis grace = Millis(2000));
    // Captured output so far (at most 4 MiB each).
    std::string out() const;
    std::string err() const;

private:
    std::string read_capture(int fd, const std::string& path) const;

    pid_t pid_ = -1;
    std::string name_;
    std::optional<ExitStatus> status_;
    bool group_killed_ = false;  // the final SIGKILL to the group is sent once
    sys::Fd out_fd_, err_fd_;  // anonymous captures
    std::string out_path_, err_path_;
    CleanupGuard guard_;
};

struct RunResult {
    ExitStatus status{};
    bool timed_out = false;
    std::string out{}, err{};
    std::string command{};  // argv joined, for messages
    bool ok() const noexcept { return !timed_out && status.ok(); }
    // "cmd: exit 1; stderr: ..." for assertion messages.
    std::string describe() const;
};

// Runs a program to completion; kills its group after timeout.
RunResult run(SpawnSpec spec, Millis timeout = Millis(30000));
RunResult run(std::vector<std::string> argv, Millis timeout = Millis(30000));

// True when argv0 is an executable path, or is found in PATH.
bool have_program(const std::string& argv0);
std::string join_argv(const std::vector<std::string>& argv);

// Makes this process the child subreaper (prctl PR_SET_CHILD_SUBREAPER).
void become_subreaper();
// Reaps exited children that no Process owns (adopted daemons).
void reap_orphans() noexcept;
// kill(pid, 0) succeeds and the process is not a zombie; reaps our zombies.
bool process_alive(pid_t pid) noexcept;
// Waits until !process_alive(pid) or timeout.
bool wait_gone(pid_t pid, Millis timeout) noexcept;
// Processes (other than us, not zombies) whose cwd is under root or whose
// command line mentions root.  root must be a harness tree under /tmp/.
std::vector<pid_t> processes_using(const std::string& root) noexcept;
// SIGKILLs processes_using(root); returns "pid (comm)" of each one killed.
std::vector<std::string> kill_processes_using(const std::string& root) noexcept;

}  // namespace harness
