// authorise.cc - see authorise.h
#include "milter/authorise.h"

#include "milter/return_path.h"

namespace milter {

Authorisation authorise(const Policy& policy, const Identity& who, const address::Address& sender) {
    const address::Domain& domain = sender.domain();
    if (is_bounce_domain(policy, domain))
        return {false, sender.str() + ": bounce domain " + domain.str() + " is reserved for return addresses"};
    if (!who.login.empty()) {
        const auto login = address::parse_mailbox(who.login);
        if (login && login->domain() == domain) return {true, {}};
        return {false, "login " + who.login + " may not send as " + sender.str()};
    }
    if (who.local) return {true, {}};
    return {false, "client " + (who.client_addr.empty() ? std::string("unknown") : who.client_addr) +
                       " may not send as " + sender.str() + " without authentication"};
}

}  // namespace milter
