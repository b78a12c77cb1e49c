// load.cc - see load.h
#include "common/config/load.h"

#include <unistd.h>

#include <cerrno>

namespace config {

Config load(const std::string& path, const std::vector<std::string>& overrides) {
    std::string p = path.empty() ? default_config_path() : path;
    // A missing default file means "all defaults": a fresh install works
    // before anyone wrote a configuration. A file named with -c must exist.
    return (path.empty() && ::access(p.c_str(), F_OK) != 0 && errno == ENOENT)
               ? Config::parse("", p, overrides)
               : Config::load(p, overrides);
}

}  // namespace config
