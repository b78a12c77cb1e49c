// classify.cc - reason and class of one recipient's outcome (see classify.h)
#include "common/dsn/classify.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/dsn/reason_table.h"
#include "common/dsn/text.h"

namespace dsn {

namespace {

struct Code {
    int klass = 0, subject = -1, detail = -1;
};

std::optional<Code> split_status(std::string_view s) noexcept {
    if (!text::is_status(s)) return std::nullopt;
    Code c;
    c.klass = s[0] - '0';
    c.subject = s[2] - '0';
    c.detail = 0;
    for (size_t i = 4; i < s.size(); ++i) c.detail = c.detail * 10 + (s[i] - '0');
    return c;
}

// RFC 3463 §3 subjects and details, RFC 7505 (null MX), RFC 7372 (auth).
std::optional<Reason> by_code(const Code& c) noexcept {
    using R = Reason;
    switch (c.subject) {
    case 1:  // addressing
        switch (c.detail) {
        case 0: case 1: case 3: case 4: return R::UserUnknown;
        case 2: return R::HostUnknown;
        case 6: return R::HasMoved;
        case 7: case 8: return R::Blocked;  // our sender was refused
        case 10: return R::NotAccept;       // recipient domain has a null MX
        default: return std::nullopt;
        }
    case 2:  // mailbox
        switch (c.detail) {
        case 1: return R::Suspend;
        case 2: return R::MailboxFull;
        case 3: return R::MesgTooBig;
        case 4: return R::SystemError;
        default: return std::nullopt;
        }
    case 3:  // mail system
        switch (c.detail) {
        case 4: return R::MesgTooBig;
        case 0: case 1: case 2: case 3: case 5: return R::SystemError;
        default: return std::nullopt;
        }
    case 4:  // network and routing
        switch (c.detail) {
        case 7: return R::Expired;
        case 0: case 1: case 2: case 3: case 4: case 5: case 6: return R::NetworkError;
        default: return std::nullopt;
        }
    case 5:  // protocol
        switch (c.detail) {
        case 3: return R::RateLimited;
        case 0: return std::nullopt;
        default: return R::SyntaxError;
        }
    case 6:  // content
        return R::ContentError;
    case 7:  // security and policy
        switch (c.detail) {
        case 1: return R::Blocked;
        case 2: return R::PolicyViolation;
        case 13: return R::Suspend;
        case 25: return R::Blocked;
        case 27: return R::Blocked;
        case 28: return R::RateLimited;
        case 0: return std::nullopt;
        default: return R::SecurityError;
        }
    default:
        return std::nullopt;
    }
}

bool is_hard_reason(Reason r) noexcept {
    return r == Reason::UserUnknown || r == Reason::HostUnknown || r == Reason::HasMoved
        || r == Reason::NotAccept;
}

// The remote host refused our envelope sender, not the recipient (RFC 5321
// §3.3: a MAIL reply concerns the reverse-path).
bool refused_mail_from(std::string_view t) noexcept {
    return text::icontains(t, "after mail from") || text::icontains(t, "reply to mail from")
        || text::icontains(t, "reply to mail command");
}

// The recipient was accepted at RCPT and refused only after DATA: the
// content was refused (a filter), whatever the wording says.
bool refused_after_data(std::string_view t) noexcept {
    return text::icontains(t, "end of data")
        || text::icontains(t, "data command") || text::icontains(t, "command data")
        || text::icontains(t, "reply to data");
}

// The reply answered RCPT TO (RFC 5321 §4.1.1.3): the wording of the
// MTAs that say which command failed ("in reply to RCPT TO command",
// "after RCPT TO:", ">>> RCPT TO:", qmail's "does not like recipient"),
// and Postfix's "Recipient address rejected", an smtpd restriction that
// runs only at RCPT.
bool replied_to_rcpt(std::string_view t) noexcept {
    for (size_t at = text::ifind(t, "rcpt"); at != std::string_view::npos; at = text::ifind(t, "rcpt", at + 4))
        if (at == 0 || !text::is_alnum(t[at - 1])) return true;  // not "ORCPT"
    return text::icontains(t, "recipient address rejected") || text::icontains(t, "does not like recipient");
}

// Connection time-outs, which kReasonRules reads as the queue giving up.
bool timed_out(std::string_view t) noexcept {
    return text::icontains(t, "timed out") || text::icontains(t, "did not accept our requests to connect");
}

}  // namespace

std::optional<Reason> reason_from_status(std::string_view status) noexcept {
    auto c = split_status(status);
    if (!c) return std::nullopt;
    if (c->klass == 2) return Reason::Delivered;
    return by_code(*c);
}

namespace {

// kReasonRules indexed by their first two bytes, so one pass over the text
// finds every rule that matches while trying at each position only the
// rules that start with the two bytes there (the lowest row number wins, as
// in the table). Every pattern has at least two bytes (test_dsn_text checks).
// The pairs are hashed into kBuckets lists laid out in one array: bucket b
// holds rows[start[b]] .. rows[start[b + 1]], each in table order.
class RuleIndex {
public:
    RuleIndex() {
        std::vector<uint16_t> count(kBuckets, 0);
        for (const auto& rule : kReasonRules) ++count[bucket(rule.pattern[0], rule.pattern[1])];
        for (size_t b = 0; b < kBuckets; ++b) start_[b + 1] = static_cast<uint16_t>(start_[b] + count[b]);
        rows_.resize(kReasonRules.size());
        std::vector<uint16_t> fill(start_.begin(), start_.end() - 1);
        for (size_t i = 0; i < kReasonRules.size(); ++i)
            rows_[fill[bucket(kReasonRules[i].pattern[0], kReasonRules[i].pattern[1])]++] = static_cast<uint16_t>(i);
    }
    // The rows whose pattern may start with the bytes a, b, in table order.
    std::span<const uint16_t> candidates(char a, char b) const noexcept {
        size_t k = bucket(a, b);
        return std::span<const uint16_t>(rows_).subspan(start_[k], start_[k + 1] - start_[k]);
    }

private:
    static constexpr size_t kBuckets = 1024;
    static size_t bucket(char a, char b) noexcept {
        return (static_cast<unsigned char>(a) * 31u + static_cast<unsigned char>(b)) % kBuckets;
    }
    std::array<uint16_t, kBuckets + 1> start_{};
    std::vector<uint16_t> rows_;
};

const RuleIndex& rule_index() {
    static const RuleIndex index;  // C++11 guarantees thread-safe initialisation
    return index;
}

}  // namespace

std::optional<Reason> reason_from_text(std::string_view diagnostic) {
    if (diagnostic.empty()) return std::nullopt;
    char buf[kReasonTextBytes];  // the text read, lowered
    const size_t n = std::min(diagnostic.size(), kReasonTextBytes);
    for (size_t i = 0; i < n; ++i) buf[i] = text::lower(diagnostic[i]);
    const std::string_view low(buf, n);
    const RuleIndex& index = rule_index();
    size_t best = kReasonRules.size();
    for (size_t i = 0; i + 1 < n && best > 0; ++i) {
        for (uint16_t r : index.candidates(low[i], low[i + 1])) {
            if (r >= best) break;  // candidates are in table order
            if (low.substr(i).starts_with(kReasonRules[r].pattern)) {
                best = r;
                break;
            }
        }
    }
    if (best == kReasonRules.size()) return std::nullopt;
    return kReasonRules[best].reason;
}

Reason decide_reason(const Evidence& e) {
    if (e.action == Action::Delivered || e.action == Action::Relayed || e.action == Action::Expanded)
        return Reason::Delivered;
    auto code = split_status(e.status);
    if (code && code->klass == 2) return Reason::Delivered;
    // Codes about our sender outrank any wording about addresses.
    if (code && code->subject == 1 && (code->detail == 7 || code->detail == 8)) return Reason::Blocked;
    std::optional<Reason> r = reason_from_text(e.diagnostic);
    // RFC 7504: 521/556 "does not accept mail".
    if (!r && (e.reply_code == "521" || e.reply_code == "556")) r = Reason::NotAccept;
    if (!r) r = reason_from_status(e.status);
    // The notice's text around the recipient, then the whole notice; a text
    // read already says nothing new (fill_from_text() makes the block the
    // diagnostic when the notice quotes none).
    if (!r && e.context != e.diagnostic) r = reason_from_text(e.context);
    if (!r && e.hint != e.context && e.hint != e.diagnostic) r = reason_from_text(e.hint);
    Reason out = r.value_or(Reason::Undefined);
    // A refusal of our MAIL FROM that names no other cause refused the sender.
    if (out == Reason::Undefined && (refused_mail_from(e.diagnostic) || refused_mail_from(e.context)))
        return Reason::Blocked;
    // A time-out in a delay warning (RFC 3464 action "delayed") is a network
    // error the queue is still retrying; only a final failure, or a code
    // saying so (X.4.7 delivery time expired), means the message expired.
    if (out == Reason::Expired && e.action == Action::Delayed && timed_out(e.diagnostic)
        && !(code && code->subject == 4 && code->detail == 7))
        return Reason::NetworkError;
    // "Host not found" with a transient code (RFC 3463 class 4) is a DNS
    // failure that may pass, not a domain known not to exist.
    if (out == Reason::HostUnknown && code && code->klass == 4) return Reason::NetworkError;
    if (!is_hard_reason(out)) return out;
    // A mailbox-status code (RFC 3463 X.2.0 undefined, X.2.2 full, X.2.3
    // too big) says the mailbox exists. (X.2.1 "disabled" is used loosely
    // for unknown users at RCPT, so it is weighed against the wording below.)
    if (code && code->subject == 2 && (code->detail == 0 || code->detail == 2 || code->detail == 3))
        return code->detail == 0 ? Reason::Filtered : by_code(*code).value_or(Reason::Filtered);
    if (refused_mail_from(e.diagnostic) || refused_mail_from(e.context)) return Reason::Blocked;
    if (refused_after_data(e.diagnostic) || refused_after_data(e.context)) return Reason::Filtered;
    // "User unknown" under a code that names another cause, when the reply
    // did not answer RCPT TO (the address check itself): X.2.1 says the
    // mailbox exists but is disabled (RFC 3463 §3.3), X.7.y that a policy
    // refused the message (§3.8), so a filter answered with canned text.
    const bool disabled = code && code->subject == 2 && code->detail == 1;
    if (out == Reason::UserUnknown && code && (disabled || code->subject == 7)
        && !replied_to_rcpt(e.diagnostic) && !replied_to_rcpt(e.context))
        return disabled ? Reason::Suspend : Reason::Filtered;
    return out;
}

Class class_for(Reason reason, std::string_view status, Action action) {
    switch (reason) {
    case Reason::Feedback: return Class::Complaint;
    case Reason::Vacation: return Class::AutoReply;
    case Reason::Delivered: return Class::Other;
    default: break;
    }
    if (action == Action::Delivered || action == Action::Relayed || action == Action::Expanded)
        return Class::Other;
    if (!status.empty() && status[0] == '2') return Class::Other;
    if (!is_hard_reason(reason) || action == Action::Delayed) return Class::Soft;
    if (!status.empty()) return status[0] == '5' ? Class::Hard : Class::Soft;
    return Class::Hard;  // failed, no code: the wording said the address is bad
}

}  // namespace dsn
