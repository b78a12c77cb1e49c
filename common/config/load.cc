// load.cc - see load.h
#include "common/config/load.h"

#include <system_error>

#include "common/config/syntax.h"
#include "common/sys/fd.h"

namespace config {

Config load(const std::string& path, const std::vector<std::string>& overrides) {
    const std::string p = path.empty() ? default_config_path() : path;
    std::string text;
    try {
        text = sys::read_file(p, kMaxText + 1);  // one byte more: parse() says "too large"
    } catch (const std::system_error& e) {
        throw Error("cannot read configuration file " + p + ": " + e.code().message() +
                    "; create it or name another with -c");
    }
    return Config::parse(text, p, overrides);
}

}  // namespace config
