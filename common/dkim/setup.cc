// setup.cc - see setup.h
#include "common/dkim/setup.h"

#include <algorithm>

#include "common/config/error.h"
#include "common/config/value.h"
#include "common/dns/setup.h"

namespace dkim {
namespace {

std::string lower(std::string s) {
    for (char& c : s)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return s;
}

config::Error invalid(const config::Config& cfg, config::AnyKey key, std::string_view value, std::string_view why) {
    return config::Error(cfg.origin_of(key) + ": invalid " + std::string(key.name()) + ": " + std::string(value) +
                         " (" + std::string(why) + ")");
}

// RFC 5322 3.6.8 field names (printable ASCII but ':'), each once; no '*'
// (libopendkim would read it as a pattern).
std::vector<std::string> field_names(const config::Config& cfg, config::Key<config::Type::List> key) {
    std::vector<std::string> out;
    for (const std::string& n : cfg.list(key)) {
        const bool ftext = !n.empty() && n.size() <= 64 &&
                           std::all_of(n.begin(), n.end(), [](char c) { return c > ' ' && c < 0x7f && c != ':' && c != '*'; });
        if (!ftext) throw invalid(cfg, key, n, "not a header field name");
        for (const std::string& seen : out)
            if (lower(seen) == lower(n)) throw invalid(cfg, key, n, "given twice");
        out.push_back(n);
    }
    return out;
}

bool contains(const std::vector<std::string>& v, const std::string& name) {
    return std::any_of(v.begin(), v.end(), [&](const std::string& s) { return lower(s) == lower(name); });
}

}  // namespace

HeaderLists header_lists(const config::Config& cfg) {
    HeaderLists h;
    h.sign = field_names(cfg, "dkim_sign_headers");
    h.oversign = field_names(cfg, "dkim_oversign_headers");
    if (!contains(h.sign, "From"))
        throw invalid(cfg, "dkim_sign_headers", cfg.str("dkim_sign_headers"), "From must be signed (RFC 6376 5.4)");
    for (const std::string& o : h.oversign)
        if (!contains(h.sign, o))
            throw invalid(cfg, "dkim_oversign_headers", o, "not in dkim_sign_headers: an oversigned field is signed");
    return h;
}

std::shared_ptr<const Signing> signing_from(const config::Config& cfg, SetupOptions options) {
    const HeaderLists headers = header_lists(cfg);
    const std::string& signing_path = cfg.str("dkim_signing_table");
    const std::string& key_path = cfg.str("dkim_key_table");
    const std::string& provider = cfg.str("dkim_provider_domain");
    const std::chrono::seconds interval = cfg.duration("dkim_key_check_interval");
    if (signing_path.empty()) {
        // Checked all the same, so that turning signing on finds no bad line.
        if (!key_path.empty()) (void)KeyTable::load(key_path);
        return nullptr;
    }
    if (key_path.empty())
        throw invalid(cfg, "dkim_signing_table", signing_path, "dkim_key_table is empty: name the key table too");
    auto s = std::make_shared<Signing>();
    s->keys = KeyTable::load(key_path);
    s->rules = SigningTable::load(signing_path, s->keys);
    if (!provider.empty()) {
        auto d = address::normalise_domain(provider);
        if (!d || d->is_literal()) throw invalid(cfg, "dkim_provider_domain", provider, "not a domain");
        s->provider = s->keys.of(d->str());
        if (s->provider.empty())
            throw invalid(cfg, "dkim_provider_domain", provider, "no key for it in the key table " + key_path);
    }
    LibraryOptions lo;
    lo.sign_headers = headers.sign;
    lo.oversign_headers = headers.oversign;
    lo.fixed_time = options.fixed_time;
    s->library = std::make_shared<const Library>(lo);
    s->dns = options.dns ? options.dns : std::shared_ptr<const dns::Querier>(dns::lookup_from(cfg));
    s->dns_budget = cfg.duration("dns_lookup_timeout");
    s->status = std::make_shared<KeyStatus>(interval, options.clock);
    return s;
}

}  // namespace dkim
