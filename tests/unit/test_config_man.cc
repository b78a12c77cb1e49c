// test_config_man.cc - the generated sendguard.conf(5)
//
// man_page() must mention every parameter, pass `mandoc -Tlint -Wwarning`
// and equal the checked-in man/sendguard.conf.5. The lint case needs mandoc
// and runs as its own ctest, unit.config.mandoc (skipped without mandoc,
// failed without it under CI). To refresh the checked-in page:
//     SENDGUARD_UPDATE_MAN=1 ctest -R unit.config
#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>
#include <sys/wait.h>
#include <unistd.h>

#include "common/config/config.h"
#include "tests/support/require.h"

namespace {

bool env_is(const char* name, const char* want) {
    const char* v = std::getenv(name);
    return v && std::string(v) == want;
}

// Runs cmd; returns its output (stdout and stderr) and sets *status.
std::string run(const std::string& cmd, int* status) {
    std::string out;
    FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
    if (!p) {
        *status = -1;
        return "popen failed";
    }
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    int rc = ::pclose(p);
    *status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
    return out;
}

const std::filesystem::path kCheckedIn = std::filesystem::path(SENDGUARD_SOURCE_DIR) / "man" / "sendguard.conf.5";

}  // namespace

BOOST_AUTO_TEST_SUITE(config_man)

BOOST_AUTO_TEST_CASE(mentions_every_parameter) {
    const std::string page = config::man_page();
    for (const auto& p : config::params()) {
        BOOST_TEST(page.find("\n.It Va " + std::string(p.name) + "\n") != std::string::npos,
                   "no entry for " << p.name);
    }
    BOOST_TEST(page.starts_with(".\\\" sendguard.conf.5"));
    BOOST_TEST(page.find("\n.Sh PARAMETERS\n") != std::string::npos);
    BOOST_TEST(page.find("\n.Sh SEE ALSO\n") != std::string::npos);
    // A few entries in full: type with range, default, users.
    BOOST_TEST(page.find("Type: duration, from 1s to 15m.\nDefault:\n.Ql \"\\&60s\" .\n"
                         "Used by\n.Xr sendguard-bounce 8 .\n") != std::string::npos);
    BOOST_TEST(page.find("Type: list, at most 100 elements.\nDefault:\n.Ql \"\\&bounces.*\" .\n"
                         "Used by\n.Xr sendguard-milter 8 ,\n.Xr sendguard-bounce 8 ,\nand\n.Xr sendguard 1 .\n") !=
               std::string::npos);
    BOOST_TEST(page.find("Default:\n.Ql \"\\&/run/sendguard\" .\n"
                         "Used by\n.Xr sendguard-milter 8\nand\n.Xr sendguard-policyd 8 .\n") != std::string::npos);
    BOOST_TEST(page.find("Type: boolean (yes or no).\nDefault:\n.Ql \"\\&no\" .\nUsed by all programs.\n") !=
               std::string::npos);
}

BOOST_AUTO_TEST_CASE(passes_mandoc_lint, *boost::unit_test::label("mandoc")) {
    harness::require(harness::have_program("mandoc"), "mandoc (apt-get install mandoc)");
    // The name must end in ".5": mandoc checks it against the .Dt section.
    char tmpl[] = "/tmp/sendguard-conf-XXXXXX.5";
    int fd = ::mkstemps(tmpl, 2);
    BOOST_REQUIRE(fd >= 0);
    ::close(fd);
    std::ofstream(tmpl, std::ios::binary) << config::man_page();
    int status = 0;
    const std::string out = run(std::string("mandoc -Tlint -Wwarning ") + tmpl, &status);
    ::unlink(tmpl);
    BOOST_TEST(status == 0, "mandoc exit status " << status);
    BOOST_TEST(out.empty(), "mandoc -Tlint -Wwarning said:\n" << out);
}

BOOST_AUTO_TEST_CASE(checked_in_page_is_current) {
    const std::string page = config::man_page();
    if (env_is("SENDGUARD_UPDATE_MAN", "1")) {
        std::ofstream(kCheckedIn, std::ios::binary) << page;
        BOOST_TEST_MESSAGE("wrote " << kCheckedIn.string());
    }
    std::ifstream in(kCheckedIn, std::ios::binary);
    const std::string have((std::istreambuf_iterator<char>(in)), {});
    BOOST_TEST(have == page, kCheckedIn.string() << " differs from config::man_page(); "
                                                 << "run SENDGUARD_UPDATE_MAN=1 ctest -R unit.config to refresh");
}

// The page is the same whatever configuration directory the build has
// (unit.config_man_sysconfdir checks a real second build); only
// default_config_path() uses the build's.
BOOST_AUTO_TEST_CASE(page_does_not_name_the_build_sysconfdir) {
    std::vector<config::Param> other(config::params().begin(), config::params().end());
    for (auto& p : other)
        if (p.name == "config_directory") p.default_value = "/opt/sendguard-test/etc";
    BOOST_TEST(config::man_page(other) == config::man_page());
    BOOST_TEST(config::man_page().find("/opt/sendguard-test") == std::string::npos);
    BOOST_TEST(config::man_page().find("Default:\n.Ql \"\\&/etc/sendguard\" ,\n"
                                       "or the configuration directory chosen when the programs were built.\n") !=
               std::string::npos);
    ::unsetenv("SENDGUARD_CONFIG");
    BOOST_TEST(config::default_config_path() == std::string(SENDGUARD_SYSCONFDIR) + "/sendguard.conf");
}

BOOST_AUTO_TEST_SUITE_END()
