// test_config_examples.cc - every conf-examples/*.conf file works
//
// Each example is read as the programs read their file (config::load, with
// -o overrides) and handed to every program's settings code
// (test_config_programs.h), so a value the table accepts but a program
// rejects (an unknown reason in bounce_reason_expiry, a bad VERP setting)
// fails here. The overrides only move the files the settings code opens
// (key file, store) into a temporary directory.
#include <boost/test/unit_test.hpp>

#include <pwd.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "common/config/config.h"
#include "common/config/load.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/test_config_programs.h"

BOOST_AUTO_TEST_SUITE(config_examples)

BOOST_AUTO_TEST_CASE(every_example_loads_in_every_program) {
    const std::filesystem::path dir = std::filesystem::path(SENDGUARD_SOURCE_DIR) / "conf-examples";
    std::vector<std::filesystem::path> files;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec))
        if (e.is_regular_file() && e.path().extension() == ".conf") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    BOOST_REQUIRE_MESSAGE(!files.empty(), "no " << dir.string() << "/*.conf files (" << ec.message() << ")");
    BOOST_TEST(std::count(files.begin(), files.end(), dir / "sendguard.conf") == 1);

    for (const auto& f : files) {
        for (const config_test::Program& prog : config_test::kPrograms) {
            BOOST_TEST_CONTEXT("file " << f.string() << ", " << config::program_name(prog.user)) {
                harness::TempDir tmp("sg-example-");
                try {
                    std::vector<std::string> o = config_test::setting_overrides(tmp);
                    // The examples run the daemon as the system user the
                    // README has the admin create; on a machine without it
                    // that one check (unit.daemon tests it) is left out.
                    if (::getpwnam("sendguard") == nullptr) o.push_back("policyd_user=");
                    const config::Config c = config::load(f.string(), o);
                    for (const std::string& w : c.warnings()) BOOST_TEST(false, "warning: " << w);
                    prog.settings(c);
                } catch (const std::exception& e) {
                    BOOST_TEST(false, e.what());
                }
            }
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
