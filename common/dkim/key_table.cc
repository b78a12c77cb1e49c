// key_table.cc - see key_table.h
#include "common/dkim/key_table.h"

#include <system_error>

#include "common/address/address.h"
#include "common/config/error.h"
#include "common/config/syntax.h"
#include "common/config/value.h"
#include "common/sys/fd.h"

namespace dkim {
namespace {

bool blank(char c) { return c == ' ' || c == '\t'; }

std::vector<std::string_view> words(std::string_view l) {
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i < l.size()) {
        while (i < l.size() && blank(l[i])) ++i;
        const std::size_t start = i;
        while (i < l.size() && !blank(l[i])) ++i;
        if (i > start) out.push_back(l.substr(start, i - start));
    }
    return out;
}

}  // namespace

std::string normalise_selector(std::string_view s) {
    if (s.empty() || s.size() > 253) return {};
    std::string out;
    std::size_t label = 0;
    for (char c : s) {
        if (c == '.') {
            if (label == 0) return {};
            label = 0;
        } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_') {
            ++label;
        } else if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
            ++label;
        } else {
            return {};
        }
        if (label > 63) return {};
        out += c;
    }
    return label == 0 ? std::string() : out;
}

KeyTable KeyTable::load(const std::string& path) {
    std::string text;
    try {
        text = sys::read_file(path, kKeyTableMaxBytes + 1);
    } catch (const std::system_error& e) {
        throw config::Error(e.what());
    }
    if (text.size() > kKeyTableMaxBytes)
        throw config::Error(path + ": file too large (max " + std::to_string(kKeyTableMaxBytes) + " bytes)");
    return parse(text, path);
}

KeyTable KeyTable::parse(std::string_view text, std::string_view origin) {
    KeyTable t;
    t.origin_ = std::string(origin);
    std::unordered_map<std::string, unsigned> seen;  // "selector._domainkey.domain" -> line
    auto entry = [&](std::string_view logical, unsigned line) {
        const std::string at = t.origin_ + ":" + std::to_string(line);
        const auto w = words(logical);
        if (w.size() != 3)
            throw config::Error(at + ": expected \"DOMAIN SELECTOR KEYFILE\", got " + std::to_string(w.size()) +
                                (w.size() == 1 ? " word" : " words"));
        auto domain = address::normalise_domain(w[0]);
        if (!domain || domain->is_literal())
            throw config::Error(at + ": invalid domain " + config::quote_value(w[0]));
        const std::string selector = normalise_selector(w[1]);
        if (selector.empty())
            throw config::Error(at + ": invalid selector " + config::quote_value(w[1]) +
                                " (DNS labels of letters, digits, '-' and '_')");
        const std::string file(w[2]);
        if (file.front() != '/') throw config::Error(at + ": key file " + config::quote_value(file) + " is not an absolute path");
        if (t.keys_.size() >= kKeyTableMaxEntries)
            throw config::Error(at + ": more than " + std::to_string(kKeyTableMaxEntries) + " keys");
        if (auto [it, fresh] = seen.emplace(selector + "._domainkey." + domain->str(), line); !fresh)
            throw config::Error(at + ": duplicate key: domain " + domain->str() + " selector " + selector +
                                " (first at line " + std::to_string(it->second) + ")");
        // PrivateKey::load_file throws KeyError "FILE: ..." (see checked).
        auto k = std::make_shared<Key>(Key{domain->str(), selector, file, at, PrivateKey::load_file(file)});
        t.by_domain_[k->domain].push_back(k);
        t.keys_.push_back(std::move(k));
    };
    auto checked = [&](std::string_view logical, unsigned line) {
        try {
            entry(logical, line);
        } catch (const KeyError& e) {
            throw config::Error(t.origin_ + ":" + std::to_string(line) + ": key file " + e.what());
        }
    };
    config::read_logical_lines(text, origin, kKeyTableMaxLine, std::to_string(kKeyTableMaxLine) + " bytes",
                               "continuation line without a preceding key", checked);
    return t;
}

const std::vector<std::shared_ptr<const Key>>& KeyTable::of(std::string_view domain) const {
    static const std::vector<std::shared_ptr<const Key>> kNone;
    auto it = by_domain_.find(std::string(domain));
    return it == by_domain_.end() ? kNone : it->second;
}

std::shared_ptr<const Key> KeyTable::find(std::string_view domain, std::string_view selector) const {
    for (const auto& k : of(domain))
        if (k->selector == selector) return k;
    return nullptr;
}

}  // namespace dkim
