// sendguard-bounce - Postfix pipe(8) transport for bounces; see sendguard-bounce(8)
#include <sysexits.h>

#include <cstdio>

#include "bounce-pipe/commands.h"

int main(int argc, char** argv) {
    const bounce::CommandLine cmd = bounce::parse_command_line(argc, argv);
    switch (cmd.mode) {
    case bounce::CommandLine::Mode::Help:
        std::fputs(bounce::usage(), stdout);
        return EX_OK;
    case bounce::CommandLine::Mode::Usage:
        // A master.cf mistake must not lose the bounce: defer, don't bounce.
        if (!cmd.parse_only) return bounce::defer_usage(cmd);
        std::fprintf(stderr, "sendguard-bounce: %s\n%s", cmd.error.c_str(), bounce::usage());
        return EX_USAGE;
    case bounce::CommandLine::Mode::ParseOnly:
        return bounce::run_parse_only(cmd);
    case bounce::CommandLine::Mode::Transport:
        break;
    }
    return bounce::run_transport(cmd.args);
}
