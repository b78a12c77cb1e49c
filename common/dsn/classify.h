// classify.h - reason and class of one recipient's outcome
//
// reason_from_status(): the RFC 3463 code alone ("5.1.1" -> UserUnknown);
// nullopt for codes that say too little ("5.0.0", "4.7.1").
// reason_from_text(): the first kReasonRules row found in the diagnostic
// (in its first kReasonTextBytes).
// decide_reason(): wording first, then the code, then the surrounding text;
// sender-status codes (X.1.7, X.1.8), RFC 7504 replies and mailbox-status
// codes (X.2.y) outrank wording; a refusal of our MAIL FROM or after DATA
// never makes the recipient address bad, nor does "user unknown" under an
// X.2.1 (disabled) or X.7.y (policy) code unless it answered RCPT TO; a
// transient (4.x.x) "host not found" is a network error, and a time-out in
// a delay warning is not yet an expiry.
// class_for() (dsn.h) turns the reason into a Class.
// Errors: none. Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include "common/dsn/dsn.h"

namespace dsn {

std::optional<Reason> reason_from_status(std::string_view status) noexcept;
std::optional<Reason> reason_from_text(std::string_view diagnostic);
// How much of a text reason_from_text() reads: its first bytes.
inline constexpr size_t kReasonTextBytes = 2048;
// What is known about one recipient's outcome.
struct Evidence {
    std::string_view status;      // RFC 3463 code or ""
    std::string_view reply_code;  // SMTP reply code or ""
    std::string_view diagnostic;  // the remote server's text
    std::string_view context;     // the notice text around the recipient
    std::string_view hint;        // the whole notice, when it names one recipient
    Action action = Action::None;
};
Reason decide_reason(const Evidence& e);

}  // namespace dsn
