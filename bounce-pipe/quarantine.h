// quarantine.h - a bounded folder for messages the transport could not use
//
// Oversized or unparseable reports are never dropped silently: keep() writes
// the message to DIR/<time>.<queue id>.<pid>[.<n>].eml (fsynced under a
// temporary name, then linked to the first free name, mode 0600) and trims
// the folder, oldest first, until it holds at most max_files files and
// max_bytes bytes. The new file is never trimmed. DIR and any missing parent
// are created mode 0750 whatever the umask: quarantined mail is private.
//
// Errors: keep() returns the path written, or throws std::system_error (the
// caller tempfails so Postfix retries). Thread safety: none needed; several
// processes may keep() at once, trimming is best effort.
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

class Quarantine {
public:
    Quarantine(std::string dir, QuarantineLimits limits);
    std::string keep(std::string_view message, std::string_view queue_id, int64_t now);

private:
    void trim(const std::string& keep_path);
    std::string dir_;
    QuarantineLimits limits_;
};

}  // namespace bounce
