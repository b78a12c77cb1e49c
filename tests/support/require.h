// require.h - a prerequisite a test cannot do without (a tool, a corpus)
//
//   harness::require(harness::have_program("mandoc"), "mandoc (apt-get install mandoc)");
//
// returns when the prerequisite is there. When it is not:
//   - under CI (CI=true, 1 or yes: in_ci() in cleanup.h) it throws, so the
//     test fails: CI installs every prerequisite, and one missing there is a
//     setup bug, not a reason to skip;
//   - elsewhere it prints "SKIP: <what> is missing" and exits 77, which
//     ctest reports as skipped (SKIP_RETURN_CODE 77).
// Because a skip ends the process, a test case that calls require() in an
// executable with other cases carries a Boost.Test label, and the suite
// runs it as its own ctest: BOOST_AUTO_TEST_CASE(lint, *boost::unit_test::label("mandoc"))
// with sg_unit(NAME ... SEPARATE mandoc) in tests/CMakeLists.txt.
//
// have_program(name) (process.h, included): name is an executable on PATH.
// Thread safety: call from the test's own thread, before starting others.
#pragma once

#include <string>

#include "tests/support/process.h"

namespace harness {

void require(bool have, const std::string& what);

}  // namespace harness
