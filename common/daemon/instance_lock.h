// instance_lock.h - one daemon per directory: an exclusive lock held for the daemon's life
//
//   daemons::InstanceLock lock("/var/lib/sendguard/sendguard-policyd.lock");
//
// Opens (creating, mode 0644) the file and takes an exclusive flock(2) on
// it without waiting; then writes the process id into it, so that a second
// daemon can name the first. The lock goes with the object (the descriptor
// is close-on-exec: commands the daemon runs do not inherit it). The kernel
// drops it when the process dies, so a stale file never blocks a start.
//
// Errors: the constructor throws InstanceLock::Busy when another process
// holds the lock (holder() is its pid as written in the file, 0 when the
// file names none), std::system_error when the file cannot be opened or
// locked.
// Thread safety: none needed (taken once, at start).
#pragma once

#include <sys/types.h>

#include <stdexcept>
#include <string>

#include "common/sys/fd.h"

namespace daemons {

class InstanceLock {
public:
    class Busy : public std::runtime_error {
    public:
        Busy(const std::string& path, pid_t holder);
        pid_t holder() const noexcept { return holder_; }

    private:
        pid_t holder_;
    };

    explicit InstanceLock(std::string path);
    const std::string& path() const noexcept { return path_; }

private:
    std::string path_;
    sys::Fd fd_;
};

}  // namespace daemons
