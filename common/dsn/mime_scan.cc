// mime_scan.cc - zero-copy structural MIME scanner (see mime_scan.h)
#include "common/dsn/mime_scan.h"

#include <algorithm>

#include "common/dsn/text.h"

namespace dsn::scan {

namespace {

constexpr size_t npos = std::string_view::npos;

constexpr bool is_wsp(char c) noexcept { return c == ' ' || c == '\t'; }
constexpr bool is_lwsp(char c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// RFC 5322 §3.6.8 ftext: printable ASCII except the colon.
constexpr bool is_ftext(char c) noexcept { return c > 32 && c < 127 && c != ':'; }

// RFC 2045 §5.1 token characters.
constexpr bool is_token(char c) noexcept {
    if (c <= 32 || c >= 127) return false;
    switch (c) {
    case '(': case ')': case '<': case '>': case '@': case ',': case ';': case ':':
    case '\\': case '"': case '/': case '[': case ']': case '?': case '=':
        return false;
    default:
        return true;
    }
}

// End of the line starting at pos (the offset of its '\n', or s.size()).
size_t line_end(std::string_view s, size_t pos) noexcept {
    size_t nl = s.find('\n', pos);
    return nl == npos ? s.size() : nl;
}

std::string_view strip_eol(std::string_view s) noexcept {
    if (!s.empty() && s.back() == '\n') s.remove_suffix(1);
    if (!s.empty() && s.back() == '\r') s.remove_suffix(1);
    return s;
}

void skip_lwsp(std::string_view s, size_t& i) noexcept {
    while (i < s.size() && is_lwsp(s[i])) ++i;
}

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    c = text::lower(c);
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

// RFC 2231 §4: "%XX" escapes of an extended value.
std::string percent_decode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
        int hi = 0, lo = 0;
        if (s[i] == '%' && i + 2 < s.size() && (hi = hex_value(s[i + 1])) >= 0
            && (lo = hex_value(s[i + 2])) >= 0) {
            out += static_cast<char>(hi * 16 + lo);
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

// One "attribute=value" of a parameter list, value unquoted.
struct Param {
    std::string_view attr;
    std::string value;
    bool quoted = false;
};

// Reads the next parameter at or after i; false at the end of the list.
bool next_param(std::string_view s, size_t& i, Param& p) {
    for (;;) {
        while (i < s.size() && (is_lwsp(s[i]) || s[i] == ';')) ++i;
        if (i >= s.size()) return false;
        size_t a = i;
        while (i < s.size() && s[i] != '=' && s[i] != ';') ++i;
        std::string_view attr = s.substr(a, i - a);
        while (!attr.empty() && is_lwsp(attr.back())) attr.remove_suffix(1);
        if (i >= s.size() || s[i] == ';' || attr.empty()) {
            // Not a parameter ("=x" or a bare word): skip to the next ';'.
            i = s.find(';', i);
            if (i == npos) return false;
            continue;
        }
        ++i;  // '='
        skip_lwsp(s, i);
        p.attr = attr;
        p.value.clear();
        p.quoted = i < s.size() && s[i] == '"';
        if (p.quoted) {
            // RFC 5322 §3.2.4 quoted-string; an unterminated one runs to the end.
            for (++i; i < s.size() && s[i] != '"'; ++i) {
                if (s[i] == '\\' && i + 1 < s.size()) ++i;
                else if (s[i] == '\r' || s[i] == '\n') continue;  // a fold inside the quotes
                p.value += s[i];
            }
            if (i < s.size()) ++i;
        } else {
            size_t v = i;
            while (i < s.size() && s[i] != ';' && !is_lwsp(s[i])) ++i;
            p.value.assign(s.substr(v, i - v));
        }
        return true;
    }
}

}  // namespace

bool FieldReader::next(Field& f) noexcept {
    while (!done_) {
        if (pos_ >= s_.size()) {
            done_ = true;
            break;
        }
        const size_t end = line_end(s_, pos_);
        const size_t next = end < s_.size() ? end + 1 : end;
        std::string_view line = s_.substr(pos_, end - pos_);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.empty()) {
            pos_ = next;  // RFC 5322 §2.1: the empty line belongs to neither part
            done_ = true;
            break;
        }
        if (is_wsp(line[0])) {  // a continuation with no field to continue
            pos_ = next;
            continue;
        }
        size_t colon = 0;
        while (colon < line.size() && is_ftext(line[colon])) ++colon;
        size_t name_end = colon;
        while (colon < line.size() && is_wsp(line[colon])) ++colon;  // RFC 5322 §4.5.1 obs-optional
        if (name_end == 0 || colon >= line.size() || line[colon] != ':') {
            pos_ = next;  // not a field: skipped, as GMime does
            continue;
        }
        size_t p = next;
        while (p < s_.size() && is_wsp(s_[p])) {
            size_t e = line_end(s_, p);
            p = e < s_.size() ? e + 1 : e;
        }
        f.name = line.substr(0, name_end);
        const size_t value_at = pos_ + colon + 1;
        f.value = strip_eol(s_.substr(value_at, p - value_at));
        pos_ = p;
        return true;
    }
    return false;
}

std::string_view body_of(std::string_view entity) noexcept {
    FieldReader r(entity);
    Field f;
    while (r.next(f)) {
    }
    return r.body();
}

std::string unfold(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    for (char c : value)
        if (c != '\r' && c != '\n') out += c;
    std::string_view t = text::trim(out);
    return std::string(t);
}

bool ContentType::is(std::string_view t, std::string_view s) const noexcept {
    return text::iequals(type, t) && text::iequals(subtype, s);
}

ContentType parse_content_type(std::string_view value) noexcept {
    ContentType ct;
    size_t i = 0;
    skip_lwsp(value, i);
    size_t a = i;
    while (i < value.size() && is_token(value[i])) ++i;
    ct.type = value.substr(a, i - a);
    skip_lwsp(value, i);
    if (i < value.size() && value[i] == '/') {
        ++i;
        skip_lwsp(value, i);
        size_t b = i;
        while (i < value.size() && is_token(value[i])) ++i;
        ct.subtype = value.substr(b, i - b);
    }
    if (ct.type.empty()) ct.subtype = {};
    size_t semi = value.find(';', i);
    if (semi != npos) ct.params = value.substr(semi + 1);
    return ct;
}

std::optional<std::string> param(std::string_view params, std::string_view name) {
    // RFC 2231 §3: name*0, name*1, ... (each maybe extended, "*N*").
    constexpr size_t kMaxSections = 32;
    std::string sections[kMaxSections];
    bool have[kMaxSections] = {};
    bool extended = false;
    std::optional<std::string> plain, star;
    size_t i = 0;
    Param p;
    while (next_param(params, i, p)) {
        if (p.attr.size() < name.size() || !text::istarts_with(p.attr, name)) continue;
        std::string_view rest = p.attr.substr(name.size());
        if (rest.empty()) {
            if (!plain) plain = std::move(p.value);
            continue;
        }
        if (rest[0] != '*') continue;
        rest.remove_prefix(1);
        if (rest.empty()) {  // name*=charset'lang'value
            if (!star) star = std::move(p.value);
            continue;
        }
        bool ext = rest.back() == '*';
        if (ext) rest.remove_suffix(1);
        size_t n = 0;
        bool digits = !rest.empty() && rest.size() <= 2;
        for (char c : rest) {
            digits &= text::is_digit(c);
            n = n * 10 + static_cast<size_t>(c - '0');
        }
        if (!digits || n >= kMaxSections || have[n]) continue;
        have[n] = true;
        if (n == 0) extended = ext;
        sections[n] = ext ? percent_decode(p.value) : std::move(p.value);
    }
    if (plain) return plain;
    auto drop_charset = [](std::string s) {
        // charset'language'text: only the text is wanted here.
        size_t q1 = s.find('\'');
        size_t q2 = q1 == std::string::npos ? q1 : s.find('\'', q1 + 1);
        return q2 == std::string::npos ? s : s.substr(q2 + 1);
    };
    if (star) return drop_charset(percent_decode(*star));
    if (!have[0]) return std::nullopt;
    std::string out;
    for (size_t n = 0; n < kMaxSections && have[n]; ++n) out += sections[n];
    return extended ? drop_charset(std::move(out)) : out;
}

void split_multipart(std::string_view body, std::string_view boundary,
                     std::vector<std::string_view>& parts, size_t max) {
    if (boundary.empty() || max == 0) return;
    size_t start = npos;  // where the current part's content begins
    // Line by line, so that the work stays linear in the body whatever the
    // boundary (a substring search for a long one is not).
    for (size_t at = 0; at < body.size();) {
        const size_t eol = line_end(body, at);
        const size_t next = eol < body.size() ? eol + 1 : eol;
        std::string_view line = body.substr(at, eol - at);
        if (line.size() >= boundary.size() + 2 && line[0] == '-' && line[1] == '-'
            && line.compare(2, boundary.size(), boundary) == 0) {
            std::string_view tail = line.substr(boundary.size() + 2);
            const bool close = tail.starts_with("--");
            if (close) tail.remove_prefix(2);
            bool blank = true;
            for (char c : tail) blank = blank && is_lwsp(c);
            if (blank) {
                if (start != npos) {
                    size_t end = at;
                    if (end > start && body[end - 1] == '\n') --end;
                    if (end > start && body[end - 1] == '\r') --end;
                    parts.push_back(body.substr(start, end - start));
                    if (parts.size() >= max) return;
                }
                if (close) return;  // the epilogue is no part
                start = next;
            }
        }
        at = next;
    }
    if (start != npos) parts.push_back(body.substr(start < body.size() ? start : body.size()));
}

}  // namespace dsn::scan
