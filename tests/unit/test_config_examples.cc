// test_config_examples.cc - every conf-examples/*.conf file loads
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "common/config/config.h"

BOOST_AUTO_TEST_SUITE(config_examples)

BOOST_AUTO_TEST_CASE(every_example_loads) {
    const std::filesystem::path dir = std::filesystem::path(SENDGUARD_SOURCE_DIR) / "conf-examples";
    std::vector<std::filesystem::path> files;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec))
        if (e.is_regular_file() && e.path().extension() == ".conf") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    if (files.empty()) {
        BOOST_TEST_MESSAGE("no " << dir.string() << "/*.conf files yet: nothing to check");
        BOOST_TEST(files.empty());
        return;
    }
    for (const auto& f : files) {
        BOOST_TEST_CONTEXT("file " << f.string()) {
            try {
                const config::Config c = config::Config::load(f.string());
                for (const std::string& w : c.warnings()) BOOST_TEST(false, "warning: " << w);
                const std::string set = c.dump(config::DumpMode::NonDefault);
                BOOST_TEST_MESSAGE("loaded " << f.filename().string() << ": "
                                   << std::count(set.begin(), set.end(), '\n') << " parameters set");
            } catch (const config::Error& e) {
                BOOST_TEST(false, e.what());
            }
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
