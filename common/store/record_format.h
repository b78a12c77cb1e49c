// record_format.h - suppression records as JSON lines and CSV rows
//
// The formats "sendguard suppress list/export" write, "import" reads back,
// and the socketmap "record" map answers with. Columns / keys, in order:
//   address, suppressed, class, reason, status, source, first_seen, last_seen,
//   count, expiry, remote_mta, diagnostic, evidence
// Times are unix seconds (0 = never for expiry). CSV follows RFC 4180
// (fields with comma, quote or line break are quoted, quotes doubled).
//
// parse_import_line() reads one line of an import in the given format; a
// line it cannot use yields an error text naming what is wrong (the caller
// adds the line number). Pure functions; no exceptions but std::bad_alloc.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/store/record.h"

namespace store {

std::string record_json(std::string_view key, const Record& r, int64_t now);
std::string csv_header();
std::string record_csv(std::string_view key, const Record& r, int64_t now);

// Splits one RFC 4180 line into fields; nullopt for an unterminated quote.
std::optional<std::vector<std::string>> split_csv(std::string_view line);

enum class ImportFormat { Plain, Csv, Json };
struct ImportLine {
    std::string address;            // as written; the caller normalises
    std::optional<Record> record;  // for csv/json lines with details
    std::string error;              // non-empty: the line is unusable
    bool skip = false;              // blank, comment or header line
};
// columns: for Csv, the header fields (empty before the header was read).
ImportLine parse_import_line(ImportFormat f, std::string_view line,
                             const std::vector<std::string>& columns);

}  // namespace store
