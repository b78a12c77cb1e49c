// request.h - Postfix policy delegation codec: requests and replies
//
// Postfix's check_policy_service (SMTPD_POLICY_README) sends one request as
// lines "name=value" ending in LF, in a fixed order, and an empty line after
// the last one; it waits for a reply "action=ACTION", an empty line, and then
// sends the next request on the same connection.
//
// API:
//   Request: the attributes of one request in arrival order. get(name) is the
//     value of the first attribute of that name ("" when absent), has(name)
//     tells whether it was sent. Typed accessors cover the attributes
//     sendguard uses; recipient_count() and size() are 0 when absent or not a
//     plain decimal number that fits an uint64. Attributes nobody asks for
//     are kept (Postfix adds new ones over time). add() appends one (clients,
//     tests); it does not check the name.
//   Limits: the bounds of the decoder, without defaults (the daemon fills
//     them from its parameters, tests with explicit values).
//   RequestDecoder: the incremental decoder. decode(buf) looks at a receive
//     buffer that starts at the first byte of a request and returns NeedMore,
//     Done (request() holds it, consumed() is its size in bytes through the
//     empty line) or Error (error() says what was wrong; the stream cannot be
//     trusted after it). After NeedMore call decode() again with the same
//     buffer grown by new input: the lines already read are not read again.
//     After Done, reset() before the next request (buffers are kept, so a
//     connection allocates nothing per request once warmed up).
//   format_reply(action) / append_reply(out, action): "action=ACTION\n\n".
//     CR, LF and NUL in the action become spaces, leading and trailing
//     blanks go, the text is cut to kMaxAction bytes (at a UTF-8 character
//     boundary), and an action left empty is "DUNNO". Postfix would read a
//     newline as the end of the reply, and an empty action as an error.
//   format_request(req) / append_request(out, req): the wire form of a
//     request, for clients and tests (CR, LF and NUL in a value become
//     spaces, '=' is not allowed in a name and becomes '_').
//   decode_reply(buf, max_bytes): the client side, reading one reply
//     ("name=value" lines and an empty line; action is the "action" value).
//
// Decisions (what is malformed; each is an Error naming it):
//   - a line without '=', an empty name, or a name with bytes other than
//     A-Z a-z 0-9 '_' '-' '.' ("bad attribute name");
//   - a NUL byte anywhere, or a CR other than just before the LF;
//   - a line longer than max_line bytes before its LF (a trailing CR
//     counts), seen as soon as that many bytes without LF are buffered;
//   - more than max_attributes attributes in one request;
//   - a request longer than max_request bytes (all its lines with their line
//     ends and the empty line), seen as soon as that many are buffered;
//   - an empty line before any attribute (a request with no attributes).
//   CRLF line ends are accepted (the CR is not part of the value). Values
//   are bytes: no charset check (a sender may be UTF-8 under SMTPUTF8).
//   Attributes of the same name are all kept; get() returns the first.
//
// Errors: values (DecodeStatus::Error with a fixed reason text).
//   RequestDecoder's constructor throws std::invalid_argument for a zero in
//   any Limits field, naming it. Nothing else throws except std::bad_alloc.
// Thread safety: a Request or decoder belongs to one thread at a time; the
//   free functions are pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace policy {

// Longest action text a reply carries (Postfix logs it and may send it to
// the SMTP client as the text of a 4xx/5xx reply).
inline constexpr size_t kMaxAction = 2048;

// Values of protocol_state (SMTPD_POLICY_README); Other for anything else.
enum class ProtocolState { Connect, Ehlo, Helo, Mail, Rcpt, Data, EndOfMessage, Vrfy, Etrn, Other };

struct Attribute {
    std::string_view name;
    std::string_view value;
};

class Request {
public:
    // Appends an attribute (arrival order is kept).
    void add(std::string_view name, std::string_view value);
    // Forgets all attributes; keeps the buffers.
    void clear() noexcept;

    size_t count() const noexcept { return spans_.size(); }
    bool empty() const noexcept { return spans_.empty(); }
    // The i-th attribute, i < count(); views into this Request.
    Attribute at(size_t i) const noexcept;

    std::string_view get(std::string_view name) const noexcept;
    bool has(std::string_view name) const noexcept;

    // Typed accessors: get("request"), get("protocol_state"), ...
    std::string_view request() const noexcept { return get("request"); }
    std::string_view protocol_state() const noexcept { return get("protocol_state"); }
    ProtocolState state() const noexcept;
    std::string_view protocol_name() const noexcept { return get("protocol_name"); }
    std::string_view client_address() const noexcept { return get("client_address"); }
    std::string_view client_name() const noexcept { return get("client_name"); }
    std::string_view helo_name() const noexcept { return get("helo_name"); }
    std::string_view sender() const noexcept { return get("sender"); }
    std::string_view recipient() const noexcept { return get("recipient"); }
    uint64_t recipient_count() const noexcept;
    std::string_view queue_id() const noexcept { return get("queue_id"); }
    std::string_view instance() const noexcept { return get("instance"); }
    uint64_t size() const noexcept;  // the message size attribute, not count()
    std::string_view sasl_method() const noexcept { return get("sasl_method"); }
    std::string_view sasl_username() const noexcept { return get("sasl_username"); }
    std::string_view sasl_sender() const noexcept { return get("sasl_sender"); }
    std::string_view policy_context() const noexcept { return get("policy_context"); }

private:
    struct Span {
        uint32_t name_off, name_len, value_off, value_len;
    };
    std::string data_;
    std::vector<Span> spans_;
};

// "12345" -> 12345; 0 for "", a sign, any non-digit or an overflow.
uint64_t parse_count(std::string_view s) noexcept;
ProtocolState parse_protocol_state(std::string_view s) noexcept;

// No defaults on purpose (see above): every field must be set.
struct Limits {
    size_t max_line;        // bytes of one line before its LF
    size_t max_attributes;  // attributes per request
    size_t max_request;     // bytes of one request, through its empty line
    bool operator==(const Limits&) const = default;
};

enum class DecodeStatus { NeedMore, Done, Error };

class RequestDecoder {
public:
    explicit RequestDecoder(Limits limits);

    // See above. buf starts at the first byte of the request being decoded.
    DecodeStatus decode(std::string_view buf);
    // After Done: the request and its size on the wire.
    const Request& request() const noexcept { return req_; }
    size_t consumed() const noexcept { return consumed_; }
    // After Error: "line without '='", "bad attribute name", ...
    std::string_view error() const noexcept { return error_; }
    // Ready for the next request.
    void reset() noexcept;
    const Limits& limits() const noexcept { return limits_; }

private:
    DecodeStatus fail(std::string_view reason) noexcept;

    Limits limits_;
    Request req_;
    size_t scanned_ = 0;   // bytes of buf already turned into attributes
    size_t consumed_ = 0;  // Done: bytes of the request
    std::string_view error_;
};

std::string format_reply(std::string_view action);
void append_reply(std::string& out, std::string_view action);

std::string format_request(const Request& req);
void append_request(std::string& out, const Request& req);

struct ReplyResult {
    DecodeStatus status = DecodeStatus::NeedMore;
    std::string_view action;  // Done: the action value (a view into buf)
    size_t consumed = 0;      // Done: bytes of the reply through its empty line
    std::string_view error;   // Error: what was wrong
};
// Reads one reply from the start of buf; max_bytes bounds it (an Error when
// that many bytes hold no complete reply). A reply without an action
// attribute is an Error.
ReplyResult decode_reply(std::string_view buf, size_t max_bytes) noexcept;

}  // namespace policy
