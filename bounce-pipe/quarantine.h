// quarantine.h - a bounded folder for messages the transport could not use
//
// Oversized or unparseable reports are never dropped silently: keep() writes
// the message (head, then whatever rest_fd still holds, streamed, never in
// memory) to DIR/<time>.<queue id>.<pid>[.<n>].eml (fsynced under a
// temporary name, then linked to the first free name, mode 0600) and trims
// the folder, oldest first, until it holds at most max_files files and
// max_bytes bytes. The new file is never trimmed. DIR and any missing parent
// are created mode 0750 whatever the umask: quarantined mail is private.
//
// A message the limits cannot hold at all (larger than max_bytes on its
// own, or max_files 0) is not kept: keep() reads it to the end to know its
// size, leaves no file behind and says which limit refused it; the caller
// defers, so Postfix keeps the message queued.
//
// Errors: keep() returns what it did (Kept), or throws std::system_error
// (the caller tempfails so Postfix retries). Thread safety: none needed;
// several processes may keep() at once, trimming is best effort.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace bounce {

// bounce_quarantine_limit and bounce_quarantine_max_files (Settings::from).
struct QuarantineLimits {
    uint64_t max_bytes;
    long long max_files;
};

inline constexpr unsigned kQuarantineDirMode = 0750;

struct Kept {
    std::string path;     // the file written; "" when refused
    uint64_t size = 0;    // bytes of the whole message
    std::string refused;  // not kept: the parameter that forbids it, else ""
};

class Quarantine {
public:
    Quarantine(std::string dir, QuarantineLimits limits);
    // rest_fd: where the message goes on after head (-1: head is all of it).
    Kept keep(std::string_view head, int rest_fd, std::string_view queue_id, int64_t now);
    Kept keep(std::string_view message, std::string_view queue_id, int64_t now) {
        return keep(message, -1, queue_id, now);
    }

private:
    void trim(const std::string& keep_path);
    std::string dir_;
    QuarantineLimits limits_;
};

}  // namespace bounce
