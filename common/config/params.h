// params.h - the table of every sendguard configuration parameter
//
// Each parameter is declared exactly once, in params.cc, as a Param row:
// name, type, default (written in config syntax and parsed by the same code
// as the file), bounds, the programs that use it, and a one-line doc. That
// table drives parsing and validation (config.h), the postconf-like dumps,
// and the PARAMETERS section of the generated sendguard.conf(5).
//
// What min and max bound depends on the type:
//   Int       the value                Duration  seconds
//   Size      bytes                    Rate      the count (per any unit)
//   Mode      the value (octal text)   String    length in bytes
//   Path      length in bytes (min 0: may be empty; otherwise absolute)
//   List      number of elements       Bool, Char: unused (0, 0)
// kNoLimit as max means "no upper bound".
//
// Errors: none; find_param() returns nullptr for an undeclared name.
// Thread safety: the table is immutable; all functions are thread safe.
#pragma once

#include <climits>
#include <span>
#include <string_view>

namespace config {

enum class Type { String, Path, Bool, Int, Duration, Size, Rate, Char, List, Mode };

// Programs that read a parameter (a bitmask in Param::users).
enum User : unsigned {
    kMilter = 1u << 0,   // sendguard-milter
    kPolicyd = 1u << 1,  // sendguard-policyd
    kBounce = 1u << 2,   // sendguard-bounce, the pipe(8) transport
    kCli = 1u << 3,      // sendguard, the administration tool
    kAll = kMilter | kPolicyd | kBounce | kCli,
};

inline constexpr long long kNoLimit = LLONG_MAX;

struct Param {
    std::string_view name;
    Type type;
    std::string_view default_value;  // config syntax; may use $name
    long long min, max;              // see the table above
    unsigned users;                  // User bits
    std::string_view doc;            // one line, a sentence or two
};

// Every parameter, in declaration order.
std::span<const Param> params();
// The parameter called name, or nullptr.
const Param* find_param(std::string_view name);

// "duration", "size", ... as shown in dumps and the man page.
std::string_view type_name(Type type);
// The program a single User bit stands for ("sendguard-bounce").
std::string_view program_name(User user);
// The .Dd date of the generated man page; changed together with the table.
std::string_view man_date();

}  // namespace config
