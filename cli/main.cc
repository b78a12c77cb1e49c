// sendguard - suppression list, VERP, configuration, domain checks and throttle state; see sendguard(1)
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "cli/commands.h"

static const char kUsageText[] =
    "usage: sendguard [-c config] [-o name=value] config [-n|-d] [-x] [name ...]\n"
    "       sendguard [-c config] [-o name=value] suppress "
    "check|list|add|remove|export|import|stats ...\n"
    "       sendguard [-c config] [-o name=value] verp encode|decode [--json] address ...\n"
    "       sendguard [-c config] [-o name=value] doctor [--json] domain\n"
    "       sendguard [-c config] [-o name=value] status [--json]\n"
    "       sendguard [-c config] [-o name=value] backoff clear provider\n"
    "       sendguard COMMAND --help\n";

static int usage(FILE* to, int status) {
    std::fputs(kUsageText, to);
    return status;
}

int main(int argc, char** argv) {
    cli::Global g;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; ++i) {
        if (std::strcmp(argv[i], "-h") == 0 || std::strcmp(argv[i], "--help") == 0) return usage(stdout, 0);
        if (std::strcmp(argv[i], "-c") == 0 && i + 1 < argc) g.config_path = argv[++i];
        else if ((std::strcmp(argv[i], "-o") == 0 || std::strcmp(argv[i], "-O") == 0) && i + 1 < argc)
            g.overrides.emplace_back(argv[++i]);  // -O: the older spelling
        else return usage(stderr, cli::kUsage);
    }
    if (i >= argc) return usage(stderr, cli::kUsage);
    std::string cmd = argv[i];
    std::vector<std::string> rest(argv + i + 1, argv + argc);
    if (cmd == "config") return cli::config_command(g, rest);
    if (cmd == "suppress") return cli::suppress_command(g, rest);
    if (cmd == "verp") return cli::verp_command(g, rest);
    if (cmd == "doctor") return cli::doctor_command(g, rest);
    if (cmd == "status") return cli::status_command(g, rest);
    if (cmd == "backoff") return cli::backoff_command(g, rest);
    if (cmd == "help") return usage(stdout, 0);
    return usage(stderr, cli::kUsage);
}
