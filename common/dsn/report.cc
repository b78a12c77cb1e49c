// report.cc - machine-readable reports: RFC 3464/6533 delivery-status,
// RFC 5965 feedback reports and Amazon SES JSON notifications.
#include <string>
#include <utility>

#include "common/address/address.h"
#include "common/dsn/extract.h"
#include "common/dsn/text.h"

namespace dsn {

namespace {

// One "Name: value" field of a report body with its folded lines joined
// (RFC 3464 §2.1 uses RFC 822 header syntax). A blank line ends a group.
struct Field {
    std::string_view name;
    std::string value;
    bool group_start = false;  // first field after a blank line
};

template <class Fn>
void each_field(std::string_view body, Fn&& fn) {
    std::string_view rest = body, line;
    Field cur;
    bool have = false, blank = true;
    size_t cur_indent = 0;  // of the current field's name: a report quoted indented
    // The body is bounded by Limits::part_text(); so is the number of lines.
    while (text::next_line(rest, line)) {
        if (text::trim(line).empty()) {
            blank = true;
            continue;
        }
        size_t indent = 0;
        while (indent < line.size() && (line[indent] == ' ' || line[indent] == '\t')) ++indent;
        if (indent > cur_indent && have && !blank) {
            if (cur.value.size() < 8192) {
                cur.value += ' ';
                cur.value += text::trim(line);
            }
            continue;
        }
        size_t colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0 || colon > 40) continue;
        std::string_view name = text::trim(line.substr(0, colon));
        if (name.find(' ') != std::string_view::npos) continue;
        if (have) fn(cur);
        cur = Field{name, std::string(text::trim(line.substr(colon + 1))), blank};
        cur_indent = indent;
        have = true;
        blank = false;
    }
    if (have) fn(cur);
}

// "dns; mx.example.net" -> "mx.example.net" (RFC 3464 §2.1.2 mta-name-type).
std::string_view after_type(std::string_view v) {
    size_t semi = v.find(';');
    if (semi != std::string_view::npos && semi < 24) v = v.substr(semi + 1);
    return text::trim(v);
}

Action parse_action(std::string_view v) {
    v = text::trim(v);
    if (text::istarts_with(v, "failed")) return Action::Failed;
    if (text::istarts_with(v, "delayed")) return Action::Delayed;
    if (text::istarts_with(v, "delivered")) return Action::Delivered;
    if (text::istarts_with(v, "relayed")) return Action::Relayed;
    if (text::istarts_with(v, "expanded")) return Action::Expanded;
    return Action::None;
}

struct Building {
    Draft d;
    bool has_final = false, has_orig = false, any = false;
};

// RFC 3464 §2.3.1-2: Original-Recipient is the address as the sender gave
// it, Final-Recipient the one the reporting MTA ended up delivering to. When
// the final one is a host's own name for the mailbox (no domain, a host name
// without a dot, an address literal, an Exchange-wrapped X.500 name, or a
// host inside the original's domain: "jdoe@mailhub", "jdoe@[10.0.0.5]",
// "k.lee@store02.corp.example.net" for "kim.lee@example.net") it is the
// address we sent to that must be suppressed. A final address in another
// domain is an expansion (a list's member): it stays the recipient.
bool prefer_original(std::string_view final_rcpt, std::string_view original) {
    if (original.empty()) return false;
    if (final_rcpt.empty()) return true;
    auto fd = address::domain_of(final_rcpt);
    auto od = address::domain_of(original);
    if (!fd || !od) return !fd && od;
    if (is_site_internal(final_rcpt) || (fd->is_literal() && !od->is_literal())) return true;
    const std::string& f = fd->str();
    const std::string& o = od->str();
    return f.size() > o.size() && f.ends_with(o) && f[f.size() - o.size() - 1] == '.';
}

void finish(Building& b, Drafts& out, size_t& added) {
    if (!b.any) return;
    Draft& d = b.d;
    if (prefer_original(d.address, d.alias)) std::swap(d.address, d.alias);
    if (text::iequals(d.address, d.alias)) d.alias.clear();
    if (d.address.empty() && b.has_final) out.add_unnamed(std::move(d));
    else if (!d.address.empty() && out.add(std::move(d))) ++added;
    b = Building{};
}

// A body cut by a limit without its last record: what follows the last
// blank line may have lost fields or half an address.
std::string_view whole_records(std::string_view body) noexcept {
    // A blank line at the very end does not prove the record before it whole.
    while (!body.empty() && text::is_space(body.back())) body.remove_suffix(1);
    size_t end = 0;
    std::string_view rest = body, line;
    while (text::next_line(rest, line))
        if (text::trim(line).empty()) end = static_cast<size_t>(line.data() - body.data());
    return body.substr(0, end);
}

}  // namespace

bool is_host_local(const address::Domain& d) noexcept {
    return !d.is_literal() && d.str().find('.') == std::string::npos;
}

bool Drafts::readdress(size_t i, std::string a) {
    std::string key = text::to_lower(a);
    if (index_.count(key)) return false;
    Draft& d = items_[i];
    index_.erase(text::to_lower(d.address));
    index_.emplace(std::move(key), i);
    d.alias = std::exchange(d.address, std::move(a));
    return true;
}

bool is_site_internal(std::string_view addr) {
    auto a = address::parse_mailbox(addr);
    if (!a) return true;
    return is_host_local(a->domain()) || text::istarts_with(a->local(), "imcea");
}

std::string_view whole_lines(std::string_view text, bool cut) noexcept {
    if (!cut) return text;
    size_t nl = text.rfind('\n');
    return nl == std::string_view::npos ? std::string_view{} : text.substr(0, nl + 1);
}

bool Drafts::add(Draft d) {
    if (d.address.empty()) return false;
    std::string key = text::to_lower(d.address);
    if (auto it = index_.find(key); it != index_.end()) {
        Draft& x = items_[it->second];
        if (x.status.empty()) x.status = std::move(d.status);
        if (x.reply_code.empty()) x.reply_code = std::move(d.reply_code);
        if (x.diagnostic.empty()) x.diagnostic = std::move(d.diagnostic);
        if (x.remote_mta.empty()) x.remote_mta = std::move(d.remote_mta);
        if (x.alias.empty()) x.alias = std::move(d.alias);
        if (x.action == Action::None) x.action = d.action;
        return false;
    }
    if (items_.size() >= max_) return false;
    index_.emplace(std::move(key), items_.size());
    items_.push_back(std::move(d));
    return true;
}

// RFC 3464 §2.2 per-message and §2.3 per-recipient fields; RFC 6533 §3 uses
// the same names with UTF-8 values.
size_t read_delivery_status(std::string_view body, bool cut, Drafts& out, std::string& reporting_mta) {
    if (cut) body = whole_records(body);
    size_t added = 0;
    Building b;
    each_field(body, [&](const Field& f) {
        std::string_view n = f.name;
        if (f.group_start && b.has_final) finish(b, out, added);
        if (text::iequals(n, "Reporting-MTA")) {
            if (reporting_mta.empty()) reporting_mta = after_type(f.value);
        } else if (text::iequals(n, "Final-Recipient")) {
            if (b.has_final) finish(b, out, added);
            b.d.address = text::mailbox(f.value);
            b.has_final = b.any = true;
        } else if (text::iequals(n, "Original-Recipient")) {
            if (b.has_orig || (b.has_final && b.d.action != Action::None)) finish(b, out, added);
            b.d.alias = text::mailbox(f.value);
            b.has_orig = b.any = true;
        } else if (text::iequals(n, "Action")) {
            b.d.action = parse_action(f.value);
        } else if (text::iequals(n, "Status")) {
            b.d.status = std::string(text::find_status(f.value));
        } else if (text::iequals(n, "Diagnostic-Code")) {
            b.d.diagnostic = std::string(after_type(f.value));
        } else if (text::iequals(n, "Remote-MTA")) {
            b.d.remote_mta = std::string(after_type(f.value));
        }
    });
    if (b.has_final || b.has_orig) finish(b, out, added);
    return added;
}

// RFC 5965 §3.1 / §3.2.
size_t read_feedback_report(std::string_view body, const Mail& mail, Drafts& out,
                            std::string& feedback_type, std::string& reporting_mta) {
    std::vector<std::string> rcpt, removal;
    each_field(body, [&](const Field& f) {
        if (text::iequals(f.name, "Feedback-Type")) {
            if (feedback_type.empty()) feedback_type = text::to_lower(text::trim(f.value));
        } else if (text::iequals(f.name, "Original-Rcpt-To")) {
            rcpt.push_back(text::mailbox(f.value));
        } else if (text::iequals(f.name, "Removal-Recipient")) {
            removal.push_back(text::mailbox(f.value));
        } else if (text::iequals(f.name, "Reporting-MTA")) {
            if (reporting_mta.empty()) reporting_mta = after_type(f.value);
        }
    });
    size_t added = 0;
    auto take = [&](const std::vector<std::string>& list) {
        for (const auto& a : list) {
            Draft d;
            d.address = a;
            if (out.add(std::move(d))) ++added;
        }
    };
    take(removal);
    if (added == 0) take(rcpt);
    if (added == 0 && mail.has_original) {
        // Microsoft JMRP names the complainer in its own header.
        std::vector<std::string> fallback;
        for (std::string_view name : {"X-HmXmrOriginalRecipient", "To", "Cc"}) {
            std::string_view v = header_value(mail.original, name);
            for (const auto& f : text::all_addresses(v))
                fallback.push_back(text::mailbox(f.addr));
            if (!fallback.empty()) break;
        }
        take(fallback);
    }
    return added;
}

namespace {

// The string value of "key" in a JSON text, unescaped; "" when absent.
std::string json_string(std::string_view json, std::string_view key, size_t* end = nullptr) {
    std::string quoted = "\"" + std::string(key) + "\"";
    size_t k = json.find(quoted);
    if (k == std::string_view::npos) return {};
    size_t i = k + quoted.size();
    while (i < json.size() && (json[i] == ' ' || json[i] == ':')) ++i;
    if (i >= json.size() || json[i] != '"') return {};
    std::string out;
    for (++i; i < json.size() && json[i] != '"' && out.size() < 4096; ++i) {
        if (json[i] == '\\' && i + 1 < json.size()) ++i;
        out += json[i];
    }
    if (i >= json.size()) return {};  // no closing quote: cut by a limit
    if (end) *end = i;
    return out;
}

// The text between the '[' after "key" and its ']' (flat arrays of objects).
std::string_view json_array(std::string_view json, std::string_view key) {
    std::string quoted = "\"" + std::string(key) + "\"";
    size_t k = json.find(quoted);
    if (k == std::string_view::npos) return {};
    size_t open = json.find('[', k);
    size_t close = open == std::string_view::npos ? open : json.find(']', open);
    if (close == std::string_view::npos) return {};
    return json.substr(open + 1, close - open - 1);
}

}  // namespace

namespace {

// SES "bounce": bouncedRecipients[] objects, Permanent or Transient.
void ses_bounce(const std::string& json, Drafts& out, size_t& added) {
    bool transient = text::iequals(json_string(json, "bounceType"), "Transient");
    std::string_view arr = json_array(json, "bouncedRecipients");
    for (size_t pos = 0; pos < arr.size();) {
        size_t open = arr.find('{', pos), close = arr.find('}', open);
        if (open == std::string_view::npos || close == std::string_view::npos) break;
        std::string_view obj = arr.substr(open, close - open + 1);
        Draft d;
        d.address = text::mailbox(json_string(obj, "emailAddress"));
        d.status = std::string(text::find_status(json_string(obj, "status")));
        d.diagnostic = std::string(after_type(json_string(obj, "diagnosticCode")));
        d.action = transient ? Action::Delayed : Action::Failed;
        if (auto a = parse_action(json_string(obj, "action")); a != Action::None) d.action = a;
        if (out.add(std::move(d))) ++added;
        pos = close + 1;
    }
}

// SES "complaint": complainedRecipients[] and the feedback type.
void ses_complaint(const std::string& json, Drafts& out, std::string& feedback_type, size_t& added) {
    feedback_type = text::to_lower(json_string(json, "complaintFeedbackType"));
    if (feedback_type.empty()) feedback_type = "abuse";
    for (const auto& f : text::all_addresses(json_array(json, "complainedRecipients"))) {
        Draft d;
        d.address = text::mailbox(f.addr);
        if (out.add(std::move(d))) ++added;
    }
}

// SES "delivery": delivery.recipients[] and the one smtpResponse.
void ses_delivery(const std::string& json, Drafts& out, size_t& added) {
    size_t dl = json.find("\"delivery\"");
    std::string_view part = dl == std::string::npos ? std::string_view(json) : std::string_view(json).substr(dl);
    std::string response = json_string(part, "smtpResponse");
    for (const auto& f : text::all_addresses(json_array(part, "recipients"))) {
        Draft d;
        d.address = text::mailbox(f.addr);
        d.action = Action::Delivered;
        d.status = std::string(text::find_status(response));
        d.diagnostic = response;
        if (out.add(std::move(d))) ++added;
    }
}

}  // namespace

size_t read_ses_json(std::string_view body, Drafts& out, Kind& kind, std::string& feedback_type) {
    kind = Kind::None;
    size_t nt = body.find("notificationType");
    if (nt == std::string_view::npos) return 0;
    // SNS wraps the SES JSON as an escaped string in its own "Message" field.
    std::string json;
    json.reserve(body.size() - nt);
    for (size_t i = nt > 2 ? nt - 2 : 0; i < body.size(); ++i) {
        if (body[i] == '\\' && i + 1 < body.size() && (body[i + 1] == '"' || body[i + 1] == '\\')) ++i;
        json += body[i];
    }
    std::string type = json_string(json, "notificationType");
    size_t added = 0;
    if (text::iequals(type, "Bounce")) {
        kind = Kind::Dsn;
        ses_bounce(json, out, added);
    } else if (text::iequals(type, "Complaint")) {
        kind = Kind::Arf;
        ses_complaint(json, out, feedback_type, added);
    } else if (text::iequals(type, "Delivery")) {
        kind = Kind::Dsn;
        ses_delivery(json, out, added);
    }
    return added;
}

}  // namespace dsn
