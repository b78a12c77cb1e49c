// protocol.cc - see protocol.h
#include "common/policy/protocol.h"

#include "common/log/log.h"

#include <utility>

namespace policy {
namespace {

using Clock = std::chrono::steady_clock;

// At most one warning a second per kind; see protocol.h.
bool warn_now(logging::Every& gate, uint64_t* held) {
    return gate.due(std::chrono::duration_cast<std::chrono::microseconds>(Clock::now().time_since_epoch()).count(),
                    held);
}

}  // namespace

PolicyProtocol::PolicyProtocol(std::shared_ptr<Shared> shared, Limits limits, net::Peer peer)
    : shared_(std::move(shared)), decoder_(limits), peer_(std::move(peer)) {}

PolicyProtocol::~PolicyProtocol() {
    if (!partial_) return;
    ++shared_->stats->truncated;
    if (logging::verbose())
        logging::debug(logging::Line(shared_->options.component)
                               .kv("peer", peer_.str())
                               .kv("reason", "request cut short by the end of the connection"));
}

bool PolicyProtocol::on_data(std::string& in, std::string& out) {
    const std::string_view buf = in;
    size_t pos = 0;
    bool keep = true;
    // Stop at the high-water mark: StreamServer calls again once the peer
    // has read what is queued (bounded output whatever the input holds).
    while (pos < buf.size() && out.size() < net::kOutputHighWater) {
        const DecodeStatus st = decoder_.decode(buf.substr(pos));
        if (st == DecodeStatus::NeedMore) break;
        if (st == DecodeStatus::Error) {
            Shared& sh = *shared_;
            ++sh.stats->malformed;
            if (uint64_t held = 0; warn_now(sh.malformed_warn, &held)) {
                logging::warning(logging::Line(sh.options.component)
                                         .kv("peer", peer_.str())
                                         .kv("reason", "malformed policy request")
                                         .kv("error", decoder_.error())
                                         .kv("action", "close connection")
                                         .kv("suppressed", static_cast<long long>(held)));
            }
            pos = buf.size();  // framing is lost: nothing after it is trusted
            keep = false;
            break;
        }
        answer(out);
        pos += decoder_.consumed();
        decoder_.reset();
    }
    in.erase(0, pos);
    partial_ = keep && !in.empty();
    return keep;
}

// The only request type SMTPD_POLICY_README defines.
constexpr std::string_view kAccessPolicy = "smtpd_access_policy";

void PolicyProtocol::answer(std::string& out) {
    Shared& sh = *shared_;
    const Request& req = decoder_.request();
    if (req.request() != kAccessPolicy) {
        ++sh.stats->unknown_requests;
        if (!std::exchange(sh.unknown_request_logged, true))
            logging::warning(logging::Line(sh.options.component)
                                     .kv("peer", peer_.str())
                                     .kv("reason", "unknown policy request type")
                                     .kv("request", req.has("request") ? req.request() : "(none)")
                                     .kv("expected", kAccessPolicy)
                                     .kv("action", "DUNNO")
                                     .kv("note", "logged once; later ones are only counted"));
        append_reply(out, "DUNNO");
        return;
    }
    const char* error = nullptr;
    std::string what;
    try {
        const std::string action = sh.handler(peer_, req);
        ++sh.stats->requests;
        append_reply(out, action);
        return;
    } catch (const std::exception& e) {
        what = e.what();
    } catch (...) {
        error = "unknown exception";
    }
    ++sh.stats->handler_errors;
    if (uint64_t held = 0; warn_now(sh.error_warn, &held)) {
        logging::warning(logging::Line(sh.options.component)
                                 .kv("peer", peer_.str())
                                 .kv("reason", "handler error")
                                 .kv("error", error ? std::string_view(error) : std::string_view(what))
                                 .kv("protocol_state", req.protocol_state())
                                 .kv("sender", req.sender())
                                 .kv("recipient", req.recipient())
                                 .kv("action", sh.options.error_action)
                                 .kv("suppressed", static_cast<long long>(
                                                       held)));
    }
    append_reply(out, sh.options.error_action);
}

net::ProtocolFactory policy_factory(Handler handler, Limits limits, Options options,
                                    std::shared_ptr<Stats> stats) {
    // Checks the limits now rather than at the first connection.
    RequestDecoder check(limits);
    auto shared = std::make_shared<Shared>();
    shared->handler = std::move(handler);
    shared->options = std::move(options);
    shared->stats = stats ? std::move(stats) : std::make_shared<Stats>();
    return [shared, limits](const net::Peer& peer) -> std::unique_ptr<net::Protocol> {
        return std::make_unique<PolicyProtocol>(shared, limits, peer);
    };
}

size_t server_max_input(const Limits& limits) noexcept { return limits.max_request; }

}  // namespace policy
