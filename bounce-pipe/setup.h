// setup.h - turn a loaded configuration into the objects the programs use
//
// Shared by sendguard-bounce, sendguard-mapd and the sendguard tool so the
// mapping from parameters to typed settings is written once.
//
//   load_config(path, overrides)  path "" means config::default_config_path();
//                                 throws config::Error ("file:line: ...")
//   open_store(cfg)               the suppression LMDB env under
//                                 state_directory; throws store::Error
//   store_policy(cfg)             bounce_soft_* / *_expiry / domain threshold
//   verp_codecs(cfg)              one codec per bounce_domains entry; empty
//                                 when no domain is configured; throws
//                                 address::KeyFileError naming the key file
// Thread safety: none needed (start-up code).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/address/verp.h"
#include "common/config/config.h"
#include "common/store/suppression.h"

namespace bounce {

config::Config load_config(const std::string& path, const std::vector<std::string>& overrides);
std::shared_ptr<store::Env> open_store(const config::Config& cfg, bool read_only = false);
store::Policy store_policy(const config::Config& cfg);
std::vector<address::VerpCodec> verp_codecs(const config::Config& cfg);

}  // namespace bounce
