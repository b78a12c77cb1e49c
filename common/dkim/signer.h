// signer.h - DKIM signatures with libopendkim (RFC 6376, RFC 8463)
//
// DESCRIPTION
//   Library owns one DKIM_LIB, shared by every thread: relaxed/relaxed
//   canonicalisation, the header fields to sign (Options::sign_headers; From
//   must be among them, RFC 6376 5.4) and those to oversign
//   (Options::oversign_headers: each is listed once more in h= than the
//   message has it, so a copy added later breaks the signature, RFC 6376
//   8.15). fixed_time pins t= (tests); query_file makes verify() read key
//   records from a file ("NAME RECORD" lines) instead of DNS (tests).
//
//   MessageSigner signs one message with one or more keys (one DKIM handle
//   each): header() for every header field as received, eoh(), body() for
//   each chunk (streamed: nothing of the body is kept), then finish() gives
//   the DKIM-Signature values to insert, folded with "\n\t" as
//   libopendkim writes them (the header name is not included).
//
//       dkim::MessageSigner s(lib, keys, queue_id);
//       s.header("From", " a@example.com"); ... s.eoh();
//       s.body(chunk); ...
//       std::vector<dkim::Signature> sigs = s.finish();   // empty: s.error()
//
//   verify(lib, message) checks every DKIM-Signature of a whole message
//   (CRLF lines), for tests and diagnostics.
//
//   Keys and memory: each private key is decoded from PEM once per
//   Library (its KeyCache) and shared by the messages it signs; what
//   libopendkim leaves behind a handle after dkim_free (Debian 12's
//   2.11.0~beta2 leaks a signing handle's Ed25519 key) is released when the
//   MessageSigner goes (common/dkim/reclaim.h).
//
// ERRORS
//   Values: the first failure sticks (ok() false, error() its text) and
//   later calls do nothing; finish() then returns nothing. Library's
//   constructor throws std::runtime_error when libopendkim refuses the
//   options (a header list without From).
//
// THREAD SAFETY
//   A Library is shared (libopendkim allows it); a MessageSigner is used
//   by one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/dkim/key_table.h"

namespace dkim {

struct LibraryOptions {
    std::vector<std::string> sign_headers;
    std::vector<std::string> oversign_headers;
    std::optional<std::uint64_t> fixed_time;  // t=, for reproducible tests
    std::string query_file;                   // verify(): keys from this file, not DNS
};

class Library {
public:
    explicit Library(const LibraryOptions& options);
    ~Library();
    Library(const Library&) = delete;
    Library& operator=(const Library&) = delete;
    struct Impl;
    Impl& impl() const noexcept { return *impl_; }

private:
    std::unique_ptr<Impl> impl_;
};

struct Signature {
    std::string value;  // the DKIM-Signature field's value
    std::string domain, selector;
    Algorithm algorithm = Algorithm::RsaSha256;
};

class MessageSigner {
public:
    MessageSigner(const Library& lib, const std::vector<std::shared_ptr<const Key>>& keys, std::string_view id);
    ~MessageSigner();
    MessageSigner(const MessageSigner&) = delete;
    MessageSigner& operator=(const MessageSigner&) = delete;

    void header(std::string_view name, std::string_view value);
    void eoh();
    void body(std::string_view chunk);
    std::vector<Signature> finish();

    bool ok() const noexcept { return error_.empty(); }
    const std::string& error() const noexcept { return error_; }

private:
    struct Handle;
    void fail(const std::string& what, int status, const Handle* h);
    std::string id_;
    std::vector<std::unique_ptr<Handle>> handles_;
    std::string error_;
    std::string scratch_;
};

struct VerifyResult {
    std::string domain, selector;
    bool pass = false;
    std::string error;  // why not, "" when pass
};
// Every signature of message ("Name: value\r\n..." "\r\n" body), in order;
// empty when it has none.
std::vector<VerifyResult> verify(const Library& lib, std::string_view message);

}  // namespace dkim
