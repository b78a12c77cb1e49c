// temp_dir.h - throw-away directories and small file helpers for tests
//
// TempDir creates /tmp/<prefix>XXXXXX with mkdtemp(3) and removes the whole
// tree in its destructor (and, via cleanup.h, at exit if the destructor never
// runs).  The directory is made mode 0755 because Postfix daemons (user
// postfix), pipe(8) commands (user nobody) and smtp-sink (-u nobody) must be
// able to traverse it; FACTS.md: every directory on a path must be reachable
// by the user that opens it.  Set SG_E2E_KEEP=1 to keep the trees for
// post-mortem debugging (the path is printed).
//
// API:
//   TempDir dir("sg-postfix-");  dir.path()  dir.sub("queue")  dir.mkdir("sink")
//   write_file(path, text, mode)  append_file(path, text)  file_text(path)
//   chown_to(path, "postfix")     // user name; group left unchanged
//   make_dirs(path, mode)
//
// Errors: all functions throw std::system_error / std::runtime_error naming
// the path; file_text() returns "" for a missing file (logs appear late).
// Thread safety: none needed; a TempDir belongs to one test.
#pragma once

#include "tests/support/cleanup.h"

#include <string>
#include <string_view>
#include <sys/types.h>

namespace harness {

class TempDir {
public:
    explicit TempDir(std::string_view prefix = "sg-test-");
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::string& path() const noexcept { return path_; }
    std::string sub(std::string_view name) const { return path_ + "/" + std::string(name); }
    // Creates path()/name (and parents) with the given mode; returns the path.
    std::string mkdir(std::string_view name, mode_t mode = 0755) const;

private:
    std::string path_;
    CleanupGuard guard_;
};

void make_dirs(const std::string& path, mode_t mode = 0755);
void write_file(const std::string& path, std::string_view text, mode_t mode = 0644);
void append_file(const std::string& path, std::string_view text);
// Contents of a file, at most max bytes; "" when the file does not exist.
std::string file_text(const std::string& path, size_t max = 16u << 20);
// Sets a file's mtime/atime some seconds into the past.  Postfix re-reads a
// file it loads (main.cf, texthash: maps) in 300ms naps until the mtime is
// over a second old, so fresh files cost seconds per command.
void backdate(const std::string& path, int seconds = 10);
// chown(2) to the named user (and that user's primary group when with_group).
void chown_to(const std::string& path, const std::string& user, bool with_group = false);
// Removes a tree, ignoring errors; used by destructors.
void remove_tree(const std::string& path) noexcept;

}  // namespace harness
