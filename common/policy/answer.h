// answer.h - what a policy service's action means to a client that is not smtpd
//
// Postfix's smtpd applies a policy answer as an access(5) action. A client
// that is not smtpd (sendguard-milter asking for local submissions) needs
// the same reading of the few actions a rate limiter answers, and a verdict
// for the rest:
//
//   OK, DUNNO, PERMIT, an all-numeric action      Continue
//   DEFER_IF_PERMIT text, DEFER text             Tempfail 450 (access_map_defer_code)
//   4NN text                                     Tempfail NN as given
//   REJECT text                                  Reject 554 (access_map_reject_code)
//   5NN text                                     Reject NN as given
//   HOLD text                                    Hold (Postfix's hold queue)
//   anything else (DEFER_IF_REJECT, FILTER,      Other: the client goes on and
//     DISCARD, REDIRECT, WARN, PREPEND, ...)       says so in its log
//
// Action names are case-insensitive (smtpd reads them so). A text that
// starts with an RFC 3463 enhanced status code of the right class gives
// xcode, and the rest is the text; otherwise xcode is 4.7.1 / 5.7.1 (what
// smtpd uses for these actions). A missing text becomes smtpd's own:
// "Service unavailable" (defer) and "Access denied" (reject); a HOLD without
// text is "held by the policy service".
//
// Errors: none; every string has a verdict. Thread safety: pure function.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace policy {

enum class Verdict { Continue, Tempfail, Reject, Hold, Other };

struct Answer {
    Verdict verdict = Verdict::Continue;
    std::string code;   // Tempfail, Reject: "450", "554", "451"
    std::string xcode;  // Tempfail, Reject: "4.7.1"
    std::string text;   // Tempfail, Reject: without the codes; Hold: the reason
    bool operator==(const Answer&) const = default;
};

Answer classify_action(std::string_view action);

std::string_view to_string(Verdict v) noexcept;

// The length of the RFC 3463 enhanced status code s starts with (section 2:
// class 2, 4 or 5 "." subject "." detail, subject and detail 1 to 3
// digits), 0 when it starts with none. Also the status filter's keys
// (policyd/reply_class) start with one.
size_t status_code_length(std::string_view s) noexcept;

}  // namespace policy
