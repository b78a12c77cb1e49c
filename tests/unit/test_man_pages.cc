// test_man_pages.cc - every hand-written page in man/ passes mandoc -Tlint
//
// The generated sendguard.conf.5 is checked by test_config_man.cc; this
// covers the pages written by hand, and that each program has one. Without
// mandoc the test is skipped (exit 77), and fails under CI.
#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <string>

#include "tests/support/require.h"
#include "tests/support/temp_dir.h"

namespace {

std::string run(const std::string& cmd) {
    std::string out;
    FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
    if (!p) return "popen failed";
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    ::pclose(p);
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(man_pages)

BOOST_AUTO_TEST_CASE(hand_written_pages_lint_clean, *boost::unit_test::label("mandoc")) {
    harness::require(harness::have_program("mandoc"), "mandoc (apt-get install mandoc)");
    std::set<std::string> pages;
    for (auto& e : std::filesystem::directory_iterator(std::string(SENDGUARD_SOURCE_DIR) + "/man")) {
        pages.insert(e.path().filename().string());
        std::string out = run("mandoc -Tlint -Wwarning '" + e.path().string() + "'");
        BOOST_TEST(out.empty(), e.path().filename().string() << ":\n" << out);
    }
    for (const char* want : {"sendguard.1", "sendguard.conf.5", "sendguard-bounce.8", "sendguard-policyd.8",
                             "sendguard-milter.8"})
        BOOST_TEST(pages.count(want) == 1u, "man/" << want << " is missing");
}

// Every program's page says where its files are and shows how it is used.
BOOST_AUTO_TEST_CASE(program_pages_have_files_and_examples) {
    for (const char* page : {"sendguard.1", "sendguard-bounce.8", "sendguard-policyd.8", "sendguard-milter.8"}) {
        const std::string text = harness::file_text(std::string(SENDGUARD_SOURCE_DIR) + "/man/" + page);
        BOOST_TEST(text.find("\n.Sh FILES\n") != std::string::npos, page << " has no FILES section");
        BOOST_TEST(text.find("\n.Sh EXAMPLES\n") != std::string::npos, page << " has no EXAMPLES section");
        if (std::string_view(page).starts_with("sendguard-milter") || std::string_view(page).starts_with("sendguard-policyd"))
            BOOST_TEST(text.find("\n.Ss Signals\n") != std::string::npos, page << " has no Signals section");
    }
}

BOOST_AUTO_TEST_SUITE_END()
