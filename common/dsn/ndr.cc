// ndr.cc - recipients and diagnostics from the text of non-standard notices
//
// MTAs that send no RFC 3464 report still follow a few layouts:
//   - the failed address opens a line, alone or followed by ':' or the error
//     (qmail "<a@b>:", Exim "  a@b", Gmail, Domino, Exchange, Postfix,
//     Sendmail "<a@b>... User unknown", T-Online " <a@b>... unknown user"),
//     also after a display name or a type ("Pat Smith <a@b> on <date>",
//     "'SMTP:a@b'", legacy Exchange), and more on the same line ("a@b, c@d");
//   - a labelled line ("Recipient: <a@b>", "RCPT TO:<a@b>", "Empfänger: a@b");
//   - a sentence ("error delivering your mail to <a@b>", "an a@b").
// The text that follows an address, up to the next one, is its diagnostic.
//
// Which addresses are the recipients, first non-empty choice wins:
//   1. addresses that open a line (not the sender's) and are named by
//      X-Failed-Recipients (Exim, Gmail), when it names any of them;
//   2. addresses that open a line (not the sender's);
//   3. X-Failed-Recipients;
//   4. labelled lines, then sentences (not the sender's);
//   5. line-opening addresses even if they are the sender's (mail to self);
//   6. an address of the returned To:/Cc: whose local part opens a line
//      (systems that name the mailbox only: GroupWise);
//   7. the To: of the returned message, when it names one mailbox, no Cc:,
//      and no list server distributed it.
// Never recipients: the notice's author (From:), role addresses
// (postmaster, mailer-daemon), fields naming the sender or a message
// (From:, Sender:, References:, ... with their folded lines), and all that
// follows the start of the returned message (signals.cc cuts it off).
#include <algorithm>
#include <optional>
#include <unordered_set>

#include "common/address/address.h"
#include "common/dsn/extract.h"
#include "common/dsn/text.h"

namespace dsn {

namespace {

constexpr size_t kMaxBlock = 2048;

enum Tier { kLine = 1, kLabel = 2, kSentence = 3 };

constexpr size_t kMinCandidates = 4096;
constexpr size_t kMaxSearches = 200;

struct Cand {
    std::string addr;
    std::string alias;
    Tier tier = kSentence;
    size_t line = std::string_view::npos;  // offset of the line naming it
};

// Labels that may precede a recipient at the start of a line.
constexpr std::string_view kRecipientLabels[] = {
    "recipient", "recipients", "to", "rcpt to", "final-recipient", "address", "addresses",
    "e-mail", "email", "email address", "e-mail address", "empfänger", "empfaenger", "adresse",
    "failed recipient", "failed recipients", "destinataire", "user", "mailbox",
    "invalid recipient", "unknown recipient", "bad address", "original recipient", "for",
    "recipient address", "delivery to", "x-failed-recipients", "failed address",
};

// Labels whose address is the sender's or no recipient at all.
constexpr std::string_view kSenderLabels[] = {
    "from", "sender", "reply-to", "return-path", "mail from", "envelope-from", "envelope from",
    "message-id", "in-reply-to", "references", "cc", "bcc", "x-postfix-sender",
    "original-mail-from", "x-original-sender", "smtp.mailfrom", "received", "delivered-to",
    "x-original-to", "von", "absender", "de", "expéditeur", "sent by", "return-receipt-to",
    "reporting-mta", "remote-mta", "x-sender", "errors-to",
};

// Words right before an address in a sentence that make it a recipient.
constexpr std::string_view kRecipientWords[] = {
    "to", "rcpt", "recipient", "recipients", "for", "an", "user", "address", "mailbox",
    "empfänger", "adresse", "destinataire", "at", "reach",
};

// Words right before an address that make it the sender's.
constexpr std::string_view kSenderWords[] = {"from", "sender", "by", "von", "envelope-from",
                                             "return-path", "reply-to", "id"};

bool is_label_char(char c) {
    return text::is_alnum(c) || c == '-' || c == ' ' || c == '\'' || c == '(' || c == ')'
        || c == '.' || static_cast<unsigned char>(c) >= 0x80;
}

bool one_of(std::string_view w, const std::string_view* list, size_t n) {
    for (size_t i = 0; i < n; ++i)
        if (text::iequals(w, list[i])) return true;
    return false;
}
template <size_t N>
bool one_of(std::string_view w, const std::string_view (&list)[N]) { return one_of(w, list, N); }

// The word that ends right before position p in line (skipping brackets,
// colons, quotes and spaces).
std::string_view word_before(std::string_view line, size_t p) {
    size_t e = p;
    while (e > 0 && (text::is_space(line[e - 1]) || line[e - 1] == '<' || line[e - 1] == ':'
                     || line[e - 1] == '"' || line[e - 1] == '\'' || line[e - 1] == '('
                     || line[e - 1] == '['))
        --e;
    size_t b = e;
    while (b > 0 && (text::is_alnum(line[b - 1]) || line[b - 1] == '-'
                     || static_cast<unsigned char>(line[b - 1]) >= 0x80))
        --b;
    return line.substr(b, e - b);
}

// A mail system's own role addresses (RFC 2142 §5, and the names daemons
// sign with) are where to ask for help, never a failed recipient.
bool is_daemon(std::string_view addr) {
    constexpr std::string_view kRoles[] = {"mailer-daemon@", "mailer_daemon@", "mail-daemon@",
                                           "mailerdaemon@", "postmaster@", "mdaemon@"};
    for (auto r : kRoles)
        if (text::istarts_with(addr, r)) return true;
    return false;
}

struct Scan {
    std::vector<std::string> exclude;  // never recipients (the notice's author)
    std::vector<std::string> sender;   // the original sender: only as a last resort
    std::vector<Cand> found;
    bool in_sender_field = false;      // in a From:, References:, ... field or its folds
    size_t sender_indent = 0;          // of that field's first line
    size_t max_candidates = kMinCandidates;
    size_t last_entry = 0;             // offset of the last line not indented
};

bool listed(const std::vector<std::string>& v, std::string_view a) {
    for (const auto& x : v)
        if (text::iequals(x, a)) return true;
    return false;
}

void add_header_addrs(std::vector<std::string>& v, std::string_view value) {
    for (const auto& f : text::all_addresses(value))
        v.push_back(text::mailbox(f.addr));
}

// "(expanded from <alias@x>)" after the address (Postfix, Sendmail).
std::string expanded_from(std::string_view tail) {
    size_t e = text::ifind(tail, "expanded from");
    if (e == std::string_view::npos || e > 8) return {};
    if (auto f = text::find_address(tail, e)) return text::mailbox(f->addr);
    return {};
}

// Skips an SMTP reply code and status code that open a line ("554 ",
// "550 5.1.1 "), as Sendmail prints them before the address.
size_t skip_codes(std::string_view t) {
    size_t i = 0;
    for (int n = 0; n < 2; ++n) {
        size_t j = i;
        while (j < t.size() && (text::is_digit(t[j]) || t[j] == '.')) ++j;
        if (j == i || j - i > 7 || j >= t.size() || (t[j] != ' ' && t[j] != '-')) break;
        i = j + 1;
        while (i < t.size() && t[i] == ' ') ++i;
    }
    return i;
}

// The length of a display name that opens a list entry, up to its "<":
// quoted ("\"Ben White\" <ben@...>") or a person's name of at most four
// capitalised words ("Pat Smith <pat@...> on 3/4/2025", as legacy Exchange
// lists recipients). 0 when t opens otherwise.
size_t display_name(std::string_view t) {
    if (t.size() > 2 && t[0] == '"') {
        size_t close = t.find('"', 1);
        size_t lt = close == std::string_view::npos ? close : t.find_first_not_of(' ', close + 1);
        if (lt != std::string_view::npos && t[lt] == '<' && t.substr(1, close - 1).find('@') == std::string_view::npos)
            return lt;
        return 0;
    }
    size_t lt = t.find('<');
    if (lt == std::string_view::npos || lt == 0 || lt > 48) return 0;
    int words = 0;
    bool word_start = true;
    for (char c : t.substr(0, lt)) {
        if (c == ' ') {
            word_start = true;
            continue;
        }
        if (!(sys::is_alpha(c) || c == '.' || c == '-' || c == '\'')) return 0;
        if (word_start && !(c >= 'A' && c <= 'Z')) return 0;
        if (word_start) ++words;
        word_start = false;
    }
    if (words < 1 || words > 4) return 0;
    // A list entry ends after the address, or goes on with its date or
    // error; a sentence ("Your Message <id> was kept") goes on with words.
    size_t gt = t.find('>', lt);
    if (gt == std::string_view::npos) return 0;
    std::string_view tail = text::trim(t.substr(gt + 1));
    bool entry = tail.empty() || text::istarts_with(tail, "on ") || tail.starts_with("...")
        || tail[0] == ':' || tail[0] == ',' || tail[0] == ';' || tail[0] == '(';
    return entry ? lt : 0;
}

// Where an address that opens t starts: after brackets and quotes, an
// address-type prefix ("SMTP:", "mailto:", as Exchange and web mailers
// print addresses) and a quoted display name ("\"Ben White\" <ben@...>").
size_t address_start(std::string_view t) {
    auto is_open = [](char c) { return c == '<' || c == '"' || c == '\'' || c == '(' || c == '['; };
    size_t i = display_name(t);
    while (i < t.size() && is_open(t[i])) ++i;
    for (std::string_view type : {"smtp:", "mailto:"})
        if (text::istarts_with(t.substr(i), type)) i += type.size();
    while (i < t.size() && is_open(t[i])) ++i;
    return i;
}

// A header-like line ("References: <a@b>", quoted by the notice and so
// perhaps indented) and the lines folded under it, indented deeper: do
// they name the sender or a message rather than a recipient?
bool sender_field(std::string_view line, Scan& s) {
    size_t indent = 0;
    while (indent < line.size() && (line[indent] == ' ' || line[indent] == '\t')) ++indent;
    std::string_view t = line.substr(indent);
    size_t colon = t.find(':');
    bool field = colon != std::string_view::npos && colon > 0 && colon < 40;
    if (field && one_of(text::trim(t.substr(0, colon)), kSenderLabels)) {
        s.sender_indent = indent;
        return s.in_sender_field = true;
    }
    bool folded = s.in_sender_field && indent > s.sender_indent && !t.empty() && !field;
    s.in_sender_field = folded;
    return folded;
}

// What opens a line: "Label: " (a recipient's, the sender's, or another),
// and where the text after it starts.
struct Opening {
    std::string_view rest;  // the line after bullets, label and codes
    bool labelled = false, recipient_label = false, sender_label = false;
};

Opening read_opening(std::string_view line) {
    Opening o;
    // Strip quoting and bullets: "> ", ">>> ", "* ", "- ", "| ".
    std::string_view t = line;
    while (!t.empty() && (text::is_space(t[0]) || t[0] == '>' || t[0] == '*' || t[0] == '|'
                          || t[0] == '-' || t[0] == '#'))
        t.remove_prefix(1);
    size_t colon = t.find(':');
    if (text::istarts_with(t, "smtp:") || text::istarts_with(t, "mailto:")) colon = std::string_view::npos;
    if (colon != std::string_view::npos && colon > 0 && colon < 40) {
        std::string_view label = text::trim(t.substr(0, colon));
        bool is_label = !label.empty() && text::is_alnum(label[0]);
        for (char c : label) is_label &= is_label_char(c);
        if (is_label) {
            o.labelled = true;
            o.recipient_label = one_of(label, kRecipientLabels);
            o.sender_label = one_of(label, kSenderLabels);
            t = text::trim(t.substr(colon + 1));
            if (text::istarts_with(t, "rfc822;")) t = text::trim(t.substr(7));
        }
    }
    if (!o.labelled) t.remove_prefix(skip_codes(t));
    o.rest = t;
    return o;
}

void scan_line(std::string_view line, size_t line_pos, Scan& s) {
    if (!line.empty() && !text::is_space(line[0])) s.last_entry = line_pos;
    const bool in_field = sender_field(line, s);
    if (line.find('@') == std::string_view::npos || in_field) return;
    // Sendmail puts "(expanded from: <alias>)" on a line of its own under
    // the entry it belongs to: an address (whose alias it is), or a program
    // or file ("|/usr/bin/procmail"), when the alias is the address itself.
    std::string_view trimmed = text::trim(line);
    if (trimmed.starts_with('(')) {
        std::string alias = expanded_from(trimmed.substr(1));
        if (!alias.empty()) {
            if (!s.found.empty() && s.found.back().tier == kLine && s.found.back().line == s.last_entry) {
                if (s.found.back().alias.empty()) s.found.back().alias = std::move(alias);
            } else if (s.found.size() < s.max_candidates && !is_daemon(alias)) {
                s.found.push_back(Cand{std::move(alias), {}, kLine, s.last_entry});
            }
            return;
        }
    }
    // Exim's entry for a pipe or file: "  pipe to |/usr/bin/x" then
    // "    generated by <addr>", the address we sent to.
    if (text::istarts_with(trimmed, "generated by ")) {
        if (auto f = text::find_address(trimmed); f && s.found.size() < s.max_candidates) {
            std::string a = text::mailbox(f->addr);
            if (!a.empty() && !is_daemon(a)) s.found.push_back(Cand{std::move(a), {}, kLine, line_pos});
        }
        return;
    }
    const Opening o = read_opening(line);
    if (o.sender_label) return;
    const size_t first_pos = static_cast<size_t>(o.rest.data() - line.data()) + address_start(o.rest);
    // A line that opens with an address may list more ("a@b, c@d").
    size_t list_end = std::string_view::npos;
    auto opens = [&](size_t pos) {
        if (pos == first_pos) return true;
        if (list_end == std::string_view::npos || pos < list_end) return false;
        for (char c : line.substr(list_end, pos - list_end))
            if (!(c == ',' || c == ';' || c == ' ' || c == '\t' || c == '<' || c == '>' || c == '"')) return false;
        return true;
    };
    for (const auto& f : text::all_addresses(line)) {
        std::string a = text::mailbox(f.addr);
        if (a.empty() || listed(s.exclude, a) || is_daemon(a)) continue;
        std::string_view before = word_before(line, f.pos);
        if (one_of(before, kSenderWords) || text::iequals(before, "mail")) continue;
        Tier tier;
        const bool opening = opens(f.pos);
        if (opening)
            tier = !o.labelled ? kLine : (o.recipient_label ? kLabel : kSentence);
        else if (one_of(before, kRecipientWords))
            tier = kSentence;
        else
            continue;
        if (s.found.size() >= s.max_candidates) return;
        if (opening) list_end = f.pos + f.addr.size();
        Cand c{std::move(a), {}, tier, line_pos};
        if (tier == kLine) c.alias = expanded_from(line.substr(f.pos + f.addr.size()));
        s.found.push_back(std::move(c));
    }
}

// Offset of the line where addr opens (or at least appears), npos if absent.
size_t line_of(std::string_view notice, std::string_view addr) {
    size_t best = std::string_view::npos;
    for (size_t p = text::ifind(notice, addr); p != std::string_view::npos;
         p = text::ifind(notice, addr, p + 1)) {
        size_t ls = notice.rfind('\n', p);
        ls = ls == std::string_view::npos ? 0 : ls + 1;
        if (best == std::string_view::npos) best = ls;
        std::string_view head = notice.substr(ls, p - ls);
        bool opens = true;
        for (char c : head) opens &= text::is_space(c) || c == '<' || c == '>' || c == '"' || c == '*';
        if (opens) return ls;
    }
    return best;
}

std::string_view cap(std::string_view s, size_t n) { return s.substr(0, std::min(s.size(), n)); }

// The first 4xx/5xx status code of a text (a transcript also holds the
// 2xx replies that went before the failure), else the first of any class.
std::string_view failure_status(std::string_view s) {
    std::string_view first;
    for (size_t pos = 0, at = 0; pos < s.size(); pos = at + 1) {
        std::string_view st = text::find_status(s.substr(pos), &at);
        if (st.empty()) break;
        at += pos;
        if (st[0] != '2') return st;
        if (first.empty()) first = st;
    }
    return first;
}

std::string_view failure_reply(std::string_view s) {
    std::string_view first;
    size_t pos = 0;
    while (pos < s.size()) {
        std::string_view rc = text::find_reply_code(s.substr(pos));
        if (rc.empty()) break;
        if (rc[0] != '2') return rc;
        if (first.empty()) first = rc;
        pos = static_cast<size_t>(rc.data() - s.data()) + 3;
    }
    return first;
}

// Last resort: the one recipient the returned message was addressed to. Not
// when it went to several (which of them failed?), nor when a list server
// distributed it (RFC 2369 / RFC 2919 headers: its To: is the list), nor
// when that address is the notice's own addressee (mail to self).
std::optional<Cand> returned_recipient(const Mail& mail, const Headers& returned) {
    for (std::string_view list_header : {"List-Id", "List-Post"})
        if (!header_value(returned, list_header).empty()) return std::nullopt;
    if (!header_value(returned, "Cc").empty()) return std::nullopt;
    auto to = address::extract_all_from_header(header_value(returned, "To"), 2);
    if (!to || to->size() != 1) return std::nullopt;
    std::string a = to->front().str();
    std::vector<std::string> self;
    add_header_addrs(self, header_value(mail.headers, "To"));
    if (listed(self, a)) return std::nullopt;
    return Cand{std::move(a), {}, kSentence};
}

}  // namespace

namespace {

// The block of notice text that starts at offset at: up to the next line
// that opens with another address than addr, or, when the notice names
// several (sections then hold the others' replies), starts a section
// ("   ----- Transcript of session follows -----"); at most kMaxBlock.
std::string_view block_at(std::string_view notice, size_t at, std::string_view addr, bool several) {
    std::string_view block = notice.substr(at);
    std::string_view rest = block, line;
    if (text::next_line(rest, line)) {
        while (text::next_line(rest, line)) {
            std::string_view t = text::trim(line);
            bool heading = several && t.starts_with("-----");
            while (!t.empty() && (t[0] == '<' || t[0] == '>' || t[0] == '"')) t.remove_prefix(1);
            auto f = text::find_address(t);
            if (heading || (f && f->pos == 0 && !text::istarts_with(t, addr))) {
                block = block.substr(0, static_cast<size_t>(line.data() - block.data()));
                break;
            }
        }
    }
    return cap(block, kMaxBlock);
}

// Where addr is named again after offset from (a transcript's "RCPT
// To:<addr>" and the reply after it): the start of that line, or npos.
size_t named_again(std::string_view notice, std::string_view addr, size_t from) {
    size_t p = text::ifind(notice, addr, from);
    if (p == std::string_view::npos) return p;
    size_t ls = notice.rfind('\n', p);
    return ls == std::string_view::npos ? 0 : ls + 1;
}

}  // namespace

void fill_from_text(std::string_view notice, Draft& d, size_t recipients, size_t line) {
    // Searching costs a pass over the notice: not for hundreds of recipients.
    const bool search = recipients <= kMaxSearches;
    size_t at = line < notice.size() ? line : search ? line_of(notice, d.address) : std::string_view::npos;
    const bool several = recipients > 1;
    std::string_view block =
        at == std::string_view::npos ? std::string_view{} : block_at(notice, at, d.address, several);
    // A list of addresses with their replies further down (Sendmail's
    // transcript): the block where the address comes again.
    std::string_view again;
    if (d.status.empty() && !block.empty() && several && search && failure_status(block).empty()) {
        size_t end = static_cast<size_t>(block.data() - notice.data()) + block.size();
        if (size_t p = named_again(notice, d.address, end); p != std::string_view::npos)
            again = block_at(notice, p, d.address, several);
    }
    std::string_view whole = cap(notice, 4 * kMaxBlock);
    if (d.status.empty()) {
        std::string_view st = failure_status(block);
        if (st.empty()) st = failure_status(again);
        if (st.empty() && recipients <= 1) st = failure_status(whole);
        d.status = st;
    }
    if (d.reply_code.empty()) {
        std::string_view rc = failure_reply(block);
        if (rc.empty()) rc = failure_reply(again);
        if (rc.empty() && recipients <= 1) rc = failure_reply(whole);
        d.reply_code = rc;
    }
    d.context = text::squeeze(again.empty() ? std::string(block) : std::string(block) + "\n" + std::string(again),
                              kMaxBlock);
    if (d.diagnostic.empty()) d.diagnostic = d.context;
    if (d.hint.empty() && recipients <= 1) d.hint = text::squeeze(whole, 4 * kMaxBlock);
}

namespace {

// Exim and Gmail name the failed recipients in a header of the notice.
std::vector<Cand> failed_recipients(const Mail& mail) {
    std::vector<Cand> failed;
    for (const auto& h : mail.headers) {
        if (!text::iequals(h.name, "X-Failed-Recipients")) continue;
        for (const auto& f : text::all_addresses(h.value))
            failed.push_back(Cand{text::mailbox(f.addr), {}, kLine});
    }
    return failed;
}

// Every candidate address of the notice text, with what must never or only
// as a last resort be one.
Scan scan_notice(std::string_view text, const Mail& mail, const Headers& returned, size_t max) {
    Scan s;
    // Room for every recipient named a few times (list, transcript).
    s.max_candidates = std::max(kMinCandidates, 4 * max);
    add_header_addrs(s.exclude, header_value(mail.headers, "From"));
    // Message ids look like addresses; the notice may quote the returned
    // message's anywhere ("Your message <id@host> could not be ...").
    add_header_addrs(s.exclude, header_value(mail.headers, "Message-ID"));
    add_header_addrs(s.exclude, header_value(returned, "Message-ID"));
    add_header_addrs(s.sender, header_value(mail.headers, "To"));
    add_header_addrs(s.sender, header_value(returned, "From"));
    add_header_addrs(s.sender, header_value(returned, "Return-Path"));
    add_header_addrs(s.sender, header_value(returned, "Sender"));
    std::string_view rest = text, line;
    while (text::next_line(rest, line))
        scan_line(line, static_cast<size_t>(line.data() - text.data()), s);
    return s;
}

// The recipients, in the order of the module comment. X-Failed-Recipients
// is the MTA's own list, but not always in the form the text gives (an
// alias, a rewritten domain): it narrows the addresses opening a line when
// it names some of them, and stands in when none opens a line.
std::vector<Cand> choose(const Scan& s, std::vector<Cand> failed) {
    std::vector<Cand> chosen;
    auto in_failed = [&](const Cand& c) {
        for (const auto& f : failed)
            if (text::iequals(f.addr, c.addr)) return true;
        return false;
    };
    for (const auto& c : s.found)
        if (c.tier == kLine && !listed(s.sender, c.addr) && in_failed(c)) chosen.push_back(c);
    if (!chosen.empty()) return chosen;
    for (Tier want : {kLine, kLabel, kSentence}) {
        if (want == kLabel && !failed.empty()) return failed;
        for (const auto& c : s.found)
            if (c.tier == want && !listed(s.sender, c.addr)) chosen.push_back(c);
        if (!chosen.empty()) return chosen;
    }
    for (const auto& c : s.found)
        if (c.tier == kLine) chosen.push_back(c);
    return chosen;
}

// Notices of systems that name the failed mailbox by its local part only
// (GroupWise "\tjsmith (user not found)"): an address of the returned
// message's To: or Cc: whose local part opens a line of the notice.
std::vector<Cand> named_by_local_part(std::string_view text, const Headers& returned) {
    std::vector<Cand> out;
    for (std::string_view field : {"To", "Cc"}) {
        auto all = address::extract_all_from_header(header_value(returned, field), 100);
        if (!all) continue;
        for (const auto& a : *all) {
            std::string_view local = a.local();
            if (local.size() < 2) continue;
            std::string_view rest = text, line;
            while (text::next_line(rest, line)) {
                std::string_view t = text::trim(line);
                if (!text::istarts_with(t, local)) continue;
                // "jsmith", "jsmith (user not found)"; not "Contact: ..."
                if (t.size() > local.size() && t[local.size()] != ' ' && t[local.size()] != '\t'
                    && t[local.size()] != '(')
                    continue;
                out.push_back(Cand{a.str(), {}, kLabel, static_cast<size_t>(line.data() - text.data())});
                break;
            }
        }
    }
    return out;
}

}  // namespace

size_t read_ndr_text(const Notice& notice, const Mail& mail, const Headers& returned,
                     bool delayed, Drafts& out) {
    std::string_view text = notice.text;
    std::vector<Cand> chosen = choose(scan_notice(text, mail, returned, out.max()), failed_recipients(mail));
    // The paragraph of the last address runs to the limit when the notice
    // was cut: its diagnostic (or the rest of its list) may be missing.
    if (notice.cut && !chosen.empty()) {
        size_t last = 0;
        for (const auto& c : chosen)
            if (c.line != std::string_view::npos) last = std::max(last, c.line);
        std::erase_if(chosen, [&](const Cand& c) { return c.line == last; });
    }
    if (chosen.empty()) chosen = named_by_local_part(text, returned);
    if (chosen.empty())
        if (auto c = returned_recipient(mail, returned)) chosen.push_back(std::move(*c));

    // Distinct addresses in order, at most max (each costs a pass over the text).
    std::vector<Cand> distinct;
    std::unordered_set<std::string> seen;
    for (auto& c : chosen) {
        if (distinct.size() >= out.max()) break;
        if (!c.addr.empty() && seen.insert(text::to_lower(c.addr)).second) distinct.push_back(std::move(c));
    }
    size_t added = 0;
    for (auto& c : distinct) {
        Draft d;
        d.address = std::move(c.addr);
        d.alias = std::move(c.alias);
        d.action = delayed ? Action::Delayed : Action::Failed;
        fill_from_text(text, d, distinct.size(), c.line);
        if (out.add(std::move(d))) ++added;
    }
    return added;
}

}  // namespace dsn
