// decode.h - content decoding for the MIME view (internal)
//
// The structure of a message is found by our own scanner (mime_scan.h);
// decoding is done only when a part is actually read, with GMime's codecs:
// Content-Transfer-Encoding (RFC 2045 §6: base64, quoted-printable,
// x-uuencode) through GMime's incremental g_mime_encoding_* state, and the
// B and Q encodings of RFC 2047 encoded-words the same way. Charset names go
// through GMime's charset table (g_mime_charset_iconv_name) to iconv(3).
// Pure-ASCII text takes none of these paths.
//
// g_mime_init() is deliberately never called: it registers every GMime type,
// which links GIO and gpgme into the program, and sendguard-bounce (one
// process per bounce) would spend more time loading them than parsing.
// Adjacent encoded-words in one charset are converted together, since
// senders split multi-byte and ISO-2022 text across words.
//
// Errors: none; undecodable bytes become U+FFFD, unknown charsets leave the
// bytes as they are. Only std::bad_alloc is thrown.
// Thread safety: reentrant; GMime's charset table is set up once under
// std::call_once.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace dsn::decode {

enum class Cte : unsigned char { Identity, Base64, QuotedPrintable, UUEncode };

// The encoding a Content-Transfer-Encoding value names; 7bit, 8bit, binary
// and anything unknown are Identity (RFC 2045 §6.4: leave it as it is).
Cte cte_from(std::string_view value) noexcept;

// Decodes raw (at most the first 2 * max bytes of it) and returns at most
// max bytes.
std::string transfer(std::string_view raw, Cte cte, size_t max);

// True unless charset is empty or names ASCII or UTF-8.
bool needs_conversion(std::string_view charset) noexcept;

// True when bytes are 7-bit and free of ESC (ISO-2022 shifts), so that they
// read the same in every charset met in mail.
bool plain_ascii(std::string_view bytes) noexcept;

// bytes in charset converted to UTF-8, at most max bytes; bytes unchanged
// when iconv knows no converter for charset.
std::string to_utf8(std::string_view bytes, const std::string& charset, size_t max);

// An unfolded header value with RFC 2047 encoded-words (and raw 8-bit text
// in a legacy charset) decoded to UTF-8; returned as is when it holds
// neither.
std::string header_text(std::string_view value);

}  // namespace dsn::decode
