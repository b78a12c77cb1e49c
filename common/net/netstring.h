// netstring.h - netstring codec: "<len>:<data>,"
//
// A netstring (http://cr.yp.to/proto/netstrings.txt) frames a byte string as
// its length in decimal ASCII, a colon, the bytes, and a comma: "5:hello,".
// Postfix socketmap(5) requests and replies are netstrings.
//
// API:
//   decode_netstring(buf, max_len) looks at the start of a receive buffer and
//     returns NeedMore (a valid prefix, read more), Ok (payload and the number
//     of bytes the frame used), or Error (the stream cannot be resynchronised;
//     reply and close). It is stateless, so calling it again after more bytes
//     arrive is the incremental decoder: only the short length prefix is
//     parsed again. A length above max_len is an error as soon as its digits
//     show it, before the payload is buffered.
//   append_netstring(out, data) / encode_netstring(data) frame a payload.
//   netstring_frame_size(len) is the encoded size of a payload of len bytes.
//
// Strictness (decided): the length is at least one digit, at most 10, and has
// no leading zeros ("0:," is the only length that starts with 0), as in the
// definition above. Postfix never writes leading zeros, and rejecting them
// means a run of '0' cannot make the decoder wait for ever. Whitespace is not
// allowed anywhere in the frame.
//
// Errors: values (NetstringStatus::Error with a fixed reason text); nothing
// throws except std::bad_alloc from the encoders.
// Thread safety: all functions are pure.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace net {

enum class NetstringStatus { NeedMore, Ok, Error };

struct NetstringResult {
    NetstringStatus status = NetstringStatus::NeedMore;
    std::string_view payload;  // Ok: points into the decoded buffer
    size_t consumed = 0;       // Ok: bytes of the whole frame
    std::string_view error;    // Error: "bad length digits", "length too long",
                               // "leading zero in length", "missing colon",
                               // "missing comma"
};

// Largest length this decoder accepts, whatever max_len says (10 digits).
inline constexpr size_t kNetstringMaxDigits = 10;

NetstringResult decode_netstring(std::string_view buf, size_t max_len) noexcept;

void append_netstring(std::string& out, std::string_view data);
std::string encode_netstring(std::string_view data);
size_t netstring_frame_size(size_t len) noexcept;

}  // namespace net
