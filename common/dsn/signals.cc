// signals.cc - what kind of message this is, and where its notice ends
#include <algorithm>
#include <array>

#include "common/dsn/extract.h"
#include "common/dsn/text.h"

namespace dsn {

namespace {

// Phrases that open the copy of the returned message inside a notice,
// matched at the start of a line stripped of decoration ("----- ... -----").
constexpr std::string_view kReturnedMarkers[] = {
    "below this line is a copy of the message",
    "this is a copy of the message",
    "a copy of the original message",
    "copy of the original message",
    "original message follows",
    "original message header",
    "original message -",
    "original message:",
    "original message",
    "message headers follow",
    "the header of the original message",
    "headers of the original message",
    "the original message headers",
    "header of the message",
    "headers of your message",
    "returned message",
    "unsent message below",
    "undelivered message",
    "message text follows",
    "original mail",
    "text of the original message",
    "content of the original message",
    "this is the original message",
    "your message reads",
    "ursprüngliche nachricht",
    "original-nachricht",
    "the first 100 lines",
    "message header follows",
    "undeliverable message follows",
    "included is a copy of the message",
    "enclosed are the original headers",
    "below is a copy of the message",
    "below is the original message",
    "this is a copy of your message",
};

// Header names that, at the start of a line, begin a quoted message.
constexpr std::string_view kQuotedHeaders[] = {
    "received:", "return-path:", "dkim-signature:", "x-received:", "delivered-to:",
    "authentication-results:", "arc-seal:", "x-original-to:", "message-id:",
};

// Which bytes open one of phrases, lowered: a line that opens with another
// is none of them, without comparing each.
template <size_t N>
constexpr std::array<bool, 256> first_bytes(const std::string_view (&phrases)[N]) {
    std::array<bool, 256> opens{};
    for (auto p : phrases) opens[static_cast<unsigned char>(text::lower(p[0]))] = true;
    return opens;
}

bool may_open(const std::array<bool, 256>& opens, std::string_view s) {
    return !s.empty() && opens[static_cast<unsigned char>(text::lower(s[0]))];
}

constexpr auto kMarkerFirst = first_bytes(kReturnedMarkers);
constexpr auto kQuotedHeaderFirst = first_bytes(kQuotedHeaders);

bool is_decoration(char c) {
    return text::is_space(c) || c == '-' || c == '=' || c == '*' || c == '_' || c == '|'
        || c == '#' || c == '[' || c == ']' || c == '<' || c == '>' || c == '~';
}

std::string_view undecorate(std::string_view s) {
    while (!s.empty() && is_decoration(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_decoration(s.back())) s.remove_suffix(1);
    return s;
}

bool is_marker(std::string_view line) {
    std::string_view t = undecorate(line);
    if (t.size() > 90 || !may_open(kMarkerFirst, t)) return false;
    for (auto m : kReturnedMarkers)
        if (text::istarts_with(t, m)) return true;
    return false;
}

bool is_quoted_header(std::string_view line) {
    if (!may_open(kQuotedHeaderFirst, line)) return false;
    for (auto h : kQuotedHeaders)
        if (text::istarts_with(line, h)) return true;
    return false;
}

// Appends the notice part of one text to n; true when the returned message
// started in it (the caller stops reading further parts).
// Fields every message has, which a notice's own text does not open a
// line with three times in a row.
constexpr std::string_view kMessageFields[] = {
    "from", "to", "cc", "subject", "date", "message-id", "reply-to", "sender", "mime-version",
    "content-type", "content-transfer-encoding", "x-mailer", "references", "in-reply-to",
    "list-id", "list-unsubscribe", "precedence", "user-agent",
};

constexpr auto kMessageFieldFirst = first_bytes(kMessageFields);

bool is_message_field(std::string_view line) {
    if (!may_open(kMessageFieldFirst, line)) return false;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon > 30) return false;
    std::string_view name = line.substr(0, colon);
    for (auto f : kMessageFields)
        if (text::iequals(name, f)) return true;
    return false;
}

// RFC 5322 §2.2: a returned message's header block quoted without a
// marker, known by three message fields (folded lines between them
// allowed) at the start of a line, the first one at this line.
bool starts_header_block(std::string_view line, std::string_view rest) {
    if (!is_message_field(line)) return false;
    int fields = 1;
    std::string_view next;
    for (int n = 0; n < 12 && fields < 3 && text::next_line(rest, next); ++n) {
        if (!next.empty() && (next[0] == ' ' || next[0] == '\t')) continue;
        if (!is_message_field(next)) return false;
        ++fields;
    }
    return fields >= 3;
}

// A text part that starts with a returned message's header block.
bool opens_with_header_block(std::string_view body) {
    std::string_view rest = body, first;
    if (!text::next_line(rest, first)) return false;
    return is_quoted_header(first) || starts_header_block(first, rest);
}

bool append_notice(std::string_view body, Notice& n, size_t limit) {
    std::string_view rest = body, line;
    const char* start = body.data();
    while (text::next_line(rest, line)) {
        bool marker = is_marker(line);
        if (marker || is_quoted_header(line) || starts_header_block(line, rest)) {
            size_t cut = static_cast<size_t>(line.data() - start);
            n.text.append(body.substr(0, cut));
            std::string_view after = marker ? rest : body.substr(cut);
            n.returned.assign(whole_lines(after.substr(0, std::min(after.size(), limit)), after.size() > limit));
            return true;
        }
    }
    n.text.append(body);
    n.text += '\n';
    return false;
}

}  // namespace

bool is_from_daemon(const Mail& mail) { return is_from_daemon(mail.headers); }

bool is_from_daemon(const Headers& headers) {
    std::string_view from = header_value(headers, "From");
    return text::icontains(from, "mailer-daemon") || text::icontains(from, "mailer_daemon")
        || text::icontains(from, "mailerdaemon") || text::icontains(from, "mail-daemon")
        || text::icontains(from, "postmaster") || text::icontains(from, "post_master")
        || text::icontains(from, "mail delivery") || text::icontains(from, "mail administrator")
        // Exchange 2007 and later send their reports from this fixed mailbox.
        || text::icontains(from, "microsoftexchange329e71ec88ae4615bbc36ab6ce41109e");
}

namespace {

constexpr std::string_view kBounceSubjects[] = {
    "undeliver", "undelivered", "delivery status notification", "delivery failure",
    "failure notice", "failure delivery", "returned mail", "mail delivery failed",
    "delivery failed", "delivery has failed", "could not be delivered", "not delivered",
    "nicht zustellbar", "unzustellbar", "nicht zugestellt", "non remis", "delivery problem",
    "mail system error", "warning: could not send", "delayed mail", "delivery delayed",
    "delivery notification", "delivery report", "returned to sender", "mail failure",
    "delivery error", "message delivery", "failed delivery", "bounce", "rejected", "warning: message",
    "unable to deliver", "zustellung fehlgeschlagen", "fehlgeschlagen", "delivery failure",
    "non-delivery", "nondelivery", "delivery incomplete", "error sending message",
    // Exchange's localised "Undeliverable:" and similar fixed subjects.
    "non remis", "non-remise", "no se puede entregar", "no entregado", "recapito non riuscito",
    "mancato recapito", "non recapitabile", "onbestelbaar", "niet bezorgd", "não entregue",
    "não é possível entregar", "olevererbart", "kan inte levereras", "kan ikke leveres",
    "ikke leveret", "ei voitu toimittaa", "niedostarczalne", "nie można dostarczyć",
    "nedoručitelné", "е доставлено", "едоставлен", "е удается доставить", "配信不能",
    "配送できません", "退信", "无法送达", "未送达", "無法傳遞",
};

constexpr std::string_view kBouncePhrases[] = {
    "could not be delivered", "couldn't be delivered", "not be delivered", "undeliverable",
    "delivery failed", "delivery has failed", "failed permanently", "permanent error",
    "permanent fatal", "was not delivered", "wasn't able to deliver", "unable to deliver",
    "delivery to the following", "error delivering", "did not like our", "following address",
    "following recipient", "could not deliver", "delivery problem", "nicht zugestellt",
    "nicht zustellbar", "unzustellbar", "konnte nicht", "fehlgeschlagen",
    "failed to deliver", "not delivered to", "rejected by", "mail delivery software",
    "delivery attempts will continue", "has not yet been delivered", "message was not sent",
    "user unknown", "no such user", "mailbox unavailable", "mailbox full", "rcpt to",
    "transcript of session", "failure notice", "delivery status",
    "unknown user", "failed addresses", "addresses had permanent", "non-deliverable",
    "n'a pas pu être remis", "no se pudo entregar", "non è stato recapitato", "niet worden afgeleverd",
    "não foi possível entregar", "не может быть доставлено", "не удалось доставить", "не доставлено",
    "配信できませんでした", "配送できませんでした", "无法投递", "无法送达", "退信",
};

}  // namespace

Notice notice_text(const Mail& mail, size_t limit) {
    Notice n;
    // An HTML notice gives way to a plain one: its alternative, or a plain
    // part before it; not a plain attachment after it.
    bool any_plain = false, before_html = true;
    for (const auto& p : mail.parts) {
        if (p.type == "text/html") before_html = false;
        if (p.type == "text/plain" && !p.text().empty() && (before_html || p.alternative)) any_plain = true;
    }
    for (const auto& p : mail.parts) {
        if (n.text.size() >= limit) break;
        if (p.type == "message/rfc822" || p.type == "message/global" || p.type == "text/rfc822-headers"
            || p.type == "message/global-headers")
            break;
        bool plain = p.type == "text/plain" || (p.type == "text/enriched");
        bool html = p.type == "text/html";
        if (!(plain || (html && !any_plain))) continue;
        std::string converted;
        std::string_view body = whole_lines(p.text(), p.cut());
        bool body_cut = p.cut();
        if (html) {
            converted = text::html_to_text(body);
            body = converted;
        }
        // A text part that is itself a header block is the returned message.
        if (!n.text.empty() && opens_with_header_block(text::trim(body))) {
            n.returned.assign(whole_lines(body.substr(0, std::min(body.size(), limit)), body.size() > limit));
            break;
        }
        // Any other text after the notice is the returned message's body, or
        // an attachment of it: never read for recipients.
        if (!text::trim(n.text).empty()) continue;
        // A line cut by the limit is not read: it may end in half an address.
        const size_t room = limit - n.text.size();
        if (body.size() > room) {
            body = whole_lines(body.substr(0, room), true);
            body_cut = true;
        }
        if (append_notice(body, n, limit)) break;  // ends at the returned message
        n.cut |= body_cut;
        if (html) break;
    }
    return n;
}

namespace {

constexpr std::string_view kAutoReplySubjects[] = {
    "out of office", "out of the office", "abwesenheit", "automatische antwort",
    "autoreply", "auto-reply", "auto reply", "automatic reply", "autorespon", "auto-respon",
    "auto respon", "vacation", "réponse automatique", "away from", "abwesend",
    "automatic response", "automatische benachrichtigung"};

// Offset of the first of words in s, npos for none.
template <size_t N>
size_t first_of(std::string_view s, const std::string_view (&words)[N]) {
    size_t first = std::string_view::npos;
    for (auto w : words) first = std::min(first, text::ifind(s, w));
    return first;
}

// A bounce's subject; not an auto-reply's that quotes ours ("Automatic
// reply: Your parcel could not be delivered"): its own words come first.
bool bounce_subject(const Mail& mail) {
    std::string_view subject = header_value(mail.headers, "Subject");
    size_t bounce = first_of(subject, kBounceSubjects);
    return bounce != std::string_view::npos && bounce < first_of(subject, kAutoReplySubjects);
}

}  // namespace

bool is_strong_bounce(const Mail& mail) {
    return !header_value(mail.headers, "X-Failed-Recipients").empty() || is_from_daemon(mail)
        || bounce_subject(mail);
}

// A daemon's notice, or a bounce-like subject or wording backed by other
// evidence (null sender, RFC 3834 header, a returned message): a person's
// mail about "rejected" applications is not read as a bounce.
bool is_bounce_like(const Mail& mail, std::string_view notice) {
    if (!header_value(mail.headers, "X-Failed-Recipients").empty() || is_from_daemon(mail)) return true;
    bool phrase = false;
    for (auto p : kBouncePhrases)
        if (text::icontains(notice, p)) { phrase = true; break; }
    std::string_view rp = header_value(mail.headers, "Return-Path");
    // A mailbox stores the null reverse path as "<>", or as old Sendmail
    // delivered its own bounces, "<MAILER-DAEMON>".
    bool null_sender = text::trim(rp) == "<>" || text::icontains(rp, "mailer-daemon");
    bool auto_sub = !header_value(mail.headers, "Auto-Submitted").empty();
    bool backed = null_sender || auto_sub || mail.has_original;
    if (bounce_subject(mail)) return phrase || backed;
    return phrase && backed;
}

bool is_auto_reply(const Mail& mail) {
    std::string_view as = header_value(mail.headers, "Auto-Submitted");
    return text::istarts_with(text::trim(as), "auto-replied") || is_named_auto_reply(mail);
}

bool is_named_auto_reply(const Mail& mail) {
    for (std::string_view h : {"X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Mail-Autoreply",
                               "X-Vacation", "X-Autoreply-From"})
        if (!header_value(mail.headers, h).empty()) return true;
    if (text::iequals(text::trim(header_value(mail.headers, "Precedence")), "auto_reply")) return true;
    return first_of(header_value(mail.headers, "Subject"), kAutoReplySubjects) != std::string_view::npos;
}

std::string_view automatic_signal(const Mail& mail) {
    // RFC 3834 3.1.7: "no" is the one value a person's mail carries.
    const std::string_view as = text::trim(header_value(mail.headers, "Auto-Submitted"));
    if (!as.empty() && !text::istarts_with(as, "no")) return "auto-submitted";
    const std::string_view prec = text::trim(header_value(mail.headers, "Precedence"));
    for (std::string_view p : {"bulk", "junk", "list", "auto_reply"})
        if (text::iequals(prec, p)) return "precedence";
    if (is_named_auto_reply(mail)) return "autoreply";
    for (std::string_view h : {"List-Id", "List-Post", "List-Unsubscribe"})
        if (!header_value(mail.headers, h).empty()) return "list";
    if (is_from_daemon(mail)) return "daemon";
    return {};
}

bool is_delay_notice(const Mail& mail, std::string_view notice) {
    std::string_view subject = header_value(mail.headers, "Subject");
    constexpr std::string_view kSubject[] = {"delayed", "delay", "warning:", "verzögert",
                                             "verzoegert", "still trying", "not yet delivered"};
    for (auto w : kSubject)
        if (text::icontains(subject, w)) return true;
    constexpr std::string_view kText[] = {
        "delivery attempts will continue", "has not yet been delivered", "will continue to try",
        "will keep trying", "still trying", "not yet been delivered", "will be retried",
        "will retry", "wird weiterhin versucht", "noch nicht zugestellt"};
    for (auto w : kText)
        if (text::icontains(notice, w)) return true;
    return false;
}

}  // namespace dsn
