// man_other_sysconfdir.cc - sendguard.conf(5) does not depend on the build
//
// Built by tests/CMakeLists.txt from the sources of common/config with
// another SENDGUARD_SYSCONFDIR than the build's; run as
// unit.config_man_sysconfdir with the checked-in page as argument. The page
// this copy generates must equal it byte for byte, while the compiled-in
// configuration directory really is the other one.
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

#include "common/config/config.h"

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s man/sendguard.conf.5\n", argv[0]);
        return 2;
    }
    const std::string built = config::Config::defaults().str("config_directory");
    if (built != SENDGUARD_SYSCONFDIR) {
        std::fprintf(stderr, "config_directory is %s, want %s\n", built.c_str(), SENDGUARD_SYSCONFDIR);
        return 1;
    }
    std::ifstream in(argv[1], std::ios::binary);
    const std::string have((std::istreambuf_iterator<char>(in)), {});
    const std::string page = config::man_page();
    if (have == page) return 0;
    size_t i = 0;
    while (i < have.size() && i < page.size() && have[i] == page[i]) ++i;
    std::fprintf(stderr, "%s differs from the page generated with SENDGUARD_SYSCONFDIR=%s at byte %zu:\n"
                         "  checked in: %.60s\n  generated:  %.60s\n",
                 argv[1], SENDGUARD_SYSCONFDIR, i, have.c_str() + i, page.c_str() + i);
    return 1;
}
