// socketmap_service.h - the socketmap service over the suppression list (sendguard-policyd)
//
// SuppressionMaps answers one socketmap request (see sendguard-policyd(8)):
//   suppress KEY   access(5) semantics for check_recipient_access. Postfix
//                  asks for "user@domain", then "domain" (and parents, with
//                  parent_domain_matches_subdomains), then "user@". An
//                  address answers OK <policyd_suppressed_reply> when it or its
//                  domain ("@domain" entry) is suppressed; everything else,
//                  bare domains included, NOTFOUND (so an entry for a domain
//                  never refuses its subdomains).
//   record KEY     the active record suppressing an address (its own or its
//                  domain's) as one JSON object, or NOTFOUND.
// Any other map name answers PERM. A store error answers TEMP, so Postfix
// replies 4xx and the sender retries.
//
// run_policyd() opens the listeners in policyd_socketmap_listen, serves until SIGTERM and
// reloads the configuration on SIGHUP (a bad file is logged and the old
// configuration kept). Returns the exit status for main().
// Thread safety: one thread (the event loop's).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/net/socketmap.h"
#include "common/store/suppression.h"

namespace policyd {

class SuppressionMaps {
public:
    using Clock = std::function<int64_t()>;
    SuppressionMaps(std::shared_ptr<store::Env> env, std::string suppressed_reply, Clock now = {});
    net::SocketmapReply lookup(std::string_view name, std::string_view key) const;
    void set_reply(std::string reply) { reply_ = std::move(reply); }

private:
    store::SuppressionList list_;
    std::string reply_;
    Clock now_;
};

struct PolicydArgs {
    std::string config_path;
    std::vector<std::string> overrides;
    bool verbose = false;
};

int run_policyd(const PolicydArgs& args) noexcept;

}  // namespace policyd
