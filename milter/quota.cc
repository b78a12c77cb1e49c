// quota.cc - see quota.h
#include "milter/quota.h"

namespace milter {
namespace {

// The attributes both states share, in the order Postfix sends them.
policy::Request request(std::string_view state, const MessageFacts& m, std::string_view recipient,
                        uint64_t recipient_count, uint64_t size) {
    policy::Request r;
    r.add("request", "smtpd_access_policy");
    r.add("protocol_state", state);
    r.add("client_address", m.client_address);
    r.add("client_name", m.client_name);
    r.add("reverse_client_name", m.client_name);
    r.add("helo_name", "");
    r.add("sender", m.sender);
    r.add("recipient", recipient);
    r.add("recipient_count", std::to_string(recipient_count));
    r.add("queue_id", m.queue_id);
    r.add("instance", m.instance);
    r.add("size", std::to_string(size));
    r.add("sasl_username", m.login);
    r.add("policy_context", m.context);
    return r;
}

}  // namespace

bool FailOpenWarnings::due(std::chrono::steady_clock::time_point now, uint64_t* suppressed) noexcept {
    const std::lock_guard g(mu_);
    return gate_.due(std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count(),
                     suppressed);
}

policy::Request rcpt_request(const MessageFacts& m, std::string_view recipient, uint64_t recipients_before) {
    return request("RCPT", m, recipient, recipients_before, 0);
}

policy::Request end_of_message_request(const MessageFacts& m, std::string_view only_recipient,
                                       uint64_t recipient_count, uint64_t size) {
    return request("END-OF-MESSAGE", m, only_recipient, recipient_count, size);
}

std::shared_ptr<const PolicyService> make_policy_service(const net::Endpoint& ep, std::chrono::milliseconds timeout,
                                                         std::string context, PolicySubmissions submissions) {
    auto pool = std::make_shared<const policy::ClientPool>(ep, timeout);
    auto s = std::make_shared<PolicyService>();
    s->endpoint = ep.str();
    s->context = std::move(context);
    s->submissions = submissions;
    s->ask = [pool](const policy::Request& r) { return pool->ask(r); };
    return s;
}

}  // namespace milter
