// socketmap.h - Postfix socketmap protocol, server side
//
// Postfix socketmap_table(5): the client sends one netstring request
// "name<space>key" and waits for one netstring reply:
//   "OK <data>"        found          "NOTFOUND "       not found
//   "TEMP <reason>"    try later      "TIMEOUT <reason>" "PERM <reason>"
// The client refuses replies longer than 100000 bytes (without the netstring
// framing). Postfix keeps the connection open for many requests.
//
// API:
//   SocketmapReply: a status and data/reason; format_reply() gives the
//     netstring payload, parse_reply() reads one (client side).
//   parse_socketmap_request("name key") -> name and key (the key may contain
//     spaces; the name may not be empty).
//   SocketmapProtocol: a net::Protocol for StreamServer that calls
//     handler(peer, name, key) per request (the peer of its connection, for
//     handlers that answer some maps only to some clients). An unknown map
//     name is the handler's business (reply NOTFOUND or PERM as it sees fit).
//   parse_socketmap_target("socketmap:unix:/path:name") splits a Postfix
//     table spec into the endpoint and the map name (the "socketmap:" prefix
//     is optional; the name follows the last colon).
//
// Decisions:
//   - A broken netstring (bad length, too long, missing comma) gets
//     "PERM bad request: <reason>" and the connection is closed once that
//     reply is sent: the stream cannot be resynchronised. A well-framed
//     request without a space gets a PERM reply and the connection stays.
//   - Requests are limited to max_request payload bytes; longer ones are
//     refused from their length prefix, before the data is buffered.
//   - Replies: an OK whose data would exceed max_reply is replaced by
//     "TEMP reply too long" with a warning (truncated data would be wrong
//     data; a temporary error makes Postfix retry and shows up in the logs).
//     TEMP/TIMEOUT/PERM reasons are only descriptive and are truncated.
//   - A handler that throws gets "TEMP internal error" and a warning; the
//     connection stays open (the unit of work is one request).
//
// Errors: values; see above. parse_* never throw (except std::bad_alloc).
// Thread safety: a SocketmapProtocol belongs to one connection; the handler
// is called on the server's thread.
#pragma once

#include "common/net/endpoint.h"
#include "common/net/stream_server.h"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace net {

enum class SocketmapStatus { Ok, NotFound, Temp, Timeout, Perm };

struct SocketmapReply {
    SocketmapStatus status = SocketmapStatus::NotFound;
    std::string data;  // OK: the value; TEMP/TIMEOUT/PERM: the reason

    static SocketmapReply ok(std::string d) { return {SocketmapStatus::Ok, std::move(d)}; }
    static SocketmapReply not_found() { return {SocketmapStatus::NotFound, {}}; }
    static SocketmapReply temp(std::string r) { return {SocketmapStatus::Temp, std::move(r)}; }
    static SocketmapReply timeout(std::string r) {
        return {SocketmapStatus::Timeout, std::move(r)};
    }
    static SocketmapReply perm(std::string r) { return {SocketmapStatus::Perm, std::move(r)}; }
    bool operator==(const SocketmapReply&) const = default;
};

// Postfix's limit on a reply payload.
inline constexpr size_t kSocketmapMaxReply = 100000;

std::string_view status_name(SocketmapStatus s) noexcept;  // "OK", "NOTFOUND", ...

// The reply payload ("OK data"), with the limits described above applied.
std::string format_reply(const SocketmapReply& r, size_t max_reply = kSocketmapMaxReply);
// Reads a reply payload; nullopt for an unknown status word or a missing
// space. "NOTFOUND" without its space is accepted.
std::optional<SocketmapReply> parse_reply(std::string_view payload);

struct SocketmapRequest {
    std::string_view name;
    std::string_view key;
};
std::optional<SocketmapRequest> parse_socketmap_request(std::string_view payload) noexcept;

struct SocketmapTarget {
    Endpoint endpoint;
    std::string name;
};
struct SocketmapTargetParse {
    std::optional<SocketmapTarget> target;
    std::string error;
};
SocketmapTargetParse parse_socketmap_target(std::string_view spec);

using SocketmapHandler = std::function<SocketmapReply(const Peer& peer, std::string_view name,
                                                     std::string_view key)>;

// max_request comes from the daemon's parameters (no default); max_reply is
// Postfix's limit unless a test wants a smaller one.
struct SocketmapLimits {
    size_t max_request;  // request payload bytes
    size_t max_reply = kSocketmapMaxReply;
    bool operator==(const SocketmapLimits&) const = default;
};

class SocketmapProtocol final : public Protocol {
public:
    // The handler is shared by all connections of a server. Throws
    // std::invalid_argument when limits.max_request is 0 (not set).
    SocketmapProtocol(std::shared_ptr<const SocketmapHandler> handler,
                      SocketmapLimits limits, Peer peer);
    bool on_data(std::string& in, std::string& out) override;

    // The StreamServer input bound that lets every request the protocol
    // accepts fit: a full frame of max_request bytes.
    static size_t server_max_input(const SocketmapLimits& limits) noexcept;

private:
    void answer(std::string_view payload, std::string& out);

    std::shared_ptr<const SocketmapHandler> handler_;
    SocketmapLimits limits_;
    Peer peer_;
    std::string scratch_;
};

// A factory for StreamServer: one SocketmapProtocol per connection.
ProtocolFactory socketmap_factory(SocketmapHandler handler, SocketmapLimits limits);
// The same for a handler that does not care who asks.
ProtocolFactory socketmap_factory(
    std::function<SocketmapReply(std::string_view name, std::string_view key)> handler,
    SocketmapLimits limits);

}  // namespace net
