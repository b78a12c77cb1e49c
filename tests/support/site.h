// site.h - one sendguard installation in a temporary directory, for the
// tests that run the real programs (tests/protocol)
//
//   harness::Site s("sg-cli-");                 // or Site(prefix, extra config lines)
//   s.conf  s.keys  s.lib  s.store              // paths inside s.dir
//   s.verp("bob@example.net")                   // a signed return address
//   s.cli({"suppress", "check", "bob@example.net"}, stdin_text)
//   s.bounce("bounce+...@bounces.example.org", message)   // as pipe(8) runs it
//
// The configuration names the temporary state and run directories, the key
// file (kSiteKey, mode 0600), the bounce domains and log_to_stderr; every
// other parameter keeps the table's default, so tests see what ships.
// Header only: the tests that include it link common::address.
// Errors: the constructor throws (naming the path) when a file cannot be
// written.
#pragma once

#include <string>
#include <vector>

#include "common/address/verp.h"
#include "common/address/verp_setup.h"
#include "common/config/config.h"
#include "tests/support/paths.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace harness {

inline constexpr const char* kSiteKey = "0123456789abcdef0123456789abcdef";
inline constexpr const char* kSiteQueueId = "4XkQ3b7Lq2z";

struct Site {
    TempDir dir;
    std::string conf = dir.sub("sendguard.conf");
    std::string keys = dir.sub("verp.keys");
    std::string lib = dir.sub("lib");
    std::string store = lib + "/suppress.lmdb";

    // domains: bounce_domains; the first one signs.
    explicit Site(std::string_view prefix, const std::string& extra = "",
                  const std::string& domains = "bounces.example.org")
        : dir(prefix) {
        write_file(keys, std::string(kSiteKey) + "\n", 0600);
        write_file(conf, "state_directory = " + lib + "\n"
                         "run_directory = " + dir.path() + "\n"
                         "verp_key_file = " + keys + "\n"
                         "bounce_domains = " + domains + "\n"
                         "log_to_stderr = yes\n" + extra);
    }

    address::VerpCodec codec() const {
        const address::VerpConfig vc = address::verp_config(config::Config::defaults(), "bounces.example.org");
        return address::VerpCodec(vc, address::VerpKeys::load_file(keys));
    }
    std::string verp(const std::string& rcpt) const {
        return codec().encode(*address::parse_mailbox(rcpt), {})->address;
    }

    // sendguard -c conf args...
    std::vector<std::string> cli_argv(std::vector<std::string> args) const {
        args.insert(args.begin(), {sendguard_bin("sendguard"), "-c", conf});
        return args;
    }
    RunResult cli(std::vector<std::string> args, const std::string& in = "") const {
        return run({.argv = cli_argv(std::move(args)), .stdin_data = in});
    }
    // One delivery as master.cf runs it: -c conf -q kSiteQueueId -f '' -- rcpt.
    RunResult bounce(const std::string& rcpt, const std::string& msg) const {
        return run({.argv = {sendguard_bin("sendguard-bounce"), "-c", conf, "-q", kSiteQueueId, "-f", "",
                             "--", rcpt},
                    .stdin_data = msg});
    }
};

}  // namespace harness
