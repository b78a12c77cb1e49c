// setup.h - the suppression store as the configuration describes it
//
//   open_suppression_store(cfg, read_only)
//                        the suppression LMDB env under state_directory
//                        (store_* parameters); throws store::Error
//   suppression_policy(cfg, known_reason)
//                        bounce_soft_* / *_expiry / domain threshold;
//                        bounce_reason_expiry keys are checked with
//                        known_reason; throws config::Error naming the
//                        file and line
// Thread safety: none needed (start-up and reload code).
#pragma once

#include <functional>
#include <memory>
#include <string_view>

#include "common/config/config.h"
#include "common/store/suppression.h"

namespace store {

std::shared_ptr<Env> open_suppression_store(const config::Config& cfg, bool read_only = false);
Policy suppression_policy(const config::Config& cfg,
                          const std::function<bool(std::string_view)>& known_reason);

}  // namespace store
