// signing_table.cc - see signing_table.h
#include "common/dkim/signing_table.h"

#include "common/config/error.h"
#include "common/config/table_file.h"
#include "common/config/value.h"

namespace dkim {
namespace {

constexpr config::TableLimits kLimits{.max_line = kSigningTableMaxLine,
                                      .max_key = address::kMaxMailbox + 1,
                                      .max_entries = kSigningTableMaxEntries,
                                      .max_bytes = kSigningTableMaxBytes};

std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> out;
    for (std::size_t start = 0;;) {
        const std::size_t end = s.find(sep, start);
        out.push_back(s.substr(start, end == std::string_view::npos ? end : end - start));
        if (end == std::string_view::npos) return out;
        start = end + 1;
    }
}

Rule make_rule(const config::TableFile& t, const config::TableFile::Entry& e, const KeyTable& keys) {
    const std::string at = t.where(e);
    if (e.key.find('*') != std::string::npos || e.value.find('*') != std::string::npos)
        throw config::Error(at + ": wildcard " + config::quote_value(e.key) +
                            ": the signing table names each From: domain or address");
    Rule r;
    r.where = at;
    std::string from_domain;
    const std::size_t at_sign = e.key.rfind('@');
    if (at_sign == std::string::npos || at_sign == 0) {
        auto d = address::normalise_domain(at_sign == 0 ? std::string_view(e.key).substr(1) : e.key);
        if (!d || d->is_literal()) throw config::Error(at + ": invalid From: domain " + config::quote_value(e.key));
        r.from = from_domain = d->str();
    } else {
        auto a = address::parse_mailbox(e.key);
        if (!a) throw config::Error(at + ": invalid From: address " + config::quote_value(e.key));
        if (a->domain().is_literal())
            throw config::Error(at + ": invalid From: address " + config::quote_value(e.key));
        r.from = a->normalised();
        from_domain = a->domain().str();
    }
    if (e.value.find_first_of(" \t") != std::string::npos)
        throw config::Error(at + ": expected \"FROM KEYDOMAIN[:SELECTOR,...]\", got more after " +
                            config::quote_value(e.key));
    const std::size_t colon = e.value.find(':');
    const std::string_view kd_text = std::string_view(e.value).substr(0, colon);
    auto kd = address::normalise_domain(kd_text);
    if (!kd || kd->is_literal()) throw config::Error(at + ": invalid key domain " + config::quote_value(kd_text));
    r.key_domain = kd->str();
    if (!is_same_or_parent(r.key_domain, from_domain))
        throw config::Error(at + ": key domain " + r.key_domain + " is neither From: domain " + from_domain +
                            " nor a parent of it: the signature would not be aligned");
    const auto& all = keys.of(r.key_domain);
    if (all.empty())
        throw config::Error(at + ": key domain " + r.key_domain + " has no key in the key table " + keys.origin());
    if (colon == std::string::npos) {
        r.keys = all;
        return r;
    }
    for (std::string_view s : split(std::string_view(e.value).substr(colon + 1), ',')) {
        const std::string sel = normalise_selector(s);
        if (sel.empty()) throw config::Error(at + ": invalid selector " + config::quote_value(s));
        auto k = keys.find(r.key_domain, sel);
        if (!k)
            throw config::Error(at + ": no key for domain " + r.key_domain + " selector " + sel + " in the key table " +
                                keys.origin());
        for (const auto& have : r.keys)
            if (have == k) throw config::Error(at + ": selector " + sel + " given twice");
        r.keys.push_back(std::move(k));
    }
    return r;
}

}  // namespace

bool is_same_or_parent(std::string_view parent, std::string_view child) noexcept {
    if (parent == child) return true;
    return child.size() > parent.size() && child.ends_with(parent) && child[child.size() - parent.size() - 1] == '.';
}

SigningTable SigningTable::load(const std::string& path, const KeyTable& keys) {
    return build(config::TableFile::load(path, kLimits), keys);
}

SigningTable SigningTable::parse(std::string_view text, std::string_view origin, const KeyTable& keys) {
    return build(config::TableFile::parse(text, origin, kLimits), keys);
}

SigningTable SigningTable::build(const config::TableFile& t, const KeyTable& keys) {
    SigningTable s;
    std::unordered_map<std::string, unsigned> lines;
    for (const auto& e : t.entries()) {
        Rule r = make_rule(t, e, keys);
        if (auto [it, fresh] = lines.emplace(r.from, e.line); !fresh)
            throw config::Error(t.where(e) + ": duplicate From: " + r.from + " (first at line " +
                                std::to_string(it->second) + ")");
        std::string from = r.from;
        s.rules_.emplace(std::move(from), std::move(r));
    }
    return s;
}

const Rule* SigningTable::find(const address::Address& from) const {
    if (from.is_null()) return nullptr;
    if (auto it = rules_.find(from.normalised()); it != rules_.end()) return &it->second;
    if (auto it = rules_.find(from.domain().str()); it != rules_.end()) return &it->second;
    return nullptr;
}

}  // namespace dkim
