// users.h - user and group names from the system databases
//
//   uid_of("postfix") / gid_of("postfix")  -> the id, or nullopt when there
//                                             is no such user / group
//   user_ids_of("sendguard")                -> its uid and primary gid
// Errors: a lookup that fails (not "no such name") throws std::system_error
// naming the name. Thread safety: getpwnam_r/getgrnam_r, reentrant.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

namespace daemons {

std::optional<uid_t> uid_of(const std::string& user);
std::optional<gid_t> gid_of(const std::string& group);
// The user's uid and primary gid.
struct UserIds {
    uid_t uid;
    gid_t gid;
};
std::optional<UserIds> user_ids_of(const std::string& user);

}  // namespace daemons
