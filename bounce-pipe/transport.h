// transport.h - what sendguard-bounce does with one delivered report
//
// Transport::deliver() takes the envelope Postfix's pipe(8) passed on the
// command line and the message from standard input, and decides:
//
//   1. Oversized message (over bounce_max_message_size): quarantined whole
//      (the rest streamed from rest_fd, never held in memory), logged with
//      its size, exit 0. A message the quarantine's limits cannot hold
//      (bounce_quarantine_limit, bounce_quarantine_max_files) defers: 75
//      keeps it in Postfix's queue, where 0 would drop it and any other
//      status would bounce it (a double bounce, lost).
//   2. Parse with dsn::parse(). Mail that is neither a report nor an
//      auto-reply, and a trusted report naming nobody usable, are
//      quarantined: never dropped. So is a report whose delivery-status
//      part was cut by the part limit (why=status-cut): it is never
//      classified from its notice text instead. Auto-replies are ignored.
//   3. Who failed. When the envelope recipient is on one of bounce_domains
//      and is our VERP address, the recipient decoded from the signed tag is
//      authoritative, even when the report names nobody; a token stands for
//      the recipients the send log recorded for its message, and a report
//      may name only those. A forged, truncated
//      or expired tag suppresses nothing and is logged. A report that does
//      not arrive at a VERP address is trusted only when
//      bounce_accept_unsigned = yes, or when this host's Postfix made it
//      (bounce_local_mta_names, local_origin.h).
//   4. Per recipient, by class: hard and complaint suppress at once, soft
//      counts toward bounce_soft_threshold within bounce_soft_window;
//      reputation and policy blocks (blocked, spamdetected, ratelimited)
//      never suppress the recipient but are recorded against its domain;
//      auto-replies, delays and delivery reports change nothing.
//   2a. Mail that is neither a report nor automatic, sent by a person to
//      a valid VERP address, is forwarded to the original sender the send
//      log names (forward.h, at most bounce_forward_limit per sender per
//      bounce_forward_window, else quarantined with why=forward-limit). A
//      forward the command could not take for now (exit 75, 71, a signal,
//      the time limit, no such command) defers the delivery, uncounted;
//      one it refused for good (any other status) is quarantined with
//      why=forward-failed.
//   5. One LMDB write transaction per recipient; then one JSON event line.
//      Every decision is one log line with the same keys (decision.h); the
//      event line's "action" has the same values. The event and the
//      suppression record name the bounced message (names_of): Message-ID,
//      original sender and queue id, and the milter_sendlog_headers values
//      the send log kept for it.
//      The record's evidence (evidence.h) is the queue id, else the report's
//      Message-ID, else a digest: a retried report counts once (suppression,
//      count and block alike), and its line says repeat=yes.
//      The event log is opened before anything is changed: one that cannot
//      be opened defers with nothing done; a line that cannot be written
//      after the store committed defers too (the retry counts nothing
//      twice), and a quarantined copy is removed again before deferring.
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

#include "bounce-pipe/decision.h"
#include "bounce-pipe/quarantine.h"
#include "common/address/verp.h"
#include "common/address/verp_setup.h"
#include "common/dsn/dsn.h"
#include "common/log/json.h"
#include "common/store/sendlog.h"
#include "common/store/suppression.h"
#include "common/sys/fd.h"

namespace config {
class Config;
}

namespace bounce {

struct Envelope {
    std::string sender;
    std::string recipient;
    std::string original_recipient;
    std::string queue_id;  // as given with -q; deliver() cleans it (evidence.h)
};

// Typed settings taken once from the configuration. No member has a value
// of its own: every one comes from the parameter table via from().
struct Settings {
    bool accept_unsigned;
    std::vector<std::string> local_mta_names;
    uint64_t max_message_size;
    std::chrono::seconds time_limit;
    dsn::Limits limits;
    store::Policy policy;
    std::string quarantine_dir;
    QuarantineLimits quarantine;
    std::string event_log;
    // Replies forwarded to the original sender (forward.h).
    bool forward_replies;
    std::string forward_command;
    uint32_t forward_limit;
    std::chrono::seconds forward_window;
    std::chrono::seconds forward_time_limit;

    static Settings from(const config::Config& cfg);
};

struct Verdict {
    int exit_code;                  // EX_OK or EX_TEMPFAIL
    std::string reply;              // printed on stdout after status when not EX_OK
    std::string status = "4.3.0";   // the enhanced status code of reply
    std::string why = "internal";   // the defer line's why
};

// The store class a report class is recorded as; nullopt for classes that
// record nothing (auto-replies, other). The one place the two meet.
std::optional<store::Class> store_class(dsn::Class c);

class Transport {
public:
    // One codec per listed bounce domain; none when bounce_domains is
    // empty. patterns: bounce_domains as a rule (address::BounceDomains), for
    // the LABEL.* entries: a recipient at LABEL.<any domain> is verified with
    // a codec made for its own domain.
    Transport(Settings settings, std::shared_ptr<store::Env> env,
              std::vector<address::VerpCodec> codecs, address::BounceDomains patterns = {});

    // message: all of it, or with oversized its first bytes, the rest to be
    // read from rest_fd (-1: nothing more to read).
    Verdict deliver(const Envelope& env, std::string_view message, bool oversized, int64_t now,
                    int rest_fd = -1);

    // Whom the last deliver() was about, as far as it got: the failed
    // recipient ("" unknown) and signed ("-" before the address was looked at),
    // for the line of a defer that main() logs.
    struct Named {
        std::string rcpt;
        std::string signed_ok = "-";
    };
    const Named& named() const noexcept { return named_; }

    // What the envelope recipient says about the report (step 3).
    struct Origin {
        std::optional<address::Decoded> verp;  // nullopt: no VERP address of ours
        bool trusted;           // may the recipients the report names be used?
        std::string recipient;  // the signed recipient, normalised; "" when none
        // A token signed for a message with several recipients: those
        // recipients (normalised), the only ones the report may name.
        std::vector<std::string> message_recipients;
        bool recipient_form = false;  // a signed tag of form "r"
        // The send log's entry for the tag: its token's, or for form "r"
        // the one under store::recipient_key (the newest message to that
        // recipient at that bounce domain); nullopt when none.
        std::optional<store::SendLogEntry> sent;
    };
    // The bounced message's names: from the send log, else (or when the
    // entry of a form-"r" tag is of another message than the report's
    // returned Message-ID) the report's returned Message-ID alone.
    struct Names {
        std::string from;  // "sendlog", "report", or "" when nothing is known
        std::string message_id, sender, queue_id;
        std::vector<std::pair<std::string, std::string>> headers;
    };
    // One recipient to act on: its key and what the report says about it.
    struct Target {
        std::string key;
        dsn::Recipient rcpt;
    };

private:
    // One delivery, with the queue id cleaned, its evidence id, and what
    // the envelope recipient says (resolve_verp).
    struct Delivery {
        const Envelope& env;
        std::string evidence;
        int64_t now;
        Origin origin;
        std::string signed_ok;  // "yes" or "no", for the log lines
        int rest_fd;            // the rest of an oversized message, else -1
        sys::Fd event_fd;       // bounce_event_log, opened before any change
        Names names = {};       // the bounced message (names_of)
    };
    Verdict deliver_report(Delivery& d, std::string_view message, logging::JsonObject& event);
    Origin resolve_verp(Delivery& d, logging::JsonObject& event) const;
    Decision about_message(const Delivery& d, const dsn::Report* report, std::string why) const;
    Decision apply(const Delivery& d, const Target& t, dsn::Kind kind);
    Verdict ignore(const Delivery& d, Decision dec, logging::JsonObject& event);
    Verdict quarantine(const Delivery& d, Decision dec, std::string_view message, logging::JsonObject& event);
    Verdict refused(const Delivery& d, Decision dec, const Kept& kept, logging::JsonObject& event);
    // A person's reply forwarded to the original sender (forward.h);
    // nullopt when it is not one, for the caller's quarantine.
    std::optional<Verdict> forward(Delivery& d, const dsn::Report& report, std::string_view message,
                                   logging::JsonObject& event);
    // The send log's original sender for the envelope recipient's tag.
    std::optional<std::string> original_sender(const Delivery& d) const;
    const address::VerpKeys* keys() const noexcept;
    // The event line, or a defer when it cannot be written.
    std::optional<Verdict> write_event(const Delivery& d, logging::JsonObject& event);

    Settings s_;
    std::shared_ptr<store::Env> env_;
    store::SuppressionList list_;
    std::vector<address::VerpCodec> codecs_;
    address::BounceDomains patterns_;
    Named named_;
};

// Step 3: whom a report is about. With a signed recipient, that one only
// (with the report's entry for it, else its first failure, else a failure
// without detail); with a token of a message with several recipients, the
// report's recipients that are among them; else, when trusted, every
// recipient the report names; else nobody.
std::vector<Transport::Target> choose_targets(const dsn::Report& report, const Transport::Origin& origin);

// What names the bounced message (Transport::Names): the origin's send-log
// entry, the report's returned Message-ID (report may be null: not parsed).
Transport::Names names_of(const Transport::Origin& origin, const dsn::Report* report);
// Adds the names to an event: message_id, original_sender,
// original_queue_id, headers (one object), names_from; only those known.
void add_names(logging::JsonObject& event, const Transport::Names& names);

// The JSON array of a report's recipients: address, status, class, reason,
// the report's own action under action_key ("action" in the parse-only
// output, "dsn_action" in the event log, whose "action" is ours), diagnostic.
std::string recipients_json(const dsn::Report& report, std::string_view action_key = "action");

// A store::Error's text for a log line or reply: "suppression store: op:
// why: path", without the error's own "store: " prefix.
std::string store_error_text(const store::Error& e);

}  // namespace bounce
