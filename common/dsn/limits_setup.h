// limits_setup.h - the parser's limits as the configuration describes them
//
//   limits_from(cfg)   bounce_max_recipients and bounce_diagnostic_limit
//                      as a dsn::Limits
// Thread safety: pure function of an immutable Config.
#pragma once

#include "common/config/config.h"
#include "common/dsn/dsn.h"

namespace dsn {

Limits limits_from(const config::Config& cfg);

}  // namespace dsn
