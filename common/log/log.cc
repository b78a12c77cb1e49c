// log.cc - see log.h
#include "common/log/log.h"

#include "common/log/postlog_pipe.h"
#include "common/sys/fd.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <memory>
#include <mutex>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>
#include <vector>

namespace logging {
namespace {

// A record longer than this is cut: syslog daemons and postlogd read one
// datagram into a fixed buffer (rsyslog 8k by default).
constexpr size_t kMaxRecord = 8000;

struct State {
    Target target{Sink::Stderr, {}};
    int facility = LOG_MAIL;
    int fd = -1;             // datagram socket or file
    sockaddr_un addr{};      // syslog / postlog destination
    socklen_t addr_len = 0;
    std::string problem;     // why the target cannot be used ("" when it can)
    std::string host;        // short host name, for postlog and file records
    std::string postlog_command;  // see open()
    bool via_postlog = false;     // the socket refused us: lines go to postlog(1)
    bool created = false;         // the file target was created by this open
};

// How long the exit waits for the postlog child to send its last lines; a
// postlog that failed pauses 1s before it exits (postlog(1)), and its exit
// status is the only word from it (its output is /dev/null).
constexpr std::chrono::milliseconds kPostlogExitWait{1300};

State g_state;
bool g_verbose = false;
bool g_fallback = true;
std::mutex g_mu;
const std::string kDefaultIdent = "sendguard";
const std::string* g_ident = &kDefaultIdent;  // see open()
std::vector<std::unique_ptr<const std::string>> g_idents;
std::string g_captured;
detail::PostlogPipe g_postlog;
std::string g_postlog_said;  // the postlog problem said on standard error
// With the fallback off (lost_records()): records not delivered, and those
// handed to postlog(1), which a failing relay loses.
std::vector<std::string> g_lost, g_relayed;
std::string g_lost_why;  // the first reason a record was lost

void keep_record(std::vector<std::string>& to, std::string_view line) {
    if (to.size() < kMaxLostRecords) to.emplace_back(line.substr(0, kMaxRecord));
}

bool g_exit_hook = false;

std::string errno_text(int e) { return std::strerror(e); }

void write_stderr(const std::string& ident, std::string_view line) {
    std::string out = ident + ": ";
    out.append(line);
    out += '\n';
    (void)!::write(2, out.data(), out.size());
}

// "Dec  1 21:00:34" (syslog, %e) or "Dec 01 21:00:34" (Postfix, %d).
std::string timestamp(bool postfix_style) {
    const time_t now = std::time(nullptr);
    struct tm tm{};
    ::localtime_r(&now, &tm);
    char buf[32];
    size_t n = std::strftime(buf, sizeof buf, postfix_style ? "%b %d %H:%M:%S" : "%b %e %H:%M:%S", &tm);
    return std::string(buf, n);
}

std::string record(const State& st, const std::string& ident, int prio, std::string_view line) {
    std::string r;
    r.reserve(line.size() + ident.size() + 48);
    if (st.target.sink == Sink::Syslog) {
        r += '<';
        r += std::to_string(st.facility | prio);
        r += '>';
        r += timestamp(false);
    } else {
        r += timestamp(true);
        r += ' ';
        r += st.host;
    }
    r += ' ';
    r += ident;
    r += '[';
    r += std::to_string(::getpid());
    r += "]: ";
    r.append(line.substr(0, kMaxRecord));
    return r;
}

// Sends or appends one record; false when it did not get there.
bool deliver(State& st, const std::string& ident, int prio, std::string_view line) {
    if (st.via_postlog) return g_postlog.write(line.substr(0, kMaxRecord));  // postlog stamps it
    if (st.fd < 0) return false;
    std::string r = record(st, ident, prio, line);
    if (st.target.sink == Sink::File) {
        r += '\n';
        return ::write(st.fd, r.data(), r.size()) == static_cast<ssize_t>(r.size());
    }
    // The socket was connected at open(), before privileges were dropped
    // (public/postlog is open to postfix:postdrop only). When the reader
    // went away (a restarted syslog daemon) connect again, once.
    for (int attempt = 0; attempt < 2; ++attempt) {
        ssize_t n;
        do n = ::send(st.fd, r.data(), r.size(), MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        if (n >= 0) return true;
        if (errno != ECONNREFUSED && errno != ENOTCONN && errno != ENOENT) return false;
        if (::connect(st.fd, reinterpret_cast<const sockaddr*>(&st.addr), st.addr_len) != 0)
            return false;
    }
    return false;
}

// Says once why postlog(1) does not take the records: on standard error,
// where the records go instead, or, when they do not (sendguard-bounce:
// pipe(8) takes standard error as the delivery's status text), only to a
// terminal. A problem known at open() was said by the start-up code
// (daemons::open_log) when the records go to standard error.
void say_postlog_problem(const State& st) {
    const std::string& problem = g_postlog.problem();
    if (problem.empty() || problem == g_postlog_said) return;
    g_postlog_said = problem;
    if (g_fallback && problem == st.problem) return;
    if (!g_fallback && !::isatty(2)) return;
    std::string out = std::string(program_invocation_short_name) + ": warning: cannot log to " +
                      target_name(st.target) + ": " + problem +
                      (g_fallback ? "; log records go to standard error\n" : "; log records are lost\n");
    (void)!::write(2, out.data(), out.size());
}

void emit_line(int prio, const std::string& line) noexcept {
    try {
        std::lock_guard lk(g_mu);
        switch (g_state.target.sink) {
        case Sink::Syslog:
        case Sink::Postlog:
        case Sink::File:
            // Not delivered: standard error rather than nowhere.
            if (!deliver(g_state, *g_ident, prio, line)) {
                if (g_state.via_postlog) say_postlog_problem(g_state);
                if (g_fallback) {
                    write_stderr(*g_ident, line);
                } else {
                    if (g_lost_why.empty())
                        g_lost_why = g_state.via_postlog ? g_postlog.problem() : g_state.problem;
                    keep_record(g_lost, line);
                }
            } else if (!g_fallback && g_state.via_postlog) {
                keep_record(g_relayed, line);
            }
            break;
        case Sink::Stderr:
            write_stderr(*g_ident, line);
            break;
        case Sink::None:
            if (g_captured.size() > (1u << 20)) g_captured.clear();
            g_captured += line;
            g_captured += '\n';
            break;
        }
    } catch (...) {
        // Logging never throws; an allocation failure loses the line.
    }
}

void emit(int prio, std::string_view prefix, const std::optional<std::string_view>& qid,
          std::string_view text) noexcept {
    try {
        std::string line;
        line.reserve(text.size() + 32);
        if (qid) {
            // The queue id may come from a command line or a protocol peer:
            // a newline in it would forge a log line.
            line.append(qid->empty() ? std::string("NOQUEUE") : printable(*qid, 64));
            line.append(": ");
        }
        line.append(prefix);
        line.append(text);
        emit_line(prio, line);
    } catch (...) {
    }
}

std::string short_host() {
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0) return "localhost";
    std::string h(buf);
    if (auto dot = h.find('.'); dot != std::string::npos) h.resize(dot);
    return h.empty() ? "localhost" : h;
}

// Opens st.fd for st.target; sets st.problem when it cannot.
void open_target(State& st) {
    st.problem.clear();
    switch (st.target.sink) {
    case Sink::Syslog:
    case Sink::Postlog: {
        const std::string path =
            st.target.path.empty() ? std::string(kSyslogSocket) : st.target.path;
        if (path.size() >= sizeof st.addr.sun_path) {
            st.problem = path + ": socket path too long";
            return;
        }
        st.addr = {};
        st.addr.sun_family = AF_UNIX;
        std::memcpy(st.addr.sun_path, path.data(), path.size());
        st.addr_len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
        st.fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (st.fd < 0) {
            st.problem = "socket: " + errno_text(errno);
        } else if (::connect(st.fd, reinterpret_cast<const sockaddr*>(&st.addr), st.addr_len) != 0) {
            const int e = errno;
            if (st.target.sink == Sink::Postlog && (e == EACCES || e == EPERM) &&
                !st.postlog_command.empty()) {
                // Not ours to reach (public/ is postfix:postdrop 0710):
                // postlog(1), set-gid postdrop, is Postfix's way in.
                ::close(st.fd);
                st.fd = -1;
                st.via_postlog = true;
                const std::string dir = path.substr(0, path.rfind('/'));
                if (std::string why = detail::postlog_unusable(st.postlog_command, dir); !why.empty())
                    st.problem = path + ": " + errno_text(e) + "; " + why;
                break;
            }
            // Not fatal: deliver() tries again (the daemon may start later).
            st.problem = path + ": " + errno_text(e);
        }
        break;
    }
    case Sink::File: {
        // Whether this open creates the file decides whether it may be
        // given away (give_created_file).
        st.fd = sys::open_append(st.target.path, 0640, &st.created);
        if (st.fd < 0) st.problem = st.target.path + ": " + errno_text(errno);
        break;
    }
    case Sink::Stderr:
    case Sink::None:
        break;
    }
}

}  // namespace

// The facilities of syslog(3) a configuration may name, as Postfix's
// syslog_facility; kern is left out (user processes cannot log there).
struct Facility {
    std::string_view name;
    int code;
};
constexpr Facility kFacilities[] = {
    {"auth", LOG_AUTH},     {"authpriv", LOG_AUTHPRIV}, {"cron", LOG_CRON},
    {"daemon", LOG_DAEMON}, {"ftp", LOG_FTP},           {"lpr", LOG_LPR},
    {"mail", LOG_MAIL},     {"news", LOG_NEWS},         {"syslog", LOG_SYSLOG},
    {"user", LOG_USER},     {"uucp", LOG_UUCP},         {"local0", LOG_LOCAL0},
    {"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2},     {"local3", LOG_LOCAL3},
    {"local4", LOG_LOCAL4}, {"local5", LOG_LOCAL5},     {"local6", LOG_LOCAL6},
    {"local7", LOG_LOCAL7},
};

std::optional<int> facility_from_name(std::string_view name) noexcept {
    for (const auto& f : kFacilities)
        if (f.name == name) return f.code;
    return std::nullopt;
}

std::string facility_names() {
    std::string s;
    for (const auto& f : kFacilities) {
        if (!s.empty()) s += ", ";
        s.append(f.name);
    }
    return s;
}

std::optional<Target> parse_target(std::string_view v) {
    if (v == "syslog") return Target{Sink::Syslog, {}};
    if (v == "stderr") return Target{Sink::Stderr, {}};
    struct { std::string_view prefix; Sink sink; } kinds[] = {
        {"syslog:", Sink::Syslog}, {"postlog:", Sink::Postlog}, {"file:", Sink::File}};
    for (const auto& k : kinds) {
        if (v.substr(0, k.prefix.size()) != k.prefix) continue;
        std::string_view path = v.substr(k.prefix.size());
        if (path.size() < 2 || path[0] != '/') return std::nullopt;
        return Target{k.sink, std::string(path)};
    }
    return std::nullopt;
}

std::string target_name(const Target& t) {
    switch (t.sink) {
    case Sink::Syslog: return t.path.empty() ? "syslog" : "syslog:" + t.path;
    case Sink::Postlog: return "postlog:" + t.path;
    case Sink::File: return "file:" + t.path;
    case Sink::Stderr: return "stderr";
    case Sink::None: return "none";
    }
    return "?";
}

namespace {
// At exit: the postlog child gets the end of its input and a bounded wait.
void finish_postlog() noexcept {
    std::lock_guard lk(g_mu);
    g_postlog.finish(kPostlogExitWait);
    try {
        if (g_state.via_postlog) say_postlog_problem(g_state);
    } catch (...) {
    }
}
}  // namespace

void open(const char* ident, Target target, int facility, std::string_view postlog_command) noexcept {
    std::lock_guard lk(g_mu);
    // Earlier idents stay alive (a few, one per reload at most), so a caller
    // holding ident()'s old value or a record being formatted on another
    // thread never reads a freed string.
    try {
        if (g_idents.size() >= 8) g_idents.erase(g_idents.begin());
        g_idents.push_back(std::make_unique<const std::string>(ident));
        g_ident = g_idents.back().get();
    } catch (...) {
    }
    try {
        g_state.facility = facility < 0 ? LOG_MAIL : facility;
        if (g_state.host.empty()) g_state.host = short_host();
        const bool same = target == g_state.target && g_state.fd >= 0 && g_state.problem.empty();
        // A reload runs without the privileges of the start: the same socket
        // stays connected, and a file that cannot be reopened stays open.
        if (same && target.sink != Sink::File) return;
        State next = g_state;
        next.target = std::move(target);
        next.fd = -1;
        next.via_postlog = false;
        next.postlog_command = std::string(postlog_command);
        open_target(next);
        if (same && next.fd < 0) return;
        if (!(next.target == g_state.target) || next.postlog_command != g_state.postlog_command) {
            g_lost.clear();  // lost_records() speaks of this target
            g_relayed.clear();
            g_lost_why.clear();
        }
        if (g_state.fd >= 0) ::close(g_state.fd);
        g_state = std::move(next);
        // The same command and ident keep a running child (a reload).
        if (g_state.via_postlog) {
            g_postlog.configure(g_state.postlog_command, *g_ident, g_state.problem);
            if (!g_exit_hook) g_exit_hook = std::atexit(finish_postlog) == 0;
        } else {
            g_postlog.configure({}, {});
        }
    } catch (...) {
        g_state.target = Target{Sink::Stderr, {}};
    }
}

std::string check() noexcept {
    std::lock_guard lk(g_mu);
    try {
        if (!g_state.problem.empty()) return g_state.problem;
        if (g_state.via_postlog) return g_postlog.problem();
        if (g_state.target.sink != Sink::Syslog && g_state.target.sink != Sink::Postlog) return {};
        if (g_state.fd >= 0) return {};  // connected at open()
        // A datagram socket's connect() fails when nobody is bound to the
        // path (ENOENT) or its reader is gone (ECONNREFUSED).
        int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0) return "socket: " + errno_text(errno);
        int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&g_state.addr), g_state.addr_len);
        int e = errno;
        ::close(fd);
        if (rc == 0) return {};
        return std::string(g_state.addr.sun_path) + ": " + errno_text(e);
    } catch (...) {
        return "out of memory";
    }
}

Target current_target() noexcept {
    std::lock_guard lk(g_mu);
    try { return g_state.target; } catch (...) { return Target{Sink::Stderr, {}}; }
}

int give_created_file(uid_t uid, gid_t gid) noexcept {
    std::lock_guard lk(g_mu);
    if (g_state.target.sink != Sink::File || g_state.fd < 0 || !g_state.created) return 0;
    return ::fchown(g_state.fd, uid, gid) == 0 ? 0 : errno;
}

std::string postlog_relay() noexcept {
    std::lock_guard lk(g_mu);
    try { return g_state.via_postlog ? g_state.postlog_command : std::string(); } catch (...) { return {}; }
}

std::string postlog_problem_for_others(const Target& target, const std::string& postlog_command) {
    if (target.sink != Sink::Postlog || postlog_command.empty()) return {};
    return detail::postlog_unusable(postlog_command, target.path.substr(0, target.path.rfind('/')));
}

std::string ident() noexcept {
    std::lock_guard lk(g_mu);
    try { return *g_ident; } catch (...) { return {}; }
}

void set_verbose(bool on) noexcept { g_verbose = on; }
void set_stderr_fallback(bool on) noexcept { g_fallback = on; }

LostRecords lost_records() noexcept {
    std::lock_guard lk(g_mu);
    try {
        LostRecords out{g_lost_why, g_lost};
        if (g_state.via_postlog && !g_relayed.empty() && !g_postlog.finish(kPostlogExitWait).empty()) {
            // The relay failed: nothing handed to it is known to have arrived.
            if (out.why.empty()) out.why = g_postlog.problem();
            out.records.insert(out.records.begin(), g_relayed.begin(), g_relayed.end());
        }
        if (out.records.empty()) return {};
        if (out.why.empty()) out.why = "not delivered";
        out.why = target_name(g_state.target) + ": " + out.why;
        return out;
    } catch (...) {
        return {};
    }
}
bool stderr_fallback() noexcept { return g_fallback; }
bool verbose() noexcept { return g_verbose; }

void info(std::string_view t) noexcept { emit(LOG_INFO, "", std::nullopt, t); }
void warning(std::string_view t) noexcept { emit(LOG_WARNING, "warning: ", std::nullopt, t); }
void debug(std::string_view t) noexcept {
    if (g_verbose) emit(LOG_DEBUG, "", std::nullopt, t);
}
void info(QueueId q, std::string_view t) noexcept { emit(LOG_INFO, "", q.str(), t); }
void warning(QueueId q, std::string_view t) noexcept { emit(LOG_WARNING, "warning: ", q.str(), t); }
void debug(QueueId q, std::string_view t) noexcept {
    if (g_verbose) emit(LOG_DEBUG, "", q.str(), t);
}

void fatal(std::string_view t) noexcept {
    try {
        const std::string line = "fatal: " + std::string(t);
        std::lock_guard lk(g_mu);
        switch (g_state.target.sink) {
        case Sink::Syslog:
        case Sink::Postlog:
        case Sink::File: (void)deliver(g_state, *g_ident, LOG_CRIT, line); break;
        case Sink::None: g_captured += line + "\n"; break;
        case Sink::Stderr: break;
        }
        // Whoever started the program sees why it stopped.
        write_stderr(*g_ident, line);
    } catch (...) {
    }
}

std::string printable(std::string_view s, size_t max) {
    std::string out;
    out.reserve(std::min(s.size(), max));
    for (unsigned char c : s) {
        if (out.size() >= max) { out += "..."; break; }
        out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
    }
    return out;
}

Line::Line(std::string_view component) : s_(component) { s_ += ": "; }

Line& Line::kv(std::string_view key, std::string_view value) {
    if (!first_) s_ += ", ";
    first_ = false;
    s_.append(key);
    s_ += '=';
    // Pairs are separated by ", ": a value holding that separator (text from
    // a remote server, a forged queue id) could otherwise add fields of its
    // own ("x, action=suppress"). Such a value, and one that starts with a
    // quote, is quoted, with \ and " escaped.
    std::string v = printable(value, 400);
    if (v.find(", ") == std::string::npos && (v.empty() || v.front() != '"')) {
        s_ += v;
        return *this;
    }
    s_ += '"';
    for (char c : v) {
        if (c == '"' || c == '\\') s_ += '\\';
        s_ += c;
    }
    s_ += '"';
    return *this;
}

Line& Line::kv(std::string_view key, long long value) {
    return kv(key, std::to_string(value));
}

std::string captured() noexcept {
    std::lock_guard lk(g_mu);
    try { return g_captured; } catch (...) { return {}; }
}
void clear_captured() noexcept {
    std::lock_guard lk(g_mu);
    g_captured.clear();
}

}  // namespace logging
