// params.h - the table of every sendguard configuration parameter
//
// Each parameter is declared exactly once, in param_table.h, as a Param row:
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
//   DurationMap  each value, seconds (at most kMaxMapEntries entries)
// kNoLimit as max means "no upper bound".
//
// A map is written "key=value, key=value" (commas and/or white space
// between entries): keys are lower-case names or domains ([a-z0-9._-],
// at most kMaxMapKey bytes), each at most once. Which keys mean something
// is the owning program's business: Config::check_map_keys() (config.h)
// lets it reject the others where it builds its settings.
//
// The users bits are checked against what each program's settings code
// reads (tests/unit/test_config_users.cc), and bounds against what the code
// behind them holds (test_config_bounds.cc).
//
// Errors: none; find_param() returns nullptr for an undeclared name.
// Thread safety: the table is immutable; all functions are thread safe.
#pragma once

#include <climits>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

namespace config {

enum class Type { String, Path, Bool, Int, Duration, Size, Rate, Char, List, Mode, DurationMap };

// Programs that read a parameter (a bitmask in Param::users).
enum User : unsigned {
    kMilter = 1u << 0,   // sendguard-milter
    kPolicyd = 1u << 1,  // sendguard-policyd
    kBounce = 1u << 2,   // sendguard-bounce, the pipe(8) transport
    kCli = 1u << 3,      // sendguard, the administration tool
    kAll = kMilter | kPolicyd | kBounce | kCli,
};

inline constexpr long long kNoLimit = LLONG_MAX;
inline constexpr size_t kMaxMapEntries = 64;
inline constexpr size_t kMaxMapKey = 64;

struct Param {
    std::string_view name;
    Type type;
    std::string_view default_value;  // config syntax; may use $name
    long long min, max;              // see the table above
    unsigned users;                  // User bits
    std::string_view doc;            // one line, a sentence or two
};

}  // namespace config

#include "common/config/param_table.h"

namespace config {

// Every parameter, in declaration order.
std::span<const Param> params();
// The parameter called name, or nullptr.
const Param* find_param(std::string_view name);

// The name of a declared parameter of one of the types Ts (any type when Ts
// is empty). Built from a string literal, it is checked by the compiler:
//     cfg.duration("bounce_time_limit")   // compiles
//     cfg.duration("bounce_time_limt")    // error: undeclared parameter
//     cfg.integer("bounce_time_limit")    // error: not an integer parameter
// Key::runtime() checks a name known only at run time (tests that walk the
// table) and throws std::logic_error for an undeclared name or wrong type.
template <Type... Ts>
class Key {
public:
    consteval Key(const char* name) : index_(find(name)) {  // NOLINT: implicit on purpose
        if (index_ == kNone) undeclared_parameter_or_wrong_type();
    }
    static Key runtime(std::string_view name) {
        size_t i = find(name);
        if (i == kNone) throw std::logic_error("config: undeclared parameter or wrong type: " + std::string(name));
        return Key(i);
    }
    // Any typed key is also an AnyKey.
    template <Type... Us>
        requires(sizeof...(Ts) == 0)
    Key(const Key<Us...>& other) : index_(other.index()) {}  // NOLINT: implicit on purpose
    const Param& param() const noexcept { return table::kParams[index_]; }
    std::string_view name() const noexcept { return param().name; }
    size_t index() const noexcept { return index_; }

private:
    static constexpr size_t kNone = static_cast<size_t>(-1);
    explicit constexpr Key(size_t i) : index_(i) {}
    static constexpr size_t find(std::string_view name) {
        for (size_t i = 0; i < std::size(table::kParams); ++i)
            if (table::kParams[i].name == name)
                return (sizeof...(Ts) == 0 || ((table::kParams[i].type == Ts) || ...)) ? i : kNone;
        return kNone;
    }
    // Not constexpr: reaching it in a constant evaluation is the compile error.
    static void undeclared_parameter_or_wrong_type() {}
    size_t index_;
};

using AnyKey = Key<>;
using TextKey = Key<Type::String, Type::Path, Type::Char, Type::List, Type::Mode>;

// "duration", "size", ... as shown in dumps and the man page.
std::string_view type_name(Type type);
// The program a single User bit stands for ("sendguard-bounce").
std::string_view program_name(User user);
}  // namespace config
