// verp_setup.cc - see verp_setup.h
#include "common/address/verp_setup.h"

namespace address {

std::vector<VerpCodec> verp_codecs(const config::Config& cfg) {
    std::vector<VerpCodec> out;
    const auto& domains = cfg.list("bounce_domains");
    if (domains.empty()) return out;
    auto keys = VerpKeys::load_file(cfg.str("verp_key_file"));
    for (const auto& d : domains) {
        VerpConfig vc;
        vc.prefix = cfg.str("verp_local_part");
        vc.delimiter = cfg.character("verp_delimiter");
        vc.bounce_domain = d;
        vc.max_age = std::chrono::duration_cast<std::chrono::days>(cfg.duration("verp_max_age"));
        out.emplace_back(vc, keys);
    }
    return out;
}

}  // namespace address
