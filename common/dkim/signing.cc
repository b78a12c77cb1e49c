// signing.cc - see signing.h
#include "common/dkim/signing.h"

#include <algorithm>

namespace dkim {

Plan Signing::plan(const address::Address& from, std::chrono::seconds budget) const {
    Plan p;
    const Rule* rule = rules.find(from);
    if (!rule) {
        p.why = "no_signing_rule";
        return p;
    }
    const auto started = std::chrono::steady_clock::now();
    const auto left = [&] {
        return std::max(std::chrono::seconds(0),
                        budget - std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started));
    };
    std::string skipped;
    const auto take = [&](const std::vector<std::shared_ptr<const Key>>& ks) {
        for (const auto& k : ks) {
            if (std::find(p.keys.begin(), p.keys.end(), k) != p.keys.end()) continue;
            const KeyStatus::Use u = status->usable(*dns, *k, left());
            if (u.sign) p.keys.push_back(k);
            else skipped += (skipped.empty() ? "" : " ") + k->dns_name() + "=" + std::string(to_string(u.outcome));
        }
    };
    take(rule->keys);
    if (p.keys.empty()) {
        p.why = "key_not_published";
        p.detail = skipped;
        return p;
    }
    take(provider);
    p.detail = skipped;
    return p;
}

}  // namespace dkim
