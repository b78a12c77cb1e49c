// reply_patterns.cc - providers' throttling wording (see reply_patterns.h)
//
// Order matters: the first matching row wins.
//   1. ordinary temporary failures that share words with throttling
//      (mailbox full, too many recipients, greylisting);
//   2. blocks by reputation (a 5xx here is a block, not a slow-down);
//   3. limits by reputation (Microsoft 4.7.650/651 say "rate limited" too);
//   4. rate limits: codes, then English, German and French wording;
//   5. connection limits.
// A reply no row matches is Ordinary (4xx) or Permanent (5xx): "try again
// later" alone, the greylisting reply, never slows a provider down.
#include "policyd/reply_patterns.h"

namespace policyd {

namespace {

using C = PatternClass;
using K = RateKind;

constexpr ReplyPattern kRows[] = {
    // 1. Ordinary.
    {C::Ordinary, K::None, "", "4.2.2"},  // mailbox full (RFC 3463 §3.3)
    {C::Ordinary, K::None, "mailbox full", ""},
    {C::Ordinary, K::None, "mailbox is full", ""},
    {C::Ordinary, K::None, "over quota", ""},
    {C::Ordinary, K::None, "overquota", ""},
    {C::Ordinary, K::None, "quota exceeded", ""},
    {C::Ordinary, K::None, "exceeded storage", ""},
    {C::Ordinary, K::None, "postfach voll", ""},
    {C::Ordinary, K::None, "boite pleine", ""},
    {C::Ordinary, K::None, "bo\xc3\xaete pleine", ""},
    {C::Ordinary, K::None, "", "4.5.3"},  // too many recipients (Gmail 452 4.5.3)
    {C::Ordinary, K::None, "too many recipients", ""},
    {C::Ordinary, K::None, "greylist", ""},
    {C::Ordinary, K::None, "graylist", ""},
    {C::Ordinary, K::None, "grey-list", ""},
    {C::Ordinary, K::None, "gray-list", ""},
    {C::Ordinary, K::None, "grey list", ""},
    {C::Ordinary, K::None, "gray list", ""},
    {C::Ordinary, K::None, "postgrey", ""},
    {C::Ordinary, K::None, "temporarily deferred for", ""},  // "... for 300 seconds" greylisters

    // 2. Blocks by reputation.
    {C::Permanent, K::Reputation, "bad reputation", ""},  // T-Online "554 IP=... - None/bad reputation"
    {C::Permanent, K::Reputation, "banned sending ip", ""},
    {C::Permanent, K::Reputation, "on our block list", ""},
    {C::Permanent, K::Reputation, "blocked using", ""},

    // 3. Limits by reputation (Yahoo's TSS04 names complaints too, but is
    // a volume limit).
    {C::RateLimit, K::Rate, "[tss04]", ""},
    {C::RateLimit, K::Rate, "tss04", ""},
    {C::RateLimit, K::Reputation, "", "4.7.650"},  // Microsoft
    {C::RateLimit, K::Reputation, "", "4.7.651"},
    {C::RateLimit, K::Reputation, "4.7.650", ""},
    {C::RateLimit, K::Reputation, "4.7.651", ""},
    {C::RateLimit, K::Reputation, "ip reputation", ""},
    {C::RateLimit, K::Reputation, "poor reputation", ""},
    {C::RateLimit, K::Reputation, "low reputation", ""},
    {C::RateLimit, K::Reputation, "sender reputation", ""},
    {C::RateLimit, K::Reputation, "reject due to policy restrictions", ""},  // web.de/GMX 421
    {C::RateLimit, K::Reputation, "user complaints", ""},

    // 4. Rate limits.
    {C::RateLimit, K::Rate, "", "4.7.28"},  // Gmail: unusual rate of mail
    {C::RateLimit, K::Rate, "4.7.28", ""},
    {C::RateLimit, K::Rate, "rate limit", ""},  // web.de/GMX, Microsoft, many
    {C::RateLimit, K::Rate, "ratelimit", ""},
    {C::RateLimit, K::Rate, "rate-limit", ""},
    {C::RateLimit, K::Rate, "unusual rate", ""},
    {C::RateLimit, K::Rate, "receiving mail too quickly", ""},  // Gmail 450 4.2.1
    {C::RateLimit, K::Rate, "receiving mail at a rate", ""},
    {C::RateLimit, K::Rate, "try again later, closing connection", ""},  // Gmail 421 4.7.0
    {C::RateLimit, K::Rate, "too many messages", ""},
    {C::RateLimit, K::Rate, "too many mails", ""},
    {C::RateLimit, K::Rate, "too many emails", ""},
    {C::RateLimit, K::Rate, "too many e-mails", ""},
    {C::RateLimit, K::Rate, "too much mail", ""},
    {C::RateLimit, K::Rate, "too much email", ""},
    {C::RateLimit, K::Rate, "excessive volume", ""},  // Apple
    {C::RateLimit, K::Rate, "unexpected volume", ""},
    {C::RateLimit, K::Rate, "high volume", ""},
    {C::RateLimit, K::Rate, "message rate", ""},
    {C::RateLimit, K::Rate, "sending rate", ""},
    {C::RateLimit, K::Rate, "rate exceeded", ""},
    {C::RateLimit, K::Rate, "exceeded the rate", ""},
    {C::RateLimit, K::Rate, "throttl", ""},  // throttled, throttling
    {C::RateLimit, K::Rate, "sending too fast", ""},
    {C::RateLimit, K::Rate, "slow down", ""},
    {C::RateLimit, K::Rate, "zu viele nachrichten", ""},
    {C::RateLimit, K::Rate, "zu viele mails", ""},
    {C::RateLimit, K::Rate, "zu viele e-mails", ""},
    {C::RateLimit, K::Rate, "zu viele emails", ""},
    {C::RateLimit, K::Rate, "sendelimit", ""},
    {C::RateLimit, K::Rate, "versandlimit", ""},
    {C::RateLimit, K::Rate, "ratenlimit", ""},
    {C::RateLimit, K::Rate, "trop de messages", ""},
    {C::RateLimit, K::Rate, "trop de mails", ""},
    {C::RateLimit, K::Rate, "trop de courriels", ""},
    {C::RateLimit, K::Rate, "trop de m\xc3\xa9ls", ""},
    {C::RateLimit, K::Rate, "volume trop important", ""},

    // 5. Connection limits.
    {C::RateLimit, K::Connections, "too many connections", ""},  // web.de/GMX and many
    {C::RateLimit, K::Connections, "too many concurrent", ""},
    {C::RateLimit, K::Connections, "too many simultaneous", ""},
    {C::RateLimit, K::Connections, "too many sessions", ""},
    {C::RateLimit, K::Connections, "connection limit", ""},
    {C::RateLimit, K::Connections, "connection rate", ""},
    {C::RateLimit, K::Connections, "maximum number of connections", ""},
    {C::RateLimit, K::Connections, "zu viele verbindungen", ""},
    {C::RateLimit, K::Connections, "trop de connexions", ""},  // Orange
    {C::RateLimit, K::Connections, "nombre de connexions", ""},
};

}  // namespace

const std::span<const ReplyPattern> kReplyPatterns{kRows};

}  // namespace policyd
