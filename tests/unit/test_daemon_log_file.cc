// test_daemon_log_file.cc - a daemon's log file created as root belongs to
// its run user, so that sendguard (the CLI, run as that user) appends to
// the same file instead of falling back to standard error
#include <boost/test/unit_test.hpp>

#include "common/config/config.h"
#include "common/daemon/log_setup.h"
#include "common/daemon/users.h"
#include "tests/support/temp_dir.h"

#include <sys/stat.h>
#include <unistd.h>

BOOST_AUTO_TEST_SUITE(daemon_log_file)

BOOST_AUTO_TEST_CASE(log_file_created_as_root_goes_to_the_run_user) {
    if (::geteuid() != 0) return;  // only root creates files for others
    harness::TempDir dir("sg-daemon-");
    const std::string path = dir.sub("sendguard.log");
    auto s = daemons::LogSettings::from(config::Config::parse("log_target = file:" + path + "\n", "t.conf"),
                                        "policyd");
    daemons::open_log(s, false);
    daemons::give_log_file_to("nobody");
    logging::info("policyd: start=x");
    const auto ids = daemons::user_ids_of("nobody");
    BOOST_REQUIRE(ids);
    struct stat st {};
    BOOST_REQUIRE(::stat(path.c_str(), &st) == 0);
    BOOST_TEST(st.st_uid == ids->uid, "got uid " << st.st_uid << ", want " << ids->uid);
    BOOST_TEST(st.st_gid == ids->gid, "got gid " << st.st_gid << ", want " << ids->gid);
    // Reopened by the run user (a reload, the CLI): appended, no fallback.
    logging::open("test", logging::Sink::None);
    BOOST_TEST(harness::file_text(path).find("policyd: start=x\n") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
