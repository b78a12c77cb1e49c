// reason_table.h - wording of remote diagnostics mapped to a bounce Reason
//
// kReasonRules is an ordered table of lower-case substrings; the first rule
// whose pattern occurs in the (lower-cased) diagnostic decides the reason.
// More specific wording comes first ("mailbox full" before "mailbox"), the
// catch-all wording of a family last. The table is data only: the matching
// lives in classify.cc. English and German wording.
// Thread safety: constant data.
#pragma once

#include <span>
#include <string_view>

#include "common/dsn/dsn.h"

namespace dsn {

struct ReasonRule {
    std::string_view pattern;  // lower case, matched as a plain substring
    Reason reason;
};

extern const std::span<const ReasonRule> kReasonRules;

}  // namespace dsn
