// table_file.cc - see table_file.h
#include "common/config/table_file.h"

#include <system_error>
#include <unordered_map>

#include "common/config/error.h"
#include "common/config/syntax.h"
#include "common/config/value.h"
#include "common/sys/fd.h"

namespace config {
namespace {

bool is_blank(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
    return s;
}

std::string bytes(size_t n) { return std::to_string(n) + (n == 1 ? " byte" : " bytes"); }

}  // namespace

TableFile TableFile::load(const std::string& path, const TableLimits& limits) {
    std::string text;
    try {
        text = sys::read_file(path, limits.max_bytes + 1);  // one byte more tells "too large"
    } catch (const std::system_error& e) {
        throw Error(e.what());  // "open /etc/sendguard/senders: No such file or directory"
    }
    return parse(text, path, limits);
}

TableFile TableFile::parse(std::string_view text, std::string_view origin, const TableLimits& limits) {
    const std::string o(origin);
    auto at = [&o](unsigned line) { return o + ":" + std::to_string(line); };
    if (text.size() > limits.max_bytes) throw Error(o + ": file too large (max " + bytes(limits.max_bytes) + ")");

    TableFile t;
    t.origin_ = o;
    auto entry = [&](std::string_view logical, unsigned first) {
        std::string_view l = trim(logical);
        size_t sp = 0;
        while (sp < l.size() && !is_blank(l[sp])) ++sp;
        std::string_view key = l.substr(0, sp);
        std::string_view value = trim(l.substr(sp));
        if (value.empty())
            throw Error(at(first) + ": expected \"key value\", got only " + quote_value(key));
        if (key.size() > limits.max_key)
            throw Error(at(first) + ": key longer than " + bytes(limits.max_key) + ": " + quote_value(key));
        if (t.entries_.size() >= limits.max_entries)
            throw Error(at(first) + ": more than " + std::to_string(limits.max_entries) + " entries");
        auto [it, fresh] = t.index_.emplace(std::string(key), t.entries_.size());
        if (!fresh && !limits.duplicate_keys)
            throw Error(at(first) + ": duplicate key " + quote_value(key) + " (first at line " +
                        std::to_string(t.entries_[it->second].line) + ")");
        t.entries_.push_back(Entry{std::string(key), std::string(value), first});
    };
    read_logical_lines(text, o, limits.max_line, bytes(limits.max_line),
                       "continuation line without a preceding entry", entry);
    return t;
}

const TableFile::Entry* TableFile::find(std::string_view key) const {
    auto it = index_.find(std::string(key));
    return it == index_.end() ? nullptr : &entries_[it->second];
}

}  // namespace config
