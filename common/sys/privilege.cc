// privilege.cc - see privilege.h
#include "common/sys/privilege.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace sys {

void drop_privileges(const std::string& user) {
    if (user.empty() || ::geteuid() != 0) return;
    std::vector<char> buf(16384);
    struct passwd pw {};
    struct passwd* found = nullptr;
    int rc = ::getpwnam_r(user.c_str(), &pw, buf.data(), buf.size(), &found);
    if (rc != 0)
        throw std::runtime_error("drop privileges: looking up user " + user + ": " + std::strerror(rc));
    if (!found)
        throw std::runtime_error("drop privileges: unknown user " + user +
                                 " (create it, or change the *_user parameter)");
    if (pw.pw_uid == 0) throw std::runtime_error("drop privileges: user " + user + " has uid 0");
    auto fail = [&](const char* what) {
        return std::runtime_error(std::string("drop privileges to ") + user + ": " + what + ": " +
                                  std::strerror(errno));
    };
    if (::initgroups(user.c_str(), pw.pw_gid) != 0) throw fail("initgroups");
    if (::setgid(pw.pw_gid) != 0) throw fail("setgid");
    if (::setuid(pw.pw_uid) != 0) throw fail("setuid");
    if (::setuid(0) == 0) throw std::runtime_error("drop privileges to " + user + ": could regain root");
}

}  // namespace sys
