// fuzz_policy.cc - the policy request decoder and PolicyProtocol over
// arbitrary bytes
//
// Input layout: byte 0 picks the limits (small or Postfix-sized) and the
// chunk size used to feed PolicyProtocol; the rest is the stream.
// Invariants checked (std::abort on violation):
//   - a decoded request is within its limits, consumed is within the
//     buffer, and its attributes re-encode (format_request) to a request
//     that decodes to the same attributes;
//   - decoding the same stream in one piece and in growing prefixes gives
//     the same status and request (the incremental decoder does not depend
//     on how the input arrives);
//   - PolicyProtocol, fed in chunks, only appends whole replies, each one
//     "action=" plus a non-empty action of at most kMaxAction bytes without
//     CR, LF or NUL, and an empty line; the input it leaves is at most one
//     incomplete request (server_max_input); after false it is not used;
//   - format_reply() of any text is one valid reply.
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>

#include "common/log/log.h"
#include "common/policy/protocol.h"
#include "common/policy/request.h"

namespace {

std::string handler(const net::Peer&, const policy::Request& req) {
    if (req.has("throw")) throw std::runtime_error("fuzz");
    if (req.has("echo")) return std::string(req.get("echo"));
    return "DUNNO";
}

void check_reply_stream(std::string_view out) {
    while (!out.empty()) {
        const auto r = policy::decode_reply(out, 1 << 20);
        if (r.status != policy::DecodeStatus::Done) std::abort();
        if (r.action.empty() || r.action.size() > policy::kMaxAction) std::abort();
        if (r.action.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos)
            std::abort();
        if (out.substr(0, 7) != "action=" || r.consumed != 7 + r.action.size() + 2) std::abort();
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
    const policy::Limits limits =
        (control & 0x80) ? policy::Limits{.max_line = 2048, .max_attributes = 100, .max_request = 16384}
                         : policy::Limits{.max_line = 1u + (control & 0x1f),
                                          .max_attributes = 1u + ((control >> 5) & 3),
                                          .max_request = 64};

    // 1. The decoder, request after request, in one piece and incrementally.
    std::string_view rest = stream;
    policy::RequestDecoder whole(limits), inc(limits);
    for (;;) {
        const policy::DecodeStatus st = whole.decode(rest);
        policy::DecodeStatus st2 = policy::DecodeStatus::NeedMore;
        for (size_t n = 0; n <= rest.size() && st2 == policy::DecodeStatus::NeedMore;
             n += 1 + (control & 7))
            st2 = inc.decode(rest.substr(0, n));
        if (st2 == policy::DecodeStatus::NeedMore) st2 = inc.decode(rest);
        if (st != st2) std::abort();
        // (The reason of an Error may differ: a prefix can show one fault
        // before the whole line shows another.)
        if (st != policy::DecodeStatus::Done) break;
        const policy::Request& req = whole.request();
        if (whole.consumed() != inc.consumed() || req.count() != inc.request().count())
            std::abort();
        if (whole.consumed() > rest.size() || whole.consumed() > limits.max_request) std::abort();
        if (req.count() == 0 || req.count() > limits.max_attributes) std::abort();
        const std::string again = policy::format_request(req);
        policy::RequestDecoder re(policy::Limits{.max_line = 1 << 20, .max_attributes = 1000,
                                                 .max_request = 1 << 22});
        if (re.decode(again) != policy::DecodeStatus::Done || re.consumed() != again.size())
            std::abort();
        for (size_t i = 0; i < req.count(); ++i) {
            if (req.at(i).name != re.request().at(i).name) std::abort();
            if (req.at(i).value != re.request().at(i).value) std::abort();
        }
        (void)req.recipient_count();
        (void)req.size();
        (void)req.state();
        rest.remove_prefix(whole.consumed());
        whole.reset();
        inc.reset();
    }

    // 2. The protocol, fed in chunks as a socket would deliver them.
    const size_t chunk = 1 + (control & 0x0f) * 5;
    auto proto = policy::policy_factory(handler, limits,
                                        policy::Options{.error_action = "DUNNO"})(
        net::Peer::local(0, 0));
    std::string in, out;
    for (size_t pos = 0; pos < stream.size(); pos += chunk) {
        in.append(stream.substr(pos, chunk));
        const bool keep = proto->on_data(in, out);
        check_reply_stream(out);
        const bool throttled = out.size() >= net::kOutputHighWater;
        out.clear();
        if (!keep) break;
        if (!throttled && in.size() > policy::server_max_input(limits)) std::abort();
    }

    // 3. Any text as an action.
    check_reply_stream(policy::format_reply(stream.substr(0, 3000)));
    return 0;
}
