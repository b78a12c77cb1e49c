// transport.cc - see transport.h
#include "bounce-pipe/transport.h"

#include <algorithm>

#include <fcntl.h>
#include <sysexits.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "bounce-pipe/decision.h"
#include "bounce-pipe/evidence.h"
#include "bounce-pipe/forward.h"
#include "bounce-pipe/run_command.h"
#include "common/address/forward_seal.h"
#include "bounce-pipe/local_origin.h"
#include "common/address/address.h"
#include "common/config/config.h"
#include "common/dsn/dsn.h"
#include "common/dsn/limits_setup.h"
#include "common/log/log.h"
#include "common/store/record_format.h"
#include "common/store/forwards.h"
#include "common/store/sendlog.h"
#include "common/store/setup.h"
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

// Why a report nobody may act on was ignored: the "why" of its log line.
std::string untrusted_why(const Transport::Origin& o) {
    if (!o.verp) return "unsigned";
    switch (o.verp->status) {
    case address::VerpStatus::Ok: return "unknown-token";  // signed, but the send log does not know it
    case address::VerpStatus::BadMac: return "forged";
    case address::VerpStatus::Expired: return "expired-tag";
    case address::VerpStatus::Truncated: return "truncated-tag";
    case address::VerpStatus::Malformed:
    case address::VerpStatus::NotVerp: break;
    }
    return "malformed-tag";
}

// The report's entry for the signed recipient, else its first failure, else
// its first entry (a report naming only successes stays that), else nullptr.
const dsn::Recipient* entry_for(const dsn::Report& report, const std::string& rcpt) {
    const dsn::Recipient* first_failure = nullptr;
    for (const auto& r : report.recipients) {
        if (normalised(r.address) == rcpt || normalised(r.alias) == rcpt) return &r;
        if (!first_failure && store_class(r.klass)) first_failure = &r;
    }
    if (first_failure) return first_failure;
    return report.recipients.empty() ? nullptr : &report.recipients.front();
}

// A signed report naming nobody: a failure of the signed recipient with no
// detail (a complaint for ARF).
dsn::Recipient failure_without_detail(const std::string& rcpt, dsn::Kind kind) {
    dsn::Recipient r;
    r.address = rcpt;
    r.action = dsn::Action::Failed;
    r.reason = kind == dsn::Kind::Arf ? dsn::Reason::Feedback : dsn::Reason::Undefined;
    r.klass = dsn::class_for(r.reason, "", r.action);
    return r;
}

}  // namespace

std::optional<store::Class> store_class(dsn::Class c) {
    switch (c) {
    case dsn::Class::Hard: return store::Class::Hard;
    case dsn::Class::Soft: return store::Class::Soft;
    case dsn::Class::Complaint: return store::Class::Complaint;
    case dsn::Class::AutoReply:
    case dsn::Class::Other: return std::nullopt;
    }
    return std::nullopt;
}

Settings Settings::from(const config::Config& cfg) {
    Settings s;
    s.accept_unsigned = cfg.boolean("bounce_accept_unsigned");
    s.local_mta_names = cfg.list("bounce_local_mta_names");
    s.max_message_size = cfg.size("bounce_max_message_size");
    s.time_limit = cfg.duration("bounce_time_limit");
    s.limits = dsn::limits_from(cfg);
    s.policy = store::suppression_policy(cfg, [](std::string_view r) { return dsn::reason_from_string(r).has_value(); });
    s.quarantine_dir = cfg.str("bounce_quarantine_directory");
    s.quarantine.max_bytes = cfg.size("bounce_quarantine_limit");
    s.quarantine.max_files = cfg.integer("bounce_quarantine_max_files");
    s.event_log = cfg.str("bounce_event_log");
    s.forward_replies = cfg.boolean("bounce_forward_replies");
    s.forward_command = cfg.str("bounce_forward_command");
    s.forward_limit = static_cast<uint32_t>(cfg.integer("bounce_forward_limit"));
    s.forward_window = cfg.duration("bounce_forward_window");
    s.forward_time_limit = cfg.duration("bounce_forward_time_limit");
    return s;
}

std::string recipients_json(const dsn::Report& report, std::string_view action_key) {
    logging::JsonArray arr;
    for (const auto& r : report.recipients) {
        logging::JsonObject o;
        o.add("address", r.address)
            .add("status", r.status)
            .add("class", dsn::to_string(r.klass))
            .add("reason", dsn::to_string(r.reason));
        if (r.action == dsn::Action::None)
            o.add_null(action_key);
        else
            o.add(action_key, dsn::to_string(r.action));
        o.add("diagnostic", r.diagnostic);
        if (!r.alias.empty()) o.add("alias", r.alias);
        if (!r.reply_code.empty()) o.add("reply_code", r.reply_code);
        if (!r.remote_mta.empty()) o.add("remote_mta", r.remote_mta);
        arr.add_raw(o.str());
    }
    return arr.str();
}

std::vector<Transport::Target> choose_targets(const dsn::Report& report, const Transport::Origin& origin) {
    std::vector<Transport::Target> targets;
    if (!origin.recipient.empty()) {
        const dsn::Recipient* r = entry_for(report, origin.recipient);
        targets.push_back({origin.recipient, r ? *r : failure_without_detail(origin.recipient, report.kind)});
    } else if (!origin.message_recipients.empty()) {
        // A token of a message with several recipients vouches for those
        // recipients only: a report naming anyone else suppresses nobody else.
        const auto& mine = origin.message_recipients;
        for (const auto& r : report.recipients)
            if (std::string key = normalised(r.address);
                !key.empty() && std::find(mine.begin(), mine.end(), key) != mine.end())
                targets.push_back({std::move(key), r});
    } else if (origin.trusted) {
        for (const auto& r : report.recipients)
            if (std::string key = normalised(r.address); !key.empty()) targets.push_back({std::move(key), r});
    }
    return targets;
}

Transport::Names names_of(const Transport::Origin& origin, const dsn::Report* report) {
    Transport::Names n;
    const std::string returned = report ? report->original_message_id : std::string();
    // A form-"r" entry is the newest message to its recipient: when the
    // report returns a different Message-ID, it is about an older one.
    const bool other_message = origin.sent && origin.recipient_form && !returned.empty() &&
                               !origin.sent->message_id.empty() && origin.sent->message_id != returned;
    if (origin.sent && !other_message) {
        n.from = "sendlog";
        n.message_id = origin.sent->message_id.empty() ? returned : origin.sent->message_id;
        n.sender = origin.sent->sender;
        n.queue_id = origin.sent->queue_id;
        n.headers = origin.sent->headers;
    } else if (!returned.empty()) {
        n.from = "report";
        n.message_id = returned;
    }
    return n;
}

void add_names(logging::JsonObject& event, const Transport::Names& n) {
    if (n.from.empty()) return;
    if (!n.message_id.empty()) event.add("message_id", n.message_id);
    if (!n.sender.empty()) event.add("original_sender", n.sender);
    if (!n.queue_id.empty()) event.add("original_queue_id", n.queue_id);
    if (!n.headers.empty()) event.add_raw("headers", store::headers_json(n.headers));
    event.add("names_from", n.from);
}

Transport::Transport(Settings settings, std::shared_ptr<store::Env> env,
                     std::vector<address::VerpCodec> codecs, address::BounceDomains patterns)
    : s_(std::move(settings)),
      env_(env),
      list_(std::move(env)),
      codecs_(std::move(codecs)),
      patterns_(std::move(patterns)) {}

Verdict Transport::deliver(const Envelope& raw, std::string_view message, bool oversized, int64_t now,
                           int rest_fd) {
    Envelope env = raw;
    env.queue_id = clean_queue_id(raw.queue_id);
    Delivery d{env, evidence_id(env.queue_id, message), now, {}, "no", oversized ? rest_fd : -1, {}};
    named_ = Named{};
    logging::JsonObject event;
    event.add("time", store::iso_time(now)).add("time_unix", static_cast<long long>(now));
    event.add("queue_id", env.queue_id).add("sender", env.sender).add("recipient", env.recipient);
    if (env.queue_id.empty()) event.add("evidence", d.evidence);
    // Opened before anything changes: a log that cannot take the line
    // defers the delivery with nothing done. O_APPEND with one write(2)
    // keeps lines whole between concurrent transports.
    if (!s_.event_log.empty()) {
        d.event_fd.reset(sys::open_append(s_.event_log, 0640));
        if (!d.event_fd)
            return {EX_TEMPFAIL, "cannot open bounce_event_log " + s_.event_log + ": " + std::strerror(errno),
                    "4.3.0", "event-log"};
    }
    try {
        d.origin = resolve_verp(d, event);
        named_ = Named{d.origin.recipient, d.signed_ok};
        if (oversized) {
            d.names = names_of(d.origin, nullptr);
            add_names(event, d.names);
            return quarantine(d, about_message(d, nullptr, "too-large"), message, event);
        }
        return deliver_report(d, message, event);
    } catch (const store::Error& e) {
        // A stored value we cannot read (a newer format, damage) or a key
        // LMDB cannot hold will not get better with retries: keep the report
        // for a human instead of deferring it until Postfix gives up.
        if (e.kind() != store::Error::Kind::Format && e.kind() != store::Error::Kind::BadKey) throw;
        Decision q = about_message(d, nullptr, "store-unreadable");
        q.detail = store_error_text(e);
        return quarantine(d, std::move(q), message, event);
    }
}

std::string store_error_text(const store::Error& e) {
    // store::Error says "store: op: why: path"; the callers name the store.
    std::string_view w = e.what();
    if (w.starts_with("store: ")) w.remove_prefix(7);
    return "suppression store: " + std::string(w);
}

// Steps 2-5 of transport.h: parse, decide whom the report may name, choose
// the targets, apply the policy to each.
Verdict Transport::deliver_report(Delivery& d, std::string_view message, logging::JsonObject& event) {
    const dsn::Report report = dsn::parse(message, s_.limits);
    event.add("kind", dsn::to_string(report.kind)).add("is_bounce", report.is_bounce);
    if (!report.reporting_mta.empty()) event.add("reporting_mta", report.reporting_mta);
    if (!report.feedback_type.empty()) event.add("feedback_type", report.feedback_type);
    event.add_raw("report", recipients_json(report, "dsn_action"));
    d.names = names_of(d.origin, &report);
    add_names(event, d.names);

    std::string_view trust = d.origin.trusted ? (d.origin.verp ? "signed" : "accept_unsigned") : "none";
    if (!d.origin.trusted && !d.origin.verp &&
        is_local_report(message, report.reporting_mta, s_.local_mta_names, d.env.queue_id)) {
        d.origin.trusted = true;  // made by this host's Postfix (local_origin.h)
        trust = "local";
    }
    event.add("trust", trust);

    if (report.status_cut)
        // The machine-readable part was longer than the parser reads: its
        // cut record is lost, and the notice's wording is no substitute.
        return quarantine(d, about_message(d, &report, "status-cut"), message, event);
    if (report.kind == dsn::Kind::None) {
        // A person's reply to a signed return address goes to the sender.
        if (auto v = forward(d, report, message, event)) return *v;
        // Neither a report nor an auto-reply: an NDR format we do not know,
        // or a reply nobody can be found for. Keep it for a human; count nothing.
        return quarantine(d, about_message(d, &report, "not-a-report"), message, event);
    }
    if (report.kind == dsn::Kind::AutoReply) return ignore(d, about_message(d, &report, "autoreply"), event);

    const std::vector<Target> targets = choose_targets(report, d.origin);
    if (targets.empty() && d.origin.trusted)
        return quarantine(d, about_message(d, &report, "no-recipient"), message, event);
    if (targets.empty()) return ignore(d, about_message(d, &report, untrusted_why(d.origin)), event);

    logging::JsonArray decisions;
    std::string action = "ignore";
    for (const auto& t : targets) {
        const Decision dec = apply(d, t, report.kind);
        logging::info(d.env.queue_id, decision_line(dec, d.env.recipient, d.signed_ok));
        decisions.add_raw(decision_json(dec));
        if (action_rank(dec.action) > action_rank(action)) action = dec.action;
    }
    event.add("action", action).add_raw("decisions", decisions.str());
    if (auto failed = write_event(d, event)) return *failed;  // the retry counts nothing twice
    return {EX_OK, {}};
}

// A signed VERP recipient is authoritative; a token one only through the
// send log; anything else is trusted only with bounce_accept_unsigned (or,
// later, as a report of this host's Postfix). Logs nothing: the decision's
// line says what came of it.
Transport::Origin Transport::resolve_verp(Delivery& d, logging::JsonObject& event) const {
    Origin o{std::nullopt, s_.accept_unsigned, {}, {}, false, std::nullopt};
    const auto today = std::chrono::floor<std::chrono::days>(std::chrono::sys_seconds(std::chrono::seconds(d.now)));
    for (const auto& c : codecs_) {
        if (auto dec = c.decode(d.env.recipient, today); dec.status != address::VerpStatus::NotVerp) {
            o.verp = std::move(dec);
            break;
        }
    }
    if (!o.verp) {
        // LABEL.* entries: the codec of the recipient's own bounce domain.
        const auto domain = address::domain_of(d.env.recipient);
        if (const auto c = domain ? patterns_.codec(*domain) : std::nullopt)
            if (auto dec = c->decode(d.env.recipient, today); dec.status != address::VerpStatus::NotVerp)
                o.verp = std::move(dec);
    }
    const bool ok = o.verp && o.verp->status == address::VerpStatus::Ok;
    d.signed_ok = ok ? "yes" : "no";
    event.add("verp", o.verp ? address::to_string(o.verp->status) : "none").add("signed", ok);
    if (!o.verp) return o;
    o.trusted = false;
    if (!ok) return o;
    if (!o.verp->is_token) {
        o.trusted = true;
        o.recipient = o.verp->recipient.normalised();
        o.recipient_form = true;
        // The tag stands alone; the entry only names the message.
        if (const auto domain = address::domain_of(d.env.recipient))
            o.sent = store::SendLog(env_).lookup(store::recipient_key(o.recipient, domain->str()), d.now);
    } else if (auto e = store::SendLog(env_).lookup(o.verp->token, d.now); e && !e->recipients.empty()) {
        o.trusted = true;  // the milter recorded what the token stands for
        o.sent = e;
        if (e->recipients.size() == 1)
            o.recipient = e->recipients.front();
        else
            o.message_recipients = std::move(e->recipients);
    } else {
        // The signature vouches for the token only, not for whatever
        // recipients the report names: without the send log's answer nobody
        // is suppressed (else one signed token would let its holder
        // suppress any address).
        event.add("token", "unknown");
    }
    return o;
}

// A decision about the message as a whole: its failed recipient is the
// signed one, else the first the report names; status, class and reason are
// that recipient's entry in the report.
Decision Transport::about_message(const Delivery& d, const dsn::Report* report, std::string why) const {
    Decision dec;
    dec.why = std::move(why);
    dec.rcpt = d.origin.recipient;
    const dsn::Recipient* r = nullptr;
    if (report && !report->recipients.empty())
        r = dec.rcpt.empty() ? &report->recipients.front() : entry_for(*report, dec.rcpt);
    if (r) {
        if (dec.rcpt.empty()) dec.rcpt = normalised(r->address).empty() ? r->address : normalised(r->address);
        if (!r->status.empty()) dec.status = r->status;
        dec.klass = dsn::to_string(r->klass);
        dec.reason = dsn::to_string(r->reason);
    } else if (report && report->kind == dsn::Kind::AutoReply) {
        dec.klass = dsn::to_string(dsn::Class::AutoReply);
    }
    return dec;
}

// Steps 4 and 5 for one target: suppress or count, record a block against the
// domain, or change nothing.
Decision Transport::apply(const Delivery& d, const Target& t, dsn::Kind kind) {
    const dsn::Recipient& r = t.rcpt;
    const std::optional<store::Class> klass = store_class(r.klass);
    Decision dec;
    dec.rcpt = t.key;
    if (!r.status.empty()) dec.status = r.status;
    dec.klass = dsn::to_string(r.klass);
    dec.reason = dsn::to_string(r.reason);
    if (r.action == dsn::Action::Delayed) {
        dec.action = "ignore";
        dec.why = "delayed";  // a final failure or success follows
    } else if (klass == store::Class::Soft && is_reputation(r.reason)) {
        store::BlockEvent be;
        be.domain = std::string(store::domain_of(t.key).value_or(t.key));
        be.reason = std::string(dsn::to_string(r.reason));
        be.status = r.status;
        be.diagnostic = r.diagnostic;
        be.remote_mta = r.remote_mta;
        be.when = d.now;
        be.evidence = d.evidence;
        dec.repeat = list_.record_block(be, s_.policy).repeated;
        dec.action = "block";
        dec.domain = be.domain;
    } else if (klass) {
        store::Event ev;
        ev.address = t.key;
        ev.klass = *klass;
        ev.reason = std::string(dsn::to_string(r.reason));
        ev.status = r.status;
        ev.diagnostic = r.diagnostic;
        ev.remote_mta = r.remote_mta;
        ev.evidence = d.evidence;
        ev.message_id = d.names.message_id;
        ev.headers = d.names.headers;
        ev.source = kind == dsn::Kind::Arf ? store::Source::Arf : store::Source::Dsn;
        ev.when = d.now;
        const auto out = list_.record(ev, s_.policy);
        dec.action = out.suppressed ? "suppress" : "count";
        dec.repeat = out.repeated;
        if (!out.suppressed) {
            dec.count = static_cast<long long>(out.record.count);
            dec.threshold = s_.policy.soft_threshold;
        }
        if (out.domain_suppressed) dec.domain = std::string(store::domain_of(t.key).value_or(""));
    } else {
        dec.action = "ignore";
        dec.why = r.klass == dsn::Class::AutoReply ? "autoreply" : "not-a-failure";
    }
    return dec;
}

const address::VerpKeys* Transport::keys() const noexcept {
    if (!codecs_.empty()) return &codecs_.front().keys();
    return patterns_.keys();
}

std::optional<std::string> Transport::original_sender(const Delivery& d) const {
    const auto& v = d.origin.verp;
    if (!v || v->status != address::VerpStatus::Ok) return std::nullopt;
    std::string key;
    if (v->is_token) {
        key = v->token;
    } else {
        const auto domain = address::domain_of(d.env.recipient);
        if (!domain) return std::nullopt;
        key = store::recipient_key(v->recipient.normalised(), domain->str());
    }
    auto e = store::SendLog(env_).lookup(key, d.now);
    if (!e) return std::nullopt;
    return e->sender;
}

std::optional<Verdict> Transport::forward(Delivery& d, const dsn::Report& report, std::string_view message,
                                          logging::JsonObject& event) {
    const ReplyHeaders h = read_reply_headers(message);
    ForwardFacts f;
    f.enabled = s_.forward_replies && keys() != nullptr;
    f.signed_ok = d.signed_ok == "yes";
    f.envelope_sender = d.env.sender;
    f.kind = report.kind;
    f.automatic = report.automatic;
    f.sealed = h.sealed;
    f.from_count = h.from_count;
    f.from_size = h.from_size;
    std::string_view why = forward_refusal(f);
    if (why == "no-sender") {
        // The send log is read only for a message that passed every other step.
        f.original_sender = original_sender(d);
        why = forward_refusal(f);
    }
    if (!why.empty()) {
        event.add("forward", why);
        return std::nullopt;
    }
    const std::string to = *f.original_sender;
    Decision dec;  // about the forward: its recipient is the original sender
    dec.rcpt = to;
    dec.threshold = s_.forward_limit;

    store::Forwards counter(env_);
    const store::Forwards::Take take =
        counter.take(to, d.now, s_.forward_limit, static_cast<int64_t>(s_.forward_window.count()));
    dec.count = take.count;
    event.add("forward_to", to).add("forward_count", static_cast<long long>(take.count));
    if (!take.allowed) {
        dec.why = "forward-limit";
        return quarantine(d, std::move(dec), message, event);
    }

    const auto now = std::chrono::sys_seconds(std::chrono::seconds(d.now));
    const std::string seal = address::seal_forward(*keys(), to, h.from, now);
    const CommandResult r = run_command(forward_argv(s_.forward_command, to),
                                        forward_message(message, seal, d.env.recipient, to, now),
                                        s_.forward_time_limit);
    const std::string out = logging::printable(r.output, 200);
    if (r.ran && r.exited && r.exit_status == EX_OK && r.input_taken) {
        dec.action = "forward";
        logging::info(d.env.queue_id, decision_line(dec, d.env.recipient, d.signed_ok));
        event.add("action", dec.action);
        event.add_raw("decisions", "[" + decision_json(dec) + "]");
        // A line that cannot be written defers: the retry forwards again
        // (a duplicate, never a loss).
        if (auto failed = write_event(d, event)) return *failed;
        return Verdict{EX_OK, {}};
    }
    std::string what;
    if (!r.ran)
        what = "cannot run bounce_forward_command " + s_.forward_command + ": " + std::strerror(r.exec_errno);
    else if (r.timed_out)
        what = "bounce_forward_command " + s_.forward_command + " took longer than bounce_forward_time_limit (" +
               std::to_string(s_.forward_time_limit.count()) + "s) and was killed";
    else if (!r.exited)
        what = "bounce_forward_command " + s_.forward_command + " was killed by signal " + std::to_string(r.signal);
    else if (r.exit_status == EX_OK)
        what = "bounce_forward_command " + s_.forward_command + " exited with status 0 before it read the whole message";
    else
        what = "bounce_forward_command " + s_.forward_command + " exited with status " +
               std::to_string(r.exit_status);
    if (!out.empty()) what += ": " + out;
    // Permanent: the command says the message or its recipient is at fault
    // (sysexits 64-68, 77). Anything else may pass (Postfix's sendmail
    // exits 1 on a fatal error such as an unreadable main.cf, 75 when the
    // queue is not reachable): defer, and Postfix tries again.
    const bool permanent = r.ran && r.exited && r.exit_status != EX_OK &&
                           ((r.exit_status >= EX_USAGE && r.exit_status <= EX_NOHOST) || r.exit_status == EX_NOPERM);
    const bool transient = !permanent;
    counter.give_back(to, d.now);
    if (transient) return Verdict{EX_TEMPFAIL, "sendguard-bounce: " + what, "4.3.0", "forward"};
    dec.why = "forward-failed";
    dec.detail = what;
    dec.count = -1;
    return quarantine(d, std::move(dec), message, event);
}

Verdict Transport::ignore(const Delivery& d, Decision dec, logging::JsonObject& event) {
    dec.action = "ignore";
    logging::info(d.env.queue_id, decision_line(dec, d.env.recipient, d.signed_ok));
    event.add("action", dec.action).add("why", dec.why);
    event.add_raw("decisions", "[" + decision_json(dec) + "]");
    if (auto failed = write_event(d, event)) return *failed;
    return {EX_OK, {}};
}

Verdict Transport::quarantine(const Delivery& d, Decision dec, std::string_view message,
                              logging::JsonObject& event) {
    Quarantine q(s_.quarantine_dir, s_.quarantine);
    const Kept kept = q.keep(message, d.rest_fd, d.env.queue_id, d.now);  // throws: tempfail in main
    if (!kept.refused.empty()) return refused(d, std::move(dec), kept, event);
    dec.action = "quarantine";
    dec.file = kept.path;
    dec.size = static_cast<long long>(kept.size);
    logging::info(d.env.queue_id, decision_line(dec, d.env.recipient, d.signed_ok));
    event.add("action", dec.action).add("why", dec.why).add("file", dec.file).add("size", dec.size);
    if (!dec.detail.empty()) event.add("detail", dec.detail);
    event.add_raw("decisions", "[" + decision_json(dec) + "]");
    if (auto failed = write_event(d, event)) {
        ::unlink(kept.path.c_str());  // the retry keeps it again: one copy
        return *failed;
    }
    return {EX_OK, {}};
}

// A message the quarantine's limits cannot hold defers: Postfix keeps it
// queued (mailq shows the reply) where exit 0 would drop it and any other
// status bounce it. main() logs the defer line; the event says so too.
Verdict Transport::refused(const Delivery& d, Decision dec, const Kept& kept, logging::JsonObject& event) {
    Verdict v{EX_TEMPFAIL, "", "4.3.4", "quarantine-limit"};
    if (kept.refused == "bounce_quarantine_max_files") {
        v.status = "4.3.1";
        v.reply = "sendguard-bounce: bounce_quarantine_max_files is 0: no report can be quarantined";
    } else {
        v.reply = "sendguard-bounce: a report of " + std::to_string(kept.size) +
                  " bytes does not fit in bounce_quarantine_limit (" + std::to_string(s_.quarantine.max_bytes) +
                  " bytes)";
    }
    v.reply += " (" + dec.why + "); raise the limit, or handle the queued message by hand";
    dec.action = "defer";
    dec.status = v.status;
    dec.detail = v.reply;
    event.add("action", dec.action).add("why", v.why).add("size", static_cast<long long>(kept.size));
    event.add("quarantine_why", dec.why).add("detail", v.reply);
    dec.why = v.why;
    event.add_raw("decisions", "[" + decision_json(dec) + "]");
    if (auto failed = write_event(d, event)) return *failed;
    return v;
}

std::optional<Verdict> Transport::write_event(const Delivery& d, logging::JsonObject& event) {
    if (!d.event_fd) return std::nullopt;
    const std::string line = event.str() + "\n";
    const ssize_t n = ::write(d.event_fd.get(), line.data(), line.size());
    if (n == static_cast<ssize_t>(line.size())) return std::nullopt;
    return Verdict{EX_TEMPFAIL,
                   "cannot write bounce_event_log " + s_.event_log + ": " +
                       (n < 0 ? std::strerror(errno) : "short write"),
                   "4.3.0", "event-log"};
}

}  // namespace bounce
