// require.cc - see require.h
#include "tests/support/require.h"

#include "tests/support/cleanup.h"

namespace harness {

void require(bool have, const std::string& what) {
    if (!have) skip_test(what + " is missing");  // throws under CI, else exits 77
}

}  // namespace harness
