// test_policyd_policy_access.cc - who may use the learn maps and the policy
// service (ClientList, SuppressionMaps::refuse_learn), and how long an idle
// throttle row is kept (purge_idle_us)
#include <boost/test/unit_test.hpp>

#include <grp.h>

#include <fstream>
#include <string>
#include <vector>

#include "common/config/config.h"
#include "common/log/log.h"
#include "common/net/stream_server.h"
#include "policyd/rules.h"
#include "policyd/service.h"
#include "policyd/settings.h"
#include "policyd/socketmap_service.h"

namespace {

net::Peer inet_peer() {
    net::Peer p;
    p.addr = "127.0.0.1:40000";
    p.key = "127.0.0.1";
    return p;
}

policyd::Settings settings(const std::string& extra = "") {
    return policyd::Settings::from(config::Config::parse("policyd_user = root\n" + extra, "t.conf"));
}

gid_t postfix_gid() {
    const struct group* g = ::getgrnam("postfix");
    BOOST_REQUIRE_MESSAGE(g, "no postfix group");
    return g->gr_gid;
}

constexpr int64_t kHourUs = 3600LL * 1000000;

}  // namespace

BOOST_AUTO_TEST_SUITE(policyd_access)

BOOST_AUTO_TEST_CASE(defaults_admit_root_and_postfix_only) {
    const policyd::Settings s = settings();
    for (const policyd::ClientList* l : {&s.maps.learn_clients, &s.policy_clients}) {
        BOOST_TEST(l->names == (std::vector<std::string>{"root", "postfix"}));
        BOOST_TEST(l->allows(net::Peer::local(0, 0)));
        BOOST_TEST(!l->allows(net::Peer::local(65534, 65534)));
        // A member of the socket group (postfix) who is not the postfix user.
        BOOST_TEST(!l->allows(net::Peer::local(65534, 65534, {postfix_gid()})));
        BOOST_TEST(!l->allows(inet_peer()), "TCP peers are refused unless trusted");
    }
}

BOOST_AUTO_TEST_CASE(inet_peers_only_when_trusted_and_never_for_record) {
    const policyd::Settings s = settings("policyd_trust_inet_clients = yes\n");
    BOOST_TEST(s.maps.learn_clients.allows(inet_peer()));
    BOOST_TEST(s.policy_clients.allows(inet_peer()));
    BOOST_TEST(!s.maps.record_clients.allows(inet_peer()));
    net::Peer unix_without_creds;
    unix_without_creds.addr = "unix";
    BOOST_TEST(!s.maps.learn_clients.allows(unix_without_creds));
}

BOOST_AUTO_TEST_CASE(unknown_learn_client_is_a_config_error) {
    try {
        settings("policyd_learn_clients = root, no-such-user-sg\n");
        BOOST_FAIL("accepted");
    } catch (const config::Error& e) {
        BOOST_TEST(std::string(e.what()).find(
                       "t.conf:2: invalid policyd_learn_clients: no-such-user-sg (no such user") == 0u,
                   e.what());
    }
}

BOOST_AUTO_TEST_CASE(learn_maps_refuse_peers_not_listed) {
    logging::open("test", logging::Sink::None);
    const policyd::Settings s = settings();
    policyd::SuppressionMaps maps(nullptr, s.maps, [] { return int64_t{1000}; });
    BOOST_TEST(!maps.refuse_learn(net::Peer::local(0, 0), "status").has_value());
    for (const char* map : {"status", "status-google", "transport"}) {
        auto r = maps.refuse_learn(net::Peer::local(65534, 65534), map);
        BOOST_REQUIRE(r.has_value());
        BOOST_TEST(net::status_name(r->status) == "PERM");
        BOOST_TEST(r->data == "access denied: not in policyd_learn_clients");
    }
}

BOOST_AUTO_TEST_CASE(idle_rows_purged_after_the_longest_window) {
    BOOST_TEST(policyd::purge_idle_us({}) == 0);
    const auto rules = policyd::parse_rules(
        "login key=sasl_username 30/min burst 30, 10000/day\n"
        "google provider=google key=provider 3600/h burst 60\n",
        "t");
    BOOST_TEST(policyd::purge_idle_us(rules) == 24 * kHourUs);
    BOOST_TEST(policyd::purge_idle_us(policyd::parse_rules("a key=provider 5/h\n", "t")) == kHourUs);
}

// The systemd unit lets the daemon hold every connection its two servers
// (socketmap, policy) may take at the default limit, with room to spare.
BOOST_AUTO_TEST_CASE(systemd_unit_has_descriptors_for_both_servers) {
    std::ifstream in(std::string(SENDGUARD_SOURCE_DIR) + "/init/systemd/sendguard-policyd.service.in");
    BOOST_REQUIRE(in);
    long long nofile = 0;
    for (std::string line; std::getline(in, line);)
        if (line.starts_with("LimitNOFILE=")) nofile = std::stoll(line.substr(12));
    const long long connections = config::Config::defaults().integer("policyd_max_connections");
    BOOST_TEST(nofile >= 2 * connections + 256, "LimitNOFILE=" << nofile);
}

BOOST_AUTO_TEST_SUITE_END()
