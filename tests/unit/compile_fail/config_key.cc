// config_key.cc - parameter names are checked by the compiler
//
// Compiled with -fsyntax-only by the unit.compile_fail.* tests
// (tests/CMakeLists.txt), once per case:
//   (none)                   a declared name with its own getter: compiles
//   SG_UNDECLARED_NAME       a misspelt name: must not compile
//   SG_WRONG_TYPE            a declared name with another type's getter: must not compile
//   SG_WRONG_TYPE_TEXT       a duration parameter read as text: must not compile
// Each failing case must fail with the diagnostic that names the check
// (config::Key in common/config/params.h), not with some unrelated error.
#include "common/config/config.h"

long long probe(const config::Config& cfg) {
#if defined(SG_UNDECLARED_NAME)
    return cfg.duration("bounce_time_limt").count();
#elif defined(SG_WRONG_TYPE)
    return cfg.integer("bounce_time_limit");
#elif defined(SG_WRONG_TYPE_TEXT)
    return static_cast<long long>(cfg.str("bounce_time_limit").size());
#else
    return cfg.duration("bounce_time_limit").count() + cfg.integer("bounce_max_recipients") +
           static_cast<long long>(cfg.str("state_directory").size());
#endif
}
