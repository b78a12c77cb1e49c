// verp_setup.cc - see verp_setup.h
#include "common/address/verp_setup.h"

#include <stdexcept>

namespace address {

VerpConfig verp_config(const config::Config& cfg, std::string bounce_domain) {
    VerpConfig vc;
    vc.prefix = cfg.str("verp_local_part");
    vc.delimiter = cfg.character("verp_delimiter");
    vc.bounce_domain = std::move(bounce_domain);
    vc.max_age = std::chrono::duration_cast<std::chrono::days>(cfg.duration("verp_max_age"));
    return vc;
}

namespace {

// The parameter a VerpCodec constructor's complaint is about. The table
// cannot express every rule of the codec (which characters may delimit, a
// dot-atom prefix, a domain name), so its refusal is turned into the
// configuration error it is, at the parameter's file and line.
config::AnyKey culprit(std::string_view why) {
    if (why.find("delimiter") != std::string_view::npos) return "verp_delimiter";
    if (why.find("prefix") != std::string_view::npos) return "verp_local_part";
    if (why.find("max age") != std::string_view::npos) return "verp_max_age";
    return "bounce_domains";
}

}  // namespace

std::vector<VerpCodec> verp_codecs(const config::Config& cfg) {
    std::vector<VerpCodec> out;
    const auto& domains = cfg.list("bounce_domains");
    if (domains.empty()) return out;
    auto keys = VerpKeys::load_file(cfg.str("verp_key_file"));
    for (const auto& d : domains) {
        try {
            out.emplace_back(verp_config(cfg, d), keys);
        } catch (const std::invalid_argument& e) {
            const config::AnyKey k = culprit(e.what());
            const std::string origin = cfg.is_default(k) ? "default" : cfg.origin_of(k);
            throw config::Error(origin + ": invalid " + std::string(k.name()) + " for bounce domain " + d + ": " +
                                e.what());
        }
    }
    return out;
}

}  // namespace address
