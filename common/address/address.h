// address.h - RFC 5321 mail addresses: parse, normalise, format
//
// DESCRIPTION
//   Address and Domain are strong types for what Postfix calls a mailbox and
//   its domain. Parsers take untrusted text and return a Result: a value or
//   an Error saying what was wrong (which limit, which part).
//
//   parse_path("<a@b>")         RFC 5321 4.1.2 Reverse-path / Forward-path:
//                               "<a@b>", bare "a@b" (as Postfix accepts it),
//                               "<@x,@y:a@b>" (source route, RFC 5321 4.1.1.3
//                               says to ignore it: stripped), "<>" null path.
//   parse_mailbox("a@b")        RFC 5321 Mailbox only: no brackets, no "<>".
//   make_address(local, dom)    from an unquoted local part and a domain.
//   extract_from_header(v)      first mailbox of an RFC 5322 header value:
//                               "Name" <a@b>, a@b (comment), groups
//                               ("team: a@b, c@d;"), RFC 3464 2.3.2 typed
//                               addresses "rfc822; a@b", "RFC822;<a@b>",
//                               RFC 6533 "utf-8; ..." (\x{HEX} escapes).
//   extract_all_from_header(v)  every mailbox of such a value (bounded).
//   extract_every_from_header(v, n)  the same, but an unreadable entry or
//                               more than n mailboxes is an error.
//   normalise_domain(d)         lower-case, one trailing dot stripped,
//                               U-labels -> A-labels (IDNA2008 / UTS #46
//                               non-transitional via libidn2, transitional as
//                               fall-back), address literals "[192.0.2.1]",
//                               "[IPv6:2001:db8::1]" kept (canonical form).
//   domain_of("<a@b>")          the Domain of a path, as parse_path reads it.
//
//   An Address keeps its local part as written, without the quoting
//   (`"a b"@c` has local() == `a b`); str() puts quotes back only where RFC
//   5321 4.1.2 needs them, so `"abc"@d` and `abc@d` give the same str().
//   Local parts are case preserved. normalised() is the suppression-list key:
//   it also lower-cases ASCII letters of the local part. RFC 5321 2.4 lets a
//   receiving host treat local parts as case sensitive, but in practice
//   providers fold case, and bounces come back with a case different from
//   the one we sent; one key per mailbox matters more than the rare host
//   that has Bob and bob as two people. Non-ASCII (SMTPUTF8, RFC 6531) local
//   parts are accepted as UTF-8 and only their ASCII letters are lowered.
//
//   Limits (RFC 5321 4.5.3.1): local part <= 64 octets (as written on the
//   wire, quotes included), domain <= 255 octets (A-label form), labels
//   <= 63 octets, whole mailbox <= 254 octets (the 256-octet path minus "<>").
//   Input longer than kMaxInput (kMaxHeaderInput for header values) is
//   refused before any parsing; comments may nest 32 deep.
//
//   Leniency, on purpose: an unquoted local part may have leading, trailing
//   or doubled dots ("john..doe@example.com"): such addresses exist, Postfix
//   delivers to them and bounces name them; str() quotes them. A domain-less
//   "<postmaster>" (RFC 5321 4.1.1.3) is NOT accepted: it has no domain to key.
//
// ERRORS
//   Bad input is a value (Result with Error), never an exception. Only
//   std::bad_alloc can escape.
//
// THREAD SAFETY
//   All functions are reentrant; Address and Domain are plain values.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace address {

// Input longer than this (octets) is refused as Error::InputTooLong:
// paths and domains, and header values (which may list many mailboxes).
inline constexpr std::size_t kMaxInput = 4096;
inline constexpr std::size_t kMaxHeaderInput = 65536;
// RFC 5321 4.5.3.1.1-3 and RFC 1035 2.3.4.
inline constexpr std::size_t kMaxLocalPart = 64;
inline constexpr std::size_t kMaxDomain = 255;
inline constexpr std::size_t kMaxLabel = 63;
inline constexpr std::size_t kMaxMailbox = 254;

enum class Error {
    Empty,             // nothing but white space
    InputTooLong,      // longer than kMaxInput
    Syntax,            // not an RFC 5321 path / mailbox
    NullPath,          // "<>" where a mailbox is required
    NoDomain,          // no "@domain"
    EmptyLocalPart,    // "@b", "\"\"@b"
    LocalPartTooLong,  // > 64 octets
    DomainTooLong,     // > 255 octets
    LabelTooLong,      // a label > 63 octets
    MailboxTooLong,    // local@domain > 254 octets
    BadDomain,         // empty label, bad character, hyphen at label edge
    BadAddressLiteral, // "[...]" that is no IPv4 / IPv6 / general literal
    Idna,              // libidn2 refused the U-label
    BadUtf8,           // non-ASCII octets that are not well-formed UTF-8
    NoAddress,         // header value holds no mailbox (e.g. "undisclosed:;")
    UnsupportedType,   // "x400; ..." address type other than rfc822/utf-8
    TooManyAddresses,  // a header value with more mailboxes than allowed
};

// A stable lower-case name, e.g. "local_part_too_long", for log lines.
std::string_view to_string(Error e) noexcept;

// A value or the reason there is none.
template <class T>
class Result {
public:
    Result(T v) : value_(std::move(v)) {}                // NOLINT: implicit on purpose
    Result(Error e) : error_(e) {}                       // NOLINT
    explicit operator bool() const noexcept { return value_.has_value(); }
    bool ok() const noexcept { return value_.has_value(); }
    const T& operator*() const& { return *value_; }
    T&& operator*() && { return std::move(*value_); }
    const T* operator->() const { return &*value_; }
    const T& value() const& { return value_.value(); }
    // Meaningful only when !ok().
    Error error() const noexcept { return error_; }

private:
    std::optional<T> value_;
    Error error_ = Error::Syntax;
};

// A normalised domain: ASCII, lower case, A-labels, no trailing dot; or an
// address literal in canonical form ("[192.0.2.1]", "[IPv6:2001:db8::1]").
class Domain {
public:
    const std::string& str() const noexcept { return name_; }
    bool is_literal() const noexcept { return !name_.empty() && name_[0] == '['; }
    bool operator==(const Domain&) const = default;
    auto operator<=>(const Domain&) const = default;

private:
    friend Result<Domain> normalise_domain(std::string_view);
    explicit Domain(std::string n) : name_(std::move(n)) {}
    std::string name_;
};

// A mailbox (local@domain), or the null path "<>" when default-constructed.
class Address {
public:
    Address() = default;                                 // the null path
    bool is_null() const noexcept { return !domain_.has_value(); }
    // The local part without quoting; empty for the null path.
    const std::string& local() const noexcept { return local_; }
    // Precondition: !is_null().
    const Domain& domain() const { return domain_.value(); }
    // RFC 5321 form: local part quoted if needed, "@", domain; "" if null.
    std::string str() const;
    // str() with ASCII letters of the local part lower-cased: the
    // suppression key. "" for the null path.
    std::string normalised() const;
    // Compares local part exactly (case sensitive) and domain.
    bool operator==(const Address&) const = default;

private:
    friend Result<Address> make_address(std::string_view, std::string_view);
    Address(std::string local, Domain domain)
        : local_(std::move(local)), domain_(std::move(domain)) {}
    std::string local_;
    std::optional<Domain> domain_;
};

// See DESCRIPTION. White space around the input is ignored.
Result<Address> parse_path(std::string_view text);
Result<Address> parse_mailbox(std::string_view text);
Result<Domain> normalise_domain(std::string_view domain);
Result<Domain> domain_of(std::string_view path);  // "<>" -> Error::NullPath

// The key the suppression list files text under: "User@Example.COM" ->
// "user@example.com" (Address::normalised()), and a domain-level entry
// "@Example.COM" -> "@example.com". Everything that reads or writes the
// list (bounce transport, socketmap, command line) goes through this.
Result<std::string> suppression_key(std::string_view text);

// local is the unquoted local part (any octets 0x20-0x7e or UTF-8, no
// controls); domain goes through normalise_domain. Checks all limits.
Result<Address> make_address(std::string_view local, std::string_view domain);

// True when local can be written unquoted (RFC 5321 Dot-string, with
// RFC 6531 UTF-8 atext).
bool is_dot_string(std::string_view local) noexcept;

// First mailbox in an RFC 5322 header value (may be folded). When no
// mailbox parses, the error of the first candidate (or NoAddress).
Result<Address> extract_from_header(std::string_view value);
// Every mailbox, in order, at most max_count; unparseable entries are
// skipped. Error only when the value itself is unusable (too long, bad
// address type) or holds no mailbox at all.
Result<std::vector<Address>> extract_all_from_header(std::string_view value,
                                                     std::size_t max_count = 1000);
// Every mailbox, for checks where an entry left unread would pass unseen
// (the milter's From:/Sender: authorisation): the error of the first entry
// that does not parse, or TooManyAddresses past max_count, instead of
// skipping or stopping.
Result<std::vector<Address>> extract_every_from_header(std::string_view value, std::size_t max_count);

}  // namespace address
