// mime.h - the MIME view of a report message (internal)
//
// read_mail() flattens a whole message into what the bounce parser needs:
// the top-level headers it reads (unfolded; the Subject RFC 2047 decoded;
// see kWanted in mime.cc), the leaf parts in document order, and the
// headers of the first attached message (message/rfc822, message/global,
// text/rfc822-headers). Attached messages are not descended into: their
// bodies are the sender's mail, not the report (a report returned inside a
// report is the exception, read as if it were ours).
// The structure (header blocks, Content-Type, multipart boundaries, nested
// messages) is found by our own zero-copy scanner (mime_scan.h): building
// GMime's object tree for every message cost more than the whole rest of
// the parser, and the throughput target (>= 40,000 msgs/s on one thread)
// was out of reach with it. GMime's codecs and charset table still do the
// decoding, and only for the parts the extractors actually read (decode.h):
// transfer encodings, RFC 2047 encoded-words, charset names for iconv. A part's text is
// decoded on first use; a 7bit/8bit part in ASCII or UTF-8 is a view of the
// message itself, so the Mail must not outlive the message it was read from.
// Errors: none; unparseable input yields one text/plain part holding the
// raw body. Only std::bad_alloc is thrown.
// Thread safety: reentrant; a Mail (whose parts decode lazily) belongs to
// one thread at a time.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/dsn/decode.h"
#include "common/dsn/dsn.h"

namespace dsn {

struct Header {
    std::string name;
    std::string value;  // unfolded, RFC 2047 decoded
};
using Headers = std::vector<Header>;

// First value of the named header, "" when absent.
std::string_view header_value(const Headers& h, std::string_view name) noexcept;

constexpr size_t kMaxParts = 64;

class MimePart {
public:
    // A part whose content is not read (a marker or an unwanted type).
    MimePart(std::string type, int depth) : type(std::move(type)), depth(depth) {}
    // A part whose content text() decodes from raw (a view of the message)
    // on first use; charset is set for text that needs conversion.
    // At most limit bytes of it are read (Limits::part_text()).
    MimePart(std::string type, int depth, std::string_view raw, decode::Cte cte, std::string charset,
             size_t limit)
        : type(std::move(type)), depth(depth), raw_(raw), charset_(std::move(charset)), limit_(limit),
          cte_(cte), readable_(true) {}

    std::string type;  // "text/plain", lower case
    int depth = 0;     // nesting level of multiparts
    bool alternative = false;  // inside a multipart/alternative

    // Decoded content, at most limit bytes; "" for unread types.
    std::string_view text() const;
    // True when text() stops at the limit rather than at the end of the
    // part: its last line or record may be incomplete.
    bool cut() const;

private:
    std::string_view raw_;
    std::string charset_;
    size_t limit_ = 0;
    mutable bool cut_ = false;
    decode::Cte cte_ = decode::Cte::Identity;
    bool readable_ = false;
    mutable bool decoded_ = false;
    mutable bool owned_ = false;  // text is own_, else a prefix of raw_
    mutable std::string own_;
};

struct Mail {
    Headers headers;
    std::vector<MimePart> parts;
    Headers original;          // headers of the returned message, if any
    bool has_original = false;
    std::string_view original_raw;  // the attached message/rfc822, a view of the input
    std::string top_type;      // content type of the message, lower case
    std::string report_type;   // report-type parameter of a multipart/report
    int nested = 0;            // reports read from inside an attached message
    size_t part_limit = 0;     // decoded bytes read per part
};

// part_limit bounds the decoded text of each part (Limits::part_text()).
Mail read_mail(std::string_view message, size_t part_limit);

// Parses an RFC 5322 header block (up to the first empty line) with our own
// scanner; used for text/rfc822-headers and headers quoted in a body.
Headers parse_header_block(std::string_view text, size_t max_headers = 200);

}  // namespace dsn
