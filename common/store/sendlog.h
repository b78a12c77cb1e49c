// sendlog.h - VERP tokens mapped back to the message they were signed for
//
// When the milter signs an opaque token instead of a recipient (the
// recipient does not fit in a VERP local part, or the message has several
// recipients), it records token -> message here; sendguard-bounce resolves
// the token when the bounce comes back and accepts only recipients of that
// message.
//
//   store::SendLog log(env);                  // DB "sendlog" in the same env
//   log.put("k3j9...", {.expiry = now + max_age, .sender = "news@example.org",
//                       .queue_id = "4XkQ2m1Zz9z", .recipients = {"a@x.example", "b@y.example"}});
//   std::optional<store::SendLogEntry> e = log.lookup("k3j9...", now);  // expired: nullopt
//   log.purge_expired(now);
//
// Value layouts (integers little-endian, le_codec.h):
//   version 1 (one recipient; read, no longer written): byte 0 = 1, bytes
//     1..8 = expiry (unix seconds, int64), then the normalised recipient.
//   version 2: byte 0 = 2, bytes 1..8 = expiry, then the original sender,
//     the queue id (each a uint16 length and the bytes), a uint32 count and
//     that many normalised recipients (uint16 length, bytes).
// A version-1 entry reads as a SendLogEntry with one recipient and no
// sender or queue id. Each string is at most kSendLogMaxString bytes and
// the entry holds at most kSendLogMaxRecipients recipients (put throws
// Error::Kind::Usage beyond them).
// Errors: store::Error (I/O, map full; Format for a value of another
// version or a truncated one). Thread safety: as Env (one txn per thread).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/store/lmdb.h"

namespace store {

inline constexpr uint8_t kSendLogVersion1 = 1;
inline constexpr uint8_t kSendLogVersion = 2;
inline constexpr size_t kSendLogMaxString = 1024;
inline constexpr size_t kSendLogMaxRecipients = 100000;

struct SendLogEntry {
    int64_t expiry = 0;  // unix seconds; 0: never
    std::string sender;  // the original envelope sender, "" for <> or unknown
    std::string queue_id;
    std::vector<std::string> recipients;  // normalised
    bool operator==(const SendLogEntry&) const = default;
};

class SendLog {
public:
    explicit SendLog(std::shared_ptr<Env> env);
    void put(std::string_view token, const SendLogEntry& entry);
    // One recipient (a version-2 entry with only that recipient).
    void put(std::string_view token, std::string_view recipient, int64_t expiry);
    std::optional<SendLogEntry> lookup(std::string_view token, int64_t now) const;
    // The first recipient of lookup().
    std::optional<std::string> get(std::string_view token, int64_t now) const;
    size_t purge_expired(int64_t now);

private:
    std::shared_ptr<Env> env_;
    MDB_dbi db_;
};

// The key of the entry for a recipient-form VERP tag: the tag names the
// recipient, the entry the message's original sender.
inline std::string recipient_key(std::string_view recipient, std::string_view bounce_domain) { return "r:" + std::string(recipient) + ":" + std::string(bounce_domain); }

// The value bytes of an entry (version 2), and back (versions 1 and 2);
// nullopt for anything else.
std::string encode_sendlog(const SendLogEntry& entry);
std::optional<SendLogEntry> decode_sendlog(std::string_view value);

}  // namespace store
