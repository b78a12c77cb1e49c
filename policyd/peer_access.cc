// peer_access.cc - see peer_access.h
#include "policyd/peer_access.h"

#include <string>
#include <utility>

#include "common/log/log.h"

namespace policyd {

void RefusalLog::refuse(std::string_view what, std::string_view name, const net::Peer& peer,
                        std::string_view param, int64_t now_s) {
    uint64_t held = 0;
    if (!gate_.due(now_s, &held)) return;
    logging::warning(logging::Line("policyd")
                         .kv(what, name)
                         .kv("peer", peer.str())
                         .kv("action", "refuse")
                         .kv("reason", "peer not in " + std::string(param))
                         .kv("suppressed", static_cast<long long>(held)));
}

}  // namespace policyd
