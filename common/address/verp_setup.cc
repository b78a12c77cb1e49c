// verp_setup.cc - see verp_setup.h
#include "common/address/verp_setup.h"

namespace address {

VerpConfig verp_config(const config::Config& cfg, std::string bounce_domain) {
    VerpConfig vc;
    vc.prefix = cfg.str("verp_local_part");
    vc.delimiter = cfg.character("verp_delimiter");
    vc.bounce_domain = std::move(bounce_domain);
    vc.max_age = std::chrono::duration_cast<std::chrono::days>(cfg.duration("verp_max_age"));
    return vc;
}

std::vector<VerpCodec> verp_codecs(const config::Config& cfg) {
    std::vector<VerpCodec> out;
    const auto& domains = cfg.list("bounce_domains");
    if (domains.empty()) return out;
    auto keys = VerpKeys::load_file(cfg.str("verp_key_file"));
    for (const auto& d : domains) out.emplace_back(verp_config(cfg, d), keys);
    return out;
}

}  // namespace address
