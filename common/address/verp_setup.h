// verp_setup.h - the VERP codecs the configuration describes
//
//   verp_config(cfg, domain)  the VerpConfig for one bounce domain from
//                      verp_local_part, verp_delimiter and verp_max_age
//   BounceDomains::from(cfg)  bounce_domains as a rule (patterns LABEL.*)
//   verp_codecs(cfg)   one codec per bounce_domains entry that is a domain (verp_* parameters,
//                      keys from verp_key_file); empty when no bounce domain
//                      is configured; throws address::KeyFileError naming
//                      the key file, and config::Error naming the
//                      parameter's file and line for a setting the codec
//                      refuses (verp_delimiter = a)
//   bounce_domain_map(cfg, accepted)  milter_bounce_domain_maps, loaded
//   bounce_domain_for(accepted, map, sender)  the bounce domain of a sender
//                      domain, as the milter signs on and `sendguard doctor`
//                      checks it
// Thread safety: none needed (start-up and reload code).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/address/verp.h"
#include "common/config/config.h"

namespace address {

VerpConfig verp_config(const config::Config& cfg, std::string bounce_domain);
std::vector<VerpCodec> verp_codecs(const config::Config& cfg);

}  // namespace address

namespace address {

// bounce_domains as a rule. An entry is a domain ("bounces.example.com") or
// a pattern "LABEL.*" standing for LABEL.<D> for every domain D: with
// "bounces.*" every customer domain has its own bounce domain
// (bounces.customer-a.example, bounces.customer-b.example, ...) without
// listing thousands of them. The milter signs on for_sender(domain) (or a
// milter_bounce_domain_maps entry, which must be accepted here); the bounce
// transport verifies with codec(domain) for any domain accepts() says is
// one of ours. Each bounce domain is in the MAC (verp.h), so a tag made for
// one customer's bounce domain does not verify at another's.
class BounceDomains {
public:
    // Loads verp_key_file when bounce_domains is not empty; throws as
    // verp_codecs() does, and config::Error for a pattern that is not
    // LABEL.* with one dot-atom label.
    static BounceDomains from(const config::Config& cfg);

    bool empty() const noexcept { return domains_.empty() && labels_.empty(); }
    // A listed domain, or LABEL.<domain> for a LABEL.* entry.
    bool accepts(const Domain& d) const;
    // The bounce domain of new return addresses for a sender domain: the
    // first pattern's LABEL.<sender>, else the first listed domain; nullopt
    // when there is none or it is no valid domain (too long).
    std::optional<Domain> for_sender(const Domain& sender) const;
    // The codec of an accepted bounce domain; nullopt when !accepts(d) or the
    // codec refuses the domain (over 189 octets).
    std::optional<VerpCodec> codec(const Domain& d) const;
    // The VERP keys (verp_key_file); nullptr when empty().
    const VerpKeys* keys() const noexcept { return keys_ ? &*keys_ : nullptr; }

private:
    VerpConfig base_;               // bounce_domain empty
    std::optional<VerpKeys> keys_;  // set when !empty()
    std::vector<Domain> domains_;
    std::vector<std::string> labels_;  // "bounces" for "bounces.*"
};

// True for a bounce_domains entry "LABEL.*".
bool is_bounce_domain_pattern(std::string_view entry) noexcept;

// milter_bounce_domain_maps: sender domain (normalised) -> bounce domain.
using BounceDomainMap = std::unordered_map<std::string, Domain>;

// Reads the "sender-domain bounce-domain" lines of milter_bounce_domain_maps
// (empty: none). Throws config::Error naming the file and line for a line
// that is no pair of domains, a sender domain given twice, or a bounce
// domain that accepted does not accept (sendguard-bounce would not trust
// its reports).
BounceDomainMap bounce_domain_map(const config::Config& cfg, const BounceDomains& accepted);

// The bounce domain of new return addresses for a sender domain: its map
// entry, else accepted.for_sender(sender); nullopt: none.
std::optional<Domain> bounce_domain_for(const BounceDomains& accepted, const BounceDomainMap& map,
                                        const Domain& sender);

}  // namespace address
