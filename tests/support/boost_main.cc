// boost_main.cc - the Boost.Test runner shared by every test executable
#define BOOST_TEST_MODULE sendguard
#include <boost/test/unit_test.hpp>
