// verp_setup.h - the VERP codecs the configuration describes
//
//   verp_codecs(cfg)   one codec per bounce_domains entry (verp_* parameters,
//                      keys from verp_key_file); empty when no bounce domain
//                      is configured; throws address::KeyFileError naming
//                      the key file
// Thread safety: none needed (start-up and reload code).
#pragma once

#include <vector>

#include "common/address/verp.h"
#include "common/config/config.h"

namespace address {

std::vector<VerpCodec> verp_codecs(const config::Config& cfg);

}  // namespace address
