// sendlog.h - VERP return addresses mapped back to the message they were signed for
//
// The milter records every message whose envelope sender it rewrote. When
// it signs an opaque token instead of a recipient (the recipient does not
// fit in a VERP local part, or the message has several recipients), the
// entry's key is the token; sendguard-bounce resolves the token when the
// bounce comes back and accepts only recipients of that message. A tag of
// form "r" (one recipient, carried in the tag itself) is recorded under
// recipient_key(recipient, bounce domain): the newest message to that
// recipient at that bounce domain replaces the older entry, so a bounce of
// an older message finds the newer one's names (sendguard-bounce prefers
// the returned message's own Message-ID when the report carries one that
// differs). Either way the entry names the message: the original sender,
// the queue id, the Message-ID and the values of the header fields
// milter_sendlog_headers lists (the campaign and the subscriber, as mailing
// software writes them).
//
//   store::SendLog log(env);                  // DB "sendlog" in the same env
//   log.put("k3j9...", {.expiry = now + max_age, .sender = "news@example.org",
//                       .queue_id = "4XkQ2m1Zz9z", .recipients = {"a@x.example", "b@y.example"},
//                       .message_id = "<1@example.org>", .headers = {{"Feedback-ID", "42:news"}}});
//   log.put(store::recipient_key("bob@x.example", "bounces.example.org"), ...);
//   log.put_all({{"k3j9...", e1}, {"p8x2...", e2}});  // one transaction
//   std::optional<store::SendLogEntry> e = log.lookup("k3j9...", now);  // expired: nullopt
//   log.purge_expired(now);
//
// Value layouts (integers little-endian, le_codec.h):
//   version 1 (one recipient; read, no longer written): byte 0 = 1, bytes
//     1..8 = expiry (unix seconds, int64), then the normalised recipient.
//   version 2 (read, no longer written): byte 0 = 2, bytes 1..8 = expiry,
//     then the original sender, the queue id (each a uint16 length and the
//     bytes), a uint32 count and that many normalised recipients (uint16
//     length, bytes).
//   version 3: version 2's fields with byte 0 = 3, then the Message-ID
//     (uint16 length, bytes; "" when the message had none), a uint8 count
//     and that many header fields, each its name then its value (uint16
//     length, bytes each).
// A version-1 entry reads as a SendLogEntry with one recipient and no
// sender or queue id; a version-1 or -2 one has no Message-ID and no
// headers. Each string is at most kSendLogMaxString bytes, the entry holds
// at most kSendLogMaxRecipients recipients and kSendLogMaxHeaders header
// fields (put throws Error::Kind::Usage beyond them).
// Errors: store::Error (I/O, map full; Format for a value of another
// version or a truncated one). Thread safety: as Env (one txn per thread).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/store/lmdb.h"

namespace store {

inline constexpr uint8_t kSendLogVersion1 = 1;
inline constexpr uint8_t kSendLogVersion2 = 2;
inline constexpr uint8_t kSendLogVersion = 3;
inline constexpr size_t kSendLogMaxString = 1024;
inline constexpr size_t kSendLogMaxRecipients = 100000;
inline constexpr size_t kSendLogMaxHeaders = 16;

// The key of the entry for a message signed with a tag of form "r": the
// normalised recipient and the bounce domain of the return address.
inline std::string recipient_key(std::string_view recipient, std::string_view bounce_domain) { return "r:" + std::string(recipient) + ":" + std::string(bounce_domain); }

struct SendLogEntry {
    int64_t expiry = 0;  // unix seconds; 0: never
    std::string sender{};  // the original envelope sender, "" for <> or unknown
    std::string queue_id{};
    std::vector<std::string> recipients{};  // normalised
    std::string message_id{};               // as the message gave it, "<...>"; "" none
    // milter_sendlog_headers present in the message: (name as configured,
    // first value, unfolded and trimmed), in the configured order.
    std::vector<std::pair<std::string, std::string>> headers{};
    bool operator==(const SendLogEntry&) const = default;
};

class SendLog {
public:
    explicit SendLog(std::shared_ptr<Env> env);
    void put(std::string_view token, const SendLogEntry& entry);
    // Several entries in one transaction (one commit): all or none; an
    // entry put() refuses fails them all, before anything is written.
    void put_all(const std::vector<std::pair<std::string, SendLogEntry>>& entries);
    // One recipient (a version-2 entry with only that recipient).
    void put(std::string_view token, std::string_view recipient, int64_t expiry);
    std::optional<SendLogEntry> lookup(std::string_view token, int64_t now) const;
    // The first recipient of lookup().
    std::optional<std::string> get(std::string_view token, int64_t now) const;
    size_t purge_expired(int64_t now);

private:
    std::string checked_value(std::string_view token, const SendLogEntry& entry) const;
    std::shared_ptr<Env> env_;
    MDB_dbi db_;
};

// The value bytes of an entry (version 3), and back (versions 1 to 3);
// nullopt for anything else.
std::string encode_sendlog(const SendLogEntry& entry);
std::optional<SendLogEntry> decode_sendlog(std::string_view value);

}  // namespace store
