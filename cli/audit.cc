// audit.cc - who changed the suppression list: one log line per change
//
// add, remove and import log what they changed and who asked, as plain
// lines (no queue id) with the ident $syslog_name/cli, where log_target
// sends every sendguard program's log; with log_to_stderr = yes to standard
// error instead. On a terminal one line says where the trail went. The lines do not depend on
// whether stderr is a terminal: an audit trail that a cron job or a sudo
// shell escapes would not be one.
#include <pwd.h>
#include <unistd.h>

#include <cstdlib>

#include "cli/commands.h"
#include "common/daemon/log_setup.h"
#include "common/log/log.h"

namespace cli {

void open_audit_log(const config::Config& cfg) {
    daemons::open_log(daemons::LogSettings::from(cfg, "cli"), false, daemons::Announce::Terminal);
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
