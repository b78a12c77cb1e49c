// reply_patterns.h - the shipped wording of providers' throttling replies
//
// kReplyPatterns is an ordered table (first match wins, after an operator's
// rows) used by classify() in reply_class.h. Ordinary temporary failures
// that could look like throttling (greylisting, mailbox full, too many
// recipients) come first, so that "try again later" in a greylisting reply
// never counts as a rate limit; then blocks, then rate wordings, then
// connection limits. English, German and French wording; texts lower case.
// The table is data only.
// Thread safety: constant data.
#pragma once

#include <span>

#include "policyd/reply_class.h"

namespace policyd {

extern const std::span<const ReplyPattern> kReplyPatterns;

}  // namespace policyd
