// test_learn_maps.cc - the status-filter and transport maps over a real
// socketmap server (in process, on a Unix socket), beside the suppression maps
//
// The dispatch is the one the daemon uses: is_learn_map() names go to the
// Learner (learn_lookup), every other name to SuppressionMaps.
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "common/log/log.h"
#include "common/net/listener.h"
#include "common/net/socketmap_client.h"
#include "common/net/stream_server.h"
#include "policyd/learner.h"
#include "policyd/settings.h"
#include "policyd/socketmap_service.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/test_policyd_learn_support.h"

using net::SocketmapStatus;

namespace {

struct Server {
    harness::TempDir dir{"sg-learn-"};
    std::shared_ptr<store::Env> env =
        store::Env::open(dir.sub("lmdb"), {.map_size = size_t{1} << 20, .max_readers = 126});
    policyd::Settings settings =
        policyd::Settings::from(config::Config::parse("policyd_user = root\n", "t.conf"));
    policyd::SuppressionMaps maps{env, settings.maps, [] { return learn_test::kT0 / 1000000; }};
    policyd::Learner learner{learn_test::settings(), learn_test::destinations()};
    std::atomic<int64_t> now{learn_test::kT0};
    net::EventLoop loop;
    net::StreamServer server{
        loop, "socketmap",
        net::socketmap_factory(
            [this](const net::Peer& p, std::string_view n, std::string_view k) {
                if (policyd::is_learn_map(n)) return policyd::learn_lookup(learner, n, k, now.load());
                return maps.lookup(p, n, k);
            },
            settings.socketmap),
        settings.limits};
    net::Endpoint ep;
    std::thread thread;

    Server() {
        logging::open("test", logging::Sink::None);
        ep.path = dir.sub("socketmap.sock");
        server.add_listener(
            net::Listener::open(ep, {.unix_mode = 0600, .unix_group = static_cast<gid_t>(-1)}));
        thread = std::thread([this] { loop.run(); });
    }
    ~Server() {
        loop.stop();
        thread.join();
    }
};

std::string show(const net::SocketmapReply& r) {
    return std::string(net::status_name(r.status)) + " " + r.data;
}

const std::string kWebDe =
    "4.0.0 host mx-ha03.web.de[212.227.17.8] said: 421 Rate limit reached. Please try again later "
    "(in reply to MAIL FROM command)";

}  // namespace

BOOST_AUTO_TEST_SUITE(learn_maps)

BOOST_AUTO_TEST_CASE(status_filter_learns_and_transport_map_routes) {
    Server s;
    net::SocketmapClient smtp(s.ep);       // an smtp(8) process's status filter
    net::SocketmapClient rewrite(s.ep);    // trivial-rewrite's transport_maps
    BOOST_TEST(show(rewrite.query("transport", "web.de")) == "NOTFOUND ");
    // Every status answer is NOTFOUND: the filter never changes a delivery.
    BOOST_TEST(show(smtp.query("status", "2.0.0 250 2.0.0 Ok: queued as 4Xk2")) == "NOTFOUND ");
    BOOST_TEST(show(smtp.query("status", kWebDe)) == "NOTFOUND ");
    BOOST_TEST(show(rewrite.query("transport", "web.de")) == "OK gmx-slow:");
    // What trivial-rewrite sends: the full address (a socketmap is a pattern table to it).
    BOOST_TEST(show(rewrite.query("transport", "bob@web.de")) == "OK gmx-slow:");
    BOOST_TEST(show(rewrite.query("transport", "gmail.com")) == "NOTFOUND ");
    // The suppression maps answer as before on the same connection.
    BOOST_TEST(show(rewrite.query("suppress", "bob@web.de")) == "NOTFOUND ");
    BOOST_TEST((rewrite.query("nosuchmap", "x").status == SocketmapStatus::Perm));

    // A second signal after the hold-down: the next level's transport.
    s.now += 61 * learn_test::kSec;
    BOOST_TEST(show(smtp.query("status-gmx", kWebDe)) == "NOTFOUND ");
    BOOST_TEST(show(rewrite.query("transport", "gmx.de")) == "OK gmx-crawl:");
}

BOOST_AUTO_TEST_CASE(hostile_keys_get_notfound_and_the_connection_stays) {
    Server s;
    net::SocketmapClient c(s.ep);
    const std::vector<std::string> keys = {
        "",
        " ",
        "4.7.1",
        "4.7.1 host",
        "4.7.1 host [",
        "4.7.1 host mx.web.de[",
        "4.7.1 host ]said: ",
        "4.7.1 host mx-ha03.web.de[212.227.17.8] said:",
        std::string("4.7.1 host mx.web.de[1.2.3.4] said: 421 \0\xff\xfe rate limit", 52),
        "9.9.9 host mx-ha03.web.de[212.227.17.8] said: 421 rate limit",
        "4.7.1 " + std::string(99000, 'x'),
        "4.7.1 host " + std::string(90000, 'a') + ".web.de[1.2.3.4] said: 421 rate limit",
    };
    for (const std::string& k : keys)
        BOOST_TEST(show(c.query("status", k)) == "NOTFOUND ", k.substr(0, 60));
    for (const std::string& k : keys)
        BOOST_TEST((c.query("transport", k).status == SocketmapStatus::NotFound));
    // Still serving.
    BOOST_TEST(show(c.query("status", kWebDe)) == "NOTFOUND ");
    BOOST_TEST(show(c.query("transport", "web.de")) == "OK gmx-slow:");
}

BOOST_AUTO_TEST_CASE(many_status_connections) {
    Server s;
    std::vector<net::SocketmapClient> clients;
    for (int i = 0; i < 50; ++i) clients.emplace_back(s.ep);
    for (int round = 0; round < 20; ++round)
        for (auto& c : clients)
            BOOST_REQUIRE((c.query("status", round % 2 ? kWebDe : "2.0.0 250 2.0.0 Ok").status ==
                           SocketmapStatus::NotFound));
    net::SocketmapClient c(s.ep);
    BOOST_TEST(show(c.query("transport", "web.de")) == "OK gmx-slow:");  // one hold-down: one level
}

BOOST_AUTO_TEST_SUITE_END()
