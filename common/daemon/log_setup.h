// log_setup.h - the log as the shared logging parameters describe it
//
//   LogSettings s = LogSettings::from(cfg, "policyd");
//       ident    "<syslog_name>/policyd" (Postfix: "postfix/smtpd")
//       facility syslog_facility as a LOG_* code; a name syslog(3) does not
//                know is a config::Error naming the file and line:
//                "sendguard.conf:4: invalid syslog_facility: bogus (expected
//                one of auth, authpriv, ...)"
//       target   log_target (logging::parse_target): syslog, postlog:PATH,
//                file:PATH or stderr; anything else is a config::Error
//       to_stderr log_to_stderr (wins over log_target)
//       postlog_command  postlog_command: the postlog(1) a postlog target
//                falls back to when its socket refuses this user (log.h)
//   LogSettings::defaults("bounce")  the same from the parameter table alone
//   LogSettings::early("bounce", overrides)  the table plus -o: the log
//                before the configuration is read, so that a configuration
//                error is logged with the program's ident, where -o says
//   open_log(s, foreground, announce)
//                logging::open with those; foreground (-f) sends the log to
//                standard error instead. A target that cannot take records
//                (no syslog daemon at /dev/log, postlogd down, a file that
//                cannot be opened) sends them to standard error (unless
//                logging::stderr_fallback() is off); with announce other
//                than Never a warning there says so, or else one line says
//                where the log goes: "sendguard-policyd: logging to syslog
//                facility mail as sendguard/policyd" (Announce::Terminal:
//                only when standard error is a terminal). The log opened
//                before the configuration is read uses Never, so a daemon
//                says it once.
//   describe(s)  "syslog facility mail as sendguard/policyd"
//   give_log_file_to(user)
//                a file target this process created (as root, before the
//                privilege drop) gets user's uid and primary group, so that
//                the daemon can reopen it after a reload and the other
//                programs running as that user (sendguard) append to it
//                instead of falling back to standard error. A file that
//                was there already keeps its owner. Errors: std::system_error
//                (lookup, fchown), naming the file and the user.
//
// Any program can use it, daemon or not (sendguard-bounce and sendguard log
// the same way). Thread safety: none needed (start-up and reload code).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/config/config.h"
#include "common/log/log.h"

namespace daemons {

struct LogSettings {
    std::string ident;
    int facility = -1;
    std::string facility_name;
    logging::Target target{};
    bool to_stderr = false;
    std::string postlog_command{};
    bool operator==(const LogSettings&) const = default;

    static LogSettings from(const config::Config& cfg, std::string_view log_name);
    static LogSettings defaults(std::string_view log_name);
    // The defaults with the command line's -o overrides applied, so that
    // "-o log_target=file:/..." also covers a broken configuration file;
    // overrides that do not parse are ignored here (loading reports them).
    static LogSettings early(std::string_view log_name, const std::vector<std::string>& overrides);
};

enum class Announce { Never, Terminal, Always };

void open_log(const LogSettings& s, bool foreground, Announce announce = Announce::Never) noexcept;
std::string describe(const LogSettings& s, bool foreground = false);
void give_log_file_to(const std::string& user);

// "<where>: invalid <name>: <value> (<why>)", the configuration library's
// wording, for checks done after loading (a group that does not exist).
config::Error invalid(const config::Config& cfg, config::AnyKey key, std::string_view value,
                      std::string_view why);

}  // namespace daemons
