// options.cc - see options.h
#include "common/daemon/options.h"

#include <getopt.h>

namespace daemons {

ParsedOptions parse_options(int argc, char** argv) {
    static const option kLong[] = {{"help", no_argument, nullptr, 'h'}, {nullptr, 0, nullptr, 0}};
    ParsedOptions r;
    Options o;
    optind = 0;  // a full reset (GNU), so tests may call this more than once
    opterr = 0;  // we report errors ourselves, through the caller
    int c;
    while ((c = ::getopt_long(argc, argv, "+:c:fhO:o:v", kLong, nullptr)) != -1) {
        switch (c) {
            case 'c':
                o.config_path = optarg;
                break;
            case 'f':
                o.foreground = true;
                break;
            case 'h':
                r.exit_status = 0;
                return r;
            case 'O':
            case 'o': {
                const std::string ov = optarg;
                if (ov.find('=') == std::string::npos || ov.front() == '=') {
                    r.exit_status = 64;
                    r.error = "-o " + ov + ": expected name=value";
                    return r;
                }
                o.overrides.push_back(ov);
                break;
            }
            case 'v':
                ++o.verbose;
                break;
            case ':':
                r.exit_status = 64;
                r.error =
                    std::string("option -") + static_cast<char>(optopt) + " needs an argument";
                return r;
            default:
                r.exit_status = 64;
                r.error = optopt ? std::string("unknown option -") + static_cast<char>(optopt)
                                 : std::string("unknown option ") + argv[optind - 1];
                return r;
        }
    }
    if (optind < argc) {
        r.exit_status = 64;
        r.error = std::string("unexpected argument ") + argv[optind];
        return r;
    }
    r.options = std::move(o);
    return r;
}

}  // namespace daemons
