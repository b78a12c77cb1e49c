// options.h - the command line every sendguard daemon accepts
//
//   -c config      configuration file (default: $SENDGUARD_CONFIG, else
//                  the compiled-in sendguard.conf)
//   -o name=value  override a parameter, after the file (Postfix's
//                  spelling; -O is accepted as a synonym); repeatable
//   -v             more verbose logging (debug lines); repeatable
//   -f             foreground: log to standard error instead of syslog
//   -h, --help     print the usage and exit 0
//
// parse_options() returns the Options or what to do instead (print usage,
// exit 0; or print an error and the usage, exit 64). It never prints.
// Errors: values (ParsedOptions). Thread safety: uses getopt_long(3), which
// keeps global state: call once, from main()'s thread.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace daemons {

struct Options {
    std::string config_path;             // "" : the default file
    std::vector<std::string> overrides;  // "name=value", in order
    int verbose = 0;                     // number of -v
    bool foreground = false;             // -f
    bool operator==(const Options&) const = default;
};

struct ParsedOptions {
    std::optional<Options> options;  // empty: exit with exit_status
    int exit_status = 0;             // 0 for -h/--help, 64 (EX_USAGE) for errors
    std::string error;               // what was wrong ("" for -h)
};

ParsedOptions parse_options(int argc, char** argv);

}  // namespace daemons
