// run_command.h - run a program with a message on its standard input
//
// run_command(argv, input, limit) forks, execs argv[0] with argv (no
// shell; the environment is passed on, so pipe(8)'s MAIL_CONFIG reaches
// sendmail(1)), in a process group of its own, writes input to its
// standard input and closes it, keeps the first kMaxOutput bytes of what
// it writes on standard output and error, and waits at most limit for it
// to end: then its process group is killed (SIGKILL) and reaped.
//
// The result is a value: ran (the exec succeeded), its exit status or
// signal, timed_out, the output, and for a program that could not run the
// errno of the failed step. A program that exits without reading all of
// its input is no error of ours: its exit status says what it did.
// Throws std::system_error only when pipe(2) or fork(2) fails.
// Thread safety: for a single-threaded process (it changes SIGPIPE to
// ignored while it writes).
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace bounce {

inline constexpr std::size_t kMaxOutput = 512;

struct CommandResult {
    bool ran = false;         // exec succeeded
    int exec_errno = 0;       // !ran: why not (ENOENT, EACCES, ...)
    bool exited = false;      // ended by exit(): exit_status is valid
    int exit_status = -1;
    int signal = 0;           // killed by this signal (SIGKILL after timed_out)
    bool timed_out = false;
    bool input_taken = false; // the child read all of input (the pipe took it)
    std::string output;       // stdout and stderr, at most kMaxOutput bytes
};

CommandResult run_command(const std::vector<std::string>& argv, std::string_view input,
                          std::chrono::milliseconds limit);

}  // namespace bounce
