// privilege.h - give up root after the privileged set-up is done
//
// drop_privileges("sendguard") switches the process to that user's uid,
// primary gid and supplementary groups (initgroups), and verifies that root
// cannot be regained. Called by daemons after they opened their sockets and
// files, as Postfix's master children and OpenSMTPD's processes do.
// A no-op when not running as root or when user is empty.
// Errors: std::runtime_error naming the user and the failing call.
#pragma once

#include <string>

namespace sys {

void drop_privileges(const std::string& user);

}  // namespace sys
