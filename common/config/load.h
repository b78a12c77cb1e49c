// load.h - the configuration file a program runs with
//
//   config::load(path, overrides)  path "" means default_config_path()
//                                  ($SENDGUARD_CONFIG, else the compiled-in
//                                  file); throws config::Error
//
// The file must exist and be readable, the default one included: a program
// never runs on defaults it was not given (sendguard-bounce without its
// bounce_domains and verp_key_file would ignore every signed bounce). An
// unreadable file gives "cannot read configuration file PATH: REASON;
// create it or name another with -c"; a bad line "PATH:LINE: message".
// Only Config::defaults() (sendguard config -d) needs no file.
// Shared by every sendguard program so the choice of file is written once.
// Thread safety: none needed (start-up and reload code).
#pragma once

#include <string>
#include <vector>

#include "common/config/config.h"

namespace config {

Config load(const std::string& path, const std::vector<std::string>& overrides);

}  // namespace config
