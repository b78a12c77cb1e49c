// record_format.h - suppression records as JSON lines and CSV rows
//
// The formats "sendguard suppress list/export" write, "import" reads back,
// and the socketmap "record" map answers with. Columns / keys, in order:
//   address, suppressed, class, reason, status, source, first_seen, last_seen,
//   count, expiry, remote_mta, diagnostic, evidence,
//   first_seen_iso, last_seen_iso, expiry_iso, message_id, headers
// message_id is the Message-ID of the bounced message and headers its
// campaign/subscriber header fields (milter_sendlog_headers) as one JSON
// object, {"Feedback-ID":"42:news","List-Id":"<news.example.org>"}: nested
// in a JSON line, its text in the CSV column ("" when none is known).
// Times are unix seconds (0 = never for expiry); each *_iso field repeats
// its time as RFC 3339 UTC, "2026-12-01T20:30:00Z" ("" for 0). Both formats
// carry both. An import reads the epoch field and takes the *_iso one only
// when the epoch one is absent or empty, so hand-written files may give
// either. CSV follows RFC 4180
// (fields with comma, quote or line break are quoted, quotes doubled; a
// quoted field may span lines). So that a spreadsheet does not run a field
// as a formula, CSV puts a "'" in front of every field that starts with
// = + - @ tab CR or "'"; a CSV import takes exactly one "'" off a field that
// starts with "'" followed by one of those. The round trip is exact, and a
// hand-written field like "'bob@example.com" is kept as written. JSON
// values are never unquoted. On import, in either format, the text fields
// (reason, status, remote_mta, diagnostic, evidence, message_id, headers) lose their control
// characters as remote text does (clean_remote_text in record.h), whether
// written raw or as a JSON escape (\u001b).
//
// Files saved by spreadsheets: strip_bom() takes a UTF-8 byte order mark
// off the first line (every format); CRLF line ends are accepted.
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

// t as "YYYY-MM-DDTHH:MM:SSZ" (UTC), and back; parse_iso_time() takes only
// that form and returns nullopt for anything else.
std::string iso_time(int64_t t);
std::optional<int64_t> parse_iso_time(std::string_view s);

std::string record_json(std::string_view key, const Record& r, int64_t now);
std::string csv_header();
std::string record_csv(std::string_view key, const Record& r, int64_t now);

// Header fields as one JSON object of strings, in their order, and back
// (nullopt for anything but a flat object; values cleaned and capped like
// remote text, at most kMaxHeaders fields).
std::string headers_json(const std::vector<std::pair<std::string, std::string>>& headers);
std::optional<std::vector<std::pair<std::string, std::string>>> parse_headers_json(std::string_view s);

// Splits one RFC 4180 line into fields; nullopt for an unterminated quote.
std::optional<std::vector<std::string>> split_csv(std::string_view line);

inline constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";
// line without a leading UTF-8 byte order mark.
std::string_view strip_bom(std::string_view line) noexcept;

enum class ImportFormat { Plain, Csv, Json };
struct ImportLine {
    std::string address;            // as written; the caller normalises
    std::optional<Record> record;  // for csv/json lines with details
    std::string error;              // non-empty: the line is unusable
    bool skip = false;              // blank, comment or header line
    // No class given (a plain line, or CSV/JSON without "class"): the line
    // only asks for the address to be suppressed; it carries no evidence.
    bool bare = true;
    // CSV: a quoted field is still open at the end of line; the record goes
    // on on the next line (the caller joins them with "\n" and asks again).
    bool incomplete = false;
};
// columns: for Csv, the header fields (empty before the header was read).
ImportLine parse_import_line(ImportFormat f, std::string_view line,
                             const std::vector<std::string>& columns);

}  // namespace store
