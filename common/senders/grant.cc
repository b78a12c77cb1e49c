// grant.cc - see grant.h
#include "common/senders/grant.h"

#include "common/address/address.h"

namespace senders {
namespace {

constexpr std::string_view kForms = "expected a domain, @domain, *.domain or an address";

std::optional<std::string> domain_name(std::string_view text, std::string& why) {
    const address::Result<address::Domain> d = address::normalise_domain(text);
    if (!d) {
        why = std::string(kForms) + " (" + std::string(address::to_string(d.error())) + ")";
        return std::nullopt;
    }
    if (d->is_literal()) {
        why = "an address literal is no sender domain";
        return std::nullopt;
    }
    return d->str();
}

}  // namespace

std::optional<Grant> parse_grant(std::string_view text, std::string& why) {
    if (text.starts_with("*.")) {
        auto d = domain_name(text.substr(2), why);
        if (!d) return std::nullopt;
        return Grant{Grant::Kind::Subdomains, std::move(*d)};
    }
    if (text.find('*') != std::string_view::npos) {
        why = "'*' is allowed only as a leading \"*.\" (subdomains)";
        return std::nullopt;
    }
    if (text.starts_with('@'))
        text.remove_prefix(1);
    else if (text.find('@') != std::string_view::npos) {
        const address::Result<address::Address> a = address::parse_mailbox(text);
        if (!a) {
            why = std::string(kForms) + " (" + std::string(address::to_string(a.error())) + ")";
            return std::nullopt;
        }
        if (a->domain().is_literal()) {
            why = "an address literal is no sender domain";
            return std::nullopt;
        }
        return Grant{Grant::Kind::Address, a->normalised()};
    }
    auto d = domain_name(text, why);
    if (!d) return std::nullopt;
    return Grant{Grant::Kind::Domain, std::move(*d)};
}

}  // namespace senders
