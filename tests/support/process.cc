// process.cc - see process.h
#include "tests/support/process.h"

#include "common/sys/fd.h"
#include "tests/support/temp_dir.h"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <mutex>
#include <set>
#include <spawn.h>
#include <stdexcept>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <system_error>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace harness {
namespace {

constexpr size_t kCaptureMax = 4u << 20;

// Pids owned by live Process objects: reap_orphans() must not steal them.
std::mutex g_owned_mu;
std::set<pid_t> g_owned;

void own(pid_t pid) {
    std::lock_guard lock(g_owned_mu);
    g_owned.insert(pid);
}
void disown(pid_t pid) {
    std::lock_guard lock(g_owned_mu);
    g_owned.erase(pid);
}
bool owned(pid_t pid) {
    std::lock_guard lock(g_owned_mu);
    return g_owned.count(pid) != 0;
}

ExitStatus decode(int st) {
    ExitStatus s;
    if (WIFEXITED(st)) {
        s.exited = true;
        s.code = WEXITSTATUS(st);
    } else if (WIFSIGNALED(st)) {
        s.signal = WTERMSIG(st);
    }
    return s;
}

// An anonymous, already-unlinked file: capture target or stdin source.
sys::Fd anon_file() {
    sys::Fd fd(::open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
    if (fd) return fd;
    char tmpl[] = "/tmp/sg-capture-XXXXXX";
    fd.reset(::mkostemp(tmpl, O_CLOEXEC));
    if (!fd) throw std::system_error(errno, std::generic_category(), "mkstemp");
    ::unlink(tmpl);
    return fd;
}

std::string pread_all(int fd, size_t max) {
    std::string out;
    char buf[65536];
    off_t off = 0;
    while (out.size() < max) {
        ssize_t n = ::pread(fd, buf, std::min(sizeof buf, max - out.size()), off);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw std::system_error(errno, std::generic_category(), "pread");
        }
        if (n == 0) break;
        out.append(buf, static_cast<size_t>(n));
        off += n;
    }
    return out;
}

// Little RAII for the two posix_spawn attribute objects.
struct SpawnAttrs {
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    SpawnAttrs() {
        posix_spawn_file_actions_init(&fa);
        posix_spawnattr_init(&attr);
    }
    ~SpawnAttrs() {
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&attr);
    }
    SpawnAttrs(const SpawnAttrs&) = delete;
    SpawnAttrs& operator=(const SpawnAttrs&) = delete;
};

std::vector<std::string> merged_env(const std::vector<std::string>& extra) {
    std::vector<std::string> out;
    auto overridden = [&](const char* entry) {
        const char* eq = std::strchr(entry, '=');
        size_t n = eq ? static_cast<size_t>(eq - entry) : std::strlen(entry);
        return std::any_of(extra.begin(), extra.end(), [&](const std::string& e) {
            return e.size() > n && e.compare(0, n, entry, n) == 0 && e[n] == '=';
        });
    };
    for (char** e = environ; e && *e; ++e)
        if (!overridden(*e)) out.emplace_back(*e);
    out.insert(out.end(), extra.begin(), extra.end());
    return out;
}

std::vector<char*> c_vector(std::vector<std::string>& v) {
    std::vector<char*> out;
    for (auto& s : v) out.push_back(s.data());
    out.push_back(nullptr);
    return out;
}

// Reads "/proc/PID/stat": state char and ppid; false when gone.
bool proc_stat(pid_t pid, char* state, pid_t* ppid) {
    std::string s;
    try {
        s = file_text("/proc/" + std::to_string(pid) + "/stat", 4096);
    } catch (...) {
        return false;
    }
    size_t rp = s.rfind(')');
    if (s.empty() || rp == std::string::npos || rp + 4 >= s.size()) return false;
    *state = s[rp + 2];
    *ppid = static_cast<pid_t>(std::atol(s.c_str() + rp + 4));
    return true;
}

std::vector<pid_t> all_pids() {
    std::vector<pid_t> out;
    DIR* d = ::opendir("/proc");
    if (!d) return out;
    while (dirent* e = ::readdir(d)) {
        char* end = nullptr;
        long v = std::strtol(e->d_name, &end, 10);
        if (end && *end == '\0' && v > 0) out.push_back(static_cast<pid_t>(v));
    }
    ::closedir(d);
    return out;
}

}  // namespace

std::string ExitStatus::str() const {
    if (exited) return "exit " + std::to_string(code);
    if (signal) return "signal " + std::to_string(signal) + " (" + strsignal(signal) + ")";
    return "unknown status";
}

std::string join_argv(const std::vector<std::string>& argv) {
    std::string out;
    for (const auto& a : argv) {
        if (!out.empty()) out += ' ';
        bool plain = !a.empty() && a.find_first_of(" \t\"'\\$") == std::string::npos;
        out += plain ? a : "'" + a + "'";
    }
    return out;
}

Process::Process(SpawnSpec spec) {
    if (spec.argv.empty()) throw std::invalid_argument("Process: empty argv");
    const auto& av = spec.argv;
    bool in_ns = av.size() > 4 && av[0] == "ip" && av[1] == "netns" && av[2] == "exec";
    const std::string& prog = in_ns ? av[4] : av[0];
    name_ = prog.substr(prog.rfind('/') + 1) + (in_ns ? " (netns " + av[3] + ")" : "");

    sys::Fd in_fd, out_fd, err_fd;
    if (!spec.stdin_data.empty()) {
        in_fd = anon_file();
        sys::write_all(in_fd.get(), spec.stdin_data);
        ::lseek(in_fd.get(), 0, SEEK_SET);
    }
    auto capture = [](const std::string& path, sys::Fd& fd, sys::Fd& anon, std::string& keep) {
        if (path.empty()) {
            fd = anon_file();
            anon.reset(::fcntl(fd.get(), F_DUPFD_CLOEXEC, 3));
            if (!anon) throw std::system_error(errno, std::generic_category(), "dup");
        } else {
            fd.reset(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
            if (!fd) throw std::system_error(errno, std::generic_category(), "open " + path);
            keep = path;
        }
    };
    capture(spec.stdout_path, out_fd, out_fd_, out_path_);
    capture(spec.stderr_path, err_fd, err_fd_, err_path_);

    SpawnAttrs a;
    if (in_fd)
        posix_spawn_file_actions_adddup2(&a.fa, in_fd.get(), 0);
    else
        posix_spawn_file_actions_addopen(&a.fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&a.fa, out_fd.get(), 1);
    posix_spawn_file_actions_adddup2(&a.fa, err_fd.get(), 2);
    if (!spec.cwd.empty()) posix_spawn_file_actions_addchdir_np(&a.fa, spec.cwd.c_str());

    sigset_t none, deflt;
    sigemptyset(&none);
    sigfillset(&deflt);
    sigdelset(&deflt, SIGKILL);
    sigdelset(&deflt, SIGSTOP);
    posix_spawnattr_setsigmask(&a.attr, &none);
    posix_spawnattr_setsigdefault(&a.attr, &deflt);
    posix_spawnattr_setpgroup(&a.attr, 0);  // own process group: kill(-pid) reaches all
    posix_spawnattr_setflags(&a.attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                          POSIX_SPAWN_SETSIGDEF);

    std::vector<std::string> env = merged_env(spec.env);
    std::vector<char*> cargv = c_vector(spec.argv);
    std::vector<char*> cenv = c_vector(env);
    pid_t pid = -1;
    int rc = ::posix_spawnp(&pid, cargv[0], &a.fa, &a.attr, cargv.data(), cenv.data());
    if (rc != 0) {
        throw std::system_error(rc, std::generic_category(), "spawn " + spec.argv[0]);
    }
    pid_ = pid;
    own(pid_);
    guard_ = register_cleanup("process " + name_ + " pid " + std::to_string(pid_), [pid] {
        ::kill(-pid, SIGKILL);
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
        disown(pid);
    });
}

Process::Process(Process&& o) noexcept
    : pid_(std::exchange(o.pid_, -1)),
      name_(std::move(o.name_)),
      status_(std::move(o.status_)),
      group_killed_(o.group_killed_),
      out_fd_(std::move(o.out_fd_)),
      err_fd_(std::move(o.err_fd_)),
      out_path_(std::move(o.out_path_)),
      err_path_(std::move(o.err_path_)),
      guard_(std::move(o.guard_)) {}

Process::~Process() {
    if (pid_ > 0) {
        try {
            stop(Millis(1000));
        } catch (...) {
        }
    }
    guard_.release();
}

bool Process::running() {
    if (status_ || pid_ <= 0) return false;
    int st = 0;
    pid_t r = ::waitpid(pid_, &st, WNOHANG);
    if (r == 0) return true;
    if (r == pid_) {
        status_ = decode(st);
    } else if (r < 0 && errno == EINTR) {
        return true;
    } else {
        status_ = ExitStatus{};  // ECHILD: someone else reaped it
    }
    disown(pid_);
    return false;
}

std::optional<ExitStatus> Process::wait_for(Millis timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    Millis nap(2);
    while (running()) {
        if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
        std::this_thread::sleep_for(nap);
        nap = std::min(nap * 2, Millis(25));
    }
    return status_;
}

ExitStatus Process::stop(Millis grace) {
    if (pid_ <= 0) return status_.value_or(ExitStatus{});
    if (running()) {
        ::kill(-pid_, SIGTERM);
        if (!wait_for(grace)) {
            ::kill(-pid_, SIGKILL);
            int st = 0;
            while (::waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
            }
            status_ = decode(st);
            disown(pid_);
        }
    }
    if (!group_killed_) {
        // Forked helpers left in the group.  Once only: a group id is not
        // reused while members live, but after that it could be.
        ::kill(-pid_, SIGKILL);
        group_killed_ = true;
    }
    guard_.release();
    return status_.value_or(ExitStatus{});
}

std::string Process::read_capture(int fd, const std::string& path) const {
    if (fd >= 0) return pread_all(fd, kCaptureMax);
    return file_text(path, kCaptureMax);
}

std::string Process::out() const { return read_capture(out_fd_.get(), out_path_); }
std::string Process::err() const { return read_capture(err_fd_.get(), err_path_); }

std::string RunResult::describe() const {
    std::string s = command + ": " + (timed_out ? "timed out" : status.str());
    auto tail = [](const std::string& t) {
        return t.size() > 2000 ? "..." + t.substr(t.size() - 2000) : t;
    };
    if (!out.empty()) s += "; stdout: " + tail(out);
    if (!err.empty()) s += "; stderr: " + tail(err);
    return s;
}

RunResult run(SpawnSpec spec, Millis timeout) {
    RunResult r;
    r.command = join_argv(spec.argv);
    auto t0 = std::chrono::steady_clock::now();
    Process p(std::move(spec));
    if (auto st = p.wait_for(timeout)) {
        r.status = *st;
    } else {
        r.timed_out = true;
        r.status = p.stop(Millis(500));
    }
    r.out = p.out();
    r.err = p.err();
    if (const char* t = std::getenv("SG_E2E_TRACE"); t && *t && *t != '0') {
        auto ms = std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - t0);
        std::fprintf(stderr, "harness: %lldms %s: %s\n", static_cast<long long>(ms.count()),
                     r.command.c_str(), r.timed_out ? "timed out" : r.status.str().c_str());
    }
    return r;
}

RunResult run(std::vector<std::string> argv, Millis timeout) {
    return run(SpawnSpec{.argv = std::move(argv)}, timeout);
}

bool have_program(const std::string& argv0) {
    if (argv0.find('/') != std::string::npos) return ::access(argv0.c_str(), X_OK) == 0;
    const char* path = std::getenv("PATH");
    std::string p = path ? path : "/usr/bin:/bin";
    p += ":/usr/sbin:/sbin";  // tools we use live in sbin; tests run as root
    size_t start = 0;
    while (start <= p.size()) {
        size_t end = p.find(':', start);
        if (end == std::string::npos) end = p.size();
        std::string dir = p.substr(start, end - start);
        if (!dir.empty() && ::access((dir + "/" + argv0).c_str(), X_OK) == 0) return true;
        start = end + 1;
    }
    return false;
}

void become_subreaper() {
    if (::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
        throw std::system_error(errno, std::generic_category(), "prctl(PR_SET_CHILD_SUBREAPER)");
}

void reap_orphans() noexcept {
    const pid_t self = ::getpid();
    for (pid_t pid : all_pids()) {
        char state = 0;
        pid_t ppid = 0;
        if (proc_stat(pid, &state, &ppid) && ppid == self && state == 'Z' && !owned(pid))
            ::waitpid(pid, nullptr, WNOHANG);
    }
}

bool process_alive(pid_t pid) noexcept {
    if (pid <= 0) return false;
    if (!owned(pid)) ::waitpid(pid, nullptr, WNOHANG);  // an adopted zombie of ours
    if (::kill(pid, 0) < 0 && errno == ESRCH) return false;
    char state = 0;
    pid_t ppid = 0;
    if (!proc_stat(pid, &state, &ppid)) return false;
    return state != 'Z' && state != 'X';
}

bool wait_gone(pid_t pid, Millis timeout) noexcept {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (process_alive(pid)) {
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(Millis(10));
    }
    return true;
}

std::vector<pid_t> processes_using(const std::string& root) noexcept {
    std::vector<pid_t> out;
    if (root.rfind("/tmp/", 0) != 0 || root.size() < 8) return out;  // only our trees
    const pid_t self = ::getpid();
    for (pid_t pid : all_pids()) {
        if (pid == self) continue;
        try {
            std::string base = "/proc/" + std::to_string(pid);
            char buf[4096];
            ssize_t n = ::readlink((base + "/cwd").c_str(), buf, sizeof buf - 1);
            bool hit = false;
            if (n > 0) {
                std::string cwd(buf, static_cast<size_t>(n));
                hit = cwd == root || cwd.rfind(root + "/", 0) == 0;
            }
            if (!hit) {
                std::string cmd = file_text(base + "/cmdline", 65536);
                std::replace(cmd.begin(), cmd.end(), '\0', ' ');
                // root as a whole path component: "/tmp/sg-x-AB" is not "/tmp/sg-x-ABC".
                for (size_t p = cmd.find(root); !hit && p != std::string::npos;
                     p = cmd.find(root, p + 1)) {
                    char next = p + root.size() < cmd.size() ? cmd[p + root.size()] : ' ';
                    hit = next == '/' || next == ' ';
                }
            }
            char state = 0;
            pid_t ppid = 0;
            if (hit && proc_stat(pid, &state, &ppid) && state != 'Z' && state != 'X')
                out.push_back(pid);
        } catch (...) {
            // Best effort: /proc entries vanish while we scan.
        }
    }
    return out;
}

std::vector<std::string> kill_processes_using(const std::string& root) noexcept {
    std::vector<std::string> killed;
    try {
        for (pid_t pid : processes_using(root)) {
            std::string comm = file_text("/proc/" + std::to_string(pid) + "/comm", 256);
            if (!comm.empty() && comm.back() == '\n') comm.pop_back();
            if (::kill(pid, SIGKILL) == 0) killed.push_back(std::to_string(pid) + " (" + comm + ")");
        }
    } catch (...) {
    }
    if (!killed.empty()) {
        std::this_thread::sleep_for(Millis(50));
        reap_orphans();
    }
    return killed;
}

}  // namespace harness
