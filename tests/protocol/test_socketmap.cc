// test_socketmap.cc - the suppression socketmap over real sockets
//
// First the map logic behind an in-process StreamServer on a Unix socket,
// then the real sendguard-policyd binary: start, answer, reload, stop.
#include <boost/test/unit_test.hpp>

#include <signal.h>

#include <thread>

#include "policyd/settings.h"
#include "policyd/socketmap_service.h"
#include "common/log/log.h"
#include "common/net/listener.h"
#include "common/net/socketmap_client.h"
#include "common/net/stream_server.h"
#include "tests/support/net_wait.h"
#include "tests/support/paths.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

using namespace std::chrono_literals;
using net::SocketmapStatus;

namespace {

constexpr int64_t kNow = 1795000000;

store::Record suppressed(store::Class c, int64_t expiry = 0) {
    store::Record r;
    r.klass = c;
    r.suppressed = true;
    r.reason = "userunknown";
    r.status = "5.1.1";
    r.first_seen = r.last_seen = kNow - 10;
    r.count = 1;
    r.expiry = expiry;
    return r;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(socketmap_protocol)

BOOST_AUTO_TEST_CASE(suppress_map_semantics_over_a_socket) {
    logging::open("test", logging::Sink::None);
    harness::TempDir dir("sg-policyd-");
    auto env = store::Env::open(dir.sub("lmdb"), {.map_size = size_t{1} << 20, .max_readers = 126});
    {
        store::SuppressionList l(env);
        l.add("bob@example.net", suppressed(store::Class::Hard));
        l.add("old@example.net", suppressed(store::Class::Soft, kNow - 1));
        l.add("@dead.example", suppressed(store::Class::Hard));
    }
    // The daemon's own settings, from the table's defaults.
    const auto settings = policyd::Settings::from(config::Config::parse("policyd_user = root\n", "t.conf"));
    policyd::MapSettings ms = settings.maps;
    ms.suppressed_reply = "REJECT 5.1.1 suppressed";
    policyd::SuppressionMaps maps(env, ms, [] { return kNow; });
    net::EventLoop loop;
    net::StreamServer server(loop, "socketmap",
        net::socketmap_factory([&](const net::Peer& p, std::string_view n, std::string_view k) {
            return maps.lookup(p, n, k);
        }, settings.socketmap),
        settings.limits);
    net::Endpoint ep;
    ep.path = dir.sub("socketmap.sock");
    server.add_listener(net::Listener::open(ep, {.unix_mode = 0600, .unix_group = static_cast<gid_t>(-1)}));
    std::thread t([&] { loop.run(); });

    struct { std::string name, key; SocketmapStatus want; std::string data; } cases[] = {
        {"suppress", "bob@example.net", SocketmapStatus::Ok, "REJECT 5.1.1 suppressed"},
        {"suppress", "BOB@Example.NET", SocketmapStatus::Ok, "REJECT 5.1.1 suppressed"},
        {"suppress", "alice@example.net", SocketmapStatus::NotFound, ""},
        {"suppress", "old@example.net", SocketmapStatus::NotFound, ""},  // expired
        {"suppress", "anyone@dead.example", SocketmapStatus::Ok, "REJECT 5.1.1 suppressed"},
        {"suppress", "dead.example", SocketmapStatus::NotFound, ""},  // see socketmap_service.h
        {"suppress", "anyone@sub.dead.example", SocketmapStatus::NotFound, ""},
        {"suppress", "example.net", SocketmapStatus::NotFound, ""},
        {"suppress", "bob@", SocketmapStatus::NotFound, ""},
        {"suppress", ".dead.example", SocketmapStatus::NotFound, ""},
        {"nosuchmap", "bob@example.net", SocketmapStatus::Perm, "unknown map name; use suppress or record"},
    };
    net::SocketmapClient c(ep);
    for (auto& cs : cases) {
        auto r = c.query(cs.name, cs.key);
        BOOST_TEST((r.status == cs.want), cs.name << " " << cs.key << ": got "
                   << net::status_name(r.status) << " " << r.data << ", want " << net::status_name(cs.want));
        BOOST_TEST(r.data == cs.data, cs.key << ": got " << r.data << ", want " << cs.data);
    }
    auto rec = c.query("record", "bob@example.net");
    BOOST_TEST((rec.status == SocketmapStatus::Ok));
    BOOST_TEST(rec.data.find("\"class\":\"hard\"") != std::string::npos, rec.data);
    auto drec = c.query("record", "Dead.EXAMPLE");
    BOOST_TEST((drec.status == SocketmapStatus::Ok), drec.data);
    loop.stop();
    t.join();
}

BOOST_AUTO_TEST_CASE(real_daemon_serves_reloads_and_stops) {
    harness::TempDir dir("sg-policyd-bin-");
    std::string conf = dir.sub("sendguard.conf");
    harness::write_file(conf, "state_directory = " + dir.path() + "/lib\nrun_directory = " + dir.path() +
                                  "\npolicyd_suppressed_reply = REJECT first\nlog_to_stderr = yes\npolicyd_user = root\n");
    auto add = harness::run({harness::sendguard_bin("sendguard"), "-c", conf, "suppress", "add", "bob@example.net"});
    BOOST_REQUIRE_MESSAGE(add.ok(), add.describe());

    harness::Process policyd({.argv = {harness::sendguard_bin("sendguard-policyd"), "-c", conf}});
    BOOST_REQUIRE_MESSAGE(harness::wait_for_unix(dir.sub("socketmap.sock"), 10s), "policyd did not listen: " << policyd.err());
    net::Endpoint ep;
    ep.path = dir.sub("socketmap.sock");
    net::SocketmapClient c(ep);
    auto r = c.query("suppress", "bob@example.net");
    BOOST_TEST(r.data == "REJECT first");

    // A reload picks up the new reply; a broken file keeps the old config.
    harness::write_file(conf, "state_directory = " + dir.path() + "/lib\nrun_directory = " + dir.path() +
                                  "\npolicyd_suppressed_reply = REJECT second\nlog_to_stderr = yes\npolicyd_user = root\n");
    ::kill(policyd.pid(), SIGHUP);
    BOOST_TEST(harness::wait_until([&] { return c.query("suppress", "bob@example.net").data == "REJECT second"; }, 5s));
    harness::write_file(conf, "no_such_parameter = 1\n");
    ::kill(policyd.pid(), SIGHUP);
    BOOST_TEST(harness::wait_until([&] { return policyd.err().find("reload=failed") != std::string::npos; }, 5s),
               policyd.err());
    BOOST_TEST(c.query("suppress", "bob@example.net").data == "REJECT second");

    // A bad netstring gets an error reply, not a crash.
    auto fd = net::connect_endpoint(ep);
    std::string junk = "99999999999:junk,";
    BOOST_REQUIRE(::write(fd.get(), junk.data(), junk.size()) == static_cast<ssize_t>(junk.size()));
    char buf[256];
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    BOOST_TEST(n > 0);
    BOOST_TEST(std::string(buf, n > 0 ? n : 0).find("PERM") != std::string::npos);
    BOOST_TEST(policyd.running());

    auto st = policyd.stop(10000ms);
    BOOST_TEST(st.ok(), st.str() << " " << policyd.err());
}

BOOST_AUTO_TEST_CASE(daemon_drops_root_after_opening_sockets) {
    if (::geteuid() != 0) {
        BOOST_TEST_MESSAGE("not root: privilege drop not tested");
        return;
    }
    harness::TempDir dir("sg-policyd-user-");
    std::string conf = dir.sub("sendguard.conf");
    harness::write_file(conf, "state_directory = " + dir.path() + "/lib\nrun_directory = " + dir.path() +
                                  "\npolicyd_user = nobody\nlog_to_stderr = yes\n");
    harness::Process policyd({.argv = {harness::sendguard_bin("sendguard-policyd"), "-c", conf}});
    BOOST_REQUIRE_MESSAGE(harness::wait_for_unix(dir.sub("socketmap.sock"), 10s), "policyd: " << policyd.err());
    net::Endpoint ep;
    ep.path = dir.sub("socketmap.sock");
    // Still answers from the store it opened as root.
    BOOST_TEST((net::SocketmapClient(ep).query("suppress", "x@example.net").status == SocketmapStatus::NotFound));
    std::string status = harness::file_text("/proc/" + std::to_string(policyd.pid()) + "/status");
    auto uid_line = status.substr(status.find("Uid:"), status.find('\n', status.find("Uid:")) - status.find("Uid:"));
    BOOST_TEST(uid_line.find("\t0\t") == std::string::npos, "still root: " << uid_line);
    policyd.stop(10000ms);

    harness::write_file(conf, "state_directory = " + dir.path() + "/lib\npolicyd_user = no-such-user-sg\n"
                              "run_directory = " + dir.path() + "\n");
    auto bad = harness::run({harness::sendguard_bin("sendguard-policyd"), "-c", conf});
    BOOST_TEST(bad.status.code == 1, bad.describe());
    BOOST_TEST(bad.err.find("unknown user no-such-user-sg") != std::string::npos, bad.err);
}

BOOST_AUTO_TEST_SUITE_END()
