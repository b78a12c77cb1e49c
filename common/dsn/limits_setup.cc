// limits_setup.cc - see limits_setup.h
#include "common/dsn/limits_setup.h"

namespace dsn {

Limits limits_from(const config::Config& cfg) {
    return Limits{.max_recipients = static_cast<size_t>(cfg.integer("bounce_max_recipients")),
                  .max_diagnostic = cfg.size("bounce_diagnostic_limit")};
}

}  // namespace dsn
