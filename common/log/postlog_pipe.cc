// postlog_pipe.cc - see postlog_pipe.h
#include "common/log/postlog_pipe.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>

extern char** environ;

namespace logging::detail {
namespace {

std::string group_name(gid_t gid) {
    std::vector<char> buf(16384);
    struct group gr {};
    struct group* found = nullptr;
    if (::getgrgid_r(gid, &gr, buf.data(), buf.size(), &found) == 0 && found) return gr.gr_name;
    return std::to_string(gid);
}

std::string mode_text(mode_t m) {
    char b[8];
    std::snprintf(b, sizeof b, "%04o", static_cast<unsigned>(m & 07777));
    return b;
}

std::string exit_text(int status) {
    if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
    return "status " + std::to_string(status);
}

}  // namespace

std::string postlog_unusable(const std::string& command, const std::string& socket_dir) {
    struct stat st {};
    if (::stat(command.c_str(), &st) != 0) return "cannot run " + command + ": " + std::strerror(errno);
    if (!S_ISREG(st.st_mode) || ::access(command.c_str(), X_OK) != 0)
        return "cannot run " + command + ": not an executable file";
    if (st.st_mode & S_ISGID) return {};
    struct stat dir {};
    const std::string group = ::stat(socket_dir.c_str(), &dir) == 0 ? group_name(dir.st_gid) : "postdrop";
    return command + " is not set-group-id " + group + " (mode " + mode_text(st.st_mode) + ", group " +
           group_name(st.st_gid) + "), so it cannot reach postlogd either: give it the bit with 'dpkg-statoverride --update --add root " + group +
           " 2755 " + command + "' (kept by package upgrades), or chgrp " + group + " " + command +
           " && chmod 2755 " + command;
}

PostlogPipe::~PostlogPipe() { (void)finish(std::chrono::milliseconds(0)); }

void PostlogPipe::configure(const std::string& command, const std::string& tag, std::string problem) {
    if (command == command_ && tag == tag_ && problem == problem_) return;
    (void)finish(std::chrono::milliseconds(200));
    command_ = command;
    tag_ = tag;
    problem_ = std::move(problem);
}

bool PostlogPipe::start() noexcept {
    try {
        // A write to a pipe whose reader is gone must be an error, not the
        // end of the process. The child gets the default back.
        struct sigaction old {};
        if (::sigaction(SIGPIPE, nullptr, &old) == 0 && old.sa_handler == SIG_DFL)
            ::signal(SIGPIPE, SIG_IGN);
        int p[2];
        if (::pipe2(p, O_CLOEXEC) != 0) {
            problem_ = std::string("pipe: ") + std::strerror(errno);
            return false;
        }
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t attr;
        ::posix_spawn_file_actions_init(&fa);
        ::posix_spawnattr_init(&attr);
        ::posix_spawn_file_actions_adddup2(&fa, p[0], 0);
        ::posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        ::posix_spawn_file_actions_adddup2(&fa, 1, 2);
        sigset_t def, none;
        sigemptyset(&def);
        sigaddset(&def, SIGPIPE);
        sigemptyset(&none);
        ::posix_spawnattr_setsigdefault(&attr, &def);
        ::posix_spawnattr_setsigmask(&attr, &none);  // a daemon blocks HUP/TERM/INT
        // Its own process group, so that finish() can end all of it.
        ::posix_spawnattr_setpgroup(&attr, 0);
        ::posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP);
        std::string prio = "info";  // see the header: "warning: " is in the text
        std::vector<char*> argv = {command_.data(), const_cast<char*>("-p"), prio.data(),
                                   const_cast<char*>("-t"), tag_.data(), nullptr};
        pid_t pid = -1;
        const int rc = ::posix_spawn(&pid, command_.c_str(), &fa, &attr, argv.data(), environ);
        ::posix_spawn_file_actions_destroy(&fa);
        ::posix_spawnattr_destroy(&attr);
        ::close(p[0]);
        if (rc != 0) {
            ::close(p[1]);
            problem_ = "cannot run " + command_ + ": " + std::strerror(rc);
            return false;
        }
        pid_ = pid;
        fd_ = p[1];
        ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);
        return true;
    } catch (...) {
        problem_ = "out of memory";
        return false;
    }
}

bool PostlogPipe::write(std::string_view line) noexcept {
    if (!problem_.empty() || command_.empty()) return false;
    if (pid_ <= 0 && !start()) return false;
    if (reap(std::chrono::milliseconds(0))) return false;  // exited: problem_ says how
    try {
        // One line is one record: a line break would start a record of its
        // own, without the queue id.
        std::string l(line.substr(0, kMaxLine));
        for (char& c : l)
            if (c == '\n' || c == '\r') c = '?';
        l += '\n';
        size_t done = 0;
        const auto deadline = std::chrono::steady_clock::now() + kWriteWait;
        while (done < l.size()) {
            const ssize_t n = ::write(fd_, l.data() + done, l.size() - done);
            if (n > 0) {
                done += static_cast<size_t>(n);
                continue;
            }
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && errno == EAGAIN) {
                const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now());
                pollfd pf{fd_, POLLOUT, 0};
                if (left.count() > 0 && ::poll(&pf, 1, static_cast<int>(left.count())) > 0) continue;
                // It stopped reading: a half line would join the next one.
                problem_ = command_ + " does not read its input (pipe full for " +
                           std::to_string(kWriteWait.count()) + "ms)";
                close_input();
                return false;
            }
            if (n < 0 && errno == EPIPE) {
                close_input();
                if (!reap(std::chrono::milliseconds(200)) && problem_.empty())
                    problem_ = command_ + " closed its input";
                return false;
            }
            problem_ = command_ + ": " + std::strerror(errno);
            close_input();
            return false;
        }
        return true;
    } catch (...) {
        return false;
    }
}

void PostlogPipe::close_input() noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

bool PostlogPipe::reap(std::chrono::milliseconds wait) noexcept {
    if (pid_ <= 0) return true;
    const auto deadline = std::chrono::steady_clock::now() + wait;
    for (;;) {
        int status = 0;
        const pid_t r = ::waitpid(pid_, &status, WNOHANG);
        if (r == pid_ || (r < 0 && errno == ECHILD)) {
            pid_ = -1;
            close_input();
            if (r > 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0) && problem_.empty()) {
                try {
                    problem_ = command_ + " failed (" + exit_text(status) + ")";
                } catch (...) {
                }
            }
            return true;
        }
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

const std::string& PostlogPipe::finish(std::chrono::milliseconds wait) noexcept {
    close_input();  // end of input: postlog sends what it read and exits
    // One still running after the wait (postlog pauses 1s after a fatal
    // error; a hung one would stay for ever, one per delivery) is killed
    // with its process group.
    if (!reap(wait)) {
        if (problem_.empty()) {
            try {
                problem_ = command_ + " did not finish within " + std::to_string(wait.count()) + " ms; killed";
            } catch (...) {
            }
        }
        ::kill(-pid_, SIGKILL);
        if (!reap(std::chrono::milliseconds(500))) pid_ = -1;
    }
    return problem_;
}

}  // namespace logging::detail
