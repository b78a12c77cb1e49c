// grant.h - the patterns that say which senders a client may use
//
// One syntax for every grant list (sender tables, network tables,
// milter_local_senders): patterns separated by commas and/or white space.
//
//   customer-a.example     any address at that domain, not its subdomains
//   @customer-a.example    the same
//   *.customer-a.example   any address at a strict subdomain (a.customer-a.
//                          example, b.a.customer-a.example), not the domain
//   news@customer-x.example  that one address
//
// Patterns are normalised as common/address normalises what they are
// compared with: domains by address::normalise_domain (IDNA U-labels to
// A-labels, case folded, one trailing dot dropped), addresses by
// address::parse_mailbox and Address::normalised() (ASCII case of the
// local part folded, quoting canonical: "News"@x and news@X are one
// pattern). An address literal ([192.0.2.1]) is no sender domain and is
// refused, and so is any other use of '*'. A local part holding white space
// or a comma cannot be written here (the list separates at them); grant
// its domain instead.
//
//   parse_grant(text, why)   one pattern; nullopt with the reason in why
//
// Thread safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace senders {

struct Grant {
    enum class Kind { Domain, Subdomains, Address };
    Kind kind;
    std::string name;  // the domain (without "*." for Subdomains) or the normalised address
    bool operator==(const Grant&) const = default;
};

std::optional<Grant> parse_grant(std::string_view text, std::string& why);

}  // namespace senders
