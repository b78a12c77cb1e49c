// domain.cc - domain normalisation: case, trailing dot, IDNA, literals
//
// See address.h. The wire form of a domain is ASCII (RFC 5321 2.3.5; RFC
// 5890 A-labels for IDNs), so that is the form we key on: "Bücher.Example."
// and "xn--bcher-kva.example" are one domain.
#include <arpa/inet.h>
#include <idn2.h>
#include <netinet/in.h>

#include <optional>
#include <string>

#include "common/address/address.h"
#include "common/address/chars.h"
#include "common/sys/c_handle.h"

namespace address {
namespace {

using IdnString = sys::CHandle<char, idn2_free>;

// RFC 5321 4.1.2 Domain = sub-domain *("." sub-domain), sub-domain =
// Let-dig [Ldh-str]; RFC 1035 2.3.4 length limits. No underscores: they are
// legal in DNS names but not in a mail domain.
std::optional<Error> check_ldh(std::string_view name) {
    if (name.size() > kMaxDomain) return Error::DomainTooLong;
    std::size_t start = 0;
    while (start <= name.size()) {
        std::size_t end = name.find('.', start);
        if (end == std::string_view::npos) end = name.size();
        const std::string_view label = name.substr(start, end - start);
        if (label.empty()) return Error::BadDomain;
        if (label.size() > kMaxLabel) return Error::LabelTooLong;
        if (label.front() == '-' || label.back() == '-') return Error::BadDomain;
        for (unsigned char c : label)
            if (!detail::is_alpha(c) && !detail::is_digit(c) && c != '-') return Error::BadDomain;
        start = end + 1;
    }
    return std::nullopt;
}

// RFC 5321 4.1.3 address literals. IPv4 and IPv6 are written back in the
// canonical inet_ntop(3) form so that one host has one key; a General-
// address-literal (tag ":" dcontent) is kept as written.
Result<std::string> literal(std::string_view d) {
    if (d.size() < 3 || d.back() != ']') return Error::BadAddressLiteral;
    const std::string inner(d.substr(1, d.size() - 2));
    char buf[INET6_ADDRSTRLEN];
    if (inner.size() > 5 && detail::iequals(std::string_view(inner).substr(0, 5), "IPv6:")) {
        in6_addr a6{};
        if (inet_pton(AF_INET6, inner.c_str() + 5, &a6) != 1) return Error::BadAddressLiteral;
        if (!inet_ntop(AF_INET6, &a6, buf, sizeof buf)) return Error::BadAddressLiteral;
        return "[IPv6:" + std::string(buf) + "]";
    }
    const auto colon = inner.find(':');
    if (colon == std::string::npos) {
        in_addr a4{};
        if (inet_pton(AF_INET, inner.c_str(), &a4) != 1) return Error::BadAddressLiteral;
        if (!inet_ntop(AF_INET, &a4, buf, sizeof buf)) return Error::BadAddressLiteral;
        return "[" + std::string(buf) + "]";
    }
    // Standardized-tag = Ldh-str; dcontent = %d33-90 / %d94-126.
    const std::string_view tag = std::string_view(inner).substr(0, colon);
    const std::string_view content = std::string_view(inner).substr(colon + 1);
    if (tag.empty() || content.empty() || tag.back() == '-') return Error::BadAddressLiteral;
    for (unsigned char c : tag)
        if (!detail::is_alpha(c) && !detail::is_digit(c) && c != '-') return Error::BadAddressLiteral;
    for (unsigned char c : content)
        if (c < 33 || c > 126 || c == '[' || c == '\\' || c == ']') return Error::BadAddressLiteral;
    if (d.size() > kMaxDomain) return Error::DomainTooLong;
    return std::string(d);
}

// U-labels -> A-labels. UTS #46 processing also maps upper case and the
// full-width dots. Non-transitional first (IDNA2008: "ß" stays "ß");
// transitional only for names that IDNA2008 refuses but IDNA2003 took.
Result<std::string> to_ascii(std::string_view d) {
    const std::string z(d);
    char* raw = nullptr;
    int rc = idn2_to_ascii_8z(z.c_str(), &raw, IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);
    IdnString out(raw);
    if (rc != IDN2_OK) {
        raw = nullptr;
        const int rc2 = idn2_to_ascii_8z(z.c_str(), &raw, IDN2_TRANSITIONAL | IDN2_NFC_INPUT);
        out.reset(raw);
        if (rc2 == IDN2_OK) rc = IDN2_OK;
    }
    if (rc == IDN2_TOO_BIG_DOMAIN) return Error::DomainTooLong;
    if (rc == IDN2_TOO_BIG_LABEL) return Error::LabelTooLong;
    if (rc != IDN2_OK || !out) return Error::Idna;
    return std::string(out.get());
}

}  // namespace

Result<Domain> normalise_domain(std::string_view in) {
    if (in.size() > kMaxInput) return Error::InputTooLong;
    std::string_view d = detail::trim_wsp(in);
    if (d.empty()) return Error::Empty;
    // Controls (NUL above all: C APIs below would stop there) are never
    // part of a domain or literal.
    for (unsigned char c : d)
        if (c < 0x20 || c == 0x7f) return Error::BadDomain;

    if (d.front() == '[') {
        auto lit = literal(d);
        if (!lit) return lit.error();
        return Domain(*std::move(lit));
    }

    // One trailing dot is the DNS root: "example.com." is "example.com".
    if (d.back() == '.') d.remove_suffix(1);
    if (d.empty()) return Error::BadDomain;

    bool ascii = true;
    for (unsigned char c : d)
        if (c >= 0x80) ascii = false;
    std::string name;
    if (ascii) {
        name = sys::to_lower_ascii(d);
    } else {
        if (!detail::valid_utf8(d)) return Error::BadUtf8;
        auto a = to_ascii(d);
        if (!a) return a.error();
        name = sys::to_lower_ascii(*a);
        // UTS #46 may map a final U+3002 etc. to a dot.
        if (!name.empty() && name.back() == '.') name.pop_back();
    }
    if (auto e = check_ldh(name)) return *e;
    return Domain(std::move(name));
}

}  // namespace address
