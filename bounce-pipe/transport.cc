// transport.cc - see transport.h
#include "bounce-pipe/transport.h"

#include <fcntl.h>
#include <sysexits.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "common/store/setup.h"
#include "common/dsn/dsn.h"
#include "common/address/address.h"
#include "common/config/config.h"
#include "common/log/log.h"
#include "common/store/sendlog.h"
#include "common/sys/fd.h"

namespace bounce {
namespace {

// Reasons that describe the sender's standing with the receiver, not the
// recipient's address: recorded against the domain, never suppressing.
bool is_reputation(dsn::Reason r) {
    return r == dsn::Reason::Blocked || r == dsn::Reason::SpamDetected ||
           r == dsn::Reason::RateLimited;
}

std::string normalised(std::string_view addr) {
    auto k = address::suppression_key(addr);
    return k ? *k : std::string();
}

struct Target {
    std::string key;            // normalised address
    const dsn::Recipient* rcpt;  // what the report says about it
};

}  // namespace

Settings Settings::from(const config::Config& cfg) {
    Settings s;
    s.accept_unsigned = cfg.boolean("bounce_accept_unsigned");
    s.max_message_size = cfg.size("bounce_max_message_size");
    s.limits.max_recipients = static_cast<size_t>(cfg.integer("bounce_max_recipients"));
    s.limits.max_diagnostic = cfg.size("bounce_diagnostic_limit");
    s.policy = store::suppression_policy(cfg, [](std::string_view r) { return dsn::reason_from_string(r).has_value(); });
    s.quarantine_dir = cfg.str("bounce_quarantine_directory");
    s.quarantine.max_bytes = cfg.size("bounce_quarantine_limit");
    s.quarantine.max_files = cfg.integer("bounce_quarantine_max_files");
    s.event_log = cfg.str("bounce_event_log");
    return s;
}

std::string recipients_json(const dsn::Report& report) {
    logging::JsonArray arr;
    for (const auto& r : report.recipients) {
        logging::JsonObject o;
        o.add("address", r.address)
            .add("status", r.status)
            .add("class", dsn::to_string(r.klass))
            .add("reason", dsn::to_string(r.reason));
        if (r.action == dsn::Action::None)
            o.add_null("action");
        else
            o.add("action", dsn::to_string(r.action));
        o.add("diagnostic", r.diagnostic);
        if (!r.alias.empty()) o.add("alias", r.alias);
        if (!r.reply_code.empty()) o.add("reply_code", r.reply_code);
        if (!r.remote_mta.empty()) o.add("remote_mta", r.remote_mta);
        arr.add_raw(o.str());
    }
    return arr.str();
}

Transport::Transport(Settings settings, std::shared_ptr<store::Env> env,
                     std::vector<address::VerpCodec> codecs)
    : s_(std::move(settings)), env_(env), list_(std::move(env)), codecs_(std::move(codecs)) {}

Verdict Transport::quarantine(const Envelope& env, std::string_view message, std::string_view why,
                              int64_t now, logging::JsonObject& event) {
    Quarantine q(s_.quarantine_dir, s_.quarantine);
    std::string path = q.keep(message, env.queue_id, now);  // throws: tempfail in main
    logging::info(env.queue_id, logging::Line("bounce")
                                    .kv("rcpt", "<" + env.recipient + ">")
                                    .kv("action", "quarantine")
                                    .kv("reason", why)
                                    .kv("file", path));
    event.add("decision", "quarantine").add("why", why).add("file", path);
    write_event(env, event, now);
    return {EX_OK, {}};
}

void Transport::write_event(const Envelope& env, logging::JsonObject& event, int64_t now) {
    if (s_.event_log.empty()) return;
    event.add("time", static_cast<long long>(now));
    std::string line = event.str() + "\n";
    // O_APPEND with one write(2) keeps lines whole between concurrent
    // transports. The store has committed already: a failure here is logged,
    // never retried (a retry would count the bounce twice).
    sys::Fd fd(::open(s_.event_log.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640));
    ssize_t n = fd ? ::write(fd.get(), line.data(), line.size()) : -1;
    if (n != static_cast<ssize_t>(line.size()))
        logging::warning(env.queue_id, logging::Line("bounce")
                                           .kv("event_log", s_.event_log)
                                           .kv("error", n < 0 ? std::strerror(errno) : "short write"));
}

Verdict Transport::deliver(const Envelope& env, std::string_view message, bool oversized,
                           int64_t now) {
    logging::JsonObject event;
    event.add("queue_id", env.queue_id).add("sender", env.sender).add("recipient", env.recipient);
    if (oversized) return quarantine(env, message, "message too large", now, event);
    try {
        return deliver_report(env, message, now, event);
    } catch (const store::Error& e) {
        // A stored value we cannot read (a newer format, damage) or a key
        // LMDB cannot hold will not get better with retries: keep the report
        // for a human instead of deferring it until Postfix gives up.
        if (e.kind() != store::Error::Kind::Format && e.kind() != store::Error::Kind::BadKey) throw;
        return quarantine(env, message, std::string("suppression store: ") + e.what(), now, event);
    }
}

Verdict Transport::deliver_report(const Envelope& env, std::string_view message, int64_t now,
                                  logging::JsonObject& event) {
    dsn::Report report = dsn::parse(message, s_.limits);
    event.add("kind", dsn::to_string(report.kind)).add("is_bounce", report.is_bounce);
    event.add_raw("report", recipients_json(report));
    if (!report.feedback_type.empty()) event.add("feedback_type", report.feedback_type);

    // Who is this report about? A signed VERP recipient is authoritative.
    std::optional<address::Decoded> verp;
    for (const auto& c : codecs_) {
        auto d = c.decode(env.recipient, std::chrono::floor<std::chrono::days>(
                                             std::chrono::sys_seconds(std::chrono::seconds(now))));
        if (d.status != address::VerpStatus::NotVerp) {
            verp = std::move(d);
            break;
        }
    }
    bool trusted = s_.accept_unsigned;
    std::string verp_rcpt;
    if (verp) {
        event.add("verp", address::to_string(verp->status));
        if (verp->status == address::VerpStatus::Ok) {
            trusted = true;
            if (!verp->is_token) {
                verp_rcpt = verp->recipient.normalised();
            } else if (auto r = store::SendLog(env_).get(verp->token, now)) {
                verp_rcpt = *r;  // the milter recorded what the token stands for
            } else {
                // The signature vouches for the token only, not for whatever
                // recipients the report names: without the send log's answer
                // nobody is suppressed (else one signed token would let its
                // holder suppress any address).
                trusted = false;
                event.add("token", "unknown");
                logging::warning(env.queue_id, logging::Line("bounce")
                                                   .kv("rcpt", "<" + env.recipient + ">")
                                                   .kv("verp", "unknown token")
                                                   .kv("action", "ignore"));
            }
        } else {
            trusted = false;
            logging::warning(env.queue_id, logging::Line("bounce")
                                               .kv("rcpt", "<" + env.recipient + ">")
                                               .kv("verp", address::to_string(verp->status))
                                               .kv("action", "ignore"));
        }
    }

    // RFC 3834 auto-replies, delivery reports and ordinary mail change nothing.
    bool usable_kind = report.kind == dsn::Kind::Dsn || report.kind == dsn::Kind::Ndr ||
                       report.kind == dsn::Kind::Arf;
    if (!usable_kind && report.kind == dsn::Kind::None && verp && verp->status == address::VerpStatus::Ok)
        // Mail to our signed address that is neither a report nor an
        // auto-reply: an NDR format we do not know, or a person's reply.
        // Keep it for a human; count nothing.
        return quarantine(env, message, "not a recognised report", now, event);
    if (!usable_kind) {
        logging::info(env.queue_id, logging::Line("bounce")
                                        .kv("rcpt", "<" + env.recipient + ">")
                                        .kv("kind", dsn::to_string(report.kind))
                                        .kv("action", "ignore"));
        event.add("decision", "ignore");
        write_event(env, event, now);
        return {EX_OK, {}};
    }

    std::vector<Target> targets;
    dsn::Recipient synthetic;
    if (!verp_rcpt.empty()) {
        // The report's entry for the VERP recipient, else its first failure,
        // else (a report naming nobody) a failure with no detail.
        const dsn::Recipient* best = nullptr;
        for (const auto& r : report.recipients) {
            if (normalised(r.address) == verp_rcpt || normalised(r.alias) == verp_rcpt) {
                best = &r;
                break;
            }
            if (!best && (r.klass == dsn::Class::Hard || r.klass == dsn::Class::Soft ||
                          r.klass == dsn::Class::Complaint))
                best = &r;
        }
        // A report naming only successes (delivered, relayed) stays that.
        if (!best && !report.recipients.empty()) best = &report.recipients.front();
        if (!best) {
            synthetic.address = verp_rcpt;
            synthetic.action = dsn::Action::Failed;
            synthetic.reason = report.kind == dsn::Kind::Arf ? dsn::Reason::Feedback
                                                             : dsn::Reason::Undefined;
            synthetic.klass = dsn::class_for(synthetic.reason, "", synthetic.action);
            best = &synthetic;
        }
        targets.push_back({verp_rcpt, best});
    } else if (trusted) {
        for (const auto& r : report.recipients) {
            std::string key = normalised(r.address);
            if (!key.empty()) targets.push_back({key, &r});
        }
    }

    if (targets.empty()) {
        if (!trusted) {
            logging::info(env.queue_id, logging::Line("bounce")
                                            .kv("rcpt", "<" + env.recipient + ">")
                                            .kv("reason", "not signed by us")
                                            .kv("action", "ignore"));
            event.add("decision", !verp ? "unsigned"
                                  : verp->status == address::VerpStatus::Ok ? "unknown-token"
                                  : verp->status == address::VerpStatus::BadMac ? "forged"
                                  : std::string(address::to_string(verp->status)).c_str());
            write_event(env, event, now);
            return {EX_OK, {}};
        }
        return quarantine(env, message, "no recipient found", now, event);
    }

    logging::JsonArray decisions;
    for (const auto& t : targets) {
        const dsn::Recipient& r = *t.rcpt;
        std::string decision;
        if (r.action == dsn::Action::Delayed) {
            decision = "delayed";  // a final failure or success follows
        } else if (r.klass == dsn::Class::Hard || r.klass == dsn::Class::Complaint ||
                   (r.klass == dsn::Class::Soft && !is_reputation(r.reason))) {
            store::Event ev;
            ev.address = t.key;
            ev.klass = r.klass == dsn::Class::Hard        ? store::Class::Hard
                       : r.klass == dsn::Class::Complaint ? store::Class::Complaint
                                                          : store::Class::Soft;
            ev.reason = std::string(dsn::to_string(r.reason));
            ev.status = r.status;
            ev.diagnostic = r.diagnostic;
            ev.remote_mta = r.remote_mta;
            ev.evidence = env.queue_id;
            ev.source = report.kind == dsn::Kind::Arf ? store::Source::Arf : store::Source::Dsn;
            ev.when = now;
            auto out = list_.record(ev, s_.policy);
            decision = out.suppressed ? "suppress" : "count";
            if (out.domain_suppressed) decision += "+domain";
        } else if (r.klass == dsn::Class::Soft) {
            store::BlockEvent be;
            auto at = t.key.rfind('@');
            be.domain = at == std::string::npos ? t.key : t.key.substr(at + 1);
            be.reason = std::string(dsn::to_string(r.reason));
            be.status = r.status;
            be.diagnostic = r.diagnostic;
            be.remote_mta = r.remote_mta;
            be.when = now;
            list_.record_block(be, s_.policy);
            decision = "block-event";
        } else {
            decision = "ignore";
        }
        logging::info(env.queue_id, logging::Line("bounce")
                                        .kv("rcpt", "<" + t.key + ">")
                                        .kv("status", r.status.empty() ? "-" : r.status)
                                        .kv("class", dsn::to_string(r.klass))
                                        .kv("reason", dsn::to_string(r.reason))
                                        .kv("action", decision));
        logging::JsonObject d;
        d.add("address", t.key).add("class", dsn::to_string(r.klass))
            .add("reason", dsn::to_string(r.reason)).add("status", r.status)
            .add("decision", decision);
        decisions.add_raw(d.str());
    }
    event.add_raw("decisions", decisions.str());
    write_event(env, event, now);
    return {EX_OK, {}};
}

}  // namespace bounce
