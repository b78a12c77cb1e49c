// ndr_block.cc - a notice's text block for one recipient: its status,
// reply code and diagnostic (see fill_from_text() in extract.h)
//
// A notice gives each failed address a block: the lines from the one
// naming it up to the next address or section heading. Sendmail lists the
// addresses first and their replies in a transcript further down, so an
// address named again there adds that block.
#include <algorithm>

#include "common/dsn/classify.h"
#include "common/dsn/extract.h"
#include "common/dsn/text.h"

namespace dsn {

namespace {

constexpr size_t kMaxSearches = 200;

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
        for (char c : head) opens &= text::is_space(c) || c == '<' || c == '>' || c == '"' || c == '\'' || c == '*';
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

// The block of notice text that starts at offset at: up to the next line
// that opens with another address than addr, or, when the notice names
// several (sections then hold the others' replies), starts a section
// ("   ----- Transcript of session follows -----"); at most kNoticeBlock.
std::string_view block_at(std::string_view notice, size_t at, std::string_view addr, bool several) {
    std::string_view block = notice.substr(at);
    std::string_view rest = block, line;
    if (text::next_line(rest, line)) {
        while (text::next_line(rest, line)) {
            std::string_view t = text::trim(line);
            bool heading = several && t.starts_with("-----");
            while (!t.empty() && (t[0] == '<' || t[0] == '>' || t[0] == '"' || t[0] == '\'')) t.remove_prefix(1);
            auto f = text::find_address(t);
            if (heading || (f && f->pos == 0 && !text::istarts_with(t, addr))) {
                block = block.substr(0, static_cast<size_t>(line.data() - block.data()));
                break;
            }
        }
    }
    return cap(block, kNoticeBlock);
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
    std::string_view whole = cap(notice, 4 * kNoticeBlock);
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
    d.context = again.empty() ? text::squeeze(block, kNoticeBlock)
                              : text::squeeze(std::string(block) + "\n" + std::string(again), kNoticeBlock);
    if (d.diagnostic.empty()) d.diagnostic = d.context;
    // Only reason_from_text() reads the hint, and only its start: squeezing
    // a few bytes more than that leaves what it reads as it is in the whole
    // squeezed notice (a cut drops at most a space before a word and an
    // incomplete UTF-8 sequence, 4 bytes).
    if (d.hint.empty() && recipients <= 1) d.hint = text::squeeze(whole, kReasonTextBytes + 4);
}

}  // namespace dsn
