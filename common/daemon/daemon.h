// daemon.h - the skeleton every long-running sendguard daemon is built on
//
// A daemon's main() is a table and a hand-off, as Postfix's pipe.c ends with
// single_server_main():
//
//     int main(int argc, char** argv) {
//         return daemons::run<policyd::Settings>(argc, argv, {
//             .name = "sendguard-policyd", .log_name = "policyd",
//             .usage = "...", .setup = policyd::make_service});
//     }
//
// Settings is the program's own type: a static Settings::from(const
// config::Config&), a std::string member `user` (who to run as, the
// <log_name>_user parameter) and a std::string member `pid_file` (the
// <log_name>_pid_file parameter, "" for none). It holds
// every value the program reads, typed, so that no library struct needs
// defaults of its own (they would drift from the parameter table).
//
// run() does, in this order:
//   1. options (options.h): -c config, -o/-O name=value, -v, -f, -h/--help;
//   2. loads the configuration (config::load, same file and overrides on
//      every reload) and builds the program's Settings with
//      Settings::from(const config::Config&), which reads and checks every
//      parameter the program uses and throws config::Error naming file:line;
//      plus the shared log settings (log_setup.h: syslog_name,
//      syslog_facility, log_to_stderr);
//   3. opens the log: ident "<syslog_name>/<log_name>", the facility named by
//      syslog_facility; -f or log_to_stderr = yes log to standard error;
//   4. checks who it will run as (see "Users" below), then calls
//      setup(settings) while still privileged (root): it opens the
//      listeners and files and returns the Service;
//   5. writes Settings::pid_file, when set, with the process id (the
//      sockets listen by now), replacing the file atomically;
//   6. drops privileges to Settings::user (sys::drop_privileges);
//   7. tells the supervisor it is ready ("READY=1" to $NOTIFY_SOCKET, as
//      sd_notify(3) does for systemd's Type=notify; nothing without the
//      variable), calls service->serve(control), says "STOPPING=1",
//      removes the pid file (a failure is a warning) and returns.
// From step 1 on, SIGHUP, SIGTERM and SIGINT are blocked: a signal that
// comes during start-up waits for serve(), which takes them (a signalfd, or
// libmilter's sigwait thread), instead of killing a half-started daemon.
// The program never detaches: a supervisor (systemd, scripts/run.sh, the
// tests) starts it and keeps its pid.
//
// Users: started as root, the daemon switches to Settings::user after
// setup. An empty user as root is a fatal error ("set <log_name>_user"):
// a daemon that parses what Postfix and the network send it must not keep
// root by accident. A user with uid 0 (policyd_user = root) is the explicit
// override: the daemon keeps root and logs a warning at every start.
// Started as another user, the daemon cannot switch and runs as that user.
//
// Reload (SIGHUP; the service's loop calls control.reload()): the whole
// configuration is read again and validated completely (Settings::from and
// the log settings); a bad file logs "warning: <log_name>: reload=failed,
// error=<file:line: ...>" and the running configuration stays. Otherwise
// service->apply(next, changes) swaps in what can change at run time and
// reports through changes.restart_only() what cannot; the log is reopened
// with the new settings; one warning per restart-only parameter reads
//     warning: policyd: reload: state_directory changed from X to Y; restart sendguard-policyd to
//     apply
// and then "<log_name>: reload=ok". apply() may throw to reject the new
// configuration (reload=failed, the service keeps the old one: apply must
// validate before it changes anything).
//
// Stop: the service's serve() returns after SIGTERM/SIGINT once it has
// finished what it was doing (its own bounded wait); run() then returns 0.
//
// Exit status (returned; only main() returns it): 0 after a clean stop and
// for -h; 64 (EX_USAGE) for bad options; 1 when the configuration is
// invalid, the user check, setup, the pid file or the privilege drop fail,
// or serve() throws. Each
// failure is one "fatal: ..." line on standard error and in the log.
//
// The milter uses the same skeleton: its serve() runs smfi_main() instead
// of an event loop. libmilter's own signal thread takes SIGTERM and SIGINT
// (and stops smfi_main()); it would treat SIGHUP as a stop too, so the
// milter takes SIGHUP away from it (milter/sigwait_wrap.h) and a thread of
// its own calls control.reload().
//
// Thread safety: run() is called once, from main(). control.reload() and
// service->apply() run on the thread that calls reload(); a service that
// reads its settings from other threads swaps them atomically in apply().
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/config/config.h"
#include "common/daemon/log_setup.h"
#include "common/daemon/options.h"

namespace daemons {

// Restart-only parameters that differ between the running and the new
// configuration, collected by Service::apply().
class Changes {
public:
    struct Item {
        std::string name, from, to;
    };
    // Records name when from != to.
    void restart_only(std::string_view name, std::string_view from, std::string_view to);
    // The store is opened once, at start: state_directory and the store_*
    // parameters of run and next, recorded as above.
    void store_restart_only(const config::Config& run, const config::Config& next);
    const std::vector<Item>& items() const noexcept { return items_; }

private:
    std::vector<Item> items_;
};

// What a running service may ask of the skeleton.
class Control {
public:
    virtual ~Control();
    // Re-reads and applies the configuration (see "Reload" above). Never
    // throws; logs the outcome.
    virtual void reload() noexcept = 0;
};

template <class Settings>
class Service {
public:
    virtual ~Service() = default;
    // Serves until a stop signal; see "Stop" above.
    virtual void serve(Control& control) = 0;
    // Takes over next (see "Reload" above).
    virtual void apply(const Settings& next, Changes& changes) = 0;
};

template <class Settings>
struct Program {
    std::string_view name;      // "sendguard-policyd": usage, messages
    std::string_view log_name;  // "policyd": the ident suffix and log component
    std::string_view usage;     // the text after "usage: ", e.g. "sendguard-policyd [-fv] ..."
    std::function<std::unique_ptr<Service<Settings>>(const Settings&)> setup;
};

namespace detail {

// Who the daemon runs as and where its pid goes (Settings::user, pid_file).
struct Identity {
    std::string user;
    std::string pid_file;
};

// The program-independent half of run() and of a reload, behind hooks.
struct Hooks {
    // Builds and keeps the program's Settings from cfg; throws config::Error.
    std::function<void(const config::Config& cfg)> build;
    // The user and pid file of the settings built last.
    std::function<Identity()> identity;
    // setup() with the kept settings.
    std::function<void()> setup;
    // serve(control) on the service.
    std::function<void(Control&)> serve;
    // apply() of the kept settings on the running service.
    std::function<void(Changes&)> apply;
    // The settings built last become the current ones (after apply).
    std::function<void()> commit;
};

int run(int argc, char** argv, std::string_view name, std::string_view log_name,
        std::string_view usage, const Hooks& hooks);

}  // namespace detail

template <class Settings>
int run(int argc, char** argv, const Program<Settings>& program) {
    std::unique_ptr<Settings> current, next;
    std::unique_ptr<Service<Settings>> service;
    detail::Hooks hooks;
    hooks.build = [&](const config::Config& cfg) {
        next = std::make_unique<Settings>(Settings::from(cfg));
    };
    hooks.identity = [&] { return detail::Identity{next->user, next->pid_file}; };
    hooks.setup = [&] {
        current = std::move(next);
        service = program.setup(*current);
    };
    hooks.serve = [&](Control& control) { service->serve(control); };
    hooks.apply = [&](Changes& changes) { service->apply(*next, changes); };
    hooks.commit = [&] { current = std::move(next); };
    return detail::run(argc, argv, program.name, program.log_name, program.usage, hooks);
}

}  // namespace daemons
