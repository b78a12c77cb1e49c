// transport.h - what sendguard-bounce does with one delivered report
//
// Transport::deliver() takes the envelope Postfix's pipe(8) passed on the
// command line and the message from standard input, and decides:
//
//   1. Oversized message (over bounce_max_message_size): quarantined, logged,
//      exit 0 (a logged decision; Postfix must not retry or bounce it).
//   2. Parse with dsn::parse(). A report nobody can use (no recipients and no
//      VERP recipient) is quarantined and logged.
//   3. Who failed. When the envelope recipient is on one of bounce_domains
//      and is our VERP address, the recipient decoded from the signed tag is
//      authoritative, even when the report names nobody. A forged, truncated
//      or expired tag suppresses nothing and is logged. A report that does
//      not arrive at a valid VERP address is trusted only when
//      bounce_accept_unsigned = yes.
//   4. Per recipient, by class: hard and complaint suppress at once, soft
//      counts toward bounce_soft_threshold within bounce_soft_window;
//      reputation and policy blocks (blocked, spamdetected, ratelimited)
//      never suppress the recipient but are recorded against its domain;
//      auto-replies, delays and delivery reports change nothing.
//   5. One LMDB write transaction per recipient; then one JSON event line.
//
// Exit status (Postfix sys_exits): EX_OK only after the store committed or
// after a logged decision to ignore; EX_TEMPFAIL with a "4.x.x" reply line for
// anything that may work later. Nothing here ever returns a status that
// makes Postfix bounce a bounce.
//
// Errors: store::Error, std::system_error propagate to main(), which maps
// them to EX_TEMPFAIL. Thread safety: one Transport per process.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bounce-pipe/quarantine.h"
#include "common/address/verp.h"
#include "common/dsn/dsn.h"
#include "common/log/json.h"
#include "common/store/suppression.h"

namespace config {
class Config;
}

namespace bounce {

struct Envelope {
    std::string sender;
    std::string recipient;
    std::string original_recipient;
    std::string queue_id;
};

// Typed settings taken once from the configuration.
struct Settings {
    bool accept_unsigned = false;
    uint64_t max_message_size = 10u << 20;
    dsn::Limits limits;
    store::Policy policy;
    std::string quarantine_dir;
    QuarantineLimits quarantine;
    std::string event_log;

    static Settings from(const config::Config& cfg);
};

struct Verdict {
    int exit_code = 0;     // EX_OK or EX_TEMPFAIL
    std::string reply;     // printed on stdout when not EX_OK ("4.3.0 ...")
};

class Transport {
public:
    // One codec per bounce domain; none when bounce_domains is empty.
    Transport(Settings settings, std::shared_ptr<store::Env> env,
              std::vector<address::VerpCodec> codecs);

    Verdict deliver(const Envelope& env, std::string_view message, bool oversized, int64_t now);

private:
    Verdict deliver_report(const Envelope& env, std::string_view message, int64_t now,
                           logging::JsonObject& event);
    Verdict quarantine(const Envelope& env, std::string_view message, std::string_view why,
                       int64_t now, logging::JsonObject& event);
    void write_event(const Envelope& env, logging::JsonObject& event, int64_t now);

    Settings s_;
    std::shared_ptr<store::Env> env_;
    store::SuppressionList list_;
    std::vector<address::VerpCodec> codecs_;
};

// The JSON array of a report's recipients: address, status, class, reason,
// action, diagnostic (the parse-only output and the event line share it).
std::string recipients_json(const dsn::Report& report);

}  // namespace bounce
