// dsn.h - parse bounces, delay notices, complaints and auto-replies
//
// parse() takes one whole RFC 5322 message, as a pipe(8) transport receives
// it, and says what it is (Kind) and which recipients it reports on:
//
//   - RFC 3464 multipart/report; report-type=delivery-status and RFC 6533
//     message/global-delivery-status (per-recipient Final-Recipient,
//     Original-Recipient, Action, Status, Diagnostic-Code, Remote-MTA);
//   - RFC 5965 ARF feedback reports (Feedback-Type, Original-Rcpt-To, or the
//     To: of the attached original message);
//   - non-standard notices (qmail, Exim, Sendmail, Exchange, Domino, Gmail,
//     Yahoo, Amazon SES, German providers, ...), read from their text;
//   - RFC 3834 auto-replies (never a bounce) and ordinary mail (Kind::None).
//
// Each recipient gets a Reason (RFC 3463 status code refined by the wording
// of the diagnostic, see reason_table.cc) and a Class (class_for()).
// The address reported is the one to suppress: Final-Recipient, unless it
// is a host's own name for the mailbox (no domain, a dotless host, a
// literal, a host inside the Original-Recipient's domain), when it is the
// Original-Recipient (or the returned message's one To:). From a notice's
// text only addresses the notice gives as failed count; the returned
// message (attached, or quoted after a marker or as a header block), its
// sender, lists and role addresses never do (ndr.cc has the order).
//
// Errors: parse() never throws for bad input; broken MIME, bad encodings and
// garbage give a Report with whatever could be read (possibly Kind::None).
// Only std::bad_alloc escapes; any other exception (a bug) is logged as a
// warning ("dsn: error=...") and gives an empty Report. Every input is bounded by Limits.
// Thread safety: all functions are reentrant; GMime is initialised once
// (std::call_once) on first use.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dsn {

// What the message is.
enum class Kind { None, Dsn, Arf, AutoReply, Ndr };

// RFC 3464 §2.3.3 action, None when the report gives none (ARF, auto-reply).
enum class Action { None, Failed, Delayed, Delivered, Relayed, Expanded };

// What a suppression list does with the recipient.
//   Hard: the address is permanently bad (user/host unknown, moved);
//   Soft: any other failure or delay; Complaint: an ARF report;
//   AutoReply: vacation notice; Other: delivered, relayed, expanded.
enum class Class { Hard, Soft, Complaint, AutoReply, Other };

enum class Reason {
    UserUnknown, HostUnknown, MailboxFull, MesgTooBig, Filtered, Blocked, SpamDetected,
    PolicyViolation, RateLimited, Expired, SystemError, NetworkError, SecurityError,
    NoRelaying, Suspend, HasMoved, NotAccept, ContentError, SyntaxError, Vacation,
    Feedback, Delivered, Undefined
};

struct Recipient {
    std::string address;     // Address::str() of common/address: domain normalised (A-labels)
    std::string alias;       // original recipient when it differs, else ""
    std::string status;      // RFC 3463 code such as "5.1.1", or ""
    std::string reply_code;  // SMTP reply code such as "550", or ""
    std::string diagnostic;  // remote text, at most Limits::max_diagnostic bytes
    std::string remote_mta;  // "mx.example.net" or ""
    Action action = Action::None;
    Reason reason = Reason::Undefined;
    Class klass = Class::Other;
};

struct Report {
    Kind kind = Kind::None;
    bool is_bounce = false;  // some recipient is Hard, Soft or Complaint
    std::vector<Recipient> recipients;
    std::string feedback_type;        // ARF Feedback-Type, lower case
    std::string reporting_mta;
    std::string subject;              // of the report itself, decoded
    std::string original_message_id;  // of the returned message, "<...>"
    std::string original_from;        // addr-spec of the returned message's From:
    std::string original_to;          // addr-spec of its first To:
    // A delivery-status part was longer than Limits::part_text(): the
    // record it cut was dropped, and nothing was read from the notice's
    // text in its place (the report is Kind::Dsn, maybe naming nobody).
    bool status_cut = false;
    // What says a program, not a person, sent the message ("" when
    // nothing): "auto-submitted" (RFC 3834 Auto-Submitted other than "no"),
    // "precedence" (bulk, junk, list, auto_reply), "autoreply" (X-Autoreply
    // and the other auto-reply headers or subjects of is_auto_reply),
    // "list" (RFC 2369/2919 List-Id, List-Post, List-Unsubscribe),
    // "daemon" (From: a mailer daemon or postmaster). A message with none
    // may be answered by a person (sendguard-bounce forwards such replies).
    std::string automatic;
};

// Every input is bounded by these: bounce_max_recipients and
// bounce_diagnostic_limit, which only the parameter table gives defaults
// (limits_from() in limits_setup.h builds them from a configuration).
struct Limits {
    size_t max_recipients;
    size_t max_diagnostic;
    // Decoded bytes read from one MIME part, and from a notice's text: room
    // for max_recipients per-recipient records of kRecordBytes, and never
    // less than kMinPartText. A record or line cut by this limit is dropped,
    // never reported half-read.
    static constexpr size_t kRecordBytes = 1024;
    static constexpr size_t kMinPartText = 256 * 1024;
    size_t part_text() const noexcept {
        return max_recipients > kMinPartText / kRecordBytes ? max_recipients * kRecordBytes : kMinPartText;
    }
};

Report parse(std::string_view message, const Limits& limits);

std::string_view to_string(Kind k);
std::string_view to_string(Action a);
std::string_view to_string(Class c);
std::string_view to_string(Reason r);  // "userunknown", "mailboxfull", ...
std::optional<Reason> reason_from_string(std::string_view name);

// The classification rule: Hard for a permanent (5.x.x, or failed without a
// code) user/host unknown, has-moved or not-accept; Complaint for Feedback;
// AutoReply for Vacation; Other for delivered/relayed/expanded actions and
// Reason::Delivered; Soft for every other failure or delay.
Class class_for(Reason reason, std::string_view status, Action action);

}  // namespace dsn
