// header.cc - mailboxes out of RFC 5322 header values (see address.h)
//
// A small lexer (RFC 5322 3.2: atoms, quoted-strings, domain-literals,
// specials; comments and folding white space dropped) feeds an address-list
// walker (RFC 5322 3.4: mailbox / group, name-addr / addr-spec). Each
// mailbox found is rebuilt without CFWS and handed to the RFC 5321 parser,
// so a header address obeys exactly the rules of an envelope address.
// Obsolete forms we accept because mail still carries them: comments and
// spaces around dots and "@" (RFC 5322 4.4 obs-local-part, obs-domain),
// source routes inside "<>" (obs-route), unquoted display names with dots.
#include <vector>

#include "common/address/address.h"
#include "common/address/chars.h"

namespace address {
namespace {

// Comments nest (RFC 5322 3.2.2); deeper than this is hostile input.
constexpr int kMaxCommentDepth = 32;

enum class Tok { Word, Quoted, Literal, Special, Junk };

struct Token {
    Tok kind;
    std::string_view text;  // raw, quotes and brackets included
};

bool is_special(char c) {
    return c == '<' || c == '>' || c == '@' || c == ',' || c == ';' || c == ':' || c == '.';
}

// Skips a comment starting at s[i] == '('; returns the index past it (or
// s.size() when unclosed). Sets *too_deep when nesting is absurd.
std::size_t skip_comment(std::string_view s, std::size_t i, bool* too_deep) {
    int depth = 0;
    for (; i < s.size(); ++i) {
        const char c = s[i];
        if (c == '\\') {
            ++i;  // quoted-pair
        } else if (c == '(') {
            if (++depth > kMaxCommentDepth) *too_deep = true;
        } else if (c == ')') {
            if (--depth == 0) return i + 1;
        }
    }
    return s.size();
}

// Scans a delimited run ("..." or [...]) with quoted-pairs; returns the
// index past the closing delimiter, or npos when unclosed.
std::size_t skip_delimited(std::string_view s, std::size_t i, char close) {
    for (++i; i < s.size(); ++i) {
        if (s[i] == '\\') {
            ++i;
        } else if (s[i] == close) {
            return i + 1;
        } else if (close == ']' && s[i] == '[') {
            return std::string_view::npos;
        }
    }
    return std::string_view::npos;
}

std::vector<Token> lex(std::string_view s, bool* too_deep) {
    std::vector<Token> out;
    out.reserve(16);  // "Name" <local@example.net> and the like, without growing
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (detail::is_wsp(c)) {
            ++i;
        } else if (c == '(') {
            i = skip_comment(s, i, too_deep);
        } else if (c == '"' || c == '[') {
            const std::size_t end = skip_delimited(s, i, c == '"' ? '"' : ']');
            if (end == std::string_view::npos) {
                out.push_back({Tok::Junk, s.substr(i)});
                break;
            }
            out.push_back({c == '"' ? Tok::Quoted : Tok::Literal, s.substr(i, end - i)});
            i = end;
        } else if (is_special(static_cast<char>(c))) {
            out.push_back({Tok::Special, s.substr(i, 1)});
            ++i;
        } else if (detail::is_atext(c) || c >= 0x80) {
            std::size_t j = i;
            while (j < s.size()) {
                const auto d = static_cast<unsigned char>(s[j]);
                if (!detail::is_atext(d) && d < 0x80) break;
                ++j;
            }
            out.push_back({Tok::Word, s.substr(i, j - i)});
            i = j;
        } else {
            out.push_back({Tok::Junk, s.substr(i, 1)});  // ')', '\', controls
            ++i;
        }
    }
    return out;
}

// Rebuilds the text of tokens [b, e) without CFWS. Two words in a row were
// separated by white space or a comment: that is a phrase, not an address.
Result<std::string> join(const std::vector<Token>& t, std::size_t b, std::size_t e,
                         bool allow_route) {
    std::string s;
    bool prev_word = false;
    for (std::size_t i = b; i < e; ++i) {
        const Token& k = t[i];
        if (k.kind == Tok::Junk) return Error::Syntax;
        const bool word = k.kind != Tok::Special;
        if (word && prev_word) return Error::Syntax;
        if (!word && k.text != "." && k.text != "@" &&
            !(allow_route && (k.text == "," || k.text == ":")))
            return Error::Syntax;
        prev_word = word;
        s += k.text;
    }
    return s;
}

bool is_sp(const Token& k, char c) { return k.kind == Tok::Special && k.text[0] == c; }

// One address-list entry: name-addr or addr-spec, group display name gone.
Result<Address> entry(const std::vector<Token>& t, std::size_t b, std::size_t e) {
    std::size_t lt = b;
    while (lt < e && !is_sp(t[lt], '<')) ++lt;
    if (lt == e) {
        auto s = join(t, b, e, false);
        if (!s) return s.error();
        return parse_mailbox(*s);
    }
    // name-addr: the display name before '<' is not ours to judge.
    std::size_t gt = lt + 1;
    while (gt < e && !is_sp(t[gt], '>')) ++gt;
    if (gt == e || gt + 1 != e) return Error::Syntax;
    auto s = join(t, lt + 1, gt, true);
    if (!s) return s.error();
    auto a = parse_path("<" + *s + ">");
    if (a && a->is_null()) return Error::NullPath;
    return a;
}

// RFC 6533 3: "\x{HEX}" stands for one code point in utf-8 typed addresses.
Result<std::string> decode_unitext(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s.substr(i, 3) != "\\x{") {
            out += s[i];
            continue;
        }
        const std::size_t close = s.find('}', i + 3);
        if (close == std::string_view::npos || close == i + 3 || close - (i + 3) > 6)
            return Error::Syntax;
        unsigned long cp = 0;
        for (std::size_t k = i + 3; k < close; ++k) {
            const char h = sys::ascii_lower(s[k]);
            int v;
            if (h >= '0' && h <= '9') v = h - '0';
            else if (h >= 'a' && h <= 'f') v = h - 'a' + 10;
            else return Error::Syntax;
            cp = cp * 16 + static_cast<unsigned long>(v);
        }
        if (!detail::append_utf8(out, cp)) return Error::BadUtf8;
        i = close;
    }
    return out;
}

// Unfolds, strips an RFC 3464 2.3.2 address-type, lexes, and walks the
// address list. Calls add(address) per mailbox until it returns false;
// counts the entries that do not parse in *unreadable (when given).
template <class Add>
std::optional<Error> walk(std::string_view value, Add&& add, Error* first_error, std::size_t* unreadable = nullptr) {
    if (value.size() > kMaxHeaderInput) return Error::InputTooLong;
    std::string text;
    text.reserve(value.size());
    for (char c : value)
        if (c != '\r' && c != '\n') text += c;  // RFC 5322 2.2.3 unfolding

    std::string_view v = detail::trim_wsp(text);
    if (v.empty()) return Error::Empty;

    // address-type ";" generic-address, e.g. "rfc822; bob@example.net".
    std::size_t n = 0;
    while (n < v.size() && (detail::is_atext(static_cast<unsigned char>(v[n])))) ++n;
    std::size_t semi = n;
    while (semi < v.size() && detail::is_wsp(static_cast<unsigned char>(v[semi]))) ++semi;
    std::string decoded;
    if (n > 0 && semi < v.size() && v[semi] == ';') {
        const std::string_view type = v.substr(0, n);
        const std::string_view rest = v.substr(semi + 1);
        if (detail::iequals(type, "rfc822")) {
            v = rest;
        } else if (detail::iequals(type, "utf-8")) {
            auto d = decode_unitext(rest);
            if (!d) return d.error();
            decoded = *std::move(d);
            v = decoded;
        } else {
            return Error::UnsupportedType;
        }
    }

    bool too_deep = false;
    const std::vector<Token> t = lex(v, &too_deep);
    if (too_deep) return Error::Syntax;

    bool in_group = false;
    int angle = 0;
    std::size_t start = 0;
    auto flush = [&](std::size_t end) {
        if (end > start) {
            auto a = entry(t, start, end);
            if (a) return add(*std::move(a));
            if (*first_error == Error::NoAddress) *first_error = a.error();
            if (unreadable) ++*unreadable;
        }
        return true;
    };
    for (std::size_t i = 0; i < t.size(); ++i) {
        const Token& k = t[i];
        if (k.kind != Tok::Special) continue;
        const char c = k.text[0];
        if (c == '<') {
            ++angle;
        } else if (c == '>') {
            if (angle > 0) --angle;
        } else if (angle == 0 && (c == ',' || c == ';')) {
            if (!flush(i)) return std::nullopt;
            start = i + 1;
            if (c == ';') in_group = false;
        } else if (angle == 0 && c == ':' && !in_group) {
            start = i + 1;  // RFC 5322 3.4 group: display-name ":" ... ";"
            in_group = true;
        }
    }
    flush(t.size());
    return std::nullopt;
}

// A value of atext, dots and "@" only, as a bare addr-spec in free text is
// written ("bob@example.net"): it lexes into words and those two specials,
// which join() puts back as they were, so walk() would hand the value itself
// to parse_mailbox().
bool is_plain_addr_spec(std::string_view value) noexcept {
    if (value.empty()) return false;
    for (char ch : value) {
        const auto c = static_cast<unsigned char>(ch);
        if (!detail::is_atext(c) && c != '.' && c != '@') return false;
    }
    return true;
}

}  // namespace

Result<Address> extract_from_header(std::string_view value) {
    // The common case without the lexer: every mailbox a notice's text names.
    if (is_plain_addr_spec(value)) return parse_mailbox(value);
    std::optional<Address> found;
    Error first = Error::NoAddress;
    auto e = walk(value, [&](Address a) { found = std::move(a); return false; }, &first);
    if (e) return *e;
    if (found) return *std::move(found);
    return first;
}

Result<std::vector<Address>> extract_all_from_header(std::string_view value,
                                                     std::size_t max_count) {
    std::vector<Address> all;
    Error first = Error::NoAddress;
    auto e = walk(value, [&](Address a) {
        if (all.size() >= max_count) return false;
        all.push_back(std::move(a));
        return all.size() < max_count;
    }, &first);
    if (e) return *e;
    if (all.empty()) return first;
    return all;
}

Result<std::vector<Address>> extract_every_from_header(std::string_view value, std::size_t max_count) {
    std::vector<Address> all;
    Error first = Error::NoAddress;
    std::size_t unreadable = 0;
    bool too_many = false;
    auto e = walk(value, [&](Address a) {
        if (all.size() >= max_count) {
            too_many = true;
            return false;
        }
        all.push_back(std::move(a));
        return true;
    }, &first, &unreadable);
    if (e) return *e;
    if (too_many) return Error::TooManyAddresses;
    if (unreadable > 0 || all.empty()) return first;
    return all;
}

}  // namespace address
