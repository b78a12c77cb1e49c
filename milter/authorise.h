// authorise.h - may this client use this sender address?
//
//   authorise(policy, who, address) -> Authorisation
//
// The one place the milter asks the sender rules (common/senders,
// rules.h: sender tables, network tables, login-owns-its-domain, local
// submission's milter_local_senders, bounce domains). Before them, every
// domain bounce_domains accepts (LABEL.* patterns included) and every
// milter_bounce_domain_maps target is refused with the library's text,
// "<address> is a bounce address". text is the reply text after
// "550 5.7.1 "; reason the library's token for the log (why=).
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
    std::string text;    // why not, when !allowed
    std::string reason;  // "not_granted", "bounce_address", ... (senders::to_string)
};

Authorisation authorise(const Policy& policy, const Identity& who, const address::Address& sender);

}  // namespace milter
