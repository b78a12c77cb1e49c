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
//   write_obstacle(state_dir)
//                        why the caller may not write the store there,
//                        for an EACCES/EROFS hint: "PATH is on a read-only
//                        file system", "PATH has mode 0440: its owner may
//                        not write it", "PATH is owned by USER, not by
//                        CALLER, ..."; "" when no such reason is found
// Thread safety: none needed (start-up and reload code).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/config/config.h"
#include "common/store/suppression.h"

namespace store {

std::shared_ptr<Env> open_suppression_store(const config::Config& cfg, bool read_only = false);
Policy suppression_policy(const config::Config& cfg,
                          const std::function<bool(std::string_view)>& known_reason);
std::string write_obstacle(std::string_view state_dir);

}  // namespace store
