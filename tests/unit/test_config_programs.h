// test_config_programs.h - each program's settings code, for config tests
//
// One row per program: its User bit and a function that runs what the
// program runs at start (or per command) to turn a Config into settings,
// throwing as the program would on a bad value. test_config_users.cc checks
// the table's "used by" bits against what these read; test_config_examples.cc
// runs them on every conf-examples file. A new program, or a settings
// function replacing one of these, is one line in kPrograms.
//
// A program not written yet has no row there; the libraries written for
// it are its parts (kParts): each part's settings code, the parameters it
// must read, and the program it belongs to. When the program exists, its
// row in kPrograms replaces its parts.
//
// setting_overrides(dir) are -o overrides that keep the settings code's
// files in dir: config_directory (with a VERP key file) and state_directory.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "bounce-pipe/transport.h"
#include "cli/doctor.h"
#include "common/address/verp_setup.h"
#include "common/config/config.h"
#include "common/daemon/log_setup.h"
#include "common/daemon/users.h"
#include "common/senders/setup.h"
#include "common/store/setup.h"
#include "milter/settings.h"
#include "policyd/learn_settings.h"
#include "policyd/settings.h"
#include "tests/support/temp_dir.h"

namespace config_test {

// sendguard-bounce: run_transport (bounce-pipe/commands.cc) reads the
// log settings, then builds Settings (the time limit included), the store
// and the VERP codecs.
inline void bounce_settings(const config::Config& cfg) {
    (void)daemons::LogSettings::from(cfg, "bounce");
    (void)bounce::Settings::from(cfg);  // bounce_time_limit included
    (void)store::open_suppression_store(cfg);
    (void)address::verp_codecs(cfg);
}

// sendguard: the union of its commands. "config" reads no parameter (it
// dumps them); "suppress" opens the store and, to change it, the audit
// log; "verp" builds the codecs; "doctor" its settings.
inline void cli_settings(const config::Config& cfg) {
    (void)daemons::LogSettings::from(cfg, "cli");  // the audit trail (cli/audit.cc)
    (void)store::open_suppression_store(cfg);
    (void)address::verp_codecs(cfg);
    (void)cli::doctor::Settings::from(cfg);
}

// sendguard-policyd: what daemons::run builds before setup (the program's
// Settings and the log settings), then the store the service opens.
inline void policyd_settings(const config::Config& cfg) {
    (void)daemons::LogSettings::from(cfg, "policyd");
    const policyd::Settings s = policyd::Settings::from(cfg);
    // The backoff learner's settings, built at start and on each reload.
    (void)policyd::learn_settings(cfg);
    (void)store::open_suppression_store(*s.config);
}

// sendguard-milter: what daemons::run builds before setup (Settings, with
// the VERP keys and bounce domain map, and the log settings), then the
// store the service opens for the send log.
inline void milter_settings(const config::Config& cfg) {
    (void)daemons::LogSettings::from(cfg, "milter");
    const milter::Settings s = milter::Settings::from(cfg);
    (void)store::open_suppression_store(*s.config);
}

struct Program {
    config::User user;
    void (*settings)(const config::Config&);
};

inline const Program kPrograms[] = {
    {config::kBounce, bounce_settings},
    {config::kCli, cli_settings},
    {config::kPolicyd, policyd_settings},
    {config::kMilter, milter_settings},
};

// A piece of a program not written yet: settings runs what the program
// will run, and owns lists the parameters it reads for sure.
struct Part {
    config::User user;
    const char* what;
    void (*settings)(const config::Config&);
    std::vector<std::string_view> owns;
};

// sendguard-milter builds its sender rules at start and on each reload.
inline void milter_sender_rules(const config::Config& cfg) { (void)senders::load_rules(cfg); }

inline const Part kParts[] = {
    {config::kMilter, "sender rules (common/senders)", milter_sender_rules,
     {"milter_sender_tables", "milter_network_tables", "milter_login_owns_domain", "milter_local_senders",
      "milter_table_max_size", "milter_table_max_line", "milter_table_max_entries",
      "bounce_domains"}},
};

inline std::vector<std::string> setting_overrides(const harness::TempDir& dir) {
    harness::write_file(dir.sub("verp.keys"), "0123456789abcdef0123456789abcdef\n", 0600);
    std::vector<std::string> o{"config_directory=" + dir.path(),
                               "state_directory=" + dir.sub("state")};
    // policyd_user's default is the system user scripts/install.sh creates.
    if (!daemons::uid_of("sendguard")) {
        o.push_back("policyd_user=root");
        o.push_back("milter_user=root");
    }
    return o;
}

}  // namespace config_test
