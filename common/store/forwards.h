// forwards.h - how many replies were forwarded to one original sender
//
// sendguard-bounce forwards a person's reply that reached a bounce address
// to the message's original sender (bounce-pipe/forward.h), at most limit
// forwards per sender within one window: a flood of replies (or of forged
// ones) cannot turn the transport into a mail cannon aimed at a sender.
//
//   store::Forwards f(env);                       // DB "forwards" in the same env
//   store::Forwards::Take t = f.take("news@example.org", now, 20, 3600);
//   if (!t.allowed) ...                           // limit reached: t.count forwards in the window
//   f.give_back("news@example.org", now);        // the forward failed: uncount it
//
// A window starts at the first forward after the previous one ended (fixed
// windows, one entry per sender). Entries are bounded and expired: take()
// also deletes up to kForwardsSweep ended windows found after the sender's
// key, so the DB holds about one entry per sender forwarded to within the
// last window, never more than it ever had senders.
//
// Value layout (integers little-endian, le_codec.h): byte 0 = 1 (version),
// bytes 1..8 = window start (unix seconds, int64), 9..16 = window end,
// 17..20 = count (uint32). A value of another layout is replaced (a
// counter, not a record: losing one count is harmless).
// Errors: store::Error (I/O, map full, a key LMDB cannot hold).
// Thread safety: as Env.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "common/store/lmdb.h"

namespace store {

inline constexpr std::size_t kForwardsSweep = 16;

class Forwards {
public:
    explicit Forwards(std::shared_ptr<Env> env);

    struct Take {
        bool allowed;    // counted: the forward may go
        uint32_t count;  // forwards in the window, this one included when allowed
    };
    // Counts one forward to sender at now when fewer than limit went in
    // the current window (window seconds long).
    Take take(std::string_view sender, int64_t now, uint32_t limit, int64_t window);
    // Uncounts a forward take() allowed (it could not be sent).
    void give_back(std::string_view sender, int64_t now);
    // The count in sender's current window (0 when none).
    uint32_t count(std::string_view sender, int64_t now) const;

private:
    std::shared_ptr<Env> env_;
    MDB_dbi db_;
};

}  // namespace store
