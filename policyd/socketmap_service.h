// socketmap_service.h - the socketmap maps over the suppression list (sendguard-policyd)
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
//                  domain's) as one JSON object, or NOTFOUND. Only peers
//                  that MapSettings::record_clients allows; others get
//                  PERM and a warning naming their uid (the record holds the
//                  full diagnostic text of the bounce).
// Any other map name answers PERM. refuse_learn(peer, name) is the gate
// of the learner's maps (status, status-PROVIDER, transport): nullopt for a
// peer MapSettings::learn_clients allows, else PERM "access denied: not in
// policyd_learn_clients" and a warning naming the peer's uid (at most one a
// second): a fake status key would push a provider into backoff.
// socketmap_lookup() is the daemon's whole socketmap: learn maps, behind
// that gate, to the Learner (learn_lookup), every other name to lookup().
// A store error answers TEMP, so Postfix
// replies 4xx and the sender retries; so does a lookup while the store is
// closed (set_store(nullptr): being reopened, see service.h).
// With logging::verbose() (sendguard-policyd -v) each lookup logs one debug
// line: "policyd: map=suppress, key=bob@example.net, peer=..., answer=OK,
// reply=REJECT ..." (a record answer logs its size instead of the record).
//
// set_settings() and set_store() take effect with the next request.
// Thread safety: one thread (the event loop's).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/net/socketmap.h"
#include "common/store/suppression.h"
#include "policyd/learner.h"
#include "policyd/peer_access.h"
#include "policyd/settings.h"

namespace policyd {

class SuppressionMaps {
public:
    using Clock = std::function<int64_t()>;
    SuppressionMaps(std::shared_ptr<store::Env> env, MapSettings settings, Clock now = {});
    net::SocketmapReply lookup(const net::Peer& peer, std::string_view name, std::string_view key) const;
    std::optional<net::SocketmapReply> refuse_learn(const net::Peer& peer, std::string_view name) const;

    void set_settings(MapSettings s) { settings_ = std::move(s); }
    // Replaces the store; nullptr closes it (lookups answer TEMP).
    void set_store(std::shared_ptr<store::Env> env);
    const store::Env* store() const noexcept { return env_.get(); }
    std::shared_ptr<store::Env> env() const noexcept { return env_; }

private:
    net::SocketmapReply answer(const net::Peer& peer, std::string_view name, std::string_view key) const;

    std::shared_ptr<store::Env> env_;
    std::optional<store::SuppressionList> list_;
    MapSettings settings_;
    Clock now_;
    mutable RefusalLog record_refusals_;
    mutable RefusalLog learn_refusals_;
};

net::SocketmapReply socketmap_lookup(const SuppressionMaps& maps, Learner& learner,
                                     const net::Peer& peer, std::string_view name,
                                     std::string_view key, int64_t now_us);

}  // namespace policyd
