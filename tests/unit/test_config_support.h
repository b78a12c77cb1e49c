// test_config_support.h - helpers shared by the test_config*.cc files
//
// error_of(text): the message Config::parse(text, "sendguard.conf") throws,
// or "(no error)" when the text is accepted.
#pragma once

#include <string>

#include "common/config/config.h"

namespace config_test {

inline std::string error_of(const std::string& text) {
    try {
        (void)config::Config::parse(text, "sendguard.conf");
    } catch (const config::Error& e) {
        return e.what();
    }
    return "(no error)";
}

}  // namespace config_test
