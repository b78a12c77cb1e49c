// paths.h - where tests find the programs under test
//
// sendguard_bin("sendguard-bounce") is the binary of this build:
// $SENDGUARD_BIN_DIR/bin/NAME (ctest sets it), else the build tree the test
// was compiled for. Pure function.
#pragma once

#include <cstdlib>
#include <string>

namespace harness {

inline std::string sendguard_bin(const char* name) {
    const char* d = std::getenv("SENDGUARD_BIN_DIR");
    return std::string(d ? d : SENDGUARD_BINARY_DIR) + "/bin/" + name;
}

}  // namespace harness
