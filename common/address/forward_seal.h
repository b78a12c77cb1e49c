// forward_seal.h - the seal of a reply sendguard-bounce forwards
//
// DESCRIPTION
//   A person who answers a message from its bounce address reaches
//   sendguard-bounce, which forwards the reply to the message's original
//   sender through sendmail(1) with the null envelope sender. That forward
//   passes through sendguard-milter as a local submission whose From: is
//   the replier's, not one of ours, and would be refused. The seal header
//   says "sendguard-bounce made this forward, for this recipient, of a
//   message with this From:"; the milter lets a local, null-sender
//   submission with a seal that verifies through (sendguard-milter(8)).
//   sendguard-bounce never forwards a message that carries a seal (a
//   forward that came back), so no forward is forwarded twice.
//
// FORMAT (version 1)
//
//   X-Sendguard-Forwarded: v=1; t=<unix seconds>; s=<64 hex digits>
//
//   s is HMAC-SHA256(key, "sendguard-forward-1" NUL t NUL recipient NUL
//   from), in lower-case hex: key is the first VERP key (verp_key_file;
//   every key verifies, so a key rotation keeps forwards in flight valid),
//   recipient the forward's one envelope recipient (the original sender),
//   normalised (Address::normalised()), and from the From: header value
//   with line breaks removed, each run of spaces and tabs made one space
//   and the ends trimmed (canonical_from()): the milter sees the value as
//   cleanup(8) passes it, sendguard-bounce as it is in the message, and
//   both must compute the same bytes. A seal is good for
//   kForwardSealMaxAge after t, and for kForwardSealSkew before it.
//
// ERRORS
//   verify_forward_seal() results are values (SealStatus); a failing
//   OpenSSL call throws std::runtime_error.
//
// THREAD SAFETY
//   Pure functions of their arguments; the keys are only read.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "common/address/verp.h"

namespace address {

inline constexpr std::string_view kForwardSealHeader = "X-Sendguard-Forwarded";
inline constexpr std::chrono::seconds kForwardSealMaxAge{86400};
inline constexpr std::chrono::seconds kForwardSealSkew{300};
// A longer header value is not a seal of ours (and is not parsed).
inline constexpr std::size_t kForwardSealMaxValue = 256;

enum class SealStatus {
    Ok,
    Malformed,  // not "v=1; t=...; s=..." with digits and 64 hex digits
    BadMac,     // no key made this MAC for this recipient and From:
    Expired,    // older than the maximum age, or too far in the future
};

std::string_view to_string(SealStatus s) noexcept;

// The From: value as the MAC covers it (see FORMAT).
std::string canonical_from(std::string_view value);

// The header value (without the name and colon) sealing a forward to
// recipient of a message whose From: value is from, made at now.
std::string seal_forward(const VerpKeys& keys, std::string_view recipient, std::string_view from,
                         std::chrono::sys_seconds now);

// Whether value is a seal of one of keys for recipient and from, at now.
SealStatus verify_forward_seal(const VerpKeys& keys, std::string_view value, std::string_view recipient,
                               std::string_view from, std::chrono::sys_seconds now);

}  // namespace address
