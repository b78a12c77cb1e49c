// providers.cc - the provider table (see providers.h)
#include "policyd/providers.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <unordered_set>
#include <utility>

#include "common/config/error.h"

namespace policyd {

namespace {

char lower(char c) noexcept {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string_view strip_dots(std::string_view s) noexcept {
    while (!s.empty() && s.back() == '.') s.remove_suffix(1);
    return s;
}

// Characters of a pattern other than '*': how specific it is.
std::size_t literal_size(std::string_view pattern) noexcept {
    return static_cast<std::size_t>(
        std::count_if(pattern.begin(), pattern.end(), [](char c) { return c != '*'; }));
}

const std::vector<ProviderRow>& builtin_rows() {
    static const std::vector<ProviderRow> rows = {
        {"google", {"*.google.com", "*.googlemail.com"}},
        {"outlook", {"*.olc.protection.outlook.com"}},
        {"microsoft365", {"*.mail.protection.outlook.com", "*.mx.microsoft"}},
        {"yahoo", {"*.yahoodns.net"}},
        {"gmx",
         {"*.gmx.net", "*.gmx.com", "*.web.de", "*.kundenserver.de", "*.ionos.de", "*.ionos.com",
          "*.ionos.co.uk", "*.ionos.es", "*.ionos.fr"}},
        {"t-online", {"mx*.t-online.de"}},
        {"apple", {"*.icloud.com"}},
        {"orange", {"*.orange.fr"}},
        {"comcast", {"*.comcast.net"}},
        {"free", {"*.free.fr"}},
        {"mailru", {"*.mail.ru"}},
        {"yandex", {"*.yandex.ru", "*.yandex.net"}},
        {"zoho", {"*.zoho.com", "*.zoho.eu"}},
        {"proton", {"*.protonmail.ch"}},
        {"fastmail", {"*.messagingengine.com"}},
    };
    return rows;
}

[[noreturn]] void fail(std::string_view origin, std::size_t line, const std::string& what) {
    throw config::Error(std::string(origin) + ":" + std::to_string(line) + ": " + what);
}

std::vector<std::string_view> split_words(std::string_view s) {
    std::vector<std::string_view> words;
    std::size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
        std::size_t start = i;
        while (i < s.size() && s[i] != ' ' && s[i] != '\t') ++i;
        if (i > start) words.push_back(s.substr(start, i - start));
    }
    return words;
}

}  // namespace

std::string normalise_host(std::string_view host) {
    host = strip_dots(host);
    std::string out(host);
    for (char& c : out) c = lower(c);
    return out;
}

bool pattern_matches(std::string_view pattern, std::string_view host) noexcept {
    host = strip_dots(host);
    // Glob matching with one backtrack point (the last '*'): a '*' must
    // take at least one character.
    std::size_t p = 0, h = 0;
    std::size_t star = std::string_view::npos, star_h = 0;
    while (h < host.size()) {
        if (p < pattern.size() && pattern[p] == '*') {
            star = p++;
            star_h = ++h;  // the star takes host[h]
        } else if (p < pattern.size() && pattern[p] == lower(host[h])) {
            ++p;
            ++h;
        } else if (star != std::string_view::npos) {
            p = star + 1;
            h = ++star_h;  // the star takes one more
        } else {
            return false;
        }
    }
    return p == pattern.size();
}

std::optional<std::string> check_provider_name(std::string_view name) {
    if (name.empty()) return "empty provider name";
    if (name.size() > kMaxNameLength)
        return "provider name longer than " + std::to_string(kMaxNameLength) + " characters";
    for (char c : name) {
        bool ok =
            (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
        if (!ok)
            return "bad provider name \"" + std::string(name) + "\" (use a-z, 0-9, '.', '_', '-')";
    }
    if (name == kDefaultProvider)
        return "the provider name \"default\" is reserved for domains that match no row";
    return std::nullopt;
}

std::optional<std::string> check_pattern(std::string_view pattern) {
    std::string_view p = strip_dots(pattern);
    if (p.empty()) return "empty pattern";
    if (p.size() > kMaxPatternLength)
        return "pattern longer than " + std::to_string(kMaxPatternLength) + " characters";
    bool literal = false;
    for (std::size_t i = 0; i < p.size(); ++i) {
        char c = lower(p[i]);
        bool ok =
            (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '*';
        if (!ok)
            return "bad pattern \"" + std::string(pattern) +
                   "\" (use A-Z, a-z, 0-9, '.', '-', '*')";
        if (c == '.' && (i == 0 || p[i - 1] == '.'))
            return "bad pattern \"" + std::string(pattern) + "\" (empty label)";
        if (c == '*' && i > 0 && p[i - 1] == '*')
            return "bad pattern \"" + std::string(pattern) + "\" (\"**\")";
        if (c != '*' && c != '.') literal = true;
    }
    if (!literal) return "bad pattern \"" + std::string(pattern) + "\" (it would match every host)";
    return std::nullopt;
}

ProviderTable ProviderTable::builtin() {
    ProviderTable t;
    t.rows_ = builtin_rows();
    return t;
}

ProviderTable ProviderTable::parse(std::string_view text, std::string_view origin) {
    return parse(text, origin, builtin());
}

ProviderTable ProviderTable::parse(std::string_view text, std::string_view origin,
                                   ProviderTable base) {
    std::unordered_set<std::string> seen;  // names given in this text
    std::vector<ProviderRow> added;
    std::vector<std::string> removed;
    std::size_t line_no = 0;
    while (!text.empty()) {
        ++line_no;
        std::size_t nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        if (line.size() > kMaxLine)
            fail(origin, line_no, "line longer than " + std::to_string(kMaxLine) + " bytes");
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (std::size_t hash = line.find('#'); hash != std::string_view::npos)
            line = line.substr(0, hash);
        auto words = split_words(line);
        if (words.empty()) continue;
        std::string_view name = words[0];
        if (auto why = check_provider_name(name)) fail(origin, line_no, *why);
        if (!seen.insert(std::string(name)).second)
            fail(origin, line_no, "duplicate row \"" + std::string(name) + "\"");
        if (words.size() < 2)
            fail(origin, line_no,
                 "row \"" + std::string(name) +
                     "\" has no pattern (give PATTERN... or \"-\" to remove it)");
        if (words.size() == 2 && words[1] == "-") {
            if (!base.find(name))
                fail(origin, line_no,
                     "cannot remove \"" + std::string(name) + "\": no such built-in row");
            removed.emplace_back(name);
            continue;
        }
        if (words.size() - 1 > kMaxPatterns)
            fail(origin, line_no,
                 "row \"" + std::string(name) + "\" has more than " + std::to_string(kMaxPatterns) +
                     " patterns");
        ProviderRow row{std::string(name), {}};
        for (std::size_t i = 1; i < words.size(); ++i) {
            if (words[i] == "-")
                fail(origin, line_no, "\"-\" must stand alone after the name (it removes the row)");
            if (auto why = check_pattern(words[i])) fail(origin, line_no, *why);
            std::string p = normalise_host(words[i]);
            if (std::find(row.patterns.begin(), row.patterns.end(), p) == row.patterns.end())
                row.patterns.push_back(std::move(p));
        }
        auto it = std::find_if(base.rows_.begin(), base.rows_.end(),
                               [&](const ProviderRow& r) { return r.name == name; });
        if (it != base.rows_.end()) {
            *it = std::move(row);
        } else {
            if (base.rows_.size() + added.size() >= kMaxRows)
                fail(origin, line_no, "more than " + std::to_string(kMaxRows) + " rows");
            added.push_back(std::move(row));
        }
    }
    for (const auto& name : removed)
        std::erase_if(base.rows_, [&](const ProviderRow& r) { return r.name == name; });
    for (auto& row : added) base.rows_.push_back(std::move(row));
    return base;
}

ProviderTable ProviderTable::load(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw config::Error(path + ": cannot read the provider table: " + std::strerror(errno));
    // Bounded: a table is small; a huge file is a mistake.
    constexpr std::size_t kMaxFile = kMaxRows * 256;
    std::string text;
    text.resize(kMaxFile + 1);
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    if (in.bad()) throw config::Error(path + ": cannot read the provider table");
    text.resize(static_cast<std::size_t>(in.gcount()));
    if (text.size() > kMaxFile)
        throw config::Error(path + ": provider table larger than " + std::to_string(kMaxFile) +
                            " bytes");
    return parse(text, path);
}

const ProviderRow* ProviderTable::find(std::string_view name) const noexcept {
    for (const auto& r : rows_)
        if (r.name == name) return &r;
    return nullptr;
}

std::optional<std::string> ProviderTable::provider_of_host(std::string_view host) const {
    host = strip_dots(host);
    if (host.empty() || host.size() > kMaxPatternLength) return std::nullopt;
    const ProviderRow* best = nullptr;
    std::size_t best_size = 0;
    for (const auto& row : rows_) {
        for (const auto& p : row.patterns) {
            std::size_t size = literal_size(p);
            if ((!best || size > best_size) && pattern_matches(p, host)) {
                best = &row;
                best_size = size;
            }
        }
    }
    if (!best) return std::nullopt;
    return best->name;
}

Destination ProviderTable::rollup(std::string_view domain,
                                  const std::vector<std::string>& mx_hosts) const {
    Destination own{std::string(kDefaultProvider), normalise_host(domain)};
    if (mx_hosts.empty()) return own;
    std::optional<std::string> provider;
    for (const auto& host : mx_hosts) {
        auto p = provider_of_host(host);  // "." (null MX) matches nothing
        if (!p || (provider && *provider != *p)) return own;
        provider = std::move(p);
    }
    return {*provider, *provider};
}

}  // namespace policyd
