// return_path.cc - see return_path.h
#include "milter/return_path.h"

namespace milter {

std::optional<address::Domain> bounce_domain_for(const Policy& policy, const address::Domain& sender) {
    return address::bounce_domain_for(policy.bounce_domains, policy.bounce_domain_map, sender);
}

bool is_bounce_domain(const Policy& policy, const address::Domain& domain) {
    if (policy.bounce_domains.accepts(domain)) return true;
    for (const auto& [sender, bounce] : policy.bounce_domain_map)
        if (bounce == domain) return true;
    return false;
}

std::optional<ReturnPath> make_return_path(const Policy& policy, const address::Domain& bounce_domain,
                                           const std::vector<address::Address>& recipients,
                                           const address::VerpCodec::TokenSource& make_token,
                                           std::chrono::sys_days today) {
    if (recipients.empty()) return std::nullopt;
    const std::optional<address::VerpCodec> codec = policy.bounce_domains.codec(bounce_domain);
    if (!codec) return std::nullopt;
    std::optional<address::Encoded> e;
    if (recipients.size() == 1)
        e = codec->encode(recipients.front(), make_token, today);
    else if (make_token)
        e = codec->encode_token(make_token(), today);
    if (!e) return std::nullopt;
    return ReturnPath{std::move(*e)};
}

}  // namespace milter
