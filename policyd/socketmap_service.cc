// socketmap_service.cc - see socketmap_service.h
#include "policyd/socketmap_service.h"

#include <ctime>
#include <utility>

#include "common/address/address.h"
#include "common/log/log.h"
#include "common/store/record_format.h"

namespace policyd {
SuppressionMaps::SuppressionMaps(std::shared_ptr<store::Env> env, MapSettings settings, Clock now)
    : settings_(std::move(settings)), now_(std::move(now)) {
    if (!now_) now_ = [] { return static_cast<int64_t>(std::time(nullptr)); };
    set_store(std::move(env));
}

void SuppressionMaps::set_store(std::shared_ptr<store::Env> env) {
    list_.reset();  // the list holds the env too: both go before a reopen
    env_ = std::move(env);
    if (env_) list_.emplace(env_);
}

net::SocketmapReply SuppressionMaps::lookup(const net::Peer& peer, std::string_view name,
                                            std::string_view key) const {
    net::SocketmapReply r = answer(peer, name, key);
    if (logging::verbose()) {
        // One line per lookup at -v. A record answer is the whole record
        // (the bounce's diagnostic text): its size, not its text.
        logging::Line l("policyd");
        l.kv("map", name).kv("key", key).kv("peer", peer.str()).kv("answer", net::status_name(r.status));
        if (r.status == net::SocketmapStatus::Ok && name == "record")
            l.kv("size", static_cast<long long>(r.data.size()));
        else if (!r.data.empty())
            l.kv("reply", r.data);
        logging::debug(l);
    }
    return r;
}

net::SocketmapReply SuppressionMaps::answer(const net::Peer& peer, std::string_view name,
                                            std::string_view key) const {
    if (name == "record" && !settings_.record_clients.allows(peer)) {
        record_refusals_.refuse("map", name, peer, "policyd_record_clients", now_());
        return net::SocketmapReply::perm("access denied: not in policyd_record_clients");
    }
    if (name != "suppress" && name != "record")
        return net::SocketmapReply::perm("unknown map name; use suppress or record");
    if (!list_) return net::SocketmapReply::temp("suppression store unavailable");
    try {
        if (name == "suppress") {
            size_t at = key.rfind('@');
            // access(5) also asks for the bare domain and, with Postfix's
            // default parent_domain_matches_subdomains, for every parent
            // domain. The address lookup already covers its own domain's
            // entry; answering bare domains would make "@example.com"
            // refuse all of *.example.com, which check and record deny.
            if (at == std::string_view::npos) return net::SocketmapReply::not_found();
            if (at + 1 == key.size() || at == 0)  // "user@" or "@domain" forms
                return net::SocketmapReply::not_found();
            // Postfix sends the address unbracketed, in external (quoted) form.
            auto k = address::suppression_key(key);
            return k && list_->is_suppressed(*k, now_()) ? net::SocketmapReply::ok(settings_.suppressed_reply)
                                                        : net::SocketmapReply::not_found();
        }
        if (name == "record") {
            // A bare domain asks for its domain-level entry.
            auto k = address::suppression_key(key.find('@') == std::string_view::npos
                                                   ? "@" + std::string(key) : std::string(key));
            if (!k) return net::SocketmapReply::not_found();
            auto r = list_->check(*k, now_());
            if (!r) return net::SocketmapReply::not_found();
            return net::SocketmapReply::ok(store::record_json(*k, *r, now_()));
        }
        return net::SocketmapReply::perm("unknown map name; use suppress or record");  // not reached
    } catch (const store::Error& e) {
        logging::warning(logging::Line("policyd").kv("error", e.what()));
        return net::SocketmapReply::temp("suppression store error");
    }
}

std::optional<net::SocketmapReply> SuppressionMaps::refuse_learn(const net::Peer& peer,
                                                                std::string_view name) const {
    if (settings_.learn_clients.allows(peer)) return std::nullopt;
    learn_refusals_.refuse("map", name, peer, "policyd_learn_clients", now_());
    return net::SocketmapReply::perm("access denied: not in policyd_learn_clients");
}

net::SocketmapReply socketmap_lookup(const SuppressionMaps& maps, Learner& learner,
                                     const net::Peer& peer, std::string_view name,
                                     std::string_view key, int64_t now_us) {
    if (!is_learn_map(name)) return maps.lookup(peer, name, key);
    if (auto refused = maps.refuse_learn(peer, name)) return *refused;
    return learn_lookup(learner, name, key, now_us);
}

}  // namespace policyd
