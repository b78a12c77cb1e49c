// rules.cc - the rate-rules table (see rules.h)
#include "policyd/rules.h"

#include <algorithm>
#include <cstdio>

#include "common/config/error.h"
#include "common/config/table_file.h"
#include "common/sys/ascii.h"

namespace policyd {

namespace {

constexpr config::TableLimits kRuleLimits{.max_line = kMaxRuleLine,
                                          .max_key = kMaxRuleName,
                                          .max_entries = kMaxRules,
                                          .max_bytes = 1u << 20,
                                          .duplicate_keys = true};  // checked below, by name

struct PartName {
    std::string_view name;
    KeyPart part;
};
constexpr PartName kParts[] = {
    {"sasl_username", KeyPart::SaslUsername},   {"sender_domain", KeyPart::SenderDomain},
    {"client_address", KeyPart::ClientAddress}, {"policy_context", KeyPart::PolicyContext},
    {"provider", KeyPart::Provider},
};

std::string quoted(std::string_view s) {
    std::string out = "\"";
    for (char c : s.substr(0, 100)) out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
    if (s.size() > 100) out += "...";
    return out + "\"";
}

bool name_char(char c) noexcept { return sys::is_alnum(c) || c == '_' || c == '.' || c == '-'; }

bool valid_name(std::string_view s) noexcept {
    if (s.empty()) return false;
    for (char c : s)
        if (!name_char(c)) return false;
    return true;
}

// A Postfix transport name (master.cf service): letters, digits, '_', '-', '.'.
bool valid_transport(std::string_view s) noexcept { return valid_name(s); }

std::vector<std::string_view> tokens(std::string_view s) {
    std::vector<std::string_view> out;
    size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && sys::is_space(s[i])) ++i;
        const size_t start = i;
        while (i < s.size() && !sys::is_space(s[i])) ++i;
        if (i > start) out.push_back(s.substr(start, i - start));
    }
    return out;
}

Rule parse_rule(const config::TableFile& t, const config::TableFile::Entry& e) {
    const std::string at = t.where(e) + ": rule " + quoted(e.key) + ": ";
    if (!valid_name(e.key))
        throw config::Error(t.where(e) + ": bad rule name " + quoted(e.key) +
                            " (letters, digits, '_', '.', '-')");
    Rule r;
    r.name = e.key;
    r.line = static_cast<int>(e.line);
    const std::string_view value = e.value;
    bool seen_key = false, seen_provider = false, seen_count = false, seen_action = false;
    size_t pos = 0;
    for (std::string_view tok : tokens(value)) {
        const size_t eq = tok.find('=');
        if (eq == std::string_view::npos) break;
        pos = static_cast<size_t>(tok.data() + tok.size() - value.data());
        const std::string_view opt = tok.substr(0, eq);
        const std::string_view val = tok.substr(eq + 1);
        auto once = [&](bool& seen) {
            if (seen) throw config::Error(at + "option " + std::string(opt) + "= given twice");
            seen = true;
        };
        if (opt == "key") {
            once(seen_key);
            size_t p = 0;
            while (true) {
                const size_t plus = val.find('+', p);
                const std::string_view part =
                    val.substr(p, plus == std::string_view::npos ? std::string_view::npos : plus - p);
                const PartName* found = nullptr;
                for (const PartName& n : kParts)
                    if (n.name == part) found = &n;
                if (!found)
                    throw config::Error(at + "key=: unknown key part " + quoted(part) +
                                        " (expected sasl_username, sender_domain, client_address, "
                                        "policy_context or provider, joined with '+')");
                for (KeyPart k : r.key)
                    if (k == found->part)
                        throw config::Error(at + "key=: " + std::string(part) + " given twice");
                r.key.push_back(found->part);
                if (plus == std::string_view::npos) break;
                p = plus + 1;
            }
        } else if (opt == "provider") {
            once(seen_provider);
            if (!valid_name(val))
                throw config::Error(at + "provider=: bad provider name " + quoted(val) +
                                    " (a provider table name or default)");
            r.provider = sys::to_lower_ascii(val);
        } else if (opt == "count") {
            once(seen_count);
            if (val == "messages")
                r.count = Rule::Count::Messages;
            else if (val == "recipients")
                r.count = Rule::Count::Recipients;
            else
                throw config::Error(at + "count=: unknown value " + quoted(val) + " (expected messages or recipients)");
        } else if (opt == "action") {
            once(seen_action);
            if (val == "defer") {
                r.action = Rule::Action::Defer;
            } else if (val == "hold") {
                r.action = Rule::Action::Hold;
            } else if (val == "reject") {
                r.action = Rule::Action::Reject;
            } else if (val.substr(0, 7) == "filter:") {
                const std::string_view target = val.substr(7);
                const size_t colon = target.find(':');
                const std::string_view transport = target.substr(0, colon);
                if (colon == std::string_view::npos || !valid_transport(transport))
                    throw config::Error(at + "action=: bad filter target " + quoted(val) +
                                        " (expected filter:TRANSPORT:NEXTHOP, NEXTHOP may be empty)");
                r.action = Rule::Action::Filter;
                r.filter = std::string(target);
            } else {
                throw config::Error(at + "action=: unknown action " + quoted(val) +
                                    " (expected defer, hold, reject or filter:TRANSPORT:NEXTHOP)");
            }
        } else {
            throw config::Error(at + "unknown option " + quoted(std::string(opt) + "=") +
                                " (expected key=, provider=, count=, action=, then the limits)");
        }
    }
    const std::string_view limits = sys::trim(value.substr(pos));
    if (limits.empty()) throw config::Error(at + "no limits after the options (e.g. \"600/h burst 20, 10000/day\")");
    LimitsParse lp = parse_limits(limits);
    if (!lp) throw config::Error(at + "limits: " + lp.error);
    r.limits = std::move(lp.windows);
    return r;
}

std::vector<Rule> from_table(const config::TableFile& t) {
    std::vector<Rule> out;
    out.reserve(t.entries().size());
    for (const auto& e : t.entries()) {
        for (const Rule& r : out)
            if (r.name == e.key)
                throw config::Error(t.where(e) + ": rule " + quoted(e.key) + ": duplicate name (first at line " +
                                    std::to_string(r.line) + ")");
        out.push_back(parse_rule(t, e));
    }
    return out;
}

// '|' separates parts; '%' escapes.
void append_escaped(std::string& out, std::string_view v) {
    for (char c : v) {
        if (c == '|')
            out += "%7C";
        else if (c == '%')
            out += "%25";
        else
            out += c;
    }
}

uint64_t fnv1a64(std::string_view s) noexcept {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (unsigned char c : s) {
        h ^= c;
        h *= 0x100000001b3ULL;
    }
    return h;
}

}  // namespace

std::string_view key_part_name(KeyPart p) noexcept {
    for (const PartName& n : kParts)
        if (n.part == p) return n.name;
    return "?";
}

std::string_view action_name(Rule::Action a) noexcept {
    switch (a) {
    case Rule::Action::Defer: return "defer";
    case Rule::Action::Hold: return "hold";
    case Rule::Action::Reject: return "reject";
    case Rule::Action::Filter: return "filter";
    }
    return "?";
}

std::string_view count_name(Rule::Count c) noexcept {
    return c == Rule::Count::Recipients ? "recipients" : "messages";
}

std::vector<Rule> load_rules(const std::string& path) { return from_table(config::TableFile::load(path, kRuleLimits)); }

std::vector<Rule> parse_rules(std::string_view text, std::string_view origin) {
    return from_table(config::TableFile::parse(text, origin, kRuleLimits));
}

void check_rule_providers(const std::vector<Rule>& rules, std::string_view origin,
                          const std::vector<std::string>& names, std::string_view names_from) {
    for (const Rule& r : rules) {
        if (r.provider.empty() || r.provider == "default") continue;
        if (std::find(names.begin(), names.end(), r.provider) != names.end()) continue;
        std::string known;
        for (const std::string& n : names) known += (known.empty() ? "" : ", ") + n;
        throw config::Error(std::string(origin) + ":" + std::to_string(r.line) + ": rule " + quoted(r.name) +
                            ": provider=: unknown provider " + quoted(r.provider) + " (the provider names are " +
                            std::string(names_from) + ": " + (known.empty() ? "none" : known) +
                            "; or default for domains of no provider)");
    }
}

bool rule_applies(const Rule& rule, const RequestValues& req) noexcept {
    return rule.provider.empty() || rule.provider == req.provider;
}

std::optional<std::string> rule_key(const Rule& rule, const RequestValues& req) {
    std::string out;
    bool first = true;
    for (KeyPart p : rule.key) {
        std::string_view v;
        switch (p) {
        case KeyPart::SaslUsername:
            if (req.sasl_username.empty()) return std::nullopt;
            v = req.sasl_username;
            break;
        // An empty part means the rule does not apply: the null sender
        // (bounces, DSNs) and a sender without a domain must not share one
        // bucket, nor must requests without a client address or context.
        case KeyPart::SenderDomain:
            if (req.sender_domain.empty()) return std::nullopt;
            v = req.sender_domain;
            break;
        case KeyPart::ClientAddress:
            if (req.client_address.empty()) return std::nullopt;
            v = req.client_address;
            break;
        case KeyPart::PolicyContext:
            if (req.policy_context.empty()) return std::nullopt;
            v = req.policy_context;
            break;
        case KeyPart::Provider:
            if (req.provider.empty()) return std::nullopt;
            v = req.provider == "default" ? req.recipient_domain : req.provider;
            if (v.empty()) return std::nullopt;
            break;
        }
        if (!first) out += '|';
        first = false;
        append_escaped(out, v);
    }
    if (out.size() > kMaxBucketKey) {
        char hash[18];
        std::snprintf(hash, sizeof hash, "#%016llx", static_cast<unsigned long long>(fnv1a64(out)));
        out.resize(kMaxBucketKey - 17);
        out += hash;
    }
    return out;
}

}  // namespace policyd
