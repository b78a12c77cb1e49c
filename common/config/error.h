// error.h - the one exception type of the configuration library
//
// config::Error is thrown when a configuration file, a -o override or an
// expansion cannot be accepted. what() is a complete, printable message that
// already names the place, Postfix style:
//
//     sendguard.conf:12: invalid bounce_time_limit: 1000s (max 900s)
//
// so main() prints it as is and exits. Programming errors (asking for an
// undeclared parameter, or for the wrong type) are std::logic_error instead.
// Thread safety: as std::runtime_error.
#pragma once

#include <stdexcept>
#include <string>

namespace config {

class Error : public std::runtime_error {
public:
    explicit Error(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace config
