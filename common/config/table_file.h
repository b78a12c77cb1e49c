// table_file.h - "key value" table files (sender tables, DKIM key tables)
//
// The format of a Postfix lookup table source (postmap(1)):
//   - one entry per logical line: the key is the first word, the value the
//     rest of the line (white space inside it kept, around it removed);
//   - empty and whitespace-only lines are ignored, and so are lines whose
//     first non-whitespace character is '#';
//   - a line that starts with whitespace continues the previous entry: the
//     newline is deleted, the leading whitespace is kept;
//   - a line may end in CRLF; other control characters are errors.
// Unlike postmap, which warns and keeps one of them, a key given twice is an
// error (unless TableLimits::duplicate_keys: a file of rows whose first word
// is a class, not a key; find() then returns the first). Keys are compared as written; a program that wants them folded
// (domains) does so itself, and reports its own errors with where(entry).
//
//     config::TableLimits lim{.max_line = 1024, .max_entries = 10000, .max_bytes = 4u << 20};
//     const config::TableFile t = config::TableFile::load("/etc/sendguard/senders", lim);
//     for (const auto& e : t.entries()) ... e.key, e.value, t.where(e)
//
// Limits have no defaults: they belong to the parameter (or the code) that
// names the file.
// Errors: load() and parse() throw config::Error "path:line: message", or
// "path: message" for the file as a whole (cannot open, too large).
// Thread safety: a TableFile is immutable after construction.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace config {

struct TableLimits {
    size_t max_line;     // bytes in a logical line
    size_t max_key;      // bytes in a key
    size_t max_entries;  // entries in the file
    size_t max_bytes;    // size of the file
    bool duplicate_keys = false;  // a key may repeat
};

class TableFile {
public:
    struct Entry {
        std::string key;
        std::string value;
        unsigned line;  // first physical line of the logical line
    };

    // Reads the file at path (at most limits.max_bytes).
    static TableFile load(const std::string& path, const TableLimits& limits);
    // Parses text; origin names it in messages.
    static TableFile parse(std::string_view text, std::string_view origin, const TableLimits& limits);

    const std::vector<Entry>& entries() const noexcept { return entries_; }
    // The entry with this key, or nullptr.
    const Entry* find(std::string_view key) const;
    // "origin:line" of an entry, for the program's own messages.
    std::string where(const Entry& e) const { return origin_ + ":" + std::to_string(e.line); }
    const std::string& origin() const noexcept { return origin_; }

private:
    TableFile() = default;
    std::string origin_;
    std::vector<Entry> entries_;  // in file order
    std::unordered_map<std::string, size_t> index_;  // key -> entries_ index
};

}  // namespace config
