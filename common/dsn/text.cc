// text.cc - string_view scanners used by the DSN parser
#include "common/dsn/text.h"

#include <algorithm>

#include "common/address/address.h"
#include "common/sys/utf8.h"

namespace dsn::text {

bool next_line(std::string_view& rest, std::string_view& line) noexcept {
    if (rest.empty()) return false;
    size_t nl = rest.find('\n');
    if (nl == std::string_view::npos) {
        line = rest;
        rest = {};
    } else {
        line = rest.substr(0, nl);
        rest.remove_prefix(nl + 1);
    }
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return true;
}

namespace {

constexpr bool is_local_char(char c) noexcept {
    if (is_alnum(c)) return true;
    switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '*': case '+': case '-':
    case '/': case '=': case '?': case '^': case '_': case '{': case '|': case '}':
    case '~': case '.':
        return true;
    default:
        return false;
    }
}
constexpr bool is_domain_char(char c) noexcept { return is_alnum(c) || c == '-' || c == '.'; }

}  // namespace

std::optional<Found> find_address(std::string_view s, size_t from) noexcept {
    for (size_t at = s.find('@', from); at != std::string_view::npos; at = s.find('@', at + 1)) {
        size_t b = at;
        while (b > 0 && is_local_char(s[b - 1])) --b;
        while (b < at && (s[b] == '.' || s[b] == '/' || s[b] == '=')) ++b;  // no leading dot
        if (b == at) continue;
        size_t e = at + 1;
        if (e < s.size() && s[e] == '[') {  // address literal
            size_t close = s.find(']', e);
            if (close == std::string_view::npos || close - e > 48) continue;
            return Found{s.substr(b, close + 1 - b), b};
        }
        bool dot = false;
        while (e < s.size() && is_domain_char(s[e])) ++e;
        while (e > at + 1 && (s[e - 1] == '.' || s[e - 1] == '-')) --e;
        for (size_t k = at + 1; k < e; ++k) dot |= s[k] == '.';
        if (!dot || e - at < 4 || !is_alnum(s[e - 1]) || !is_alnum(s[at + 1])) continue;
        return Found{s.substr(b, e - b), b};
    }
    return std::nullopt;
}

std::vector<Found> all_addresses(std::string_view s, size_t max) {
    std::vector<Found> out;
    size_t pos = 0;
    while (out.size() < max) {
        auto f = find_address(s, pos);
        if (!f) break;
        pos = f->pos + f->addr.size();
        out.push_back(*f);
    }
    return out;
}

std::string mailbox(std::string_view value) {
    value = trim(value);
    if (auto a = address::extract_from_header(value); a && !a->is_null()) return a->str();
    // "\"a@b\"" parses as a quoted local part without a domain.
    if (value.size() > 2 && (value.front() == '"' || value.front() == '\'')
        && value.back() == value.front()) {
        value = value.substr(1, value.size() - 2);
        if (auto a = address::extract_from_header(value); a && !a->is_null()) return a->str();
    }
    return {};
}

namespace {

// Parses "d.d.ddd" at s[i]; returns its length or 0.
size_t status_at(std::string_view s, size_t i) noexcept {
    const size_t n = s.size();
    if (i + 5 > n) return 0;
    char c = s[i];
    if (c != '2' && c != '4' && c != '5') return 0;
    if (s[i + 1] != '.' || !is_digit(s[i + 2]) || s[i + 2] > '7' || s[i + 3] != '.') return 0;
    size_t k = i + 4, d = 0;
    while (k < n && is_digit(s[k]) && d < 4) { ++k; ++d; }
    if (d == 0 || d > 3) return 0;
    if (k < n && (is_alnum(s[k]) || (s[k] == '.' && k + 1 < n && is_digit(s[k + 1])))) return 0;
    return k - i;
}

}  // namespace

bool is_status(std::string_view s) noexcept { return !s.empty() && status_at(s, 0) == s.size(); }

std::string_view find_status(std::string_view s, size_t* at) noexcept {
    for (size_t i = 0; i + 5 <= s.size(); ++i) {
        if (i > 0) {
            char p = s[i - 1];
            if (is_alnum(p) || p == '.' || p == '-' || p == '/' || p == '_') continue;
        }
        if (size_t len = status_at(s, i)) {
            if (at) *at = i;
            return s.substr(i, len);
        }
    }
    return {};
}

std::string_view find_reply_code(std::string_view s) noexcept {
    for (size_t i = 0; i + 3 <= s.size(); ++i) {
        char c = s[i];
        if (c != '2' && c != '4' && c != '5') continue;
        if (i > 0 && (is_alnum(s[i - 1]) || s[i - 1] == '.' || s[i - 1] == '-' || s[i - 1] == ':'
                      || s[i - 1] == '/' || s[i - 1] == '#'))
            continue;
        if (s[i + 1] < '0' || s[i + 1] > '5' || !is_digit(s[i + 2])) continue;
        if (i + 3 < s.size()) {
            char n = s[i + 3];
            if (n != ' ' && n != '-' && n != '\r' && n != '\n' && n != '\t') continue;
            if (n == '-' && (i + 4 >= s.size() || !is_alnum(s[i + 4]))) continue;
        }
        return s.substr(i, 3);
    }
    return {};
}

namespace {

struct Entity {
    std::string_view name;
    std::string_view text;
};
constexpr Entity kEntities[] = {
    {"lt", "<"}, {"gt", ">"}, {"amp", "&"}, {"quot", "\""}, {"nbsp", " "}, {"apos", "'"},
    {"#64", "@"}, {"#58", ":"}, {"#60", "<"}, {"#62", ">"}, {"#39", "'"},
};

bool block_tag(std::string_view tag) noexcept {
    constexpr std::string_view kBlocks[] = {"br", "p", "div", "tr", "li", "table", "h1", "h2",
                                            "h3", "h4", "pre", "blockquote", "td"};
    size_t n = 0;
    if (!tag.empty() && tag[0] == '/') tag.remove_prefix(1);
    while (n < tag.size() && is_alnum(tag[n])) ++n;
    for (auto b : kBlocks)
        if (iequals(tag.substr(0, n), b)) return true;
    return false;
}

}  // namespace

std::string html_to_text(std::string_view h) {
    std::string out;
    out.reserve(h.size() / 2);
    size_t i = 0;
    while (i < h.size()) {
        char c = h[i];
        if (c == '<') {
            size_t end = h.find('>', i);
            if (end == std::string_view::npos) break;
            std::string_view tag = h.substr(i + 1, end - i - 1);
            if (istarts_with(tag, "style") || istarts_with(tag, "script")) {
                std::string_view close = istarts_with(tag, "style") ? "</style" : "</script";
                size_t c2 = ifind(h, close, end);
                end = c2 == std::string_view::npos ? h.size() - 1 : h.find('>', c2);
                if (end == std::string_view::npos) break;
            } else if (block_tag(tag)) {
                out += '\n';
            }
            i = end + 1;
        } else if (c == '&') {
            size_t semi = h.find(';', i);
            bool done = false;
            if (semi != std::string_view::npos && semi - i <= 6) {
                std::string_view name = h.substr(i + 1, semi - i - 1);
                for (const auto& e : kEntities)
                    if (iequals(name, e.name)) { out += e.text; done = true; break; }
            }
            if (done) {
                i = semi + 1;
            } else {
                out += c;
                ++i;
            }
        } else {
            out += c;
            ++i;
        }
    }
    return out;
}

std::string squeeze(std::string_view s, size_t max) {
    std::string out;
    out.reserve(s.size() < max ? s.size() : max);
    bool full = false;
    size_t i = 0;
    while (!full) {
        while (i < s.size() && is_space(s[i])) ++i;  // a run of white space, then a word
        size_t end = i;
        while (end < s.size() && !is_space(s[end])) ++end;
        if (end == i) break;
        // A space goes out only with the first byte of the word after it.
        const size_t space = out.empty() ? 0 : 1;
        const size_t room = out.size() + space < max ? max - out.size() - space : 0;
        const size_t take = std::min(end - i, room);
        if (take > 0) out.append(space, ' ').append(s.substr(i, take));
        full = take < end - i;
        i = end;
    }
    if (full) out.resize(sys::utf8_complete(out));  // no half UTF-8 sequence at the cut
    return out;
}

}  // namespace dsn::text
