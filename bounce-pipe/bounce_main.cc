// sendguard-bounce - Postfix pipe(8) transport for bounces; see sendguard-bounce(8)
#include <getopt.h>
#include <sysexits.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "bounce-pipe/commands.h"

int main(int argc, char** argv) {
    if (argc > 1 && std::strcmp(argv[1], "--parse-only") == 0) {
        std::vector<std::string> files;
        for (int i = 2; i < argc; ++i)
            if (std::strcmp(argv[i], "--json") != 0) files.emplace_back(argv[i]);
        return bounce::run_parse_only(files);
    }
    bounce::TransportArgs a;
    int c;
    while ((c = ::getopt(argc, argv, "a:c:f:O:q:v")) != -1) {
        switch (c) {
        case 'a': a.original_recipient = optarg; break;
        case 'c': a.config_path = optarg; break;
        case 'f': a.sender = optarg; break;
        case 'O': a.overrides.emplace_back(optarg); break;
        case 'q': a.queue_id = optarg; break;
        case 'v': a.verbose = true; break;
        default:
            // A master.cf mistake must not lose the bounce: defer, don't bounce.
            std::puts("4.3.5 sendguard-bounce: usage: sendguard-bounce [-v] [-c config] "
                      "[-O name=value] [-q queue_id] [-f sender] [-a original_recipient] "
                      "-- recipient");
            return EX_TEMPFAIL;
        }
    }
    if (optind + 1 < argc) {
        // More than one recipient: pipe(8) would count them all delivered.
        std::puts("4.3.5 sendguard-bounce: one recipient per delivery: set "
                  "<transport>_destination_recipient_limit = 1");
        return EX_TEMPFAIL;
    }
    if (optind < argc) a.recipient = argv[optind];
    return bounce::run_transport(a);
}
