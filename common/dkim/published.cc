// published.cc - see published.h
#include "common/dkim/published.h"

#include "common/log/log.h"

namespace dkim {
namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
        s.remove_suffix(1);
    return s;
}

bool tag_name(std::string_view n) {
    if (n.empty() || !((n[0] >= 'a' && n[0] <= 'z') || (n[0] >= 'A' && n[0] <= 'Z'))) return false;
    for (char c : n)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
    return true;
}

std::string lower(std::string_view s) {
    std::string o(s);
    for (char& c : o)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return o;
}

std::string cut(std::string s) {
    if (s.size() > kMaxFoundText) s = s.substr(0, kMaxFoundText) + "...";
    for (char& c : s)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
    return s;
}

}  // namespace

std::string_view to_string(Outcome o) noexcept {
    switch (o) {
        case Outcome::Match: return "match";
        case Outcome::Missing: return "missing";
        case Outcome::Revoked: return "revoked";
        case Outcome::Mismatch: return "mismatch";
        case Outcome::KeyTypeMismatch: return "key_type_mismatch";
        case Outcome::TempFail: return "tempfail";
    }
    return "tempfail";
}

// RFC 6376 3.2 tag-list: tag = name "=" value, separated by ';', white
// space around both allowed; a trailing ';' is allowed.
std::optional<KeyRecord> parse_key_record(std::string_view text) {
    KeyRecord r;
    std::vector<std::string> seen;
    bool first = true;
    for (std::size_t start = 0; start <= text.size();) {
        std::size_t end = text.find(';', start);
        if (end == std::string_view::npos) end = text.size();
        const std::string_view spec = trim(text.substr(start, end - start));
        start = end + 1;
        if (spec.empty()) {
            if (end == text.size()) break;
            if (first) return std::nullopt;
            continue;
        }
        const std::size_t eq = spec.find('=');
        if (eq == std::string_view::npos) return std::nullopt;
        const std::string name(trim(spec.substr(0, eq)));
        const std::string_view value = trim(spec.substr(eq + 1));
        if (!tag_name(name)) return std::nullopt;
        for (const auto& s : seen)
            if (s == name) return std::nullopt;  // a tag twice: invalid (3.2)
        seen.push_back(name);
        if (name == "v") {
            if (!first || value != "DKIM1") return std::nullopt;  // 3.6.1: v= first, "DKIM1"
        } else if (name == "k") {
            r.k = lower(value);
        } else if (name == "p") {
            r.p = std::string(value);
            r.has_p = true;
        }
        first = false;
        if (end == text.size()) break;
    }
    if (!r.has_p) return std::nullopt;
    return r;
}

KeyCheck check_published(const dns::Querier& querier, const Key& key, std::chrono::seconds budget) {
    KeyCheck c;
    c.expected_record = key.key.record();
    const dns::Answer a = querier.query(key.dns_name(), dns::Type::TXT, budget);
    if (a.status == dns::Status::NxDomain || a.status == dns::Status::NoData) {
        c.outcome = Outcome::Missing;
        c.detail = "no DKIM key record (" + std::string(dns::to_string(a.status)) + ")";
        return c;
    }
    if (a.status != dns::Status::Ok) {
        c.outcome = Outcome::TempFail;
        c.detail = "the DNS lookup failed (" + std::string(dns::to_string(a.status)) + ")";
        return c;
    }
    std::vector<KeyRecord> records;
    for (const auto& rec : a.records) {
        c.found_text += (c.found_text.empty() ? "" : " | ") + rec.value;
        if (auto r = parse_key_record(rec.value)) records.push_back(std::move(*r));
    }
    c.found_text = cut(std::move(c.found_text));
    if (records.empty()) {
        c.outcome = Outcome::Missing;
        c.detail = "no DKIM key record among " + std::to_string(a.records.size()) + " TXT record(s)";
        return c;
    }
    const std::string want(key_type(key.key.algorithm()));
    for (const KeyRecord& r : records) {
        if (trim(r.p).empty()) {
            c.outcome = Outcome::Revoked;
            c.detail = "the published key is revoked (empty p=)";
            return c;
        }
        if (r.k != want) {
            c.outcome = Outcome::KeyTypeMismatch;
            c.detail = "the published key type is k=" + r.k + ", the key file holds " + want;
            return c;
        }
        const auto der = base64_decode(r.p);
        if (!der || !key.key.matches(*der)) {
            c.outcome = Outcome::Mismatch;
            c.detail = der ? "the published p= is another key" : "the published p= is not base64";
            return c;
        }
    }
    c.outcome = Outcome::Match;
    c.detail = records.size() == 1 ? "published" : "published (" + std::to_string(records.size()) + " records)";
    return c;
}

std::string describe(const KeyCheck& c, const Key& key) {
    std::string s = "dkim key " + key.dns_name() + " (file " + key.file + "): ";
    if (c.outcome == Outcome::Match) return s + "public key published in DNS";
    if (c.outcome == Outcome::TempFail) return s + "cannot check the public key in DNS: " + c.detail;
    s += "public key not published in DNS: " + c.detail;
    if (!c.found_text.empty()) s += "; found \"" + c.found_text + "\"";
    return s + "; publish \"" + c.expected_record + "\"; not signing with it";
}

KeyStatus::KeyStatus(std::chrono::seconds interval, dns::Clock clock)
    : interval_(interval), clock_(std::move(clock)) {}

bool KeyStatus::stale(const Entry& e, std::chrono::steady_clock::time_point now) const {
    const auto life = e.check.outcome == Outcome::TempFail ? std::min<std::chrono::seconds>(kTempFailRetry, interval_)
                                                           : interval_;
    return now >= e.checked + life;
}

KeyStatus::Use KeyStatus::decide(const Entry& e, std::chrono::steady_clock::time_point now) const {
    Use u;
    u.outcome = e.check.outcome;
    u.sign = e.check.outcome == Outcome::Match ||
             (e.check.outcome == Outcome::TempFail && e.matched && now < *e.matched + 2 * interval_);
    return u;
}

KeyStatus::Entry& KeyStatus::store(const Key& key, KeyCheck c, std::chrono::steady_clock::time_point now) {
    if (c.outcome != Outcome::Match) {
        logging::warning(describe(c, key));
    }
    Entry& e = entries_[&key];
    if (c.outcome == Outcome::Match) e.matched = now;
    else if (c.outcome != Outcome::TempFail) e.matched.reset();
    e.check = std::move(c);
    e.checked = now;
    return e;
}

KeyStatus::Use KeyStatus::usable(const dns::Querier& q, const Key& key, std::chrono::seconds budget) {
    {
        std::lock_guard lock(mu_);
        const auto now = clock_();
        if (auto it = entries_.find(&key); it != entries_.end() && !stale(it->second, now))
            return decide(it->second, now);
        if (budget < std::chrono::seconds(1)) {
            auto it = entries_.find(&key);
            if (it == entries_.end()) return {};
            return decide(it->second, now);  // stale, but the message has no time left for DNS
        }
    }
    KeyCheck c = check_published(q, key, budget);  // no lock held while asking
    std::lock_guard lock(mu_);
    const auto now = clock_();
    return decide(store(key, std::move(c), now), now);
}

void KeyStatus::refresh_due(const dns::Querier& q, const std::vector<std::shared_ptr<const Key>>& keys,
                            std::chrono::seconds budget) {
    for (const auto& k : keys) {
        {
            std::lock_guard lock(mu_);
            auto it = entries_.find(k.get());
            if (it != entries_.end() && !stale(it->second, clock_())) continue;
        }
        KeyCheck c = check_published(q, *k, budget);
        std::lock_guard lock(mu_);
        store(*k, std::move(c), clock_());
    }
}

std::optional<KeyCheck> KeyStatus::last(const Key& key) const {
    std::lock_guard lock(mu_);
    auto it = entries_.find(&key);
    if (it == entries_.end()) return std::nullopt;
    return it->second.check;
}

}  // namespace dkim
