// load.h - the configuration file a program runs with
//
//   config::load(path, overrides)  path "" means default_config_path();
//                                  throws config::Error ("file:line: ...")
//
// Shared by every sendguard program so the choice of file and the handling
// of a missing default file are written once.
// Thread safety: none needed (start-up and reload code).
#pragma once

#include <string>
#include <vector>

#include "common/config/config.h"

namespace config {

Config load(const std::string& path, const std::vector<std::string>& overrides);

}  // namespace config
