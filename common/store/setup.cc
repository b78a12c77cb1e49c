// setup.cc - see setup.h
#include "common/store/setup.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <map>
#include <vector>

namespace store {

namespace {

// bounce_reason_expiry, parsed by the configuration; only the keys are
// checked here, against the reasons the caller knows.
std::map<std::string, std::chrono::seconds, std::less<>> reason_expiry(
    const config::Config& cfg, const std::function<bool(std::string_view)>& known_reason) {
    cfg.check_map_keys("bounce_reason_expiry", known_reason,
                       "reasons are the class names of sendguard-bounce(8), such as mailboxfull, suspend, userunknown");
    const auto& m = cfg.duration_map("bounce_reason_expiry");
    return {m.entries.begin(), m.entries.end()};
}

std::string user_name(uid_t uid) {
    const struct passwd* pw = ::getpwuid(uid);
    return pw ? std::string(pw->pw_name) : "uid " + std::to_string(uid);
}

// What keeps the caller from writing path (which exists), or "".
std::string obstacle(const std::string& path) {
    struct statvfs vfs {};
    if (::statvfs(path.c_str(), &vfs) == 0 && (vfs.f_flag & ST_RDONLY))
        return path + " is on a read-only file system (remount it read-write)";
    if (::faccessat(AT_FDCWD, path.c_str(), W_OK, AT_EACCESS) == 0) return "";
    if (errno == EROFS) return path + " is on a read-only file system (remount it read-write)";
    struct stat st {};
    if (errno != EACCES || ::stat(path.c_str(), &st) != 0) return "";
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    if (st.st_uid == ::geteuid())
        return path + " has mode " + mode + ": its owner may not write it (chmod u+w)";
    return path + " is owned by " + user_name(st.st_uid) + ", not by " + user_name(::geteuid()) +
           ", and its mode " + mode + " does not let " + user_name(::geteuid()) +
           " write it (give it to the owner of state_directory)";
}

}  // namespace

std::string write_obstacle(std::string_view state_dir) {
    // LMDB writes data.mdb and lock.mdb; it needs the directories only to
    // create what is missing.
    const std::string env_dir = suppression_dir(state_dir);
    std::vector<std::string> paths;
    struct stat st {};
    const bool data = ::stat((env_dir + "/data.mdb").c_str(), &st) == 0;
    const bool lock = ::stat((env_dir + "/lock.mdb").c_str(), &st) == 0;
    if (::stat(env_dir.c_str(), &st) != 0) paths.emplace_back(state_dir);
    else if (!data || !lock) paths.push_back(env_dir);
    if (data) paths.push_back(env_dir + "/data.mdb");
    if (lock) paths.push_back(env_dir + "/lock.mdb");
    for (const auto& p : paths)
        if (std::string why = obstacle(p); !why.empty()) return why;
    return "";
}

std::shared_ptr<Env> open_suppression_store(const config::Config& cfg, bool read_only) {
    EnvOptions o;
    o.map_size = cfg.size("store_map_size");
    o.max_map_size = cfg.size("store_max_map_size");
    o.max_readers = static_cast<unsigned>(cfg.integer("store_max_readers"));
    o.read_only = read_only;
    o.durable = cfg.boolean("store_sync");
    // The state directory is ours to create (like Postfix's data_directory);
    // its parent must exist.
    const std::string& dir = cfg.str("state_directory");
    if (!read_only && ::mkdir(dir.c_str(), 0750) != 0 && errno != EEXIST)
        throw Error(Error::Kind::Io, errno, "mkdir", dir, "");
    std::string env_dir = suppression_dir(dir);
    auto env = Env::open(env_dir, o);
    // Run as root (an admin's "sendguard suppress import", sendguard-policyd
    // before it drops privileges), we may just have created the store: give
    // it to the owner of state_directory, the user the bounce transport runs
    // as, or every later delivery would fail with EACCES.
    struct stat st {};
    if (!read_only && ::geteuid() == 0 && ::stat(dir.c_str(), &st) == 0 && st.st_uid != 0) {
        for (const std::string& f : {env_dir, env_dir + "/data.mdb", env_dir + "/lock.mdb"}) {
            struct stat fs {};
            if (::lstat(f.c_str(), &fs) == 0 && fs.st_uid == 0 && ::chown(f.c_str(), st.st_uid, st.st_gid) != 0)
                throw Error(Error::Kind::Io, errno, "chown", f, "");
        }
    }
    return env;
}

Policy suppression_policy(const config::Config& cfg, const std::function<bool(std::string_view)>& known_reason) {
    Policy p;
    p.soft_threshold = static_cast<int>(cfg.integer("bounce_soft_threshold"));
    p.soft_window = cfg.duration("bounce_soft_window");
    p.soft_expiry = cfg.duration("bounce_soft_expiry");
    p.hard_expiry = cfg.duration("bounce_hard_expiry");
    p.complaint_expiry = cfg.duration("bounce_complaint_expiry");
    p.domain_threshold = static_cast<int>(cfg.integer("bounce_domain_threshold"));
    p.max_diagnostic = cfg.size("bounce_diagnostic_limit");
    p.reason_expiry = reason_expiry(cfg, known_reason);
    return p;
}

}  // namespace store
