// test_store_readonly.cc - opening a store read-only: nothing is created,
// and a user who may not write lock.mdb still reads
#include <boost/test/unit_test.hpp>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "tests/unit/test_store_support.h"

namespace {

store::EnvOptions read_only() {
    store::EnvOptions o = store_test::test_opts();
    o.read_only = true;
    return o;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(store_readonly)

BOOST_AUTO_TEST_CASE(a_reader_creates_nothing) {
    store_test::TempDir td;
    const std::string dir = td.env_dir();
    int code = 0;
    std::string what;
    try {
        store::Env::open(dir, read_only());
    } catch (const store::Error& e) {
        code = e.code();
        what = e.what();
    }
    BOOST_TEST(code == ENOENT, "got " << what);
    BOOST_TEST(what.find("mkdir") == std::string::npos, what);
    struct stat st {};
    BOOST_TEST(::stat(dir.c_str(), &st) != 0, "a read-only open created " << dir);
}

BOOST_AUTO_TEST_CASE(a_reader_without_write_access_to_lock_mdb) {
    if (::geteuid() != 0) {
        BOOST_TEST_MESSAGE("not root: cannot test another user's access");
        return;
    }
    store_test::TempDir td;
    const std::string dir = td.env_dir();
    {
        store::SuppressionList list(store::Env::open(dir, store_test::test_opts()));
        store::Record r;
        r.suppressed = true;
        list.add("bob@example.net", r);
    }
    ::chmod(td.path().c_str(), 0755);
    ::chmod(dir.c_str(), 0755);
    ::chmod((dir + "/data.mdb").c_str(), 0644);
    ::chmod((dir + "/lock.mdb").c_str(), 0644);
    const pid_t pid = ::fork();
    BOOST_REQUIRE(pid >= 0);
    if (pid == 0) {
        int rc = 10;
        if (::setgid(65534) == 0 && ::setuid(65534) == 0) {  // nobody
            try {
                store::SuppressionList list(store::Env::open(dir, read_only()));
                rc = list.check("bob@example.net", 0) ? 0 : 11;
            } catch (const std::exception&) {
                rc = 12;
            }
        }
        ::_exit(rc);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    BOOST_TEST(WIFEXITED(status));
    BOOST_TEST(WEXITSTATUS(status) == 0,
               "child exit " << WEXITSTATUS(status) << " (10 setuid, 11 not found, 12 threw)");
}

BOOST_AUTO_TEST_SUITE_END()
