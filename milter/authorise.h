// authorise.h - may this client use this sender address?
//
//   authorise(policy, who, address) -> Authorisation
//
// The one place the milter asks the sender rules. Today's rules:
//   - our own bounce domains (is_bounce_domain) are nobody's to use:
//     "<address>: bounce domain D is reserved for return addresses";
//   - a login user@domain may send as addresses at domain:
//     "login L may not send as A";
//   - locally submitted mail (sendmail(1), pickup) may use any sender;
//   - any other client without a login is refused:
//     "client ADDR may not send as A without authentication".
// text is the reply text after "550 5.7.1 ".
//
// Errors: values. Thread safety: a pure function of an immutable Policy.
#pragma once

#include <string>

#include "common/address/address.h"
#include "milter/policy.h"

namespace milter {

struct Identity {
    std::string login;        // {auth_authen}; "" without SMTP AUTH
    std::string client_addr;  // "192.0.2.1", "2001:db8::1"; "" when unknown
    bool local = false;       // submitted on this host (non_smtpd_milters)
};

struct Authorisation {
    bool allowed = false;
    std::string text;  // why not, when !allowed
};

Authorisation authorise(const Policy& policy, const Identity& who, const address::Address& sender);

}  // namespace milter
