// value.h - typed parameter values and their text forms
//
// The parsers behind each parameter type, usable on their own (e.g. for a
// command-line option that takes a duration):
//
//   parse_bool      yes | no (any case, like Postfix)
//   parse_int       [+-]digits
//   parse_duration  digits with optional unit s m h d w; bare = seconds
//   parse_size      digits with optional k m g (1024-based); bare = bytes
//   parse_rate      COUNT/UNIT, UNIT one of s sec m min h hour d day
//   parse_mode      1 to 5 octal digits, at most 07777
//   split_list      elements separated by commas and/or whitespace
//   split_map       key=value entries (params.h) in the order written; keys
//                   checked, values left as text for their type's parser
//
// convert() applies a Param's type and bounds to an (expanded) value.
//
// Errors: parsers return std::nullopt for text that is not of their form
// (including overflow); convert() returns std::nullopt and sets `why` to the
// text of the parenthesised reason: "max 900s", "expected yes or no".
// Thread safety: all functions are pure.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "common/config/params.h"

namespace config {

// A rate such as 100/min: count events per `per`.
struct Rate {
    uint64_t count = 0;
    std::chrono::seconds per{1};
    friend bool operator==(const Rate&, const Rate&) = default;
};

std::optional<bool> parse_bool(std::string_view text);
std::optional<long long> parse_int(std::string_view text);
std::optional<std::chrono::seconds> parse_duration(std::string_view text);
std::optional<uint64_t> parse_size(std::string_view text);
std::optional<Rate> parse_rate(std::string_view text);
std::optional<unsigned> parse_mode(std::string_view text);
std::vector<std::string> split_list(std::string_view text);

// A parsed map, entries in the order written; keys are unique.
template <class V>
struct Map {
    std::vector<std::pair<std::string, V>> entries;
    const V* find(std::string_view key) const {
        for (const auto& [k, v] : entries)
            if (k == key) return &v;
        return nullptr;
    }
    friend bool operator==(const Map&, const Map&) = default;
};
using DurationMap = Map<std::chrono::seconds>;

// Splits text into key=value entries: "" on success, else the reason
// ("duplicate key suspend", "expected key=value, like mailboxfull=14d").
std::string split_map(std::string_view text, std::vector<std::pair<std::string, std::string>>& out);

// Seconds in the largest unit that divides them exactly: 86400 -> "1d".
std::string format_duration(long long seconds);
// Bytes with the largest exact suffix: 65536 -> "64k".
std::string format_size(long long bytes);
// A value for a message: printable ASCII only, capped, "" when empty.
std::string quote_value(std::string_view text);

// The typed value of one parameter. String and Path keep only their text
// (monostate); Int is long long, Mode unsigned, Size uint64_t.
using Value = std::variant<std::monostate, bool, long long, std::chrono::seconds, uint64_t, Rate,
                           char, std::vector<std::string>, unsigned, DurationMap>;

std::optional<Value> convert(const Param& param, std::string_view text, std::string& why);

}  // namespace config
