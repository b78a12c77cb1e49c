// commands.h - the entry points behind sendguard-bounce's main()
//
// parse_command_line(): the options, and which of the three uses they ask
// for. It never exits and prints nothing; main() does both:
//   Transport  a pipe(8) delivery: [-v] [-c config] [-o name=value]
//              [-q queue_id] [-f sender] [-a original_recipient] [--] recipient
//   ParseOnly  --parse-only [--json] [-c config] [-o name=value] [file ...]
//              (-O is accepted as a synonym of -o)
//   Help       --help or -h as the only argument: usage on stdout, exit 0
//   Usage      anything else. For a delivery (no --parse-only) main() prints
//              "4.3.5 sendguard-bounce: <error>" and exits 75, so a mistake
//              in master.cf defers instead of bouncing the bounce
//              (defer_usage() does that, and logs the defer); with
//              --parse-only it prints the error and usage on stderr, exit 64.
//
// run_transport(): one delivery. Reads the message from stdin and returns the
// exit status (EX_OK or EX_TEMPFAIL; see transport.h). On EX_TEMPFAIL it has
// printed one "4.x.x text" line on stdout for pipe(8). It never throws.
// Run as root, it becomes the owner of state_directory once the
// configuration is read, so that what it creates stays writable for the
// transport user.
//
// run_parse_only(): one line per message file (named in files, or read one
// path per line from stdin when files is empty): with --json a JSON object
// {"file", "is_bounce", "kind", "recipients": [...]}, else "file: key=value,
// ..." lines, one per recipient. Reads the configuration like a delivery
// (the DSN limits), writes nothing to the store. Returns 0, or 1 when a file
// or the configuration could not be read.
#pragma once

#include <string>
#include <vector>

namespace bounce {

struct TransportArgs {
    std::string config_path;             // "" = default
    std::vector<std::string> overrides;  // -o name=value
    std::string queue_id, sender, recipient, original_recipient;
    bool verbose;
};

struct CommandLine {
    enum class Mode { Transport, ParseOnly, Help, Usage };
    Mode mode;
    bool parse_only;                 // --parse-only given: an administrator's command
    TransportArgs args;
    bool json;                       // --json (ParseOnly only)
    std::vector<std::string> files;  // ParseOnly
    std::string error;               // Usage: what was wrong
};

CommandLine parse_command_line(int argc, char** argv);
const char* usage() noexcept;

int defer_usage(const CommandLine& cmd) noexcept;
int run_transport(const TransportArgs& args) noexcept;
int run_parse_only(const CommandLine& cmd) noexcept;

}  // namespace bounce
