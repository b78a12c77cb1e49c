// verp_setup.h - the VERP codecs the configuration describes
//
//   verp_config(cfg, domain)  the VerpConfig for one bounce domain from
//                      verp_local_part, verp_delimiter and verp_max_age
//   verp_codecs(cfg)   one codec per bounce_domains entry (verp_* parameters,
//                      keys from verp_key_file); empty when no bounce domain
//                      is configured; throws address::KeyFileError naming
//                      the key file, and config::Error naming the
//                      parameter's file and line for a setting the codec
//                      refuses (verp_delimiter = a)
// Thread safety: none needed (start-up and reload code).
#pragma once

#include <string>
#include <vector>

#include "common/address/verp.h"
#include "common/config/config.h"

namespace address {

VerpConfig verp_config(const config::Config& cfg, std::string bounce_domain);
std::vector<VerpCodec> verp_codecs(const config::Config& cfg);

}  // namespace address
