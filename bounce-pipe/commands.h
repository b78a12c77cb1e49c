// commands.h - the entry points behind sendguard-bounce's main()
//
// run_transport(): one pipe(8) delivery. Reads the message from stdin and
// returns the exit status (EX_OK or EX_TEMPFAIL; see transport.h). On
// EX_TEMPFAIL it has printed one "4.x.x text" line on stdout for pipe(8).
// It never throws.
//
// run_parse_only(): --parse-only --json; one JSON line per message file
// (named in files, or read one path per line from stdin when files is
// empty). Writes nothing to the store. Returns 0, or 1 when a file could
// not be read (reported as {"file":..., "error":...}).
#pragma once

#include <string>
#include <vector>

namespace bounce {

struct TransportArgs {
    std::string config_path;              // "" = default
    std::vector<std::string> overrides;   // -O name=value
    std::string queue_id, sender, recipient, original_recipient;
    bool verbose = false;
};

int run_transport(const TransportArgs& args) noexcept;
int run_parse_only(const std::vector<std::string>& files) noexcept;

}  // namespace bounce
