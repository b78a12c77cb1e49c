// log_setup.cc - see log_setup.h
#include "common/daemon/log_setup.h"

#include <cerrno>
#include <system_error>
#include <unistd.h>

#include "common/daemon/users.h"

namespace daemons {

config::Error invalid(const config::Config& cfg, config::AnyKey key, std::string_view value,
                      std::string_view why) {
    // A default has no line of its own; say so instead of naming a line.
    const std::string what =
        "invalid " + std::string(key.name()) + ": " + std::string(value) + " (";
    if (cfg.is_default(key)) return config::Error(what + "the default; " + std::string(why) + ")");
    return config::Error(cfg.origin_of(key) + ": " + what + std::string(why) + ")");
}

LogSettings LogSettings::from(const config::Config& cfg, std::string_view log_name) {
    LogSettings s;
    s.ident = cfg.str("syslog_name") + "/" + std::string(log_name);
    s.facility_name = cfg.str("syslog_facility");
    auto f = logging::facility_from_name(s.facility_name);
    if (!f)
        throw invalid(cfg, "syslog_facility", s.facility_name,
                      "expected one of " + logging::facility_names());
    s.facility = *f;
    const std::string target = cfg.str("log_target");
    auto t = logging::parse_target(target);
    if (!t)
        throw invalid(cfg, "log_target", target,
                      "expected syslog, postlog:/path/to/socket, file:/path/to/file or stderr");
    s.target = std::move(*t);
    s.to_stderr = cfg.boolean("log_to_stderr");
    s.postlog_command = cfg.str("postlog_command");
    return s;
}

LogSettings LogSettings::defaults(std::string_view log_name) {
    return from(config::Config::defaults(), log_name);
}

LogSettings LogSettings::early(std::string_view log_name, const std::vector<std::string>& overrides) {
    try {
        return from(config::Config::parse("", "-o", overrides), log_name);
    } catch (const config::Error&) {
        return defaults(log_name);
    }
}

namespace {

logging::Target effective(const LogSettings& s, bool foreground) {
    if (foreground || s.to_stderr) return logging::Target{logging::Sink::Stderr, {}};
    return s.target;
}

void say(std::string_view text) noexcept {
    try {
        std::string line = std::string(program_invocation_short_name) + ": ";
        line.append(text);
        line += '\n';
        (void)!::write(2, line.data(), line.size());
    } catch (...) {
    }
}

}  // namespace

std::string describe(const LogSettings& s, bool foreground) {
    const logging::Target t = effective(s, foreground);
    std::string where;
    switch (t.sink) {
    case logging::Sink::Syslog:
        where = "syslog facility " + s.facility_name;
        if (!t.path.empty()) where += " (socket " + t.path + ")";
        break;
    case logging::Sink::Postlog:
        where = "postlogd(8) socket " + t.path;
        // Known once the log is open: the socket refused this user.
        if (std::string relay = logging::postlog_relay(); !relay.empty() && t == logging::current_target())
            where += " through " + relay;
        break;
    case logging::Sink::File: where = "file " + t.path; break;
    case logging::Sink::Stderr: where = "standard error"; break;
    case logging::Sink::None: where = "nowhere"; break;
    }
    return where + " as " + s.ident;
}

void open_log(const LogSettings& s, bool foreground, Announce announce) noexcept {
    const int saved = errno;
    try {
        const logging::Target t = effective(s, foreground);
        logging::open(s.ident.c_str(), t, s.facility, s.postlog_command);
        if (t.sink == logging::Sink::Stderr) return;
        if (std::string problem = logging::check(); !problem.empty()) {
            if (!logging::stderr_fallback() || announce == Announce::Never) return;
            const char* fix = t.sink == logging::Sink::Postlog
                                  ? "start Postfix first (postlogd writes maillog_file), or set "
                                  : t.sink == logging::Sink::Syslog ? "start the syslog daemon, or set "
                                                                     : "make the file writable, or set ";
            say("warning: cannot log to " + logging::target_name(t) + ": " + problem +
                "; log records go to standard error (" + fix + "log_target in sendguard.conf)");
            return;
        }
        if (announce == Announce::Always || (announce == Announce::Terminal && ::isatty(2)))
            say("logging to " + describe(s, foreground));
        if (announce == Announce::Always && logging::postlog_relay().empty())
            if (std::string why = logging::postlog_problem_for_others(t, s.postlog_command); !why.empty())
                logging::warning("postlog_command " + s.postlog_command + ": " + why +
                                 "; until then sendguard-bounce, which pipe(8) runs as a user that " + t.path +
                                 " refuses, cannot log (it leaves the gist of its decision in pipe(8)'s status text)");
    } catch (...) {
    }
    errno = saved;
}

}  // namespace daemons

namespace daemons {

void give_log_file_to(const std::string& user) {
    if (::geteuid() != 0) return;  // nobody else may give a file away
    const auto ids = user_ids_of(user);
    if (!ids) return;  // the privilege drop names a missing user
    if (const int e = logging::give_created_file(ids->uid, ids->gid); e != 0)
        throw std::system_error(e, std::generic_category(),
                                "giving the log file " + logging::target_name(logging::current_target()) +
                                    " to " + user);
}

}  // namespace daemons
