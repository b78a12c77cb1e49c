// test_config_users.cc - the table's "used by" column says who reads what
//
// Each program's settings code (test_config_programs.h) runs on a tracked
// configuration (config::Config::tracked); the parameters it read must be
// exactly those whose users bits name the program. A library part of a
// program (kParts) is also checked on its own, one way: what the part reads
// must name the program, and the part reads the parameters it owns.
//
// The configuration is the defaults plus what it takes to reach every
// branch: a bounce domain (so the VERP codecs are built) and a temporary
// config_directory/state_directory holding a key file and the store.
#include <boost/test/unit_test.hpp>

#include <array>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "common/config/config.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/test_config_programs.h"

namespace {

// Known differences between the table and the code, each naming the
// program and why. The test fails when one is fixed, so the entry goes.
struct Gap {
    const char* name;
    config::User user;
    const char* why;
};
// None at present (the dns_ parameters were, until the milter checked
// reply-ability).
constexpr std::array<Gap, 0> kGaps{};

bool is_gap(std::string_view name, config::User user) {
    for (const Gap& g : kGaps)
        if (g.name == name && g.user == user) return true;
    return false;
}

// A configuration with every branch of the settings code reachable.
config::Config reachable(const harness::TempDir& dir) {
    std::vector<std::string> o = config_test::setting_overrides(dir);
    o.push_back("bounce_domains=bounces.example.com");
    return config::Config::parse("", "test", o);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(config_users)

BOOST_AUTO_TEST_CASE(each_program_reads_exactly_its_parameters) {
    for (const config_test::Program& prog : config_test::kPrograms) {
        BOOST_TEST_CONTEXT(config::program_name(prog.user)) {
            harness::TempDir dir("sg-users-");
            auto log = std::make_shared<config::ReadLog>();
            prog.settings(reachable(dir).tracked(log));
            for (const config::Param& p : config::params()) {
                const bool declared = (p.users & prog.user) != 0;
                const bool read = log->was_read(config::AnyKey::runtime(p.name));
                if (declared == read) {
                    BOOST_TEST(!is_gap(p.name, prog.user),
                               p.name << ": no longer a known gap; remove it from kGaps");
                    continue;
                }
                if (is_gap(p.name, prog.user)) continue;
                BOOST_TEST(declared == read, p.name << ": the table says "
                                                    << (declared ? "it is" : "it is not") << " used by "
                                                    << config::program_name(prog.user) << ", but the program "
                                                    << (read ? "reads" : "does not read") << " it");
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(each_part_reads_only_its_programs_parameters) {
    for (const config_test::Part& part : config_test::kParts) {
        BOOST_TEST_CONTEXT(config::program_name(part.user) << ", " << part.what) {
            harness::TempDir dir("sg-users-");
            auto log = std::make_shared<config::ReadLog>();
            part.settings(reachable(dir).tracked(log));
            for (const config::Param& p : config::params()) {
                if (!log->was_read(config::AnyKey::runtime(p.name))) continue;
                BOOST_TEST((p.users & part.user) != 0,
                           p.name << ": read by " << part.what << ", but the table does not say it is used by "
                                  << config::program_name(part.user));
            }
            for (std::string_view name : part.owns) {
                BOOST_TEST((config::AnyKey::runtime(name).param().users & part.user) != 0,
                           name << ": the table does not say it is used by " << config::program_name(part.user));
                BOOST_TEST(log->was_read(config::AnyKey::runtime(name)), name << ": not read by " << part.what);
            }
        }
    }
}

// The tracking itself: typed getters and expansions count, the rest not.
BOOST_AUTO_TEST_CASE(read_log_records_getters_and_expansions) {
    const config::Config cfg = config::Config::defaults();
    auto log = std::make_shared<config::ReadLog>();
    const config::Config t = cfg.tracked(log);
    BOOST_TEST(log->names().empty());
    (void)t.is_default("bounce_time_limit");
    (void)t.origin_of("bounce_time_limit");
    (void)t.dump(config::DumpMode::All);
    (void)cfg.duration("bounce_time_limit");  // the original is not tracked
    BOOST_TEST(log->names().empty());
    (void)t.str("bounce_quarantine_directory");  // $state_directory/quarantine
    const std::vector<std::string_view> want = {"state_directory", "bounce_quarantine_directory"};
    std::vector<std::string_view> got = log->names();
    std::sort(got.begin(), got.end());
    std::vector<std::string_view> sorted_want = want;
    std::sort(sorted_want.begin(), sorted_want.end());
    BOOST_TEST(got == sorted_want, boost::test_tools::per_element());
    log->clear();
    BOOST_TEST(log->names().empty());
    (void)t.str("verp_key_file");  // $config_directory/verp.keys
    BOOST_TEST(log->was_read("config_directory"));
    BOOST_TEST(!log->was_read("state_directory"));
}

BOOST_AUTO_TEST_SUITE_END()
