// fuzz_netstring.cc - the netstring decoder and SocketmapProtocol over
// arbitrary bytes
//
// Input layout: byte 0 picks the decoder's max length and the chunk size
// used to feed SocketmapProtocol; the rest is the stream.
// Invariants checked (std::abort on violation):
//   - a decoded frame re-encodes to exactly the bytes it consumed (the
//     decoder accepts only the canonical form: no leading zeros);
//   - consumed is never more than the buffer, payload never over max;
//   - SocketmapProtocol, fed in chunks, only ever appends whole netstring
//     replies, each a valid socketmap reply within Postfix's limit, and
//     after returning false it is not used again;
//   - format_reply() output parses back with parse_reply().
#include <cstdint>
#include <algorithm>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>

#include "common/log/log.h"
#include "common/net/netstring.h"
#include "common/net/socketmap.h"

namespace {

net::SocketmapReply handler(std::string_view name, std::string_view key) {
    if (name == "echo") return net::SocketmapReply::ok(std::string(key));
    if (name == "temp") return net::SocketmapReply::temp(std::string(key));
    if (name == "big") return net::SocketmapReply::ok(std::string(std::min<size_t>(key.size(), 200) * 1000, 'b'));
    if (name == "throw") throw std::runtime_error("fuzz");
    return net::SocketmapReply::not_found();
}

void check_replies(std::string_view out) {
    while (!out.empty()) {
        const auto r = net::decode_netstring(out, net::kSocketmapMaxReply);
        if (r.status != net::NetstringStatus::Ok) std::abort();
        if (!net::parse_reply(r.payload)) std::abort();
        out.remove_prefix(r.consumed);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const bool once = [] {
        logging::open("fuzz", logging::Sink::None);
        return true;
    }();
    (void)once;
    if (size == 0) return 0;
    const uint8_t control = data[0];
    const std::string_view stream(reinterpret_cast<const char*>(data) + 1, size - 1);

    // 1. The decoder over the whole stream, frame after frame.
    const size_t max_len = (control & 0x80) ? 100000 : (control & 0x3f);
    std::string_view rest = stream;
    for (;;) {
        const auto r = net::decode_netstring(rest, max_len);
        if (r.status != net::NetstringStatus::Ok) break;
        if (r.consumed > rest.size() || r.payload.size() > max_len) std::abort();
        if (net::encode_netstring(r.payload) != rest.substr(0, r.consumed)) std::abort();
        const auto reply = net::parse_reply(r.payload);
        if (reply && !net::parse_reply(net::format_reply(*reply))) std::abort();
        rest.remove_prefix(r.consumed);
    }

    // 2. The protocol, fed in chunks as a socket would deliver them.
    const size_t chunk = 1 + (control & 0x0f) * 7;
    const net::SocketmapLimits limits{.max_request = size_t{(control & 0x40) ? 64u : 100000u}};
    auto proto = net::socketmap_factory(handler, limits)(net::Peer::local(0, 0));
    std::string in, out;
    for (size_t pos = 0; pos < stream.size(); pos += chunk) {
        in.append(stream.substr(pos, chunk));
        const bool keep = proto->on_data(in, out);
        check_replies(out);
        const bool throttled = out.size() >= net::kOutputHighWater;
        out.clear();
        if (!keep) break;
        // Unless stopped at the high-water mark, what is left is at most one
        // incomplete request.
        if (!throttled && in.size() > net::SocketmapProtocol::server_max_input(limits))
            std::abort();
    }
    (void)net::parse_socketmap_target(stream);
    return 0;
}
