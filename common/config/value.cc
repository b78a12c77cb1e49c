// value.cc - see value.h
#include "common/config/value.h"

#include <charconv>
#include <climits>

namespace config {
namespace {

// All of text as an unsigned decimal no larger than LLONG_MAX.
std::optional<uint64_t> parse_digits(std::string_view text) {
    if (text.empty() || text.size() > 19) return std::nullopt;
    uint64_t v = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + static_cast<uint64_t>(c - '0');  // 19 digits cannot wrap
    }
    if (v > static_cast<uint64_t>(LLONG_MAX)) return std::nullopt;
    return v;
}

// n * unit, or nullopt when that exceeds LLONG_MAX.
std::optional<uint64_t> scale(uint64_t n, uint64_t unit) {
    if (unit != 0 && n > static_cast<uint64_t>(LLONG_MAX) / unit) return std::nullopt;
    return n * unit;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string plural(long long n, std::string_view word) {
    std::string s = std::to_string(n) + " " + std::string(word);
    if (n != 1) s += 's';
    return s;
}

std::string octal(long long v) {
    if (v == 0) return "0";
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, 8);
    (void)ec;
    return "0" + std::string(buf, end);
}

// Sets why to "min X" / "max X" and returns false when v is out of bounds.
template <class Fmt>
bool in_range(const Param& p, long long v, std::string& why, Fmt fmt) {
    if (v < p.min) {
        why = "min " + fmt(p.min);
        return false;
    }
    if (p.max != kNoLimit && v > p.max) {
        why = "max " + fmt(p.max);
        return false;
    }
    return true;
}

std::string plain(long long v) { return std::to_string(v); }
std::string seconds(long long v) { return std::to_string(v) + "s"; }

// String and Path lengths, List sizes: "must not be empty" reads better
// than "min length 1".
bool count_in_range(const Param& p, long long n, std::string_view unit, std::string& why) {
    if (n < p.min) {
        why = p.min == 1 ? std::string("must not be empty") : "min " + plural(p.min, unit);
        return false;
    }
    if (p.max != kNoLimit && n > p.max) {
        why = "max " + plural(p.max, unit);
        return false;
    }
    return true;
}

}  // namespace

std::optional<bool> parse_bool(std::string_view text) {
    auto eq = [text](std::string_view word) {
        if (text.size() != word.size()) return false;
        for (size_t i = 0; i < word.size(); ++i)
            if ((text[i] | 0x20) != word[i]) return false;
        return true;
    };
    if (eq("yes")) return true;
    if (eq("no")) return false;
    return std::nullopt;
}

std::optional<long long> parse_int(std::string_view text) {
    bool negative = false;
    if (!text.empty() && (text[0] == '+' || text[0] == '-')) {
        negative = text[0] == '-';
        text.remove_prefix(1);
    }
    auto v = parse_digits(text);
    if (!v) return std::nullopt;
    return negative ? -static_cast<long long>(*v) : static_cast<long long>(*v);
}

std::optional<std::chrono::seconds> parse_duration(std::string_view text) {
    uint64_t unit = 1;
    if (!text.empty()) {
        switch (text.back()) {
        case 's': unit = 1; break;
        case 'm': unit = 60; break;
        case 'h': unit = 3600; break;
        case 'd': unit = 86400; break;
        case 'w': unit = 7 * 86400; break;
        default: unit = 0; break;
        }
        if (unit != 0) text.remove_suffix(1);
        else unit = 1;
    }
    auto n = parse_digits(text);
    if (!n) return std::nullopt;
    auto v = scale(*n, unit);
    if (!v) return std::nullopt;
    return std::chrono::seconds(static_cast<long long>(*v));
}

std::optional<uint64_t> parse_size(std::string_view text) {
    uint64_t unit = 1;
    if (!text.empty()) {
        switch (text.back()) {
        case 'k': case 'K': unit = 1ull << 10; break;
        case 'm': case 'M': unit = 1ull << 20; break;
        case 'g': case 'G': unit = 1ull << 30; break;
        default: unit = 0; break;
        }
        if (unit != 0) text.remove_suffix(1);
        else unit = 1;
    }
    auto n = parse_digits(text);
    if (!n) return std::nullopt;
    return scale(*n, unit);
}

std::optional<Rate> parse_rate(std::string_view text) {
    size_t slash = text.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    auto count = parse_digits(text.substr(0, slash));
    if (!count) return std::nullopt;
    std::string_view unit = text.substr(slash + 1);
    long long per = 0;
    if (unit == "s" || unit == "sec") per = 1;
    else if (unit == "m" || unit == "min") per = 60;
    else if (unit == "h" || unit == "hour") per = 3600;
    else if (unit == "d" || unit == "day") per = 86400;
    else return std::nullopt;
    return Rate{*count, std::chrono::seconds(per)};
}

std::optional<unsigned> parse_mode(std::string_view text) {
    if (text.empty() || text.size() > 5) return std::nullopt;
    unsigned v = 0;
    for (char c : text) {
        if (c < '0' || c > '7') return std::nullopt;
        v = v * 8 + static_cast<unsigned>(c - '0');
    }
    if (v > 07777) return std::nullopt;
    return v;
}

std::vector<std::string> split_list(std::string_view text) {
    std::vector<std::string> out;
    size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && (text[i] == ',' || is_space(text[i]))) ++i;
        size_t start = i;
        while (i < text.size() && text[i] != ',' && !is_space(text[i])) ++i;
        if (i > start) out.emplace_back(text.substr(start, i - start));
    }
    return out;
}

std::string split_map(std::string_view text, std::vector<std::pair<std::string, std::string>>& out) {
    out.clear();
    for (std::string& item : split_list(text)) {
        const size_t eq = item.find('=');
        if (eq == std::string::npos || eq == 0 || eq + 1 == item.size())
            return "expected key=value entries, like mailboxfull=14d; got " + quote_value(item);
        std::string key = item.substr(0, eq);
        if (key.size() > kMaxMapKey) return "key longer than " + std::to_string(kMaxMapKey) + " bytes";
        for (char c : key)
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
                return "bad key " + quote_value(key) + "; keys are lower-case letters, digits, '.', '_' and '-'";
        for (const auto& [k, v] : out)
            if (k == key) return "duplicate key " + key;
        if (out.size() >= kMaxMapEntries) return "more than " + std::to_string(kMaxMapEntries) + " entries";
        out.emplace_back(std::move(key), item.substr(eq + 1));
    }
    return {};
}

std::string format_duration(long long s) {
    if (s == 0) return "0s";
    static constexpr std::pair<long long, char> kUnits[] = {
        {7 * 86400, 'w'}, {86400, 'd'}, {3600, 'h'}, {60, 'm'}};
    for (auto [unit, suffix] : kUnits)
        if (s % unit == 0) return std::to_string(s / unit) + suffix;
    return std::to_string(s) + "s";
}

std::string format_size(long long bytes) {
    if (bytes == 0) return "0";
    static constexpr std::pair<long long, char> kUnits[] = {{1ll << 30, 'g'}, {1ll << 20, 'm'}, {1ll << 10, 'k'}};
    for (auto [unit, suffix] : kUnits)
        if (bytes % unit == 0) return std::to_string(bytes / unit) + suffix;
    return std::to_string(bytes);
}

std::string quote_value(std::string_view text) {
    constexpr size_t kMax = 100;
    if (text.empty()) return "\"\"";
    std::string out;
    for (size_t i = 0; i < text.size() && i < kMax; ++i) {
        unsigned char c = static_cast<unsigned char>(text[i]);
        out += (c < 0x20 || c >= 0x7f) ? '?' : static_cast<char>(c);
    }
    if (text.size() > kMax) out += "...";
    return out;
}

std::optional<Value> convert(const Param& p, std::string_view text, std::string& why) {
    const auto len = static_cast<long long>(text.size());
    switch (p.type) {
    case Type::String:
        if (!count_in_range(p, len, "byte", why)) return std::nullopt;
        return Value{};
    case Type::Path:
        if (text.empty() && p.min == 0) return Value{};
        if (!count_in_range(p, len, "byte", why)) return std::nullopt;
        if (text[0] != '/') {
            why = "expected an absolute path";
            return std::nullopt;
        }
        return Value{};
    case Type::Bool:
        if (auto v = parse_bool(text)) return Value{*v};
        why = "expected yes or no";
        return std::nullopt;
    case Type::Int: {
        auto v = parse_int(text);
        if (!v) {
            why = "expected an integer";
            return std::nullopt;
        }
        if (!in_range(p, *v, why, plain)) return std::nullopt;
        return Value{*v};
    }
    case Type::Duration: {
        auto v = parse_duration(text);
        if (!v) {
            why = "expected a duration like 30s, 5m, 1h, 1d";
            return std::nullopt;
        }
        if (!in_range(p, v->count(), why, seconds)) return std::nullopt;
        return Value{*v};
    }
    case Type::Size: {
        auto v = parse_size(text);
        if (!v) {
            why = "expected a size like 512, 64k, 16m, 4g";
            return std::nullopt;
        }
        if (!in_range(p, static_cast<long long>(*v), why, format_size)) return std::nullopt;
        return Value{*v};
    }
    case Type::Rate: {
        auto v = parse_rate(text);
        if (!v) {
            why = "expected a rate like 100/min, 5/s, 1000/h, 10000/d";
            return std::nullopt;
        }
        if (!in_range(p, static_cast<long long>(v->count), why, plain)) return std::nullopt;
        return Value{*v};
    }
    case Type::Char:
        if (text.size() != 1 || text[0] <= ' ' || text[0] >= 0x7f) {
            why = "expected a single character";
            return std::nullopt;
        }
        return Value{text[0]};
    case Type::List: {
        auto v = split_list(text);
        if (!count_in_range(p, static_cast<long long>(v.size()), "element", why)) return std::nullopt;
        return Value{std::move(v)};
    }
    case Type::DurationMap: {
        std::vector<std::pair<std::string, std::string>> items;
        why = split_map(text, items);
        if (!why.empty()) return std::nullopt;
        DurationMap m;
        for (auto& [key, value] : items) {
            auto d = parse_duration(value);
            if (!d) {
                why = key + ": expected a duration like 30s, 5m, 1h, 1d";
                return std::nullopt;
            }
            if (!in_range(p, d->count(), why, seconds)) {
                why = key + ": " + why;
                return std::nullopt;
            }
            m.entries.emplace_back(std::move(key), *d);
        }
        return Value{std::move(m)};
    }
    case Type::Mode: {
        auto v = parse_mode(text);
        if (!v) {
            why = "expected an octal mode like 0660";
            return std::nullopt;
        }
        if (!in_range(p, *v, why, octal)) return std::nullopt;
        return Value{*v};
    }
    }
    why = "unknown parameter type";
    return std::nullopt;
}

}  // namespace config
