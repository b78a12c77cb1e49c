// learn_signal.h - what the learner takes from a status key, and the AIMD
// step on a persisted provider state (sendguard-policyd, internal)
//
// classify_status_key(key, extra) reads one smtp_delivery_status_filter key
// with policyd/reply_class.h (parse_status_key + classify, the operator's
// rows of policyd_reply_patterns first) and says what it means here:
//   Success    a 2.x.x status (no host: credited through the map name)
//   RateLimit  a 4xx the classifier calls a rate limit (kind rate,
//              connections or reputation), or a 5xx block by reputation or
//              rate wording (T-Online's "554 IP=... bad reputation"): a
//              backoff signal
//   Temporary  any other 4xx (mailbox full, greylisting, DNS, refused
//              connections): remembered as the last 4xx, never a signal
//   Permanent  any other 5xx
//   Malformed  a key that does not parse
// host is the remote host the key names (lower case, "" if none); reply
// "CODE text" of the remote reply, else the key's text; retry_after_s the
// delay the reply asks for (0: none).
//
// aimd_signal / aimd_tick apply policyd/backoff.h (on_signal, on_tick) to a
// store::ProviderState; AimdBounds are in messages per second, as
// LearnSettings, and the ceiling is the provider's configured rate (else
// policyd_backoff_default_rate): where the first decrease starts and what
// recovery returns to. Both return whether the state changed.
//
// transport_level(s, b) is the level whose throttled transport carries the
// provider: how many decreases from the ceiling its allowed rate stands
// for (1 for any rate below the ceiling), never above its backoff level,
// so recovery climbs back through the transports as the rate grows; 0
// when not in backoff.
//
// Errors: none (malformed input is a kind). Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/store/throttle.h"
#include "policyd/reply_class.h"

namespace policyd {

enum class StatusKind { Success, RateLimit, Temporary, Permanent, Malformed };

struct StatusSignal {
    StatusKind kind = StatusKind::Malformed;
    std::string host;
    std::string reply;
    int64_t retry_after_s = 0;
};

StatusSignal classify_status_key(std::string_view key, const ReplyPatterns* extra = nullptr);

struct AimdBounds {
    double decrease = 0.5;      // factor kept per signal, (0, 1)
    double min_rate = 0;        // messages/s
    double recovery_step = 0;   // messages/s per quiet period
    int64_t quiet_us = 0;
    int64_t hold_us = 0;
    int64_t max_suspend_us = 0;
    double ceiling = 0;         // messages/s: the configured or assumed rate
};

bool aimd_signal(store::ProviderState& s, const AimdBounds& b, int64_t retry_after_s, int64_t now_us);
bool aimd_tick(store::ProviderState& s, const AimdBounds& b, int64_t now_us);
int transport_level(const store::ProviderState& s, const AimdBounds& b);

}  // namespace policyd
