// temp_dir.cc - see temp_dir.h
#include "tests/support/temp_dir.h"

#include "common/sys/fd.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <pwd.h>
#include <stdexcept>
#include <sys/stat.h>
#include <system_error>
#include <ctime>
#include <unistd.h>
#include <vector>

namespace harness {
namespace {

[[noreturn]] void throw_errno(const std::string& what) {
    throw std::system_error(errno, std::generic_category(), what);
}

bool keep_trees() {
    const char* v = std::getenv("SG_E2E_KEEP");
    return v && *v && std::string_view(v) != "0";
}

}  // namespace

TempDir::TempDir(std::string_view prefix) {
    std::string tmpl = "/tmp/" + std::string(prefix) + "XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (!::mkdtemp(buf.data())) throw_errno("mkdtemp " + tmpl);
    path_ = buf.data();
    std::string p = path_;
    guard_ = register_cleanup("temp dir " + p, [p] {
        if (!keep_trees()) remove_tree(p);
    });
    if (::chmod(path_.c_str(), 0755) < 0) {
        int e = errno;
        guard_.run();
        throw std::system_error(e, std::generic_category(), "chmod " + p);
    }
}

TempDir::~TempDir() {
    guard_.release();
    if (keep_trees()) {
        std::fprintf(stderr, "harness: keeping %s (SG_E2E_KEEP)\n", path_.c_str());
        return;
    }
    remove_tree(path_);
}

std::string TempDir::mkdir(std::string_view name, mode_t mode) const {
    std::string p = sub(name);
    make_dirs(p, mode);
    return p;
}

void make_dirs(const std::string& path, mode_t mode) {
    std::error_code ec;
    std::filesystem::create_directories(path, ec);
    if (ec) throw std::system_error(ec, "mkdir " + path);
    if (::chmod(path.c_str(), mode) < 0) throw_errno("chmod " + path);
}

void write_file(const std::string& path, std::string_view text, mode_t mode) {
    sys::Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
    if (!fd) throw_errno("open " + path);
    sys::write_all(fd.get(), text);
    if (::fchmod(fd.get(), mode) < 0) throw_errno("chmod " + path);
}

void append_file(const std::string& path, std::string_view text) {
    sys::Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
    if (!fd) throw_errno("open " + path);
    sys::write_all(fd.get(), text);
}

std::string file_text(const std::string& path, size_t max) {
    sys::Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        if (errno == ENOENT) return {};
        throw_errno("open " + path);
    }
    return sys::read_all(fd.get(), max);
}

void backdate(const std::string& path, int seconds) {
    struct timespec ts[2];
    ::clock_gettime(CLOCK_REALTIME, &ts[0]);
    ts[0].tv_sec -= seconds;
    ts[1] = ts[0];
    if (::utimensat(AT_FDCWD, path.c_str(), ts, 0) < 0) throw_errno("utimensat " + path);
}

void chown_to(const std::string& path, const std::string& user, bool with_group) {
    struct passwd pw {};
    struct passwd* res = nullptr;
    std::vector<char> buf(16384);
    if (::getpwnam_r(user.c_str(), &pw, buf.data(), buf.size(), &res) != 0 || !res)
        throw std::runtime_error("chown " + path + ": no such user: " + user);
    gid_t gid = with_group ? pw.pw_gid : static_cast<gid_t>(-1);
    if (::chown(path.c_str(), pw.pw_uid, gid) < 0) throw_errno("chown " + path);
}

void remove_tree(const std::string& path) noexcept {
    if (path.size() < 6 || path.rfind("/tmp/", 0) != 0) return;  // never outside /tmp
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
    if (ec) std::fprintf(stderr, "harness: remove %s: %s\n", path.c_str(), ec.message().c_str());
}

}  // namespace harness
