// config_cmd.cc - "sendguard config": print parameters like postconf(1)
#include <cstdio>
#include <string>

#include "common/config/load.h"
#include "cli/commands.h"
#include "common/config/config.h"

namespace cli {

int config_command(const Global& g, const std::vector<std::string>& args) noexcept {
    if (wants_help(args)) {
        std::fputs("usage: sendguard [-c config] [-O name=value] config [-n|-d] [-x] [--man]\n", stdout);
        return 0;
    }
    try {
        config::DumpMode mode = config::DumpMode::All;
        bool expand = false;
        for (const auto& a : args) {
            if (a == "-n") mode = config::DumpMode::NonDefault;
            else if (a == "-d") mode = config::DumpMode::Defaults;
            else if (a == "-x") expand = true;
            else if (a == "--man") {
                std::fputs(config::man_page().c_str(), stdout);
                return 0;
            } else {
                std::fprintf(stderr, "sendguard: config: unknown option %s (use -n, -d, -x or --man)\n",
                             a.c_str());
                return kUsage;
            }
        }
        config::Config cfg = mode == config::DumpMode::Defaults
                                 ? config::Config::defaults()
                                 : config::load(g.config_path, g.overrides);
        for (const auto& w : cfg.warnings()) std::fprintf(stderr, "sendguard: warning: %s\n", w.c_str());
        std::fputs(cfg.dump(mode, expand).c_str(), stdout);
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "sendguard: %s\n", e.what());
        return kFailure;
    }
}

}  // namespace cli
