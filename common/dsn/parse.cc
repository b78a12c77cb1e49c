// parse.cc - dsn::parse(): which reader applies, then classification
//
// Order of evidence, strongest first:
//   1. RFC 5965 feedback report (or Microsoft JMRP)       -> Kind::Arf
//   2. RFC 3464 / RFC 6533 delivery-status part, or one relabelled
//      text/plain                                         -> Kind::Dsn
//      (a host-local Final-Recipient without an Original-Recipient made
//      the address we sent to: resolve_host_local())
//   3. Amazon SES JSON notification                       -> Dsn / Arf
//   4. a daemon's notice attached to another message, read as ours
//   5. a notice by a mailer daemon: report fields quoted in its text, else
//      recipients read from the wording                   -> Kind::Ndr
//   6. RFC 3834 auto-reply                                -> Kind::AutoReply
// Anything else is ordinary mail (Kind::None, no recipients). A notice that
// quotes a whole report is read as that report (read_forwarded()).
// Every input is bounded by Limits; an exception other than bad_alloc is a
// bug, logged as a warning, and gives an empty Report.
#include "common/dsn/dsn.h"

#include <exception>
#include <new>
#include <optional>

#include "common/address/address.h"
#include "common/dsn/classify.h"
#include "common/dsn/extract.h"
#include "common/dsn/text.h"
#include "common/log/log.h"

namespace dsn {

namespace {

constexpr size_t kMaxTextLookups = 200;

bool is_type(const MimePart& p, std::string_view t) { return p.type == t; }

// RFC 3464 §2 / RFC 6533 §6: a delivery report by its structure.
bool is_delivery_report(const Mail& mail) {
    if (mail.report_type == "delivery-status" || mail.report_type == "global-delivery-status") return true;
    for (const auto& p : mail.parts)
        if (is_type(p, "message/delivery-status") || is_type(p, "message/global-delivery-status")) return true;
    return false;
}

// A generic Status defers to a more specific code of the same class in the
// diagnostic: "x.0.0" to any other ("Status: 5.0.0", "Diagnostic-Code: smtp;
// 550 5.1.1 ..."), and "x.y.0", RFC 3463's "other or undefined" detail of a
// subject, to a code with a detail, as when the reporting MTA wraps the
// remote reply ("5.1.0 - Unknown address error 550-'5.2.2 ... Mailbox full'").
std::string pick_status(std::string_view status, std::string_view diagnostic) {
    size_t at = 0;
    std::string_view first = text::find_status(diagnostic, &at);
    if (status.empty()) return std::string(first);
    if (status.size() != 5 || status.substr(3) != ".0") return std::string(status);
    std::string_view subject;  // first code naming a subject, for an x.0.0 status
    std::string_view rest = diagnostic;
    for (int n = 0; n < 8 && !first.empty(); ++n) {
        if (first[0] == status[0]) {
            if (first.substr(3) != ".0") return std::string(first);
            if (subject.empty() && first[2] != '0') subject = first;
        }
        rest = rest.substr(at + first.size());
        first = text::find_status(rest, &at);
    }
    if (status[2] == '0' && !subject.empty()) return std::string(subject);
    return std::string(status);
}

Action action_from_status(std::string_view status) {
    if (status.empty()) return Action::Failed;
    switch (status[0]) {
    case '2': return Action::Delivered;
    case '4': return Action::Delayed;
    default: return Action::Failed;
    }
}

Recipient finish(Draft& d, Kind kind, const Limits& limits) {
    Recipient r;
    r.address = std::move(d.address);
    r.alias = std::move(d.alias);
    r.remote_mta = text::squeeze(d.remote_mta, 255);
    if (kind == Kind::Arf) {
        r.reason = Reason::Feedback;
        r.klass = Class::Complaint;
        return r;
    }
    r.status = pick_status(d.status, d.diagnostic);
    r.reply_code = d.reply_code.empty() ? std::string(text::find_reply_code(d.diagnostic))
                                        : std::move(d.reply_code);
    r.action = d.action != Action::None ? d.action : action_from_status(r.status);
    r.reason = decide_reason(Evidence{r.status, r.reply_code, d.diagnostic, d.context, d.hint, r.action});
    r.klass = class_for(r.reason, r.status, r.action);
    r.diagnostic = text::squeeze(d.diagnostic, limits.max_diagnostic);
    return r;
}

void describe_original(const Headers& h, Report& r) {
    r.original_message_id = text::squeeze(header_value(h, "Message-ID"), 998);
    r.original_from = text::mailbox(header_value(h, "From"));
    r.original_to = text::mailbox(header_value(h, "To"));
}

// One message being read: what the readers look at and what they found.
struct Reading {
    explicit Reading(std::string_view message, const Limits& limits)
        : limits(limits), mail(read_mail(message, limits.part_text())),
          notice(notice_text(mail, limits.part_text())), drafts(limits.max_recipients) {
        returned = mail.original;
        if (!mail.has_original && !notice.returned.empty())
            returned = parse_header_block(text::trim(notice.returned));
        report.subject = text::squeeze(header_value(mail.headers, "Subject"), 998);
        describe_original(returned, report);
    }
    const Limits& limits;
    Mail mail;
    Notice notice;
    Headers returned;  // headers of the returned message, attached or inline
    Drafts drafts;
    Report report;
};

// 1. RFC 5965 §2: multipart/report; report-type=feedback-report, or a
// Microsoft JMRP complaint (an attached message and its own header).
Kind read_complaint(Reading& r) {
    Kind kind = Kind::None;
    for (const auto& p : r.mail.parts) {
        if (!is_type(p, "message/feedback-report")) continue;
        kind = Kind::Arf;
        read_feedback_report(whole_lines(p.text(), p.cut()), r.mail, r.drafts, r.report.feedback_type,
                             r.report.reporting_mta);
    }
    if (kind == Kind::None && r.mail.report_type == "feedback-report") kind = Kind::Arf;
    if (kind == Kind::None && r.mail.has_original
        && (!header_value(r.mail.original, "X-HmXmrOriginalRecipient").empty()
            || text::istarts_with(r.report.subject, "complaint about message from"))) {
        kind = Kind::Arf;
        r.report.feedback_type = "abuse";
        read_feedback_report({}, r.mail, r.drafts, r.report.feedback_type, r.report.reporting_mta);
    }
    return kind;
}


// The one mailbox a header value names, "" for none or several.
std::string single_mailbox(std::string_view value) {
    auto all = address::extract_all_from_header(value, 2);
    return all && all->size() == 1 ? all->front().str() : std::string();
}

// A Final-Recipient internal to the reporting site ("sjones@mbox07",
// "IMCEAEX-...@corp.example.com", or one too long to be a mailbox) with no
// Original-Recipient to fall back on: Exim's X-Failed-Recipients, or, in a
// report on one recipient, the one To: of the returned message, names the
// address we sent to.
void resolve_host_local(Reading& r) {
    auto& items = r.drafts.items();
    auto& unnamed = r.drafts.unnamed();
    const size_t records = items.size() + unnamed.size();
    auto sent_to = [&]() {
        std::string sent = single_mailbox(header_value(r.mail.headers, "X-Failed-Recipients"));
        if (sent.empty() && records == 1) sent = single_mailbox(header_value(r.returned, "To"));
        return !sent.empty() && !is_site_internal(sent) ? sent : std::string();
    };
    for (size_t i = 0; i < items.size(); ++i)
        if (is_site_internal(items[i].address))
            if (std::string sent = sent_to(); !sent.empty()) r.drafts.readdress(i, std::move(sent));
    for (auto& d : unnamed) {
        d.address = sent_to();
        r.drafts.add(std::move(d));
    }
    unnamed.clear();
}

// A delivery-status body sent as text/plain, as some gateways relabel the
// parts they pass on: it opens with RFC 3464 §2.2/§2.3 fields and has a
// per-recipient one.
bool is_mislabelled_status(const MimePart& p) {
    if (!is_type(p, "text/plain")) return false;
    std::string_view body = text::trim(p.text());
    constexpr std::string_view kFields[] = {"reporting-mta:", "final-recipient:", "original-recipient:",
                                            "original-envelope-id:", "arrival-date:", "received-from-mta:",
                                            "dsn-gateway:"};
    bool opens = false;
    for (auto f : kFields) opens |= text::istarts_with(body, f);
    return opens && (text::icontains(body, "\nfinal-recipient:") || text::istarts_with(body, "final-recipient:"));
}

// 2. RFC 3464 §2 / RFC 6533 §3 delivery-status parts.
Kind read_status_report(Reading& r) {
    for (const auto& p : r.mail.parts)
        if (is_type(p, "message/delivery-status") || is_type(p, "message/global-delivery-status")
            || is_mislabelled_status(p)) {
            read_delivery_status(p.text(), p.cut(), r.drafts, r.report.reporting_mta);
            r.report.status_cut |= p.cut();
        }
    resolve_host_local(r);
    return r.drafts.empty() ? Kind::None : Kind::Dsn;
}

// 3. Amazon SES notifications delivered by SNS e-mail.
Kind read_ses(Reading& r) {
    for (const auto& p : r.mail.parts) {
        if (!is_type(p, "text/plain")) continue;
        Kind k = Kind::None;
        read_ses_json(whole_lines(p.text(), p.cut()), r.drafts, k, r.report.feedback_type);
        if (k != Kind::None) return k;
    }
    return Kind::None;
}

// 5. A notice without a machine-readable part: report fields quoted in its
// text, else recipients read from its wording.
Kind read_notice(Reading& r) {
    const bool delayed = is_delay_notice(r.mail, r.notice.text);
    if (text::icontains(r.notice.text, "final-recipient:"))
        read_delivery_status(r.notice.text, r.notice.cut, r.drafts, r.report.reporting_mta);
    if (r.drafts.empty()) read_ndr_text(r.notice, r.mail, r.returned, delayed, r.drafts);
    return r.drafts.empty() ? Kind::None : Kind::Ndr;
}

// 6. RFC 3834 auto-reply: its author is the recipient it reports on.
void read_auto_reply(Reading& r) {
    Recipient rc;
    rc.address = text::mailbox(header_value(r.mail.headers, "From"));
    rc.reason = Reason::Vacation;
    rc.klass = Class::AutoReply;
    if (!rc.address.empty()) r.report.recipients.push_back(std::move(rc));
}

// The drafts made Recipients: status, reason and class decided.
void classify_drafts(Reading& r) {
    Report& report = r.report;
    // Each lookup is a pass over the notice; past a few hundred recipients
    // the report fields alone must do.
    if ((report.kind == Kind::Dsn || report.kind == Kind::Ndr) && r.drafts.size() <= kMaxTextLookups) {
        for (auto& d : r.drafts.items())
            if (d.context.empty()) fill_from_text(r.notice.text, d, r.drafts.size());
    }
    report.recipients.reserve(r.drafts.size());
    for (auto& d : r.drafts.items()) {
        report.recipients.push_back(finish(d, report.kind, r.limits));
        Class c = report.recipients.back().klass;
        report.is_bounce |= c == Class::Hard || c == Class::Soft || c == Class::Complaint;
    }
}

Report parse_at(std::string_view message, const Limits& limits, int depth);

// A notice that quotes a whole bounce (a forwarded report) in its text: the
// quoted message read as if it had come to us.
std::optional<Report> read_forwarded(Reading& r, int depth) {
    if (depth > 0 || r.notice.returned.empty()) return std::nullopt;
    Report inner = parse_at(text::trim(r.notice.returned), r.limits, depth + 1);
    if (inner.kind == Kind::None || inner.kind == Kind::AutoReply) return std::nullopt;
    inner.subject = std::move(r.report.subject);
    return inner;
}

// 4. An attached message that is itself a daemon's notice (a list manager's
// "uncaught bounce", a filter that wraps the notices it passes on): the
// attached notice read as if it had come to us. Its To: is the address
// the notice went to, never a recipient of ours.
std::optional<Report> read_attached_notice(Reading& r, int depth) {
    if (depth > 0 || !r.mail.has_original || r.mail.original_raw.empty()) return std::nullopt;
    if (!is_from_daemon(r.mail.original) && header_value(r.mail.original, "X-Failed-Recipients").empty())
        return std::nullopt;
    Report inner = parse_at(r.mail.original_raw, r.limits, depth + 1);
    if (!inner.is_bounce) return std::nullopt;
    inner.subject = std::move(r.report.subject);
    return inner;
}

Report parse_at(std::string_view message, const Limits& limits, int depth) {
    Reading r(message, limits);
    Kind kind = read_complaint(r);
    if (kind == Kind::None) kind = read_status_report(r);
    // A machine-readable part cut by the limit: what it would have said is
    // unknown, and a guess from the notice's wording must not replace it.
    const bool cut = r.report.status_cut;
    if (kind == Kind::None && !cut) kind = read_ses(r);
    if (kind == Kind::None && !cut)
        if (auto inner = read_attached_notice(r, depth)) return std::move(*inner);

    // Postfix's bounce(8) marks its reports "Auto-Submitted: auto-replied"
    // (RFC 3834 §5 asks every automatic response to say so): a report, a
    // daemon's notice or any multipart/report is never a vacation notice,
    // even when none of its recipients can be read.
    const bool status_report = is_delivery_report(r.mail);
    const bool daemon = status_report || is_from_daemon(r.mail) || r.mail.top_type == "multipart/report";
    // Auto-Submitted: auto-replied alone marks bounces too (Exim, Postfix,
    // gateways): a message saying it could not deliver, with the returned
    // message, is read as a notice first.
    const bool returned = r.mail.has_original || !r.notice.returned.empty();
    const bool vacation = is_auto_reply(r.mail)
        && (is_named_auto_reply(r.mail) || !returned || !is_bounce_like(r.mail, r.notice.text));
    if (kind == Kind::None && !cut) {
        if (!is_strong_bounce(r.mail) && !daemon && vacation) {
            kind = Kind::AutoReply;
        } else if (is_bounce_like(r.mail, r.notice.text)) {
            kind = read_notice(r);
            if (kind == Kind::None && !daemon && is_auto_reply(r.mail)) kind = Kind::AutoReply;
            if (kind == Kind::None)
                if (auto inner = read_forwarded(r, depth)) return std::move(*inner);
        }
    }
    // A report with no usable recipient is still a report: the caller keeps
    // it for a human rather than ignoring it.
    if (kind == Kind::None && (status_report || cut)) kind = Kind::Dsn;
    r.report.kind = kind;
    r.report.automatic = std::string(automatic_signal(r.mail));
    if (kind == Kind::AutoReply) read_auto_reply(r);
    else classify_drafts(r);
    return std::move(r.report);
}

}  // namespace

Report parse(std::string_view message, const Limits& limits) {
    try {
        return parse_at(message, limits, 0);
    } catch (const std::bad_alloc&) {
        throw;
    } catch (const std::exception& e) {
        // Only a bug can get here (every scanner is bounds-checked and the
        // fuzz target runs without it): an unreadable report, not a crash,
        // but one that says so.
        logging::warning(logging::Line("dsn").kv("error", e.what()));
    } catch (...) {
        logging::warning(logging::Line("dsn").kv("error", "unknown exception"));
    }
    return Report{};
}

}  // namespace dsn
