// protocol.h - Postfix policy delegation, server side, on net::StreamServer
//
// PolicyProtocol is the net::Protocol of a policy service: it decodes
// requests (request.h), calls the handler once per request, and writes its
// action as the reply. Postfix keeps one connection per smtpd process open
// for many requests and sends the next request only after the reply, but a
// client may pipeline: every complete request in the input is answered, in
// order. Once kOutputHighWater bytes of replies wait for a slow peer the
// protocol stops and the server calls it again when they have drained.
//
// API:
//   Handler: (peer, request) -> action ("DUNNO", "DEFER_IF_PERMIT text",
//     "451 4.7.1 text", ...). It runs on the server's thread; unknown
//     attributes are in the request and are the handler's business.
//   Options: error_action, the reply when the handler throws (policyd
//     answers "DUNNO": it shapes traffic, it does not guard security);
//     component, the name in log lines ("policyd").
//   Stats: counters shared by all connections of one factory.
//   PolicyProtocol(handler, limits, options, peer, shared): one connection.
//   policy_factory(handler, limits, options[, stats]): a ProtocolFactory for
//     StreamServer, one PolicyProtocol per connection.
//   server_max_input(limits): the ServerLimits::max_input that lets every
//     request the decoder accepts be buffered (max_request bytes). The
//     decoder refuses longer ones first, with its own warning.
//
// Decisions:
//   - Malformed input (see request.h: a line without '=', a bad name, NUL,
//     a line, request or attribute count over its limit) gets no reply: the
//     warning names the peer and what was wrong, and the connection closes
//     (on_data returns false) after the replies to the requests before it.
//     Postfix then logs the failure and uses
//     smtpd_policy_service_default_action; a request cannot be told apart
//     from the next once framing is lost.
//   - A request whose request attribute is not smtpd_access_policy (the
//     only request type SMTPD_POLICY_README defines; absent counts as not
//     it) is not passed to the handler: it is answered DUNNO (no opinion,
//     Postfix goes on with its other restrictions) and the connection stays
//     open, as the README wants unless there was an error; framing is
//     intact, so closing would only make Postfix apply
//     smtpd_policy_service_default_action (a 4xx by default) to mail the
//     service has no rule for. The first such request of a factory logs
//     one warning naming the type and the peer; later ones are counted in
//     Stats::unknown_requests only.
//   - A handler exception gets error_action and a warning; the connection
//     stays open (the unit of work is one request).
//   - Warnings are rate-limited per factory: at most one a second of each
//     kind (malformed input, handler error), with the count of those not
//     logged since ("suppressed=N").
//   - A request cut short by the end of input is dropped without a reply
//     (debug log): the peer has gone.
//
// Errors: the constructor throws std::invalid_argument for a zero Limits
//   field. on_data does not throw except std::bad_alloc (the server closes
//   that connection).
// Thread safety: a PolicyProtocol belongs to one connection; all
//   connections of a factory share its handler, Stats and rate limiter, and
//   run on the server's one thread.
#pragma once

#include "common/log/every.h"
#include "common/net/stream_server.h"
#include "common/policy/request.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace policy {

using Handler = std::function<std::string(const net::Peer& peer, const Request& req)>;

struct Options {
    std::string error_action;  // reply when the handler throws
    std::string component = "policy";
};

struct Stats {
    uint64_t requests = 0;        // answered by the handler
    uint64_t handler_errors = 0;  // answered with error_action
    uint64_t malformed = 0;       // connections closed for malformed input
    uint64_t truncated = 0;       // requests cut short by the end of input
    uint64_t unknown_requests = 0;  // request= other than smtpd_access_policy: DUNNO
};

// What the connections of one factory share.
struct Shared {
    Handler handler;
    Options options;
    std::shared_ptr<Stats> stats;  // never null
    // Warning rate limits (see above).
    logging::Every malformed_warn{1'000'000};  // once a second (steady-clock microseconds)
    logging::Every error_warn{1'000'000};
    bool unknown_request_logged = false;  // the one warning (see above)
};

class PolicyProtocol final : public net::Protocol {
public:
    PolicyProtocol(std::shared_ptr<Shared> shared, Limits limits, net::Peer peer);
    ~PolicyProtocol() override;
    bool on_data(std::string& in, std::string& out) override;

private:
    void answer(std::string& out);

    std::shared_ptr<Shared> shared_;
    RequestDecoder decoder_;
    net::Peer peer_;
    bool partial_ = false;  // input of an unfinished request is waiting
};

net::ProtocolFactory policy_factory(Handler handler, Limits limits, Options options,
                                    std::shared_ptr<Stats> stats = nullptr);

size_t server_max_input(const Limits& limits) noexcept;

}  // namespace policy
