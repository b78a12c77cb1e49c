// mime.h - the MIME view of a report message (internal, GMime 3 based)
//
// read_mail() parses a whole message with GMime and flattens it into what
// the bounce parser needs: the top-level headers it reads (RFC 2047
// decoded; see kWanted in mime.cc), the
// leaf parts that carry text in document order (transfer-decoded, text/*
// converted to UTF-8), and the headers of the first attached message
// (message/rfc822, message/global, text/rfc822-headers). Attached messages
// are not descended into: their bodies are the sender's mail, not the report.
// Errors: none; unparseable input yields one text/plain part holding the
// raw body. Only std::bad_alloc is thrown.
// Thread safety: reentrant; g_mime_init() runs once under std::call_once.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace dsn {

struct Header {
    std::string name;
    std::string value;  // unfolded, RFC 2047 decoded
};
using Headers = std::vector<Header>;

// First value of the named header, "" when absent.
std::string_view header_value(const Headers& h, std::string_view name) noexcept;

struct MimePart {
    std::string type;  // "text/plain", lower case
    std::string text;  // decoded content, at most kMaxPartText bytes
    int depth = 0;     // nesting level of multiparts
};

struct Mail {
    Headers headers;
    std::vector<MimePart> parts;
    Headers original;          // headers of the returned message, if any
    bool has_original = false;
    std::string top_type;      // content type of the message, lower case
    std::string report_type;   // report-type parameter of a multipart/report
    int nested = 0;            // reports read from inside an attached message
};

constexpr size_t kMaxPartText = 256 * 1024;
constexpr size_t kMaxParts = 64;

Mail read_mail(std::string_view message);

// Parses an RFC 5322 header block (up to the first empty line) with our own
// scanner; used for text/rfc822-headers and headers quoted in a body.
Headers parse_header_block(std::string_view text, size_t max_headers = 200);

}  // namespace dsn
