// fd.h - an owned file descriptor and small I/O helpers
//
// Fd closes its descriptor in the destructor. read_all()/write_all() retry
// on EINTR and short transfers. Errors are thrown as std::system_error naming
// the operation; "end of file" is not an error.
// Thread safety: an Fd is used by one thread at a time.
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace sys {

class Fd {
public:
    Fd() = default;
    explicit Fd(int fd) noexcept : fd_(fd) {}
    ~Fd() { reset(); }
    Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    Fd& operator=(Fd&& o) noexcept {
        if (this != &o) { reset(); fd_ = std::exchange(o.fd_, -1); }
        return *this;
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;

    int get() const noexcept { return fd_; }
    int release() noexcept { return std::exchange(fd_, -1); }
    explicit operator bool() const noexcept { return fd_ >= 0; }
    void reset(int fd = -1) noexcept;

private:
    int fd_ = -1;
};

// Reads until EOF or until max bytes; sets *truncated when more was there.
std::string read_all(int fd, size_t max, bool* truncated = nullptr);
// Writes all of data; throws std::system_error on failure.
void write_all(int fd, std::string_view data);
// Opens path for appending (O_WRONLY|O_APPEND|O_CLOEXEC|O_NOCTTY), creating
// it when missing with exactly mode, whatever the umask (fchmod after the
// create: pipe(8) runs commands under umask 077). *created says whether
// this call made it. -1 with errno on failure; an existing file keeps its
// mode. Log rotation removing the file in between is retried once.
int open_append(const std::string& path, unsigned mode, bool* created = nullptr) noexcept;
// Reads a whole file; throws std::system_error naming the path.
std::string read_file(const std::string& path, size_t max = 64u << 20);

}  // namespace sys
