// config_cmd.cc - "sendguard config": print parameters like postconf(1)
//
//   sendguard config [-n|-d] [-x] [name ...]   all parameters, or the named
//                                              ones in the order given
//   sendguard config --man                     the sendguard.conf(5) page
//
// As postconf: -n only those set in the file or by -o (a named parameter
// at its default prints nothing), -d the defaults, -x $name expanded. An
// unknown name is an error naming it, with the nearest declared name.
#include <cstdio>
#include <map>
#include <string>

#include "cli/commands.h"
#include "common/config/config.h"
#include "common/config/load.h"

namespace cli {
namespace {

constexpr const char* kConfigUsage =
    "usage: sendguard [-c config] [-o name=value] config [-n|-d] [-x] [name ...]\n"
    "       sendguard config --man\n";

// " (did you mean NAME?)" as the configuration parser words it for an
// unknown name: the suggestion is made in one place, common/config.
std::string hint_for(const std::string& name) {
    try {
        config::Config::parse("", "sendguard", {name + "=x"});
    } catch (const config::Error& e) {
        std::string w = e.what();
        if (size_t p = w.find(" (", w.find("unknown parameter")); p != std::string::npos) return w.substr(p);
    }
    return "";
}

// "name = value" lines of a dump, by name.
std::map<std::string, std::string, std::less<>> lines_by_name(const std::string& dump) {
    std::map<std::string, std::string, std::less<>> out;
    size_t pos = 0;
    while (pos < dump.size()) {
        size_t eol = dump.find('\n', pos);
        if (eol == std::string::npos) eol = dump.size();
        std::string line = dump.substr(pos, eol - pos);
        out.emplace(line.substr(0, line.find(" =")), line);
        pos = eol + 1;
    }
    return out;
}

}  // namespace

int config_command(const Global& g, const std::vector<std::string>& args) noexcept {
    if (wants_help(args)) {
        std::fputs(kConfigUsage, stdout);
        return 0;
    }
    try {
        config::DumpMode mode = config::DumpMode::All;
        bool expand = false;
        std::vector<std::string> names;
        for (const auto& a : args) {
            if (a == "-n") mode = config::DumpMode::NonDefault;
            else if (a == "-d") mode = config::DumpMode::Defaults;
            else if (a == "-x") expand = true;
            else if (a == "--man") {
                std::fputs(config::man_page().c_str(), stdout);
                return 0;
            } else if (a.size() > 1 && a[0] == '-') {
                std::fprintf(stderr, "sendguard: config: unknown option %s (use -n, -d, -x, --man or names)\n%s",
                             a.c_str(), kConfigUsage);
                return kUsage;
            } else {
                names.push_back(a);
            }
        }
        int status = 0;
        for (const auto& n : names)
            if (!config::find_param(n)) {
                std::fprintf(stderr, "sendguard: config: unknown parameter: %s%s\n", n.c_str(), hint_for(n).c_str());
                status = kUsage;
            }
        config::Config cfg = mode == config::DumpMode::Defaults
                                 ? config::Config::defaults()
                                 : config::load(g.config_path, g.overrides);
        for (const auto& w : cfg.warnings()) std::fprintf(stderr, "sendguard: warning: %s\n", w.c_str());
        const std::string dump = cfg.dump(mode, expand);
        if (names.empty()) {
            std::fputs(dump.c_str(), stdout);
            return 0;
        }
        const auto lines = lines_by_name(dump);
        for (const auto& n : names)
            if (auto it = lines.find(n); it != lines.end()) std::printf("%s\n", it->second.c_str());
        return status;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "sendguard: %s\n", e.what());
        return kFailure;
    }
}

}  // namespace cli
