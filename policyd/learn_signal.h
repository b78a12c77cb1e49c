// learn_signal.h - what the learner takes from a status key, and the AIMD
// step on a persisted provider state (sendguard-policyd, internal)
//
// classify_status_key(key) reads one smtp_delivery_status_filter key
// ("<enhanced status> <text>", FACTS.md) with policyd/reply_class.h and says
// what it means for learning:
//   Success    a 2.x.x status (no host: credited through the map name)
//   RateLimit  a reply the classifier calls rate limiting, too many
//              connections or reputation (4xx or 5xx): a backoff signal
//   Temporary  any other 4.x.x (mailbox full, greylisting, DNS, refused
//              connections): remembered as the last 4xx, never a signal
//   Permanent  any other 5.x.x
//   Malformed  no status, or a status of another class
// host is the remote host the text names ("host H[IP] said:", "connect to
// H[IP]:25:", "lost connection with H[IP]", "conversation with H[IP]"), "" if
// none; reply the text (the remote reply where there is one), retry_after_s
// the delay the reply asks for (0: none).
//
// aimd_signal / aimd_tick apply policyd/backoff.h's AIMD step to a
// store::ProviderState (rates there are per hour; AimdBounds per second):
//   signal: outside the hold-down after the last decrease, allowed =
//     max(min_rate, (allowed or ceiling) * decrease) and level + 1; a
//     retry-after suspends until now + min(retry_after, max_suspend).
//     Returns whether the allowed rate, level or suspension changed.
//   tick: a suspension past its end ends (and the quiet period counts from
//     its end: nothing was sent meanwhile); after quiet_us without a signal
//     (counted from the later of the last signal and the last change) the
//     rate grows by recovery_step per quiet period; at the ceiling the
//     provider leaves backoff (allowed 0, level 0). Returns whether
//     anything changed.
//
// Errors: none (malformed input is a kind). Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace store {
struct ProviderState;
}

namespace policyd {

enum class StatusKind { Success, RateLimit, Temporary, Permanent, Malformed };

struct StatusSignal {
    StatusKind kind = StatusKind::Malformed;
    std::string host;
    std::string reply;
    int64_t retry_after_s = 0;
};

StatusSignal classify_status_key(std::string_view key);

// The pieces of a status key, views into it: status "4.7.1"; text after
// it; host as above ("" if none); reply the remote reply ("421 ..." after
// "said: "), else the whole text. status is empty when the key does not
// start with an enhanced status code of class 2, 4 or 5.
struct KeyParts {
    std::string_view status, text, host, reply;
};
KeyParts split_status_key(std::string_view key) noexcept;

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

}  // namespace policyd
