// peer_access.h - the warning for a client refused by a policyd_*_clients list
//
//   RefusalLog log;
//   log.refuse("map", "status", peer, "policyd_learn_clients", now_s);
// logs, at most once a second per RefusalLog,
//   warning: policyd: map=status, peer=unix uid=65534, action=refuse,
//   reason=peer not in policyd_learn_clients, suppressed=N
// where N counts the refusals not logged since the last line (a refused
// client may keep asking). Each gate has its own RefusalLog, so a flood at
// one does not hide another.
// Thread safety: one thread (the event loop's).
#pragma once

#include <cstdint>
#include <string_view>

#include "common/log/every.h"
#include "common/net/stream_server.h"

namespace policyd {

class RefusalLog {
public:
    void refuse(std::string_view what, std::string_view name, const net::Peer& peer,
                std::string_view param, int64_t now_s);

private:
    logging::Every gate_{1};  // seconds
};

}  // namespace policyd
