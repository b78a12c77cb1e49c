// commands.h - the sendguard subcommands
//
// Each takes the global options and the words after the subcommand name and
// returns the exit status (see sendguard(1)): 0 success, 1 "check" found an
// address not suppressed, 2 usage error, 3 configuration or store error.
// They print results on stdout and errors on stderr; they never throw.
#pragma once

#include <string>
#include <vector>

namespace cli {

struct Global {
    std::string config_path;             // -c, "" = default
    std::vector<std::string> overrides;  // -O name=value
};

inline constexpr int kUsage = 2;
inline constexpr int kFailure = 3;

int config_command(const Global& g, const std::vector<std::string>& args) noexcept;
int suppress_command(const Global& g, const std::vector<std::string>& args) noexcept;

}  // namespace cli
