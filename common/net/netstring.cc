// netstring.cc - see netstring.h
#include "common/net/netstring.h"

#include <charconv>

namespace net {
namespace {

NetstringResult error(std::string_view why) noexcept {
    NetstringResult r;
    r.status = NetstringStatus::Error;
    r.error = why;
    return r;
}

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

}  // namespace

NetstringResult decode_netstring(std::string_view buf, size_t max_len) noexcept {
    // Length prefix: 1..kNetstringMaxDigits digits, then ':'.
    size_t len = 0;
    size_t i = 0;
    for (; i < buf.size() && is_digit(buf[i]); ++i) {
        if (i == 1 && buf[0] == '0') return error("leading zero in length");
        if (i == kNetstringMaxDigits) return error("length too long");
        len = len * 10 + static_cast<size_t>(buf[i] - '0');
        // Checked per digit: an oversized request is refused as soon as its
        // length shows it, without buffering the payload.
        if (len > max_len) return error("length too long");
    }
    if (i == 0) {
        if (buf.empty()) return {};
        return error("bad length digits");
    }
    if (i == buf.size()) return {};  // more digits or the colon may follow
    if (buf[i] != ':') return error("missing colon");
    const size_t start = i + 1;
    // len <= max_len and the buffer is in memory, so start + len cannot wrap.
    if (buf.size() - start < len + 1) return {};
    if (buf[start + len] != ',') return error("missing comma");
    NetstringResult r;
    r.status = NetstringStatus::Ok;
    r.payload = buf.substr(start, len);
    r.consumed = start + len + 1;
    return r;
}

void append_netstring(std::string& out, std::string_view data) {
    char digits[24];
    auto [end, ec] = std::to_chars(digits, digits + sizeof digits, data.size());
    (void)ec;  // 24 chars always hold a size_t
    out.reserve(out.size() + static_cast<size_t>(end - digits) + data.size() + 2);
    out.append(digits, end);
    out.push_back(':');
    out.append(data);
    out.push_back(',');
}

std::string encode_netstring(std::string_view data) {
    std::string out;
    append_netstring(out, data);
    return out;
}

size_t netstring_frame_size(size_t len) noexcept {
    size_t digits = 1;
    for (size_t v = len; v >= 10; v /= 10) ++digits;
    return digits + len + 2;
}

}  // namespace net
