// postfix_report.h - parse what Postfix tells the outside: log lines, queue
//
// e2e tests check behaviour from outside, the way an operator would: the
// delivery lines in the mail log and the queue listing of `postqueue -j`.
//
// parse_delivery(line) reads a delivery status line such as
//   Nov 23 11:44:22 mx postfix/smtp[7065]: CF2F5A721B3: to=<b@example.net>,
//     relay=127.0.0.2[127.0.0.2]:27125, delay=0.01, delays=0.01/0/0/0,
//     dsn=2.0.0, status=sent (250 2.0.0 Ok)
// into Delivery{program "smtp", queue_id, to, orig_to, relay, dsn, status
// "sent", detail "250 2.0.0 Ok"}.  Other lines give nullopt.
//
// parse_postqueue_json(text) reads `postqueue -j` output (one JSON object
// per line, Postfix 3.1+: queue_name, queue_id, arrival_time, message_size,
// forced_expire, sender, recipients[{address, delay_reason}]).  It carries
// its own tiny JSON reader (objects, arrays, strings with \uXXXX escapes,
// numbers, literals), bounded in depth and size.
//
// Errors: values.  A malformed queue line yields an entry whose queue_id is
// empty and whose parse_error says why; unknown keys are ignored.
// Thread safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace harness {

struct Delivery {
    std::string program{};   // "smtp", "pipe", "local", "error", ...
    std::string queue_id{};
    std::string to{}, orig_to{}, relay{}, dsn{};
    std::string status{};    // sent, deferred, bounced, expired, undeliverable...
    std::string detail{};    // text in parentheses after the status
    std::string line{};      // the whole log line
};
std::optional<Delivery> parse_delivery(std::string_view line);

// "postfix/smtp[123]: QID: ..." -> {"smtp", "QID", "..."}; nullopt otherwise.
struct LogLine {
    std::string program{}, queue_id{}, text{};
};
std::optional<LogLine> parse_log_line(std::string_view line);

struct QueueRecipient {
    std::string address{}, delay_reason{};
};
struct QueueEntry {
    std::string queue_name{};  // active, deferred, hold, incoming, maildrop
    std::string queue_id{}, sender{};
    long long arrival_time = 0, message_size = 0;
    bool forced_expire = false;
    std::vector<QueueRecipient> recipients{};
    std::string parse_error{};  // non-empty when the line was not understood
};
std::vector<QueueEntry> parse_postqueue_json(std::string_view text);

}  // namespace harness
