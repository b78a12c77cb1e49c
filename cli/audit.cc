// audit.cc - who changed the suppression list: one log line per change
//
// add, remove and import log what they changed and who asked, to syslog
// (facility mail, the syslog_name ident) like every sendguard program; with
// log_to_stderr = yes to standard error instead. The lines do not depend on
// whether stderr is a terminal: an audit trail that a cron job or a sudo
// shell escapes would not be one.
#include <pwd.h>
#include <unistd.h>

#include <cstdlib>

#include "cli/commands.h"
#include "common/log/log.h"

namespace cli {

void open_audit_log(const config::Config& cfg) {
    logging::open(cfg.str("syslog_name").c_str(),
                  cfg.boolean("log_to_stderr") ? logging::Sink::Stderr : logging::Sink::Syslog);
}

logging::Line audit_line(std::string_view action) {
    logging::Line l("suppress");
    l.kv("action", action);
    return l;
}

logging::Line& audit_who(logging::Line& l) {
    const uid_t uid = ::getuid();
    l.kv("uid", static_cast<long long>(uid));
    const struct passwd* pw = ::getpwuid(uid);
    l.kv("user", pw ? pw->pw_name : "?");
    // sudo(8) says who asked; only root's word for it is taken.
    if (const char* su = std::getenv("SUDO_USER"); su && *su && uid == 0) l.kv("sudo_user", su);
    return l;
}

}  // namespace cli
