// sendguard-mapd - socketmap server for the suppression list; see sendguard-mapd(8)
#include <getopt.h>

#include <cstdio>

#include "bounce-pipe/mapd.h"

int main(int argc, char** argv) {
    bounce::MapdArgs a;
    int c;
    while ((c = ::getopt(argc, argv, "c:O:v")) != -1) {
        switch (c) {
        case 'c': a.config_path = optarg; break;
        case 'O': a.overrides.emplace_back(optarg); break;
        case 'v': a.verbose = true; break;
        default:
            std::fputs("usage: sendguard-mapd [-v] [-c config] [-O name=value]\n", stderr);
            return 2;
        }
    }
    return bounce::run_mapd(a);
}
