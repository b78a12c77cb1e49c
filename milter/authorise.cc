// authorise.cc - see authorise.h
#include "milter/authorise.h"

#include "milter/return_path.h"

namespace milter {

Authorisation authorise(const Policy& policy, const Identity& who, const address::Address& sender) {
    if (is_bounce_domain(policy, sender.domain()))
        return {false, sender.str() + " is a bounce address",
                std::string(senders::to_string(senders::Reason::BounceAddress))};
    std::optional<senders::Client> client;
    if (!who.login.empty())
        client = senders::Client::login(who.login);
    else if (who.local)
        client = senders::Client::local();
    else
        client = senders::Client::address(who.client_addr);
    if (!client)
        return {false, "client " + (who.client_addr.empty() ? std::string("unknown") : who.client_addr) +
                           " may not send as " + sender.str(),
                std::string(senders::to_string(senders::Reason::UnknownNetwork))};
    const senders::Decision d = policy.senders->check(*client, sender);
    return {d.allowed, d.text, std::string(senders::to_string(d.reason))};
}

}  // namespace milter
