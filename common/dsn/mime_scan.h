// mime_scan.h - zero-copy structural MIME scanner (internal)
//
// Finds the structure of a message without copying or decoding it: header
// fields (RFC 5322 §2.2, folded lines kept as written), Content-Type and its
// parameters (RFC 2045 §5.1, quoted strings, RFC 2231 continuations), and
// the body parts of a multipart (RFC 2046 §5.1.1 boundary lines). Every
// result is a std::string_view into the scanned text, except parameter
// values, which may need unquoting. mime.cc builds the Mail from these; the
// decoding of what it reads (transfer encodings, charsets, RFC 2047) is in
// decode.cc.
// Tolerant by design: LF or CRLF line ends, a missing final boundary, junk
// between header lines and parts without headers are all read as GMime
// would read them; nothing here fails.
// Errors: none; malformed input yields fewer fields or parts.
// Thread safety: pure functions over their arguments.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dsn::scan {

struct Field {
    std::string_view name;
    std::string_view value;  // after the colon, folds and line ends kept
};

// Reads the header fields at the start of an entity, one at a time. The
// block ends at the first empty line (which belongs to neither); lines that
// are no field and continue none are skipped (GMime does the same).
class FieldReader {
public:
    explicit FieldReader(std::string_view entity) noexcept : s_(entity) {}
    // False at the end of the block; body() is then valid.
    bool next(Field& f) noexcept;
    std::string_view body() const noexcept { return s_.substr(pos_ < s_.size() ? pos_ : s_.size()); }

private:
    std::string_view s_;
    size_t pos_ = 0;
    bool done_ = false;
};

// The body of an entity: what follows its header block.
std::string_view body_of(std::string_view entity) noexcept;

// A folded header value made one line: CR and LF dropped, surrounding white
// space trimmed (white space inside kept as written, as RFC 5322 §2.2.3
// unfolding does).
std::string unfold(std::string_view value);

struct ContentType {
    std::string_view type;     // as written; empty when absent or unreadable
    std::string_view subtype;
    std::string_view params;   // everything after the first ';'
    bool is(std::string_view t, std::string_view s) const noexcept;
};
ContentType parse_content_type(std::string_view value) noexcept;

// RFC 2045 §5.1 / RFC 2231 §3-4: the value of parameter name (case-
// insensitive) in params, unquoted; charset-prefixed and continued values
// are joined and percent-decoded. nullopt when absent.
std::optional<std::string> param(std::string_view params, std::string_view name);

// RFC 2046 §5.1.1: the body parts of a multipart body delimited by
// "--boundary" lines (trailing white space allowed). The line break before a
// delimiter belongs to it. The preamble and epilogue are dropped; without a
// close delimiter the last part runs to the end. At most max parts.
void split_multipart(std::string_view body, std::string_view boundary,
                     std::vector<std::string_view>& parts, size_t max);

}  // namespace dsn::scan
