// sendguard-policyd - the lookup daemon (socketmap maps today); see sendguard-policyd(8)
#include <getopt.h>

#include <cstdio>

#include "policyd/socketmap_service.h"

int main(int argc, char** argv) {
    policyd::PolicydArgs a;
    int c;
    while ((c = ::getopt(argc, argv, "c:O:v")) != -1) {
        switch (c) {
        case 'c': a.config_path = optarg; break;
        case 'O': a.overrides.emplace_back(optarg); break;
        case 'v': a.verbose = true; break;
        default:
            std::fputs("usage: sendguard-policyd [-v] [-c config] [-O name=value]\n", stderr);
            return 2;
        }
    }
    return policyd::run_policyd(a);
}
