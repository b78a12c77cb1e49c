// postlog_pipe.h - log records handed to Postfix's postlog(1) on a pipe
//
// A program that may not reach postlogd(8)'s socket ($queue_directory/
// public/postlog is postfix:postdrop 0710: sendguard-bounce under pipe(8)
// runs as a user that is never in postdrop) gives its lines to postlog(1)
// instead, which Postfix installs set-group-id postdrop so that it can
// connect (postfix-files: root:postdrop 2755; Debian ships it 0755 and
// `postfix set-permissions` or chgrp/chmod fixes it).
//
//   PostlogPipe p;
//   p.configure("/usr/sbin/postlog", "sendguard/bounce");
//   p.write("Q1: bounce: action=suppress, ...");   // first line starts it
//   p.finish(std::chrono::milliseconds(1200));     // at exit
//
// One child, started at the first line: `postlog -p info -t TAG`, reading
// standard input, one record per line. Severity: postlog's -p applies to
// every line it reads; with -p info a line is written as given, with
// -p warn it gets a "warning: " prefix. The writer already starts warnings
// with "warning: " (log.h), so one child at -p info gives the same
// maillog_file lines as Postfix's own ("warning: ..."); only a syslog
// daemon behind postlog (maillog_file empty) sees them all at info.
// postlog finds main.cf through MAIL_CONFIG, which pipe(8) passes on
// (export_environment); a set-group-id postlog accepts a directory other
// than the built-in one only when the default main.cf lists it in
// alternate_config_directories or multi_instance_directories (Postfix's
// rule for its set-gid programs; -c is checked the same way).
//
// Never blocks a delivery: the pipe is non-blocking and a write waits at
// most kWriteWait for room; SIGPIPE is ignored (the child gets the default
// back); the child's standard output and error are /dev/null, so it cannot
// write into pipe(8)'s status text or keep pipe(8) waiting after we exit.
// A postlog that cannot run, exits, or stops reading makes problem() say
// why; later lines are refused (false) and the caller falls back.
//
// Errors are values (problem()); nothing throws. Thread safety: none; the
// log writer calls it under its lock.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <string_view>

namespace logging::detail {

// Why command cannot hand records to postlogd, known before running it:
// missing, not executable, or not set-group-id (it could not reach the
// socket either). "" when it looks usable. socket_dir names the group the
// set-gid bit needs ($queue_directory/public's group, postdrop).
std::string postlog_unusable(const std::string& command, const std::string& socket_dir);

class PostlogPipe {
public:
    // Longest line handed over: postlog cuts longer input lines into
    // several records (line_length_limit, 2048), and the second would carry
    // no queue id.
    static constexpr size_t kMaxLine = 2000;
    static constexpr std::chrono::milliseconds kWriteWait{100};

    PostlogPipe() = default;
    ~PostlogPipe();
    PostlogPipe(const PostlogPipe&) = delete;
    PostlogPipe& operator=(const PostlogPipe&) = delete;

    // A different command or tag ends the running child (finish) and
    // clears problem(); the same ones keep it.
    void configure(const std::string& command, const std::string& tag, std::string problem = {});
    // Hands one line over, starting the child if needed; false when it did
    // not get there (see problem()).
    bool write(std::string_view line) noexcept;
    // Closes the child's input and waits up to wait for it to exit; a
    // child still running then is killed with its process group. A child
    // that failed or was killed sets problem(). Returns problem().
    const std::string& finish(std::chrono::milliseconds wait) noexcept;

    const std::string& problem() const noexcept { return problem_; }
    bool running() const noexcept { return pid_ > 0; }
    const std::string& command() const noexcept { return command_; }

private:
    bool start() noexcept;
    // Reaps the child if it has exited (wait: how long to wait for that);
    // true when it is gone.
    bool reap(std::chrono::milliseconds wait) noexcept;
    void close_input() noexcept;

    std::string command_, tag_, problem_;
    pid_t pid_ = -1;
    int fd_ = -1;  // the child's standard input, non-blocking
};

}  // namespace logging::detail
