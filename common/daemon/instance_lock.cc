// instance_lock.cc - see instance_lock.h
#include "common/daemon/instance_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <utility>
#include <system_error>

namespace daemons {
namespace {

pid_t pid_in(int fd) {
    char buf[32];
    const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0) return 0;
    pid_t pid = 0;
    auto [end, ec] = std::from_chars(buf, buf + n, pid);
    return ec == std::errc() && pid > 0 ? pid : 0;
}

}  // namespace

InstanceLock::Busy::Busy(const std::string& path, pid_t holder)
    : std::runtime_error(holder > 0 ? path + " is locked by process " + std::to_string(holder)
                                    : path + " is locked by another process"),
      holder_(holder) {}

InstanceLock::InstanceLock(std::string path) : path_(std::move(path)) {
    fd_ = sys::Fd(::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644));
    if (fd_.get() < 0) throw std::system_error(errno, std::generic_category(), "open " + path_);
    if (::flock(fd_.get(), LOCK_EX | LOCK_NB) != 0) {
        const int err = errno;
        if (err == EWOULDBLOCK) throw Busy(path_, pid_in(fd_.get()));
        throw std::system_error(err, std::generic_category(), "lock " + path_);
    }
    const std::string text = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd_.get(), 0) != 0 ||
        ::pwrite(fd_.get(), text.data(), text.size(), 0) != static_cast<ssize_t>(text.size()))
        throw std::system_error(errno, std::generic_category(), "write " + path_);
}

}  // namespace daemons
