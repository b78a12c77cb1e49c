// commands.h - the sendguard subcommands
//
// Each takes the global options and the words after the subcommand name and
// returns the exit status (see sendguard(1)): 0 success, 1 "check" found an
// address not suppressed (or "verp decode" a tag that is not valid, or
// "doctor" a check that failed), 2 usage error, 3 configuration, key file
// or store error; "doctor" also 75 when a check could not be made (DNS). -h / --help anywhere
// after the subcommand prints its usage on stdout and returns 0.
// They print results on stdout and errors on stderr; they never throw.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/config/config.h"
#include "common/log/log.h"
#include "common/store/lmdb.h"

namespace cli {

struct Global {
    std::string config_path;             // -c, "" = default
    std::vector<std::string> overrides;  // -o name=value (-O: the older spelling)
};

inline constexpr int kUsage = 2;
inline constexpr int kFailure = 3;

int config_command(const Global& g, const std::vector<std::string>& args) noexcept;
int suppress_command(const Global& g, const std::vector<std::string>& args) noexcept;
int verp_command(const Global& g, const std::vector<std::string>& args) noexcept;
int doctor_command(const Global& g, const std::vector<std::string>& args) noexcept;
// sendguard-policyd's throttle state (throttle_cmd.cc): "status [--json]"
// and "backoff clear PROVIDER" (an unknown provider is a usage error, 2,
// naming the known ones).
int status_command(const Global& g, const std::vector<std::string>& args) noexcept;
int backoff_command(const Global& g, const std::vector<std::string>& args) noexcept;

// True when args hold -h or --help.
bool wants_help(const std::vector<std::string>& args);

// The suppression store under state_directory. Read-only (check, list,
// export, stats, verp decode) creates nothing and needs only read access;
// it returns nullptr when the store has not been created yet, and warns on
// stderr when lock.mdb is not writable (see lmdb.h: reads without locks).
// Throws std::runtime_error "cannot open suppression store DIR: why".
std::shared_ptr<store::Env> open_store(const config::Config& cfg, bool read_only);

// The audit trail of changes (audit.cc): open_audit_log() once the
// configuration is read; audit_line("add") starts "suppress: action=add",
// the caller adds its keys, audit_who() appends uid, user and, under sudo,
// sudo_user. The caller logs it with logging::info().
void open_audit_log(const config::Config& cfg);
logging::Line audit_line(std::string_view action);
logging::Line& audit_who(logging::Line& l);

}  // namespace cli
