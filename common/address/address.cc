// address.cc - RFC 5321 paths and mailboxes (see address.h)
#include "common/address/address.h"

#include "common/address/chars.h"

namespace address {

std::string_view to_string(Error e) noexcept {
    switch (e) {
    case Error::Empty: return "empty";
    case Error::InputTooLong: return "input_too_long";
    case Error::Syntax: return "syntax";
    case Error::NullPath: return "null_path";
    case Error::NoDomain: return "no_domain";
    case Error::EmptyLocalPart: return "empty_local_part";
    case Error::LocalPartTooLong: return "local_part_too_long";
    case Error::DomainTooLong: return "domain_too_long";
    case Error::LabelTooLong: return "label_too_long";
    case Error::MailboxTooLong: return "mailbox_too_long";
    case Error::BadDomain: return "bad_domain";
    case Error::BadAddressLiteral: return "bad_address_literal";
    case Error::Idna: return "idna";
    case Error::BadUtf8: return "bad_utf8";
    case Error::NoAddress: return "no_address";
    case Error::UnsupportedType: return "unsupported_address_type";
    case Error::TooManyAddresses: return "too_many_addresses";
    }
    return "unknown";
}

bool is_dot_string(std::string_view local) noexcept {
    // RFC 5321 4.1.2 Dot-string = Atom *("." Atom); RFC 6531 3.3 adds
    // UTF8-non-ascii to atext.
    if (local.empty() || local.front() == '.' || local.back() == '.') return false;
    char prev = 0;
    for (char ch : local) {
        const auto c = static_cast<unsigned char>(ch);
        if (c == '.') {
            if (prev == '.') return false;
        } else if (!detail::is_atext(c) && c < 0x80) {
            return false;
        }
        prev = ch;
    }
    return detail::valid_utf8(local);
}

namespace {

// The local part as written on the wire: Dot-string, or Quoted-string with
// '"' and '\\' escaped (RFC 5321 4.1.2 quoted-pairSMTP).
bool needs_escape(char c) noexcept { return c == '"' || c == '\\'; }

std::size_t wire_local_size(std::string_view local) noexcept {
    if (is_dot_string(local)) return local.size();
    std::size_t n = local.size() + 2;
    for (char c : local) n += needs_escape(c) ? 1 : 0;
    return n;
}

void append_wire_local(std::string& out, std::string_view local) {
    if (is_dot_string(local)) {
        out += local;
        return;
    }
    out += '"';
    for (char c : local) {
        if (needs_escape(c)) out += '\\';
        out += c;
    }
    out += '"';
}

// The local part as written on the wire, "@" and the domain, in one string.
std::string mailbox_text(std::string_view local, const std::string& domain) {
    std::string out;
    out.reserve(local.size() + 3 + domain.size());  // quotes and "@"; escapes may add more
    append_wire_local(out, local);
    out += '@';
    out += domain;
    return out;
}

// Splits "local@domain" (local possibly quoted) and unquotes the local part.
Result<Address> mailbox(std::string_view s) {
    if (s.empty()) return Error::Empty;
    std::string local;
    std::size_t i = 0;
    if (s[0] == '"') {
        // RFC 5321 4.1.2 Quoted-string; RFC 6531 adds UTF-8 to qtextSMTP.
        for (i = 1;; ++i) {
            if (i >= s.size()) return Error::Syntax;  // no closing quote
            const auto c = static_cast<unsigned char>(s[i]);
            if (c == '"') break;
            if (c == '\\') {
                if (++i >= s.size()) return Error::Syntax;
                const auto e = static_cast<unsigned char>(s[i]);
                if (e < 32 || e > 126) return Error::Syntax;
                local += static_cast<char>(e);
            } else if (detail::is_qtext_smtp(c) || c >= 0x80) {
                local += static_cast<char>(c);
            } else {
                return Error::Syntax;
            }
        }
        ++i;  // past the closing quote
        if (i >= s.size()) return Error::NoDomain;
        if (s[i] != '@') return Error::Syntax;
        if (local.empty()) return Error::EmptyLocalPart;
    } else {
        // Dot-string, leniently: dots anywhere (see address.h).
        for (; i < s.size() && s[i] != '@'; ++i) {
            const auto c = static_cast<unsigned char>(s[i]);
            if (!detail::is_atext(c) && c != '.' && c < 0x80) return Error::Syntax;
        }
        if (i >= s.size()) return Error::NoDomain;
        local.assign(s.substr(0, i));
        if (local.empty()) return Error::EmptyLocalPart;
    }
    const std::string_view domain = s.substr(i + 1);
    if (domain.empty()) return Error::NoDomain;
    if (detail::is_wsp(static_cast<unsigned char>(domain.front())) ||
        detail::is_wsp(static_cast<unsigned char>(domain.back())))
        return Error::Syntax;
    return make_address(local, domain);
}

}  // namespace

Result<Address> make_address(std::string_view local, std::string_view domain) {
    if (local.size() > kMaxInput || domain.size() > kMaxInput) return Error::InputTooLong;
    if (local.empty()) return Error::EmptyLocalPart;
    for (unsigned char c : local)
        if (c < 32 || c == 127) return Error::Syntax;
    if (!detail::valid_utf8(local)) return Error::BadUtf8;
    auto d = normalise_domain(domain);
    if (!d) return d.error();
    const std::size_t wire = wire_local_size(local);
    if (wire > kMaxLocalPart) return Error::LocalPartTooLong;
    if (wire + 1 + d->str().size() > kMaxMailbox) return Error::MailboxTooLong;
    return Address(std::string(local), *std::move(d));
}

std::string Address::str() const {
    if (is_null()) return {};
    return mailbox_text(local_, domain_->str());
}

std::string Address::normalised() const {
    if (is_null()) return {};
    // Lower-casing ASCII cannot change whether quoting is needed.
    return mailbox_text(sys::to_lower_ascii(local_), domain_->str());
}

Result<Address> parse_mailbox(std::string_view text) {
    if (text.size() > kMaxInput) return Error::InputTooLong;
    const std::string_view s = detail::trim_wsp(text);
    if (s.empty()) return Error::Empty;
    if (s.front() == '<') return s == "<>" ? Error::NullPath : Error::Syntax;
    return mailbox(s);
}

Result<Address> parse_path(std::string_view text) {
    if (text.size() > kMaxInput) return Error::InputTooLong;
    std::string_view s = detail::trim_wsp(text);
    if (s.empty()) return Error::Empty;
    if (s.front() != '<') return mailbox(s);  // bare, as Postfix accepts it
    if (s.back() != '>') return Error::Syntax;
    s = detail::trim_wsp(s.substr(1, s.size() - 2));
    if (s.empty()) return Address();  // "<>": RFC 5321 4.5.5 null reverse-path
    if (s.front() == '@') {
        // RFC 5321 4.1.2 A-d-l = At-domain *( "," At-domain ) ":"; 4.1.1.3
        // says to ignore the route. We check its shape, not its domains.
        std::size_t colon = 0;  // the first ':' outside an address literal
        for (bool lit = false; colon < s.size() && (lit || s[colon] != ':'); ++colon)
            lit = s[colon] == '[' ? true : s[colon] == ']' ? false : lit;
        if (colon == s.size()) return Error::Syntax;
        bool need_at = false;  // after ",": the next At-domain's "@"
        std::size_t len = 0;    // octets of the current At-domain's domain
        for (unsigned char c : s.substr(1, colon - 1)) {
            if (need_at) {
                if (c != '@') return Error::Syntax;
                need_at = false;
                len = 0;
            } else if (c == ',') {
                if (len == 0) return Error::Syntax;
                need_at = true;
            } else if (detail::is_alpha(c) || detail::is_digit(c) || c == '-' || c == '.' ||
                       c == '[' || c == ']' || c == ':' || c >= 0x80) {
                ++len;
            } else {
                return Error::Syntax;
            }
        }
        if (need_at || len == 0) return Error::Syntax;
        s.remove_prefix(colon + 1);
        if (s.empty()) return Error::Syntax;
    }
    if (s.front() == '<' || s.back() == '>') return Error::Syntax;
    return mailbox(s);
}

Result<Domain> domain_of(std::string_view path) {
    auto a = parse_path(path);
    if (!a) return a.error();
    if (a->is_null()) return Error::NullPath;
    return a->domain();
}

Result<std::string> suppression_key(std::string_view text) {
    if (!text.empty() && text.front() == '@') {
        auto d = normalise_domain(text.substr(1));
        if (!d) return d.error();
        return "@" + d->str();
    }
    // "<bob@example.net>" as Postfix logs it, or a bare mailbox.
    auto a = !text.empty() && text.front() == '<' ? parse_path(text) : parse_mailbox(text);
    if (!a) return a.error();
    if (a->is_null()) return Error::NullPath;
    return a->normalised();
}

}  // namespace address
