// test_sys.cc - Fd ownership and the read/write helpers
#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <system_error>

#include "common/sys/fd.h"

BOOST_AUTO_TEST_SUITE(sys_suite)

BOOST_AUTO_TEST_CASE(read_all_caps_and_reports_truncation) {
    int p[2];
    BOOST_REQUIRE(::pipe(p) == 0);
    sys::Fd r(p[0]), w(p[1]);
    sys::write_all(w.get(), "0123456789");
    w.reset();
    bool truncated = false;
    auto got = sys::read_all(r.get(), 4, &truncated);
    BOOST_TEST(got == "0123");
    BOOST_TEST(truncated);
}

BOOST_AUTO_TEST_CASE(fd_closes_once_and_moves) {
    int p[2];
    BOOST_REQUIRE(::pipe(p) == 0);
    {
        sys::Fd a(p[0]);
        sys::Fd b(std::move(a));
        BOOST_TEST(!a);
        BOOST_TEST(b.get() == p[0]);
    }
    BOOST_TEST(::fcntl(p[0], F_GETFD) == -1, "descriptor still open after Fd destructor");
    ::close(p[1]);
}

BOOST_AUTO_TEST_CASE(read_file_names_the_path) {
    try {
        sys::read_file("/nonexistent/sendguard-test");
        BOOST_FAIL("no exception");
    } catch (const std::system_error& e) {
        BOOST_TEST(std::string(e.what()).find("/nonexistent/sendguard-test") != std::string::npos);
    }
}

BOOST_AUTO_TEST_SUITE_END()

#include "common/sys/utf8.h"

BOOST_AUTO_TEST_SUITE(sys_utf8)

BOOST_AUTO_TEST_CASE(well_formed_sequences_only) {
    struct { std::string in; bool want; } cases[] = {
        {"plain", true}, {"gr\xc3\xbc\xc3\x9f", true}, {"\xe2\x82\xac", true}, {"\xf0\x9f\x93\xa7", true},
        {"\xc0\xaf", false},          // overlong "/"
        {"\xe0\x80\xaf", false},      // overlong
        {"\xed\xa0\x80", false},      // surrogate
        {"\xf4\x90\x80\x80", false},  // past U+10FFFF
        {"\xc3", false},              // cut off
        {"\x80", false},              // stray continuation
        {"latin1 \xfc", false},
    };
    for (auto& c : cases) BOOST_TEST(sys::valid_utf8(c.in) == c.want, "valid_utf8 of a case: want " << c.want);
}

BOOST_AUTO_TEST_SUITE_END()
