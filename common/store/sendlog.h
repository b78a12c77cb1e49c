// sendlog.h - VERP tokens mapped back to the recipients they stand for
//
// When a recipient does not fit in a VERP local part (64 octets), the
// milter signs an opaque token instead and records token -> recipient here;
// sendguard-bounce resolves the token when the bounce comes back.
//
//   store::SendLog log(env);                  // DB "sendlog" in the same env
//   log.put("k3j9...", "very.long...@example.net", now + max_age);
//   std::optional<std::string> rcpt = log.get("k3j9...", now);   // expired: nullopt
//   log.purge_expired(now);
//
// Value layout (version 1): byte 0 = 1, bytes 1..8 = expiry (unix seconds,
// little-endian int64), then the normalised recipient.
// Errors: store::Error (I/O, map full; Format for a value of another
// version). Thread safety: as Env (one txn per thread).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/store/lmdb.h"

namespace store {

inline constexpr uint8_t kSendLogVersion = 1;

class SendLog {
public:
    explicit SendLog(std::shared_ptr<Env> env);
    void put(std::string_view token, std::string_view recipient, int64_t expiry);
    std::optional<std::string> get(std::string_view token, int64_t now) const;
    size_t purge_expired(int64_t now);

private:
    std::shared_ptr<Env> env_;
    MDB_dbi db_;
};

}  // namespace store
