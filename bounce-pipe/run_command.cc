// run_command.cc - see run_command.h
#include "bounce-pipe/run_command.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "common/sys/fd.h"

namespace bounce {
namespace {

using Clock = std::chrono::steady_clock;

void make_pipe(sys::Fd& r, sys::Fd& w) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe");
    r.reset(p[0]);
    w.reset(p[1]);
}

// In the child: only async-signal-safe calls until exec.
[[noreturn]] void exec_child(const std::vector<char*>& args, int in, int out, int report) {
    ::setpgid(0, 0);
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    ::sigaction(SIGPIPE, &dfl, nullptr);  // ignored signals stay ignored across exec
    ::sigaction(SIGALRM, &dfl, nullptr);
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    if (::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(out, 2) < 0) {
        const int e = errno;
        (void)!::write(report, &e, sizeof e);
        ::_exit(127);
    }
    ::execv(args[0], args.data());
    const int e = errno;
    (void)!::write(report, &e, sizeof e);
    ::_exit(127);
}

}  // namespace

CommandResult run_command(const std::vector<std::string>& argv, std::string_view input,
                          std::chrono::milliseconds limit) {
    CommandResult res;
    if (argv.empty() || argv.front().empty()) {
        res.exec_errno = ENOENT;
        return res;
    }
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);

    sys::Fd in_r, in_w, out_r, out_w, rep_r, rep_w;
    make_pipe(in_r, in_w);
    make_pipe(out_r, out_w);
    make_pipe(rep_r, rep_w);  // close-on-exec: EOF on it says exec worked

    struct sigaction ign {}, old_pipe {};
    ign.sa_handler = SIG_IGN;
    ::sigaction(SIGPIPE, &ign, &old_pipe);
    const pid_t pid = ::fork();
    if (pid < 0) {
        const int e = errno;
        ::sigaction(SIGPIPE, &old_pipe, nullptr);
        throw std::system_error(e, std::generic_category(), "fork");
    }
    if (pid == 0) exec_child(args, in_r.get(), out_w.get(), rep_w.get());
    ::setpgid(pid, pid);  // also here: no window in which a kill misses it
    // Our copy of the read end stays open: after the child has exited,
    // what is still in the pipe (FIONREAD) is what it did not read.
    out_w.reset();
    rep_w.reset();

    int e = 0;
    ssize_t n;
    while ((n = ::read(rep_r.get(), &e, sizeof e)) < 0 && errno == EINTR) {
    }
    if (n == static_cast<ssize_t>(sizeof e)) {
        res.exec_errno = e;
        in_w.reset();
    } else {
        res.ran = true;
    }
    rep_r.reset();

    ::fcntl(in_w.get(), F_SETFL, O_NONBLOCK);
    std::size_t written = 0;
    if (input.empty()) in_w.reset();
    const auto deadline = Clock::now() + limit;
    char buf[4096];
    while (out_r) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) {
            res.timed_out = true;
            break;
        }
        pollfd fds[2] = {{out_r.get(), POLLIN, 0}, {in_w.get(), POLLOUT, 0}};
        const int r = ::poll(fds, in_w ? 2 : 1, static_cast<int>(left.count()));
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) break;
        if (in_w && (fds[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
            const ssize_t w = ::write(in_w.get(), input.data() + written, input.size() - written);
            if (w > 0) written += static_cast<std::size_t>(w);
            if ((w < 0 && errno != EAGAIN && errno != EINTR) || written == input.size()) in_w.reset();
        }
        if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            const ssize_t got = ::read(out_r.get(), buf, sizeof buf);
            if (got > 0 && res.output.size() < kMaxOutput)
                res.output.append(buf, std::min(static_cast<std::size_t>(got), kMaxOutput - res.output.size()));
            if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN)) out_r.reset();
        }
    }
    in_w.reset();
    if (res.timed_out) ::kill(-pid, SIGKILL);
    // Output closed: the child is ending (or holds no copy any more); wait
    // for it, still within the limit.
    int status = 0;
    for (;;) {
        const pid_t w = ::waitpid(pid, &status, res.timed_out ? 0 : WNOHANG);
        if (w == pid) break;
        if (w < 0 && errno != EINTR) break;
        if (w == 0) {
            if (Clock::now() >= deadline) {
                res.timed_out = true;
                ::kill(-pid, SIGKILL);
                continue;
            }
            ::usleep(10000);
        }
    }
    ::sigaction(SIGPIPE, &old_pipe, nullptr);
    int unread = 0;
    res.input_taken = written == input.size() && ::ioctl(in_r.get(), FIONREAD, &unread) == 0 && unread == 0;
    in_r.reset();
    if (WIFEXITED(status)) {
        res.exited = true;
        res.exit_status = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        res.signal = WTERMSIG(status);
    }
    if (!res.ran) res.exited = false;
    return res;
}

}  // namespace bounce
