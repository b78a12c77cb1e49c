// fd.cc - see fd.h
#include "common/sys/fd.h"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>

namespace sys {

void Fd::reset(int fd) noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
}

std::string read_all(int fd, size_t max, bool* truncated) {
    std::string out;
    char buf[65536];
    if (truncated) *truncated = false;
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw std::system_error(errno, std::generic_category(), "read");
        }
        if (n == 0) break;
        size_t room = max - out.size();
        if (static_cast<size_t>(n) > room) {
            out.append(buf, room);
            if (truncated) *truncated = true;
            break;
        }
        out.append(buf, static_cast<size_t>(n));
    }
    return out;
}

void write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            throw std::system_error(errno, std::generic_category(), "write");
        }
        data.remove_prefix(static_cast<size_t>(n));
    }
}

std::string read_file(const std::string& path, size_t max) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) throw std::system_error(errno, std::generic_category(), "open " + path);
    try {
        return read_all(fd.get(), max);
    } catch (const std::system_error& e) {
        throw std::system_error(e.code(), "read " + path);
    }
}


int open_append(const std::string& path, unsigned mode, bool* created) noexcept {
    constexpr int kFlags = O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY;
    if (created) *created = false;
    for (int attempt = 0; attempt < 2; ++attempt) {
        int fd = ::open(path.c_str(), kFlags | O_CREAT | O_EXCL, static_cast<mode_t>(mode));
        if (fd >= 0) {
            if (::fchmod(fd, static_cast<mode_t>(mode)) != 0) {
                const int e = errno;
                ::close(fd);
                errno = e;
                return -1;
            }
            if (created) *created = true;
            return fd;
        }
        if (errno != EEXIST) return -1;
        fd = ::open(path.c_str(), kFlags);
        if (fd >= 0 || errno != ENOENT) return fd;
    }
    return -1;
}

}  // namespace sys
