// daemon.cc - see daemon.h
#include "common/daemon/daemon.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <string>

#include "common/config/load.h"
#include "common/daemon/users.h"
#include "common/log/log.h"
#include "common/sys/privilege.h"

namespace daemons {

Control::~Control() = default;

void Changes::restart_only(std::string_view name, std::string_view from, std::string_view to) {
    if (from != to) items_.push_back({std::string(name), std::string(from), std::string(to)});
}

void Changes::store_restart_only(const config::Config& run, const config::Config& next) {
    const auto yes_no = [](bool b) { return b ? "yes" : "no"; };
    restart_only("state_directory", run.str("state_directory"), next.str("state_directory"));
    restart_only("store_map_size", std::to_string(run.size("store_map_size")),
                 std::to_string(next.size("store_map_size")));
    restart_only("store_max_map_size", std::to_string(run.size("store_max_map_size")),
                 std::to_string(next.size("store_max_map_size")));
    restart_only("store_max_readers", std::to_string(run.integer("store_max_readers")),
                 std::to_string(next.integer("store_max_readers")));
    restart_only("store_sync", yes_no(run.boolean("store_sync")), yes_no(next.boolean("store_sync")));
}

namespace detail {
namespace {

// "" shows as "(empty)" so the warning never reads "changed from  to".
std::string shown(const std::string& v) {
    return v.empty() ? "(empty)" : v;
}

class Reloader final : public Control {
public:
    Reloader(const Options& o, std::string_view name, std::string_view log_name, const Hooks& hooks,
             LogSettings log)
        : opts_(o), name_(name), log_name_(log_name), hooks_(hooks), log_(std::move(log)) {}

    void reload() noexcept override {
        try {
            const config::Config cfg = config::load(opts_.config_path, opts_.overrides);
            LogSettings log = LogSettings::from(cfg, log_name_);
            hooks_.build(cfg);
            Changes changes;
            hooks_.apply(changes);
            hooks_.commit();
            if (!(log == log_)) {
                open_log(log, opts_.foreground);
                log_ = std::move(log);
            }
            for (const std::string& w : cfg.warnings())
                logging::warning(logging::Line(log_name_).kv("reload", "config").kv("remark", w));
            for (const auto& c : changes.items())
                logging::warning(std::string(log_name_) + ": reload: " + c.name + " changed from " +
                                 shown(c.from) + " to " + shown(c.to) + "; restart " +
                                 std::string(name_) + " to apply");
            logging::info(logging::Line(log_name_)
                              .kv("reload", "ok")
                              .kv("restart_needed", static_cast<long long>(changes.items().size())));
        } catch (const std::exception& e) {
            logging::warning(logging::Line(log_name_)
                                 .kv("reload", "failed")
                                 .kv("error", e.what())
                                 .kv("action", "keeping the running configuration"));
        } catch (...) {
            logging::warning(
                logging::Line(log_name_).kv("reload", "failed").kv("error", "unknown exception"));
        }
    }

private:
    Options opts_;
    std::string_view name_, log_name_;
    const Hooks& hooks_;
    LogSettings log_;
};

// The pid file of a running daemon: written (as PATH.tmp, then renamed, so
// a reader never sees a partial number) by the constructor, removed by the
// destructor. Removal after the privilege drop needs write access to the
// file's directory (run_directory is the daemon user's); a failure there is
// a warning, the supervisor's stale-pid check covers it.
class PidFile {
public:
    PidFile(std::string path, std::string_view param) : path_(std::move(path)) {
        if (path_.empty()) return;
        const std::string tmp = path_ + ".tmp";
        const std::string text = std::to_string(::getpid()) + "\n";
        const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        bool ok =
            fd >= 0 && ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
        const int err = errno;
        if (fd >= 0 && ::close(fd) != 0) ok = false;
        if (ok && ::rename(tmp.c_str(), path_.c_str()) == 0) return;
        const std::string why = std::strerror(ok ? errno : err);
        ::unlink(tmp.c_str());
        throw std::runtime_error("cannot write " + std::string(param) + " " + path_ + ": " + why +
                                 "; create its directory or change " + std::string(param));
    }
    ~PidFile() {
        if (path_.empty() || ::unlink(path_.c_str()) == 0 || errno == ENOENT) return;
        logging::warning("cannot remove pid file " + path_ + ": " + std::strerror(errno));
    }
    PidFile(const PidFile&) = delete;
    PidFile& operator=(const PidFile&) = delete;

private:
    std::string path_;
};

// Tells the supervisor how the daemon is doing, as sd_notify(3) does for
// systemd's Type=notify: one datagram (e.g. "READY=1") to the UNIX-domain
// socket in $NOTIFY_SOCKET (a path, or "@name" in the abstract namespace).
// Without the variable it does nothing; a failure is a warning, never fatal.
void notify_supervisor(const char* state) noexcept {
    const char* path = std::getenv("NOTIFY_SOCKET");
    if (!path || !*path) return;
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    const size_t n = std::strlen(path);
    if ((path[0] != '/' && path[0] != '@') || n >= sizeof sa.sun_path) {
        logging::warning(std::string("NOTIFY_SOCKET=") + path + ": not a socket path; not notified");
        return;
    }
    std::memcpy(sa.sun_path, path, n);
    if (path[0] == '@') sa.sun_path[0] = '\0';
    const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + n);
    if (fd < 0 || ::sendto(fd, state, std::strlen(state), MSG_NOSIGNAL,
                           reinterpret_cast<const sockaddr*>(&sa), len) < 0)
        logging::warning(std::string("cannot notify NOTIFY_SOCKET ") + path + ": " +
                         std::strerror(errno));
    if (fd >= 0) ::close(fd);
}

// Refuses an unset user as root; true when the daemon keeps root on
// purpose (a user with uid 0), see "Users" in daemon.h.
bool keeps_root(const std::string& user, std::string_view name, std::string_view log_name) {
    if (::geteuid() != 0) return false;
    const std::string param = std::string(log_name) + "_user";
    if (user.empty())
        throw std::runtime_error(std::string(name) + " started as root with " + param +
                                 " empty: set " + param +
                                 " to the unprivileged user it should run as (sendguard), or "
                                 "to root to keep root on purpose");
    const auto uid = uid_of(user);
    return uid && *uid == 0;
}

void usage(std::FILE* f, std::string_view usage) {
    std::fprintf(f, "usage: %.*s\n", static_cast<int>(usage.size()), usage.data());
}

}  // namespace

int run(int argc, char** argv, std::string_view name, std::string_view log_name,
        std::string_view usage_text, const Hooks& hooks) {
    const ParsedOptions parsed = parse_options(argc, argv);
    if (!parsed.options) {
        if (!parsed.error.empty())
            std::fprintf(stderr, "%.*s: %s\n", static_cast<int>(name.size()), name.data(),
                         parsed.error.c_str());
        usage(parsed.exit_status == 0 ? stdout : stderr, usage_text);
        return parsed.exit_status;
    }
    const Options& opts = *parsed.options;
    // Until serve() takes them (signalfd, sigwait), the stop and reload
    // signals wait: a SIGHUP during start-up must not kill the daemon.
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGHUP);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    ::pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
    // Until the configuration is read, the table's log settings: a
    // configuration error is logged with the program's ident.
    open_log(LogSettings::early(log_name, opts.overrides), opts.foreground);
    logging::set_verbose(opts.verbose > 0);
    try {
        LogSettings log;
        {
            const config::Config cfg = config::load(opts.config_path, opts.overrides);
            log = LogSettings::from(cfg, log_name);
            hooks.build(cfg);
            open_log(log, opts.foreground, Announce::Always);
            for (const std::string& w : cfg.warnings())
                logging::warning(logging::Line(log_name).kv("config", "remark").kv("remark", w));
        }
        const Identity id = hooks.identity();
        const bool started_as_root = ::geteuid() == 0;
        const bool root = keeps_root(id.user, name, log_name);
        hooks.setup();
        const PidFile pid_file(id.pid_file, std::string(log_name) + "_pid_file");
        if (root)
            logging::warning(
                logging::Line(log_name)
                    .kv("start", name)
                    .kv("user", id.user)
                    .kv("remark", "running as root because " + std::string(log_name) +
                                      "_user = " + id.user + "; set an unprivileged user instead"));
        else {
            give_log_file_to(id.user);  // created as root a moment ago
            sys::drop_privileges(id.user);
        }
        logging::info(logging::Line(log_name)
                          .kv("start", name)
                          .kv("user", started_as_root ? id.user : "(unchanged)"));
        Reloader control(opts, name, log_name, hooks, std::move(log));
        notify_supervisor("READY=1");
        hooks.serve(control);
        notify_supervisor("STOPPING=1");
        return 0;
    } catch (const std::exception& e) {
        logging::fatal(e.what());
        return 1;
    }
}

}  // namespace detail
}  // namespace daemons
