// setup.h - the sender rules the configuration describes
//
//   load_rules(cfg)  builds the Rules (rules.h) of sendguard-milter from
//                    milter_sender_tables and milter_network_tables (each file
//                    within milter_table_max_size, _max_line and
//                    _max_entries), milter_login_owns_domain,
//                    milter_local_senders and bounce_domains (listed
//                    domains and LABEL.* patterns)
//
// Used at start-up and on each reload (SIGHUP: build, then swap the
// shared_ptr), and by the command line to check the files.
// Errors: throws config::Error, and the caller keeps the rules it has:
//     /etc/sendguard/senders:12: invalid grant a..example for login alice: ...
//     /etc/sendguard/senders:3: duplicate key bob (first at line 1)
//     /etc/sendguard/senders: file too large (max 67108864 bytes)
//     sendguard.conf:7: milter_sender_tables: open /etc/x: No such file or directory
//     sendguard.conf:8: invalid bounce_domains: b..x: bad_domain
// Thread safety: none needed (start-up and reload code); the result is
// immutable and may be shared by all threads.
#pragma once

#include <memory>

#include "common/config/config.h"
#include "common/senders/rules.h"

namespace senders {

std::shared_ptr<const Rules> load_rules(const config::Config& cfg);

}  // namespace senders
