// text.h - string_view scanners used by the DSN parser (internal)
//
// Line splitting and scanners for the tokens a bounce is made of: addr-specs,
// RFC 3463 status codes, SMTP reply codes. The ASCII helpers (case-insensitive
// comparison and search, trimming) are common/sys/ascii.h's.
// No regular expressions: everything is a single left-to-right pass.
// Errors: none; "not found" is npos / an empty view / std::nullopt.
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/sys/ascii.h"

namespace dsn::text {

// The ASCII helpers are common/sys's; dsn code names them text::.
using sys::icontains;
using sys::iequals;
using sys::ifind;
using sys::is_alnum;
using sys::is_digit;
using sys::is_space;
using sys::istarts_with;
using sys::trim;
constexpr char lower(char c) noexcept { return sys::ascii_lower(c); }
inline std::string to_lower(std::string_view s) { return sys::to_lower_ascii(s); }

// Splits off the next line (without CR/LF) from rest; false at the end.
bool next_line(std::string_view& rest, std::string_view& line) noexcept;

// A bare addr-spec found in free text.
struct Found {
    std::string_view addr;
    size_t pos = 0;  // offset of addr in the scanned text
};
// Next "local@domain.tld" at or after from. The domain needs a dot (or is an
// address literal); a trailing dot is dropped.
std::optional<Found> find_address(std::string_view s, size_t from = 0) noexcept;
// Every address in s, left to right, at most max of them.
std::vector<Found> all_addresses(std::string_view s, size_t max = 256);

// The mailbox in a report field, header value or scanned token, as
// common/address reads it (address::extract_from_header: RFC 3464 §2.3.2
// typed "rfc822; <Bob@Example.NET>", "Name <a@b>", comments), written as
// Address::str(): local part as sent, domain normalised ("Bob@example.net").
// A value that is one quoted string ("\"carol@example.org\"", as some MTAs
// print an address) is read without the quotes. "" when there is none.
std::string mailbox(std::string_view value);

// First RFC 3463 status code ("5.1.1", classes 2, 4, 5) in s, not part of a
// longer dotted number such as an IP address.
std::string_view find_status(std::string_view s, size_t* at = nullptr) noexcept;
// Validates a whole token as a status code.
bool is_status(std::string_view s) noexcept;
// First SMTP reply code: three digits [245][0-5][0-9] standing alone and
// followed by a space, '-' or the end.
std::string_view find_reply_code(std::string_view s) noexcept;

// Text of an HTML body: tags removed, block ends made line breaks, the
// common entities decoded.
std::string html_to_text(std::string_view html);

// Collapses runs of white space into one space and trims.
std::string squeeze(std::string_view s, size_t max);

}  // namespace dsn::text
