// log_setup.h - the log as the shared logging parameters describe it
//
//   LogSettings s = LogSettings::from(cfg, "policyd");
//       ident    "<syslog_name>/policyd" (Postfix: "postfix/smtpd")
//       facility syslog_facility as a LOG_* code; a name syslog(3) does not
//                know is a config::Error naming the file and line:
//                "sendguard.conf:4: invalid syslog_facility: bogus (expected
//                one of auth, authpriv, ...)"
//       to_stderr log_to_stderr
//   open_log(s, foreground)   logging::open with those; foreground (-f)
//                             also sends the log to standard error
//
// Any program can use it, daemon or not (sendguard-bounce logs the same way).
// Thread safety: none needed (start-up and reload code).
#pragma once

#include <string>
#include <string_view>

#include "common/config/config.h"

namespace daemons {

struct LogSettings {
    std::string ident;
    int facility = -1;
    std::string facility_name;
    bool to_stderr = false;
    bool operator==(const LogSettings&) const = default;

    static LogSettings from(const config::Config& cfg, std::string_view log_name);
};

void open_log(const LogSettings& s, bool foreground) noexcept;

// "<where>: invalid <name>: <value> (<why>)", the configuration library's
// wording, for checks done after loading (a group that does not exist).
config::Error invalid(const config::Config& cfg, config::AnyKey key, std::string_view value,
                      std::string_view why);

}  // namespace daemons
