// sendguard - suppression list and configuration tool; see sendguard(1)
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "cli/commands.h"

static int usage() {
    std::fputs("usage: sendguard [-c config] [-O name=value] config [-n|-d] [--man]\n"
               "       sendguard [-c config] [-O name=value] suppress "
               "check|list|add|remove|export|import|stats ...\n", stderr);
    return cli::kUsage;
}

int main(int argc, char** argv) {
    cli::Global g;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; ++i) {
        if (std::strcmp(argv[i], "-c") == 0 && i + 1 < argc) g.config_path = argv[++i];
        else if (std::strcmp(argv[i], "-O") == 0 && i + 1 < argc) g.overrides.emplace_back(argv[++i]);
        else return usage();
    }
    if (i >= argc) return usage();
    std::string cmd = argv[i];
    std::vector<std::string> rest(argv + i + 1, argv + argc);
    if (cmd == "config") return cli::config_command(g, rest);
    if (cmd == "suppress") return cli::suppress_command(g, rest);
    return usage();
}
