// record.h - the suppression-list and block-table value formats
//
// API
//   std::string encode(const Record&);          Decode decode(std::string_view, Record&);
//   Decode decode_fixed(std::string_view, Record&);   // fixed part only, no allocation
//   std::string encode(const BlockRecord&);     Decode decode(std::string_view, BlockRecord&);
//   to_string()/parse_class()/parse_source() for the enums (names used in logs,
//   exports and the command line).
//
// Record layout, format version 1 (all integers little-endian):
//   off size field
//     0    1 version         = 1 (kRecordVersion)
//     1    1 class           0 hard, 1 soft, 2 complaint, 3 manual
//     2    1 source          0 dsn, 1 arf, 2 manual, 3 import
//     3    1 flags           bit 0: suppressed; other bits zero
//     4    8 first_seen      int64, unix seconds
//    12    8 last_seen       int64
//    20    8 expiry          int64, 0 = never
//    28    8 window_start    int64, start of the soft-bounce window
//    36    4 count           uint32, events seen (saturates)
//    40    4 window_count    uint32, soft events in the window
//    44      five strings, each a uint16 length then the bytes:
//            reason, status, diagnostic, remote_mta, evidence
//            then, optional (absent when both are empty, and in values
//            written before they were added): message_id (uint16 length +
//            bytes), a uint8 count and that many header fields, each a name
//            and a value (uint16 length + bytes each): the message the last
//            report that named one was about (the send log's entry, or the
//            report's returned headers), e.g. Feedback-ID, List-Id
// A version-1 reader ignores bytes after the last field, so fields may be
// appended later without a new version; any other change bumps the version.
//
// BlockRecord layout, format version 1:
//     0    1 version = 1 (kBlockVersion)
//     1    8 count       uint64
//     9    8 first_seen  int64
//    17    8 last_seen   int64
//    25      four strings (uint16 length + bytes): reason, status,
//            diagnostic, remote_mta
//            then, optional (absent when empty, and in values written
//            before it was added), one more: evidence, the id of the last
//            report counted
//
// Strings longer than the per-field caps below are cut at a UTF-8 character
// boundary when encoded.
// Errors: decoding never throws; it returns a Decode value (UnknownVersion,
// Truncated, BadValue). Encoding does not fail.
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace store {

inline constexpr uint8_t kRecordVersion = 1;
inline constexpr uint8_t kBlockVersion = 1;

// Per-field caps applied by encode().
inline constexpr size_t kMaxReason = 64;
inline constexpr size_t kMaxStatus = 32;
inline constexpr size_t kMaxDiagnostic = 4096;
inline constexpr size_t kMaxRemoteMta = 255;
inline constexpr size_t kMaxEvidence = 255;
inline constexpr size_t kMaxMessageId = 1024;
inline constexpr size_t kMaxHeaders = 16;        // header fields kept (more are dropped)
inline constexpr size_t kMaxHeaderName = 64;
inline constexpr size_t kMaxHeaderValue = 1024;

enum class Class : uint8_t { Hard = 0, Soft = 1, Complaint = 2, Manual = 3 };
enum class Source : uint8_t { Dsn = 0, Arf = 1, Manual = 2, Import = 3 };

std::string_view to_string(Class c) noexcept;
std::string_view to_string(Source s) noexcept;
std::optional<Class> parse_class(std::string_view s) noexcept;    // "hard", ...
std::optional<Source> parse_source(std::string_view s) noexcept;  // "dsn", ...

// Which suppression wins when two meet: soft < hard < complaint < manual.
int strength(Class c) noexcept;

struct Record {
    Class klass = Class::Hard;
    Source source = Source::Dsn;
    bool suppressed = false;
    int64_t first_seen = 0;
    int64_t last_seen = 0;
    int64_t expiry = 0;  // 0 = never
    int64_t window_start = 0;
    uint32_t count = 0;
    uint32_t window_count = 0;
    std::string reason;      // e.g. "userunknown"
    std::string status;      // e.g. "5.1.1"
    std::string diagnostic;  // capped
    std::string remote_mta;
    std::string evidence;    // queue id / event id of the last event
    std::string message_id;  // "<...>" of the bounced message, "" unknown
    // Its campaign/subscriber header fields (name, value), "" none known.
    std::vector<std::pair<std::string, std::string>> headers;

    bool expired(int64_t now) const noexcept { return expiry != 0 && expiry <= now; }
    // Suppresses mail at time now.
    bool active(int64_t now) const noexcept { return suppressed && !expired(now); }
    bool operator==(const Record&) const = default;
};

struct BlockRecord {
    uint64_t count = 0;
    int64_t first_seen = 0;
    int64_t last_seen = 0;
    std::string reason;  // blocked, spamdetected, ratelimited, ...
    std::string status;
    std::string diagnostic;
    std::string remote_mta;
    std::string evidence;  // id of the last report counted ("" in older values)
    bool operator==(const BlockRecord&) const = default;
};

enum class Decode { Ok, Empty, UnknownVersion, Truncated, BadValue };
std::string_view to_string(Decode d) noexcept;

std::string encode(const Record& r);
Decode decode(std::string_view in, Record& out);
// Fills the fixed fields of out (class .. window_count) and leaves its strings
// alone: the hot path decides "suppressed?" without allocating.
Decode decode_fixed(std::string_view in, Record& out);
// Reads only the reason field (for statistics).
Decode decode_reason(std::string_view in, std::string_view& reason);

std::string encode(const BlockRecord& r);
Decode decode(std::string_view in, BlockRecord& out);

// s cut to at most max bytes without splitting a UTF-8 sequence.
std::string_view cap_utf8(std::string_view s, size_t max) noexcept;
// Text from a remote server as the store keeps it: cut like cap_utf8, and
// every control character but tab and line feed (ESC, BEL, DEL, ...)
// replaced by '?', so no listing or export can carry terminal escapes.
std::string clean_remote_text(std::string_view s, size_t max);

}  // namespace store
