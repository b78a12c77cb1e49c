// forward.h - a person's reply to a bounce address goes to the sender
//
// A reply to a message sent with a VERP return path reaches the bounce
// address when the replier's program answers the envelope sender (or the
// person answers Return-Path). Such a reply is not lost: sendguard-bounce
// forwards it to the message's original sender, as the send log recorded
// it (sendguard-bounce(8) REPLIES).
//
// forward_refusal() is the rule, as steps; the first that fails says why
// the message is not forwarded ("" when it is):
//   off            bounce_forward_replies = no
//   unsigned       the envelope recipient is no valid, unexpired VERP tag
//   null-sender    the envelope sender is null (<>, MAILER-DAEMON): a
//                  report, or a forward of ours that failed
//   report         parsed as a DSN, ARF, NDR or auto-reply
//   automatic      says a program sent it (dsn::Report::automatic:
//                  Auto-Submitted other than "no", Precedence, auto-reply
//                  headers, mailing-list headers, a daemon's From:)
//   sealed         carries X-Sendguard-Forwarded (a forward that came back)
//   no-from        no single From: header (nothing to seal)
//   no-sender      no send-log entry with an original sender for the tag
// Anything not forwarded keeps what it got before: quarantined as
// not-a-report, or ignored as an auto-reply; never dropped.
//
// forward_message() is the message handed to sendmail(1): the reply
// unchanged, after five header fields:
//   X-Sendguard-Forwarded: <seal>          (forward_seal.h)
//   Auto-Submitted: auto-forwarded         (RFC 3834 5: no auto-responder answers it)
//   Resent-From: <bounce address>          (RFC 5322 3.6.6: who re-sent it)
//   Resent-To: <original sender>
//   Resent-Date: <now>
// forward_argv() is the command: bounce_forward_command -G -i -f "" --
// <original sender>. The null envelope sender means that a forward that
// fails bounces to nobody: it cannot come back to a bounce address.
//
// Pure functions; no exceptions but std::bad_alloc (and std::runtime_error
// from the seal's HMAC).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/address/verp.h"
#include "common/dsn/dsn.h"

namespace bounce {

// What forward_refusal() looks at, gathered by the transport.
struct ForwardFacts {
    bool enabled = true;
    bool signed_ok = false;             // VERP tag valid and unexpired
    std::string envelope_sender;        // as pipe(8) gave it
    dsn::Kind kind = dsn::Kind::None;
    std::string automatic;              // dsn::Report::automatic
    bool sealed = false;                // an X-Sendguard-Forwarded field
    int from_count = 0;                 // From: fields
    std::size_t from_size = 0;          // its value's octets, as sent
    std::optional<std::string> original_sender;  // the send log's; nullopt: no entry
};

std::string_view forward_refusal(const ForwardFacts& f);

// True for the senders pipe(8) may give for <>: "", "<>", "MAILER-DAEMON".
bool is_null_sender(std::string_view sender) noexcept;

// The header fields sendguard-bounce reads itself: From: (unfolded, the
// first) and whether the seal is there. Reads the header block only.
struct ReplyHeaders {
    std::string from;
    std::size_t from_size = 0;  // the first From: value's octets, folds included
    int from_count = 0;
    bool sealed = false;
};
ReplyHeaders read_reply_headers(std::string_view message);

std::string forward_message(std::string_view message, std::string_view seal, std::string_view bounce_address,
                            std::string_view original_sender, std::chrono::sys_seconds now);

std::vector<std::string> forward_argv(const std::string& command, const std::string& original_sender);

}  // namespace bounce
