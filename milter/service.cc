// service.cc - see service.h
#include "milter/service.h"

#include <libmilter/mfapi.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <functional>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <system_error>
#include <thread>

#include "common/daemon/log_setup.h"
#include "common/dkim/background.h"
#include "common/log/log.h"
#include "common/store/lmdb.h"
#include "common/store/sendlog.h"
#include "common/store/setup.h"
#include "milter/callbacks.h"
#include "milter/connection_limit.h"

namespace milter {
namespace {

std::string octal(mode_t m) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(m));
    return buf;
}

// The thread that takes SIGHUP (sigwait_wrap.h): blocked everywhere, it is
// pending until this thread's sigtimedwait() returns it. Every
// kSendLogPurgeInterval it also purges expired send-log entries. The
// destructor wakes the thread with a SIGHUP of its own (pthread_kill) after
// setting the flag.
class ReloadThread {
public:
    ReloadThread(daemons::Control& control, std::function<void()> periodic)
        : periodic_(std::move(periodic)), thread_([this, &control] { run(control); }) {}
    ~ReloadThread() {
        stop_.store(true);
        pthread_kill(thread_.native_handle(), SIGHUP);
        thread_.join();
    }

private:
    void run(daemons::Control& control) {
        sigset_t hup;
        sigemptyset(&hup);
        sigaddset(&hup, SIGHUP);
        const timespec interval{static_cast<time_t>(kSendLogPurgeInterval.count()), 0};
        while (!stop_.load()) {
            siginfo_t info;
            if (sigtimedwait(&hup, &info, &interval) < 0) {
                if (errno == EAGAIN && !stop_.load()) periodic_();
                continue;  // EINTR
            }
            if (stop_.load()) break;
            control.reload();
        }
    }

    std::function<void()> periodic_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

// The store env, its commits flushed as milter_store_sync says (this
// process's handle only).
std::shared_ptr<store::Env> open_store(const Settings& s) {
    std::shared_ptr<store::Env> env = store::open_suppression_store(*s.config);
    const unsigned flags = s.store_sync == StoreSync::Data       ? MDB_NOMETASYNC
                           : s.store_sync == StoreSync::Interval ? MDB_NOSYNC
                                                                 : 0u;
    if (flags != 0)
        if (const int rc = mdb_env_set_flags(env->raw(), flags, 1); rc != 0)
            throw store::Error(store::kind_of(rc), rc, "mdb_env_set_flags", env->path(), "milter_store_sync");
    return env;
}

// Flushes the env every kStoreSyncInterval and once more when it stops
// (milter_store_sync = data or interval). A failure is logged once, and
// again only after a flush has worked.
class SyncThread {
public:
    explicit SyncThread(std::shared_ptr<store::Env> env)
        : env_(std::move(env)), thread_([this] { run(); }) {}
    ~SyncThread() {
        {
            std::lock_guard lock(mu_);
            stop_ = true;
        }
        cv_.notify_one();
        thread_.join();
    }

private:
    void run() {
        std::unique_lock lock(mu_);
        for (bool last = false; !last;) {
            last = cv_.wait_for(lock, kStoreSyncInterval, [this] { return stop_; });
            lock.unlock();
            flush();
            lock.lock();
        }
    }
    void flush() noexcept {
        const int rc = mdb_env_sync(env_->raw(), 1);
        if (rc != 0 && !failing_)
            logging::warning(logging::Line("milter")
                                 .kv("store", env_->path())
                                 .kv("sync", "failed")
                                 .kv("error", mdb_strerror(rc))
                                 .kv("effect", "send-log entries since the last flush are not yet on disk")
                                 .str());
        failing_ = rc != 0;
    }

    std::shared_ptr<store::Env> env_;
    std::mutex mu_;
    std::condition_variable cv_;
    bool stop_ = false;
    bool failing_ = false;
    std::thread thread_;
};

void purge_send_log(store::SendLog& log) noexcept {
    try {
        const auto now = std::chrono::system_clock::now().time_since_epoch();
        const size_t n = log.purge_expired(std::chrono::duration_cast<std::chrono::seconds>(now).count());
        if (n) logging::info(logging::Line("milter").kv("sendlog", "purged").kv("entries", static_cast<long long>(n)));
    } catch (const std::exception& e) {
        logging::warning(logging::Line("milter").kv("sendlog", "purge failed").kv("error", e.what()));
    }
}

// The one ConnectionLimit of the process: libmilter's threads may still
// close sockets after smfi_main() returns, so it is never destroyed.
ConnectionLimit& connection_limit(ConnectionLimits limits) {
    static ConnectionLimit* limit = new ConnectionLimit(limits);
    limit->set_limits(limits);
    return *limit;
}

// RLIMIT_NOFILE holds limits.total connections and kFdReserve more, raised
// if need be (the hard limit too while still root).
void fit_file_limit(const ConnectionLimits& limits) noexcept {
    const rlim_t need = static_cast<rlim_t>(limits.total + kFdReserve);
    rlimit r{};
    if (::getrlimit(RLIMIT_NOFILE, &r) != 0 || r.rlim_cur >= need) return;
    rlimit want = r;
    want.rlim_cur = need;
    if (want.rlim_max < need) want.rlim_max = need;
    if (::setrlimit(RLIMIT_NOFILE, &want) == 0) return;
    want.rlim_max = r.rlim_max;
    want.rlim_cur = std::min(need, r.rlim_max);
    if (want.rlim_cur > r.rlim_cur && ::setrlimit(RLIMIT_NOFILE, &want) == 0) r = want;
    logging::warning(logging::Line("milter")
                         .kv("milter_max_connections", static_cast<long long>(limits.total))
                         .kv("needs_file_descriptors", static_cast<long long>(need))
                         .kv("limit", static_cast<long long>(r.rlim_cur))
                         .kv("effect", "connections past the file-descriptor limit fail in accept()")
                         .kv("fix", "raise LimitNOFILE (systemd) or ulimit -n, or lower milter_max_connections")
                         .str());
}

class MilterService final : public daemons::Service<Settings> {
public:
    explicit MilterService(const Settings& s)
        : settings_(s),
          env_(open_store(s)),
          state_(s.policy, std::make_shared<store::SendLog>(env_)),
          limit_(connection_limit(s.limits)) {
        register_callbacks(state_);
        fit_file_limit(s.limits);
        install(&limit_);
        if (smfi_setconn(const_cast<char*>(s.listen_spec.c_str())) != MI_SUCCESS)
            throw daemons::invalid(*s.config, "milter_listen", s.listen_text, "libmilter refuses it");
        smfi_settimeout(static_cast<int>(s.timeout.count()));
        smfi_setmaxdatasize(kMaxPacketData);
        if (smfi_opensocket(true) != MI_SUCCESS)
            throw daemons::invalid(*s.config, "milter_listen", s.listen_text,
                                   "cannot listen there (in use, or the directory is missing or not "
                                   "writable); name a free endpoint");
        if (s.listen.kind == net::Endpoint::Kind::Unix) set_socket_access(s);
        check_keys(s.policy);
        logging::info(logging::Line("milter").kv("listen", s.listen_text));
    }

    void serve(daemons::Control& control) override {
        int rc = 0;
        {
            std::optional<SyncThread> sync;
            if (settings_.store_sync != StoreSync::Commit) sync.emplace(env_);
            ReloadThread reloads(control, [this] { purge_send_log(*state_.send_log()); });
            rc = smfi_main();
        }
        logging::info(logging::Line("milter").kv("stop", rc == MI_SUCCESS ? "signal" : "error"));
        if (rc != MI_SUCCESS) throw std::runtime_error("smfi_main failed (see libmilter's messages above)");
    }

    void apply(const Settings& next, daemons::Changes& changes) override {
        const Settings& run = settings_;
        changes.restart_only("milter_listen", run.listen_text, next.listen_text);
        changes.restart_only("milter_socket_mode", octal(run.socket_mode), octal(next.socket_mode));
        changes.restart_only("milter_socket_group", run.socket_group, next.socket_group);
        changes.restart_only("milter_timeout", std::to_string(run.timeout.count()) + "s",
                             std::to_string(next.timeout.count()) + "s");
        changes.restart_only("milter_store_sync", run.config->str("milter_store_sync"),
                             next.config->str("milter_store_sync"));
        changes.restart_only("milter_user", run.user, next.user);
        changes.restart_only("milter_pid_file", run.pid_file, next.pid_file);
        changes.store_restart_only(*run.config, *next.config);
        fit_file_limit(next.limits);
        limit_.set_limits(next.limits);  // from the next connection on
        check_keys(next.policy);         // the new key table's keys, from scratch
        state_.publish(next.policy);     // the next connection's rules
    }

private:
    static void set_socket_access(const Settings& s) {
        const char* path = s.listen.path.c_str();
        if (::chmod(path, s.socket_mode) != 0)
            throw std::system_error(errno, std::generic_category(), "chmod " + s.listen.path);
        if (s.socket_gid != static_cast<gid_t>(-1) && ::chown(path, static_cast<uid_t>(-1), s.socket_gid) != 0)
            throw std::system_error(errno, std::generic_category(), "chown " + s.listen.path);
    }

    // DKIM: the published-key checks of the current Policy's keys.
    void check_keys(const std::shared_ptr<const Policy>& p) {
        key_checks_.reset();
        if (p->dkim) key_checks_ = std::make_unique<dkim::BackgroundCheck>(p->dkim);
    }

    std::unique_ptr<dkim::BackgroundCheck> key_checks_;
    Settings settings_;
    std::shared_ptr<store::Env> env_;
    State state_;
    ConnectionLimit& limit_;
};

}  // namespace

std::unique_ptr<daemons::Service<Settings>> make_service(const Settings& settings) {
    return std::make_unique<MilterService>(settings);
}

}  // namespace milter
