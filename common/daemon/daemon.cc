// daemon.cc - see daemon.h
#include "common/daemon/daemon.h"

#include <pthread.h>

#include <csignal>
#include <cstdio>
#include <exception>
#include <string>

#include "common/config/load.h"
#include "common/log/log.h"
#include "common/sys/privilege.h"

namespace daemons {

Control::~Control() = default;

void Changes::restart_only(std::string_view name, std::string_view from, std::string_view to) {
    if (from != to) items_.push_back({std::string(name), std::string(from), std::string(to)});
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
        const std::string user = hooks.setup();
        sys::drop_privileges(user);
        logging::info(logging::Line(log_name)
                              .kv("start", name)
                              .kv("user", user.empty() ? "(unchanged)" : user));
        Reloader control(opts, name, log_name, hooks, std::move(log));
        hooks.serve(control);
        return 0;
    } catch (const std::exception& e) {
        logging::fatal(e.what());
        return 1;
    }
}

}  // namespace detail
}  // namespace daemons
