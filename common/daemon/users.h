// users.h - user and group names from the system databases
//
//   uid_of("postfix") / gid_of("postfix")  -> the id, or nullopt when there
//                                             is no such user / group
//   user_ids_of("sendguard")                -> its uid and primary gid
//   run_user(cfg, "policyd_user")           -> the parameter's value, checked
//   socket_gid(cfg, "policyd_socket_group") -> its gid, nullopt for ""
// run_user and socket_gid throw config::Error naming the parameter's file
// and line when the user or group does not exist, with what to do.
// Errors: a lookup that fails (not "no such name") throws std::system_error
// naming the name. Thread safety: getpwnam_r/getgrnam_r, reentrant.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "common/config/config.h"

namespace daemons {

std::optional<uid_t> uid_of(const std::string& user);
std::optional<gid_t> gid_of(const std::string& group);
// The user's uid and primary gid.
struct UserIds {
    uid_t uid;
    gid_t gid;
};
std::optional<UserIds> user_ids_of(const std::string& user);

// A daemon's <name>_user and <name>_socket_group parameters.
std::string run_user(const config::Config& cfg, config::TextKey key);
std::optional<gid_t> socket_gid(const config::Config& cfg, config::TextKey key);

}  // namespace daemons
