// socketmap.cc - see socketmap.h
#include "common/net/socketmap.h"

#include "common/log/log.h"
#include "common/net/netstring.h"

#include <stdexcept>

namespace net {
namespace {

struct StatusWord {
    SocketmapStatus status;
    std::string_view word;
};
constexpr StatusWord kWords[] = {
    {SocketmapStatus::Ok, "OK"},         {SocketmapStatus::NotFound, "NOTFOUND"},
    {SocketmapStatus::Temp, "TEMP"},     {SocketmapStatus::Timeout, "TIMEOUT"},
    {SocketmapStatus::Perm, "PERM"},
};

// dst = the reply payload; see format_reply() in socketmap.h for the limits.
void format_into(std::string& dst, const SocketmapReply& r, size_t max_reply) {
    dst.clear();
    std::string_view data = r.data;
    if (r.status == SocketmapStatus::NotFound) {
        dst = "NOTFOUND ";
        return;
    }
    const std::string_view word = status_name(r.status);
    if (word.size() + 1 + data.size() > max_reply) {
        if (r.status == SocketmapStatus::Ok) {
            dst = "TEMP reply too long";
            if (dst.size() > max_reply) dst.resize(max_reply);
            return;
        }
        const size_t room = max_reply > word.size() + 1 ? max_reply - word.size() - 1 : 0;
        data = data.substr(0, room);
    }
    dst.reserve(word.size() + 1 + data.size());
    dst.append(word);
    dst.push_back(' ');
    dst.append(data);
    if (dst.size() > max_reply) dst.resize(max_reply);  // only for absurdly small limits
}

}  // namespace

std::string_view status_name(SocketmapStatus s) noexcept {
    for (const auto& w : kWords)
        if (w.status == s) return w.word;
    return "PERM";
}

std::string format_reply(const SocketmapReply& r, size_t max_reply) {
    std::string out;
    format_into(out, r, max_reply);
    return out;
}

std::optional<SocketmapReply> parse_reply(std::string_view payload) {
    const size_t sp = payload.find(' ');
    const std::string_view word = payload.substr(0, sp);
    for (const auto& w : kWords) {
        if (w.word != word) continue;
        if (sp == std::string_view::npos && w.status != SocketmapStatus::NotFound)
            return std::nullopt;
        SocketmapReply r;
        r.status = w.status;
        if (sp != std::string_view::npos) r.data = std::string(payload.substr(sp + 1));
        return r;
    }
    return std::nullopt;
}

std::optional<SocketmapRequest> parse_socketmap_request(std::string_view payload) noexcept {
    const size_t sp = payload.find(' ');
    if (sp == std::string_view::npos || sp == 0) return std::nullopt;
    return SocketmapRequest{payload.substr(0, sp), payload.substr(sp + 1)};
}

SocketmapTargetParse parse_socketmap_target(std::string_view spec) {
    std::string_view rest = spec;
    if (rest.substr(0, 10) == "socketmap:") rest.remove_prefix(10);
    const size_t colon = rest.rfind(':');
    SocketmapTargetParse r;
    if (colon == std::string_view::npos || colon + 1 == rest.size()) {
        r.error = "invalid socketmap \"" + std::string(spec.substr(0, 200)) +
                  "\": expected endpoint:name";
        return r;
    }
    EndpointParse ep = parse_endpoint(rest.substr(0, colon));
    if (!ep.endpoint) {
        r.error = std::move(ep.error);
        return r;
    }
    r.target = SocketmapTarget{std::move(*ep.endpoint), std::string(rest.substr(colon + 1))};
    return r;
}

SocketmapProtocol::SocketmapProtocol(std::shared_ptr<const SocketmapHandler> handler,
                                     SocketmapLimits limits, Peer peer)
    : handler_(std::move(handler)), limits_(limits), peer_(std::move(peer)) {
    if (limits_.max_request == 0)
        throw std::invalid_argument("SocketmapLimits.max_request is not set");
}

size_t SocketmapProtocol::server_max_input(const SocketmapLimits& limits) noexcept {
    return netstring_frame_size(limits.max_request);
}

bool SocketmapProtocol::on_data(std::string& in, std::string& out) {
    const std::string_view buf = in;
    size_t pos = 0;
    bool keep = true;
    // Stop at the high-water mark: StreamServer calls again once the peer
    // has read what is queued (bounded output whatever the input holds).
    while (pos < buf.size() && out.size() < kOutputHighWater) {
        const NetstringResult r = decode_netstring(buf.substr(pos), limits_.max_request);
        if (r.status == NetstringStatus::NeedMore) break;
        if (r.status == NetstringStatus::Error) {
            logging::warning(logging::Line("socketmap")
                                     .kv("reason", "bad request")
                                     .kv("error", r.error));
            append_netstring(out, "PERM bad request: " + std::string(r.error));
            pos = buf.size();  // the rest cannot be framed
            keep = false;
            break;
        }
        answer(r.payload, out);
        pos += r.consumed;
    }
    in.erase(0, pos);
    return keep;
}

void SocketmapProtocol::answer(std::string_view payload, std::string& out) {
    const auto req = parse_socketmap_request(payload);
    SocketmapReply reply;
    if (!req) {
        logging::warning(logging::Line("socketmap")
                                 .kv("reason", "bad request")
                                 .kv("error", "expected name and key"));
        reply = SocketmapReply::perm("bad request: expected \"name key\"");
    } else {
        try {
            reply = (*handler_)(peer_, req->name, req->key);
        } catch (const std::exception& e) {
            logging::warning(logging::Line("socketmap")
                                     .kv("map", req->name)
                                     .kv("reason", "handler error")
                                     .kv("error", e.what()));
            reply = SocketmapReply::temp("internal error");
        } catch (...) {
            logging::warning(logging::Line("socketmap")
                                     .kv("map", req->name)
                                     .kv("reason", "handler error")
                                     .kv("error", "unknown exception"));
            reply = SocketmapReply::temp("internal error");
        }
        if (reply.status == SocketmapStatus::Ok &&
            reply.data.size() + 3 > limits_.max_reply) {
            logging::warning(logging::Line("socketmap")
                                     .kv("map", req->name)
                                     .kv("reason", "reply too long")
                                     .kv("size", static_cast<long long>(reply.data.size()))
                                     .kv("max", static_cast<long long>(limits_.max_reply)));
        }
    }
    format_into(scratch_, reply, limits_.max_reply);
    append_netstring(out, scratch_);
}

ProtocolFactory socketmap_factory(SocketmapHandler handler, SocketmapLimits limits) {
    auto shared = std::make_shared<const SocketmapHandler>(std::move(handler));
    return [shared, limits](const Peer& peer) -> std::unique_ptr<Protocol> {
        return std::make_unique<SocketmapProtocol>(shared, limits, peer);
    };
}

ProtocolFactory socketmap_factory(
    std::function<SocketmapReply(std::string_view name, std::string_view key)> handler,
    SocketmapLimits limits) {
    return socketmap_factory(
        SocketmapHandler([h = std::move(handler)](const Peer&, std::string_view n,
                                                  std::string_view k) { return h(n, k); }),
        limits);
}

}  // namespace net
