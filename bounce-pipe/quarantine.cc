// quarantine.cc - see quarantine.h
#include "bounce-pipe/quarantine.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <optional>
#include <system_error>
#include <vector>

#include "common/log/log.h"
#include "common/sys/fd.h"

namespace bounce {

namespace fs = std::filesystem;

namespace {

// mkdir -p with an explicit mode: std::filesystem::create_directories would
// use 0777 and leave the result to the umask. mkdir(2) only ever narrows
// the mode, so 0750 holds under umask 000.
void make_dirs(const std::string& dir) {
    if (dir.empty() || ::mkdir(dir.c_str(), kQuarantineDirMode) == 0 || errno == EEXIST) return;
    if (errno == ENOENT) {
        auto slash = dir.find_last_of('/');
        if (slash != std::string::npos && slash > 0) {
            make_dirs(dir.substr(0, slash));
            if (::mkdir(dir.c_str(), kQuarantineDirMode) == 0 || errno == EEXIST) return;
        }
    }
    throw std::system_error(errno, std::generic_category(), "create quarantine directory " + dir);
}

// Reads fd to its end; returns the bytes read (0 for fd -1).
uint64_t drain(int fd) {
    uint64_t n = 0;
    char buf[65536];
    while (fd >= 0) {
        const ssize_t r = ::read(fd, buf, sizeof buf);
        if (r == 0) break;
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) throw std::system_error(errno, std::generic_category(), "read the message");
        n += static_cast<uint64_t>(r);
    }
    return n;
}

// Writes head, then the rest of rest_fd, to fd while the total stays within
// max; returns the bytes written, or nullopt (with total set to the whole
// message's size) once it would not.
std::optional<uint64_t> copy_within(int fd, std::string_view head, int rest_fd, uint64_t max, uint64_t& total) {
    total = head.size();
    if (total > max) {
        total += drain(rest_fd);
        return std::nullopt;
    }
    sys::write_all(fd, head);
    char buf[65536];
    while (rest_fd >= 0) {
        const ssize_t r = ::read(rest_fd, buf, sizeof buf);
        if (r == 0) break;
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) throw std::system_error(errno, std::generic_category(), "read the message");
        total += static_cast<uint64_t>(r);
        if (total > max) {
            total += drain(rest_fd);
            return std::nullopt;
        }
        sys::write_all(fd, std::string_view(buf, static_cast<size_t>(r)));
    }
    return total;
}

}  // namespace

Quarantine::Quarantine(std::string dir, QuarantineLimits limits)
    : dir_(std::move(dir)), limits_(limits) {}

Kept Quarantine::keep(std::string_view head, int rest_fd, std::string_view queue_id, int64_t now) {
    Kept kept;
    if (limits_.max_files < 1) {
        kept.size = head.size() + drain(rest_fd);
        kept.refused = "bounce_quarantine_max_files";
        return kept;
    }
    make_dirs(dir_);

    // Queue ids are [0-9A-Za-z]; anything else is replaced so the name stays safe.
    std::string qid;
    for (char c : queue_id.substr(0, 32)) qid += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
    if (qid.empty()) qid = "NOQUEUE";
    std::string base = dir_ + "/" + std::to_string(now) + "." + qid + "." + std::to_string(::getpid());
    std::string tmp = base + ".XXXXXX";
    sys::Fd fd(::mkostemp(tmp.data(), O_CLOEXEC));
    if (!fd) throw std::system_error(errno, std::generic_category(), "create " + tmp);
    try {
        if (!copy_within(fd.get(), head, rest_fd, limits_.max_bytes, kept.size)) {
            ::unlink(tmp.c_str());
            kept.refused = "bounce_quarantine_limit";
            return kept;
        }
        if (::fsync(fd.get()) != 0) throw std::system_error(errno, std::generic_category(), "fsync " + tmp);
    } catch (...) {
        ::unlink(tmp.c_str());
        throw;
    }
    fd.reset();
    // link(2) never replaces: the same second, queue id and pid (a retried
    // delivery, a test) get the next free suffix instead of overwriting.
    std::string path;
    for (int i = 0;; ++i) {
        path = base + (i ? "." + std::to_string(i) : "") + ".eml";
        if (::link(tmp.c_str(), path.c_str()) == 0) break;
        if (errno != EEXIST || i >= 1000) {
            int err = errno;
            ::unlink(tmp.c_str());
            throw std::system_error(err, std::generic_category(), "link " + path);
        }
    }
    ::unlink(tmp.c_str());
    // The caller exits 0 next, and Postfix forgets the message: the new name
    // must be on disk too, not only the data.
    sys::Fd d(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!d || ::fsync(d.get()) != 0)
        throw std::system_error(errno, std::generic_category(), "fsync " + dir_);
    trim(path);
    kept.path = std::move(path);
    return kept;
}

void Quarantine::trim(const std::string& keep_path) {
    struct Entry {
        fs::file_time_type mtime;
        std::string path;
        uintmax_t size;
    };
    std::vector<Entry> files;
    uintmax_t total = 0;
    std::error_code ec;
    for (auto it = fs::directory_iterator(dir_, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
        std::error_code e2;
        if (it->path().extension() != ".eml") {
            // A temporary file left by a process that was killed between
            // create and link: nobody will link it any more.
            auto age = fs::file_time_type::clock::now() - it->last_write_time(e2);
            if (!e2 && it->is_regular_file(e2) && age > std::chrono::minutes(10) &&
                it->path().filename().string().find(".eml") == std::string::npos &&
                ::unlink(it->path().c_str()) == 0)
                logging::info(logging::Line("quarantine").kv("action", "remove stale")
                                      .kv("file", it->path().string()));
            continue;
        }
        auto size = it->file_size(e2);
        auto mtime = it->last_write_time(e2);
        if (e2) continue;  // removed by another process meanwhile
        files.push_back({mtime, it->path().string(), size});
        total += size;
    }
    std::sort(files.begin(), files.end(), [](const Entry& a, const Entry& b) {
        return a.mtime != b.mtime ? a.mtime < b.mtime : a.path < b.path;
    });
    long long count = static_cast<long long>(files.size());
    for (const auto& f : files) {
        if (count <= limits_.max_files && total <= limits_.max_bytes) break;
        if (f.path == keep_path) continue;
        if (::unlink(f.path.c_str()) == 0) {
            logging::info(logging::Line("quarantine").kv("action", "expire").kv("file", f.path));
            --count;
            total -= f.size;
        }
    }
}

}  // namespace bounce
