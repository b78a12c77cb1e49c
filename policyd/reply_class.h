// reply_class.h - what a delivery status says about a provider's throttling
//
// parse_status_key(key) reads one smtp_delivery_status_filter key
// (FACTS.md: "<enhanced status><space><text>") into a StatusKey:
//   "4.7.1 host mx.example[192.0.2.4] said: 451 4.7.1 text (in reply to RCPT TO command)"
//       enhanced 4.7.1, host mx.example, ip 192.0.2.4, reply_code 451,
//       text "4.7.1 text" (the remote reply after its code, without the
//       "(in reply to ...)" tail)
//   "4.7.0 host mx.example[192.0.2.4] refused to talk to me: 421 4.7.0 ..."
//       the same (a refused greeting)
//   "4.4.1 connect to mx.example[192.0.2.3]:25: Connection refused"
//   "4.4.2 lost connection with mx.example[192.0.2.3] while receiving the initial server greeting"
//   "4.4.2 conversation with mx.example[192.0.2.3] timed out while sending end of data"
//       host and ip set, reply_code "", text the rest after the host
//   "2.0.0 250 2.0.0 Ok"  success: no host, reply_code 250
//   anything else with a valid status: host/ip/reply_code empty, text all
// The host is lower-cased; ip is as written (IPv6 without the "ipv6:"
// prefix). nullopt when the key does not start with a valid enhanced status
// of class 2, 4 or 5 (RFC 3463 §2) followed by a space or its end, or is
// longer than kMaxStatusKey.
//
// classify(key, extra) decides the Signal:
//   Success    a 2.x.x status
//   RateLimit  a 4xx whose wording (extra rows first, then kReplyPatterns)
//              is a rate limit: kind Rate, Connections or Reputation
//   Ordinary   any other 4xx (mailbox full, greylisting, DNS, connection
//              errors, too many recipients): never a backoff signal
//   Permanent  a 5xx; with a rate-limit/block row's kind when one matched
//              (a block: T-Online's "554 ... bad reputation"), else None
//   Other      a key parse_status_key does not accept
// A "ratelimit" row matching a 5xx gives Permanent with that row's kind; a
// "permanent" row gives Permanent whatever the class (a block by wording).
// Matching is on the lower-cased reply text (reply code, enhanced code and
// text), as plain substrings; a row may also require an enhanced status.
// retry_after_us is retry_after(text) for RateLimit and Permanent.
//
// retry_after(text) reads the delay a reply asks for: "try again in 10
// minutes", "retry after 3600 seconds", "please wait 30 s", "in 1 Stunde",
// "dans 5 minutes", "try again in an hour". At most kMaxRetryAfterUs;
// nullopt when the text names none.
//
// ReplyPatterns::load(path): an operator's rows, checked before the shipped
// table, one per line, '#' comments, lines starting with white space
// continue the previous one:
//     ratelimit[:rate|:connections|:reputation]  TEXT
//     ordinary                                   TEXT
//     permanent[:reputation|...]                 TEXT
// TEXT (the rest of the line, lower-cased, each run of white space one
// space) is a substring of the reply. At
// most kMaxPatternRows rows of at most kMaxPatternText bytes.
// Errors: load() throws config::Error "path:line: ..." (unknown class or
// kind, text too long or missing) or "path: ..." (cannot read, too large).
// Parsing and classifying return values and never throw except bad_alloc.
// Thread safety: pure functions; a ReplyPatterns is immutable once loaded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace config {
class TableFile;
}

namespace policyd {

inline constexpr size_t kMaxStatusKey = 4096;
inline constexpr size_t kMaxPatternRows = 1000;
inline constexpr size_t kMaxPatternText = 256;
inline constexpr int64_t kMaxRetryAfterUs = 7LL * 86400 * 1'000'000;

struct StatusKey {
    std::string enhanced;    // "4.7.1"
    std::string host;        // lower case, "" if the text names none
    std::string ip;          // "192.0.2.4", "" if none
    std::string reply_code;  // "451", "" if the text carries no remote reply
    std::string text;        // the remote reply after its code, else the text
    bool success = false;    // class 2
};

std::optional<StatusKey> parse_status_key(std::string_view key);

enum class Signal { Success, RateLimit, Ordinary, Permanent, Other };
enum class RateKind { None, Rate, Connections, Reputation };

std::string_view signal_name(Signal s) noexcept;   // "success", "ratelimit", ...
std::string_view kind_name(RateKind k) noexcept;   // "none", "rate", "connections", "reputation"

// One row: the class it gives, the kind of limit, the lower-case substring
// that must occur (may be empty when status is set) and the enhanced status
// the reply must carry ("" any).
enum class PatternClass { RateLimit, Ordinary, Permanent };
struct ReplyPattern {
    PatternClass cls;
    RateKind kind;
    std::string_view text;
    std::string_view status = {};
};

class ReplyPatterns {
public:
    ReplyPatterns() = default;
    ReplyPatterns(const ReplyPatterns& o);
    ReplyPatterns& operator=(const ReplyPatterns& o);
    ReplyPatterns(ReplyPatterns&&) noexcept = default;
    ReplyPatterns& operator=(ReplyPatterns&&) noexcept = default;
    static ReplyPatterns load(const std::string& path);
    static ReplyPatterns parse(std::string_view text, std::string_view origin);
    size_t size() const noexcept { return rows_.size(); }
    // The first row that matches (lower-cased reply, enhanced status), or nullptr.
    const ReplyPattern* match(std::string_view lowered, std::string_view enhanced) const noexcept;

private:
    static ReplyPatterns from_table(const config::TableFile& t);
    void point() noexcept;
    std::vector<std::string> texts_;
    std::vector<ReplyPattern> rows_;  // rows_[i].text views texts_[i]
};

struct Classification {
    Signal signal = Signal::Other;
    RateKind kind = RateKind::None;
    std::string_view pattern;                // the row's text that decided ("" none)
    bool from_extra = false;                 // the row came from the operator's file
    std::optional<int64_t> retry_after_us;   // RateLimit and Permanent only
};

Classification classify(const StatusKey& key, const ReplyPatterns* extra = nullptr);
// parse_status_key + classify; Other when the key does not parse.
Classification classify_key(std::string_view key, const ReplyPatterns* extra = nullptr);

std::optional<int64_t> retry_after(std::string_view text);

}  // namespace policyd
