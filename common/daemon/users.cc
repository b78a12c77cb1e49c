// users.cc - see users.h
#include "common/daemon/users.h"

#include "common/daemon/log_setup.h"

#include <grp.h>
#include <pwd.h>

#include <cerrno>
#include <system_error>
#include <vector>

namespace daemons {

std::optional<UserIds> user_ids_of(const std::string& user) {
    std::vector<char> buf(16384);
    passwd pw{};
    passwd* found = nullptr;
    const int rc = ::getpwnam_r(user.c_str(), &pw, buf.data(), buf.size(), &found);
    if (rc != 0 && rc != ENOENT && rc != ESRCH)
        throw std::system_error(rc, std::generic_category(), "looking up user " + user);
    if (!found) return std::nullopt;
    return UserIds{pw.pw_uid, pw.pw_gid};
}

std::optional<uid_t> uid_of(const std::string& user) {
    const auto ids = user_ids_of(user);
    if (!ids) return std::nullopt;
    return ids->uid;
}

std::optional<gid_t> gid_of(const std::string& group) {
    std::vector<char> buf(65536);  // groups may list many members
    struct group gr {};
    struct group* found = nullptr;
    const int rc = ::getgrnam_r(group.c_str(), &gr, buf.data(), buf.size(), &found);
    if (rc != 0 && rc != ENOENT && rc != ESRCH)
        throw std::system_error(rc, std::generic_category(), "looking up group " + group);
    if (!found) return std::nullopt;
    return gr.gr_gid;
}

std::string run_user(const config::Config& cfg, config::TextKey key) {
    const std::string& user = cfg.str(key);
    if (!user.empty() && !uid_of(user))
        throw invalid(cfg, key, user,
                      "unknown user " + user +
                          "; create it (scripts/install.sh creates sendguard) or name another unprivileged user");
    return user;
}

std::optional<gid_t> socket_gid(const config::Config& cfg, config::TextKey key) {
    const std::string& group = cfg.str(key);
    if (group.empty()) return std::nullopt;
    const auto g = gid_of(group);
    if (!g)
        throw invalid(cfg, key, group,
                      "no such group; name the group Postfix runs as, or leave it empty for the group of the "
                      "starting user");
    return g;
}

}  // namespace daemons
