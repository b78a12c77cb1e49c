// quota.h - the milter as a client of sendguard-policyd (milter_policy_service)
//
// Mail submitted locally (sendmail(1), pickup) reaches cleanup(8) and
// non_smtpd_milters, never smtpd's check_policy_service. With
// milter_policy_service set, the session asks the policy service for those
// submissions itself, as smtpd would (milter_policy_submissions = all: for
// every message):
//   RCPT            request=smtpd_access_policy, protocol_state=RCPT,
//                   client_address, client_name, reverse_client_name (the
//                   MTA's: "127.0.0.1", "localhost" for local mail),
//                   helo_name (empty), sender, recipient, recipient_count
//                   (recipients before this one), queue_id, instance (one
//                   per transaction: Services::make_instance), size (0),
//                   sasl_username ({auth_authen}; empty for local mail:
//                   Postfix gives non_smtpd_milters no user name),
//                   policy_context (milter_policy_context)
//   END-OF-MESSAGE  the same with protocol_state=END-OF-MESSAGE,
//                   recipient only when there was exactly one,
//                   recipient_count and size (the header and body bytes
//                   the milter saw) - it commits the reservations the RCPTs
//                   made (sendguard-policyd(8))
// rcpt_request() and end_of_message_request() build them from a
// MessageFacts; the Session (session.h) decides when to ask and what the
// answer (common/policy/answer.h) does.
//
// Failing open: a service that cannot be reached, times out
// (milter_policy_timeout) or answers garbage lets the message go on (it
// shapes traffic, it guards nothing); FailOpenWarnings logs that as a
// warning at most once a minute per milter, with the count since
// ("suppressed=N").
//
// Errors: none thrown but std::bad_alloc. Thread safety: PolicyService is
// shared by every session (its ask is ClientPool::ask, thread safe);
// FailOpenWarnings has its own lock.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "common/log/every.h"
#include "common/policy/client.h"
#include "common/policy/request.h"

namespace milter {

// milter_policy_submissions.
enum class PolicySubmissions { Local, All };

// At most one fail-open warning per this interval.
inline constexpr std::chrono::seconds kFailOpenWarnInterval{60};

class FailOpenWarnings {
public:
    // Whether to log now; *suppressed is the count not logged since the
    // last warning (then reset).
    bool due(std::chrono::steady_clock::time_point now, uint64_t* suppressed) noexcept;

private:
    std::mutex mu_;
    logging::Every gate_{std::chrono::duration_cast<std::chrono::microseconds>(kFailOpenWarnInterval).count()};
};

struct PolicyService {
    std::string endpoint;  // milter_policy_service, canonical, for the log
    std::string context;   // milter_policy_context
    PolicySubmissions submissions = PolicySubmissions::Local;
    // Sends one request (ClientPool::ask; a fake in tests).
    std::function<policy::Asked(const policy::Request&)> ask;
    std::shared_ptr<FailOpenWarnings> warnings = std::make_shared<FailOpenWarnings>();
};

// What a request says about the transaction.
struct MessageFacts {
    std::string_view client_address, client_name;
    std::string sender;           // without brackets, "" for the null sender
    std::string_view login;       // {auth_authen}
    std::string_view queue_id;
    std::string_view instance;
    std::string_view context;     // milter_policy_context
};

policy::Request rcpt_request(const MessageFacts& m, std::string_view recipient, uint64_t recipients_before);
policy::Request end_of_message_request(const MessageFacts& m, std::string_view only_recipient,
                                       uint64_t recipient_count, uint64_t size);

// Builds the PolicyService of milter_policy_service (a ClientPool).
std::shared_ptr<const PolicyService> make_policy_service(const net::Endpoint& ep, std::chrono::milliseconds timeout,
                                                         std::string context, PolicySubmissions submissions);

}  // namespace milter
