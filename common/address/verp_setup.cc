// verp_setup.cc - see verp_setup.h
#include "common/address/verp_setup.h"

#include <stdexcept>

#include "common/config/table_file.h"
#include "common/sys/ascii.h"

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
        if (is_bounce_domain_pattern(d)) continue;  // BounceDomains::codec(), per domain
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

bool is_bounce_domain_pattern(std::string_view entry) noexcept {
    return entry.size() > 2 && entry.ends_with(".*");
}

BounceDomains BounceDomains::from(const config::Config& cfg) {
    BounceDomains b;
    b.base_ = verp_config(cfg, "");
    const auto& entries = cfg.list("bounce_domains");
    if (entries.empty()) return b;
    const std::string where = cfg.is_default("bounce_domains") ? "default" : cfg.origin_of("bounce_domains");
    for (const auto& e : entries) {
        if (!is_bounce_domain_pattern(e)) continue;
        const std::string label = sys::to_lower_ascii(e.substr(0, e.size() - 2));
        // The label must make a domain of any sender domain: one LDH label.
        auto probe = normalise_domain(label + ".example");
        if (label.find('.') != std::string::npos || !probe)
            throw config::Error(where + ": invalid bounce_domains: " + e +
                                " (a pattern is one label and \".*\", such as bounces.*)");
        b.labels_.push_back(label);
    }
    // The codecs check what the table cannot (delimiter, prefix, the listed
    // domains) and load the keys once.
    const std::vector<VerpCodec> fixed = verp_codecs(cfg);
    for (const auto& c : fixed) b.domains_.push_back(c.bounce_domain());
    b.keys_ = VerpKeys::load_file(cfg.str("verp_key_file"));
    if (!b.labels_.empty()) {
        VerpConfig vc = b.base_;
        vc.bounce_domain = b.labels_.front() + ".example";
        try {
            VerpCodec probe(vc, *b.keys_);
        } catch (const std::invalid_argument& e) {
            const config::AnyKey k = culprit(e.what());
            const std::string origin = cfg.is_default(k) ? "default" : cfg.origin_of(k);
            throw config::Error(origin + ": invalid " + std::string(k.name()) + ": " + e.what());
        }
    }
    return b;
}

bool BounceDomains::accepts(const Domain& d) const {
    for (const auto& f : domains_)
        if (f == d) return true;
    const std::string& s = d.str();
    for (const auto& l : labels_)
        if (s.size() > l.size() + 1 && s.compare(0, l.size(), l) == 0 && s[l.size()] == '.') return true;
    return false;
}

std::optional<Domain> BounceDomains::for_sender(const Domain& sender) const {
    if (!labels_.empty()) {
        auto d = normalise_domain(labels_.front() + "." + sender.str());
        if (!d) return std::nullopt;
        return *d;
    }
    if (!domains_.empty()) return domains_.front();
    return std::nullopt;
}

std::optional<VerpCodec> BounceDomains::codec(const Domain& d) const {
    if (!keys_ || !accepts(d)) return std::nullopt;
    VerpConfig vc = base_;
    vc.bounce_domain = d.str();
    try {
        return VerpCodec(vc, *keys_);
    } catch (const std::invalid_argument&) {
        return std::nullopt;  // a pattern's domain too long for a return address
    }
}

namespace {

// milter_bounce_domain_maps: "sender-domain bounce-domain" lines.
constexpr config::TableLimits kBounceMapLimits{
    .max_line = 1024, .max_key = 255, .max_entries = 1000000, .max_bytes = 256u << 20};

}  // namespace

BounceDomainMap bounce_domain_map(const config::Config& cfg, const BounceDomains& accepted) {
    BounceDomainMap map;
    const std::string& path = cfg.str("milter_bounce_domain_maps");
    if (path.empty()) return map;
    const config::TableFile t = config::TableFile::load(path, kBounceMapLimits);
    for (const auto& e : t.entries()) {
        auto sender = normalise_domain(e.key);
        auto bounce = normalise_domain(e.value);
        if (!sender) throw config::Error(t.where(e) + ": invalid sender domain: " + e.key);
        if (!bounce) throw config::Error(t.where(e) + ": invalid bounce domain: " + e.value);
        if (!accepted.accepts(*bounce))
            throw config::Error(t.where(e) + ": bounce domain " + bounce->str() +
                                " is not accepted by bounce_domains, so sendguard-bounce would not trust its "
                                "reports; add it (or a LABEL.* pattern) to bounce_domains");
        if (!map.emplace(sender->str(), *bounce).second)
            throw config::Error(t.where(e) + ": sender domain " + sender->str() + " given twice");
    }
    return map;
}

std::optional<Domain> bounce_domain_for(const BounceDomains& accepted, const BounceDomainMap& map,
                                        const Domain& sender) {
    if (auto it = map.find(sender.str()); it != map.end()) return it->second;
    return accepted.for_sender(sender);
}

}  // namespace address
