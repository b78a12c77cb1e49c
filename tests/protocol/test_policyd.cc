// test_policyd.cc - the real sendguard-policyd binary: who may connect and
// query what, reloads, replaced store files, graceful stop
//
// Peers of other uids are real: the test (root) forks, the child switches to
// nobody and connects, and reports what it saw through a pipe. Tests that
// need that are skipped when not run as root.
#include <boost/test/unit_test.hpp>

#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sys/stat.h>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <optional>
#include <thread>
#include <vector>

#include "common/net/netstring.h"
#include "common/policy/request.h"
#include "common/net/socketmap_client.h"
#include "tests/support/net_wait.h"
#include "tests/support/paths.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

using namespace std::chrono_literals;
using net::SocketmapStatus;

namespace {

constexpr uid_t kNobody = 65534;
constexpr gid_t kNogroup = 65534;

// A policyd on a temp dir; extra is appended to its configuration.
struct Daemon {
    harness::TempDir dir{"sg-policyd-"};
    std::string conf = dir.sub("sendguard.conf");
    std::string sock = dir.sub("socketmap.sock");
    std::optional<harness::Process> proc;

    std::string base() const {
        return "state_directory = " + dir.path() + "/lib\nrun_directory = " + dir.path() +
               "\nlog_to_stderr = yes\n";
    }
    void write(const std::string& extra) const { harness::write_file(conf, base() + extra); }
    void start(const std::string& extra = "") {
        write(extra);
        proc.emplace(
            // The tests run it as root (policyd_user's default, sendguard,
            // need not exist here); reloads keep the override.
            harness::SpawnSpec{.argv = {harness::sendguard_bin("sendguard-policyd"), "-c", conf,
                                        "-o", "policyd_user=root"}});
        BOOST_REQUIRE_MESSAGE(harness::wait_for_unix(sock, 10s),
                              "policyd did not listen: " << proc->err());
    }
    net::Endpoint endpoint() const { return net::Endpoint{net::Endpoint::Kind::Unix, sock, {}, 0}; }
    std::string err() { return proc->err(); }
    bool logged(const std::string& what, std::chrono::milliseconds within = 10s) {
        return harness::wait_until([&] { return proc->err().find(what) != std::string::npos; },
                                   within);
    }
    void add(const std::string& address) const {
        auto r = harness::run(
            {harness::sendguard_bin("sendguard"), "-c", conf, "suppress", "add", address});
        BOOST_REQUIRE_MESSAGE(r.ok(), r.describe());
    }
};

// Runs fn in a child process as uid/gid (no supplementary groups); returns
// what fn returned.
std::string as_user(uid_t uid, gid_t gid, const std::function<std::string()>& fn) {
    int p[2];
    BOOST_REQUIRE(::pipe(p) == 0);
    const pid_t pid = ::fork();
    BOOST_REQUIRE(pid >= 0);
    if (pid == 0) {
        ::close(p[0]);
        std::string out;
        if (::setgroups(0, nullptr) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0) {
            out = "setuid failed";
        } else {
            try {
                out = fn();
            } catch (const std::exception& e) {
                out = std::string("exception: ") + e.what();
            }
        }
        (void)!::write(p[1], out.data(), out.size());
        ::_exit(0);
    }
    ::close(p[1]);
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(p[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
    ::close(p[0]);
    int st = 0;
    ::waitpid(pid, &st, 0);
    return out;
}

std::string as_nobody(const std::function<std::string()>& fn) { return as_user(kNobody, kNogroup, fn); }

// "OK ...", "NOTFOUND ", "closed" (the server hung up) or the error.
std::string try_query(const net::Endpoint& ep, const std::string& map, const std::string& key) {
    try {
        net::SocketmapClient c(ep, 3s);
        auto r = c.query(map, key);
        return std::string(net::status_name(r.status)) + " " + r.data;
    } catch (const std::exception& e) {
        return std::string("error: ") + e.what();
    }
}

// Policy delegation over the real socket, as smtpd talks it: one
// persistent connection, one request per round trip.
struct PolicyClient {
    sys::Fd fd;
    explicit PolicyClient(const std::string& path)
        : fd(net::connect_endpoint(net::Endpoint{net::Endpoint::Kind::Unix, path, {}, 0}, 5s)) {}
    // The action, or "closed" when the server hung up.
    std::string send_raw(const std::string& wire) {
        if (::send(fd.get(), wire.data(), wire.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(wire.size()))
            return "closed";
        std::string in;
        char buf[4096];
        for (;;) {
            auto r = policy::decode_reply(in, 65536);
            if (r.status == policy::DecodeStatus::Done) return std::string(r.action);
            if (r.status == policy::DecodeStatus::Error) return "bad reply: " + std::string(r.error);
            const ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);  // SO_RCVTIMEO 5s
            if (n <= 0) return "closed";
            in.append(buf, static_cast<size_t>(n));
        }
    }
    std::string ask(const std::vector<std::pair<std::string, std::string>>& attrs) {
        policy::Request r;
        for (const auto& [n, v] : attrs) r.add(n, v);
        return send_raw(policy::format_request(r));
    }
    std::string rcpt(const std::string& instance, const std::string& sasl, const std::string& rcpt) {
        return ask({{"request", "smtpd_access_policy"}, {"protocol_state", "RCPT"},
                    {"protocol_name", "ESMTP"}, {"client_address", "127.0.0.1"},
                    {"sender", "a@example.com"}, {"recipient", rcpt}, {"recipient_count", "0"},
                    {"queue_id", ""}, {"instance", instance}, {"sasl_username", sasl}});
    }
    std::string eom(const std::string& instance, const std::string& sasl) {
        return ask({{"request", "smtpd_access_policy"}, {"protocol_state", "END-OF-MESSAGE"},
                    {"protocol_name", "ESMTP"}, {"client_address", "127.0.0.1"},
                    {"sender", "a@example.com"}, {"recipient_count", "1"},
                    {"queue_id", "4F00D1234"}, {"instance", instance}, {"sasl_username", sasl}});
    }
    std::string message(const std::string& instance, const std::string& sasl, const std::string& rcpt) {
        const std::string a = this->rcpt(instance, sasl, rcpt);
        if (a != "DUNNO") return a;
        return eom(instance, sasl);
    }
};

// A policyd with a rate-rules file; MX lookups go to a closed local port
// (every domain is its own destination, at once).
struct PolicyDaemon : Daemon {
    std::string rules = dir.sub("rate-rules");
    std::string policy_sock = dir.sub("policy.sock");
    std::string settings(const std::string& extra = "") const {
        return "policyd_rate_rules = " + rules + "\ndns_servers = 127.0.0.1:9\n" + extra;
    }
    void start_policy(const std::string& extra = "") {
        start(settings(extra));
        BOOST_REQUIRE_MESSAGE(harness::wait_for_unix(policy_sock, 10s),
                              "no policy socket: " << err());
    }
    void stop() {
        ::kill(proc->pid(), SIGTERM);
        auto st = proc->wait_for(10000ms);
        BOOST_REQUIRE_MESSAGE(st.has_value(), "still running after SIGTERM: " << err());
        BOOST_TEST(st->ok(), st->str() << " " << err());
    }
};

bool starts_with(const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; }

bool root() {
    if (::geteuid() == 0) return true;
    BOOST_TEST_MESSAGE("not root: peers of other uids not tested");
    return false;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(policyd_daemon)

BOOST_AUTO_TEST_CASE(help_and_bad_options) {
    auto h = harness::run({harness::sendguard_bin("sendguard-policyd"), "-h"});
    BOOST_TEST(h.status.code == 0, h.describe());
    BOOST_TEST(h.out.find("usage: sendguard-policyd") != std::string::npos, h.out);
    auto help = harness::run({harness::sendguard_bin("sendguard-policyd"), "--help"});
    BOOST_TEST(help.status.code == 0, help.describe());
    auto bad = harness::run({harness::sendguard_bin("sendguard-policyd"), "-x"});
    BOOST_TEST(bad.status.code == 64, bad.describe());
    BOOST_TEST(bad.err.find("unknown option -x") != std::string::npos, bad.err);
}

// Defect: syslog_facility was never read, so "bogus" was accepted.
BOOST_AUTO_TEST_CASE(invalid_facility_is_a_config_error) {
    Daemon d;
    d.write("syslog_facility = bogus\n");
    auto r = harness::run({harness::sendguard_bin("sendguard-policyd"), "-c", d.conf});
    BOOST_TEST(r.status.code == 1, r.describe());
    BOOST_TEST(r.err.find(d.conf + ":4: invalid syslog_facility: bogus (expected one of") !=
                   std::string::npos,
               r.err);
}

// Defect 2a: by default only the owner and policyd_socket_group may
// connect; a local user outside it cannot even open a connection.
BOOST_AUTO_TEST_CASE(socket_admits_only_its_group) {
    if (!root()) return;
    Daemon d;
    d.start();
    struct stat st {};
    BOOST_REQUIRE(::stat(d.sock.c_str(), &st) == 0);
    BOOST_TEST((st.st_mode & 0777) == 0660u, "mode " << std::oct << (st.st_mode & 0777));
    struct group* pf = ::getgrnam("postfix");
    if (pf) BOOST_TEST(st.st_gid == pf->gr_gid, "group " << st.st_gid << ", want postfix");
    const std::string got =
        as_nobody([&] { return try_query(d.endpoint(), "suppress", "x@example.net"); });
    BOOST_TEST(got.find("Permission denied") != std::string::npos, "nobody got: " << got);
    BOOST_TEST(try_query(d.endpoint(), "suppress", "x@example.net") == "NOTFOUND ");
}

BOOST_AUTO_TEST_CASE(unknown_socket_group_is_a_config_error) {
    Daemon d;
    d.write("policyd_socket_group = no-such-group-sg\n");
    auto r = harness::run({harness::sendguard_bin("sendguard-policyd"), "-c", d.conf});
    BOOST_TEST(r.status.code == 1, r.describe());
    BOOST_TEST(
        r.err.find(d.conf + ":4: invalid policyd_socket_group: no-such-group-sg (no such group") !=
            std::string::npos,
        r.err);
}

// A listener that cannot open names the parameter and its line.
BOOST_AUTO_TEST_CASE(unusable_listen_address_names_the_parameter) {
    Daemon d;
    d.write("policyd_socketmap_listen = unix:" + d.dir.path() + "/no-such-dir/s.sock\n");
    // As root, with a user that exists everywhere (the default, sendguard,
    // need not exist here and would be refused first).
    auto r = harness::run({harness::sendguard_bin("sendguard-policyd"), "-c", d.conf, "-o",
                           "policyd_user=root"});
    BOOST_TEST(r.status.code == 1, r.describe());
    BOOST_TEST(r.err.find(d.conf + ":4: invalid policyd_socketmap_listen: unix:" + d.dir.path() +
                          "/no-such-dir/s.sock (listen ") != std::string::npos,
               r.err);
}

// Defect 2b: one uid holding max_connections_per_peer connections is
// refused more, with a warning naming it; other peers are still served.
BOOST_AUTO_TEST_CASE(per_uid_connection_limit) {
    if (!root()) return;
    Daemon d;
    d.start("policyd_socket_mode = 0666\npolicyd_max_connections_per_peer = 2\n");
    const std::string got = as_nobody([&] {
        net::SocketmapClient a(d.endpoint(), 3s), b(d.endpoint(), 3s);
        std::string out =
            std::string(net::status_name(a.query("suppress", "x@example.net").status)) + "," +
            std::string(net::status_name(b.query("suppress", "x@example.net").status));
        return out + "," + try_query(d.endpoint(), "suppress", "x@example.net");
    });
    BOOST_TEST(got.find("NOTFOUND,NOTFOUND,error: ") == 0u, "nobody's three connections: " << got);
    BOOST_TEST(d.logged("reason=too many connections from this peer, max_connections_per_peer=2"),
               d.err());
    BOOST_TEST(d.err().find("peer=unix uid=65534") != std::string::npos, d.err());
    BOOST_TEST(try_query(d.endpoint(), "suppress", "x@example.net") == "NOTFOUND ");
}

// Defect 2c: the record map (full diagnostics) answers only
// policyd_record_clients; others get PERM and a warning naming their uid.
BOOST_AUTO_TEST_CASE(record_map_only_for_record_clients) {
    if (!root()) return;
    Daemon d;
    d.write("");
    d.add("bob@example.net");
    d.start("policyd_socket_mode = 0666\n");
    const std::string got =
        as_nobody([&] { return try_query(d.endpoint(), "record", "bob@example.net"); });
    BOOST_TEST(got == "PERM access denied: not in policyd_record_clients", got);
    BOOST_TEST(as_nobody([&] {
                   return try_query(d.endpoint(), "suppress", "bob@example.net");
               }).find("OK ") == 0u);
    BOOST_TEST(d.logged("policyd: map=record, peer=unix uid=65534, action=refuse"), d.err());
    BOOST_TEST(try_query(d.endpoint(), "record", "bob@example.net").find("OK {") == 0u);

    // A reload that admits nobody takes effect for the next request.
    d.write("policyd_socket_mode = 0666\npolicyd_record_clients = root, nobody\n");
    ::kill(d.proc->pid(), SIGHUP);
    BOOST_TEST(d.logged("reload=ok"), d.err());
    const std::string now =
        as_nobody([&] { return try_query(d.endpoint(), "record", "bob@example.net"); });
    BOOST_TEST(now.find("OK {") == 0u, now);
}

// Defect 9: a reload with a changed state_directory said reload=ok and
// silently kept the old store. It is reported as needing a restart.
BOOST_AUTO_TEST_CASE(reload_reports_restart_only_parameters) {
    Daemon d;
    d.start("policyd_suppressed_reply = REJECT one\n");
    d.add("bob@example.net");
    harness::write_file(
        d.conf, "state_directory = " + d.dir.path() + "/other\nrun_directory = " + d.dir.path() +
                    "\nlog_to_stderr = yes\npolicyd_suppressed_reply = REJECT two\n");
    ::kill(d.proc->pid(), SIGHUP);
    BOOST_TEST(d.logged("reload=ok"), d.err());
    const std::string want = "warning: policyd: reload: state_directory changed from " +
                             d.dir.path() + "/lib to " + d.dir.path() +
                             "/other; restart sendguard-policyd to apply";
    BOOST_TEST(d.err().find(want) != std::string::npos, d.err());
    // What can change did; the store is still the old one.
    BOOST_TEST(try_query(d.endpoint(), "suppress", "bob@example.net") == "OK REJECT two");

    // Still pending at the next reload: reported again until the restart.
    ::kill(d.proc->pid(), SIGHUP);
    BOOST_TEST(harness::wait_until(
                   [&] {
                       const std::string e = d.err();
                       return e.find(want) != e.rfind(want) &&
                              e.find("restart_needed=1") != e.rfind("restart_needed=1");
                   },
                   10s),
               d.err());

    // A bad file keeps everything as it was, naming file and line.
    harness::write_file(d.conf, d.base() + "policyd_request_timeout = 1h\n");
    ::kill(d.proc->pid(), SIGHUP);
    BOOST_TEST(d.logged("reload=failed, error=" + d.conf + ":4: invalid policyd_request_timeout"),
               d.err());
    BOOST_TEST(try_query(d.endpoint(), "suppress", "bob@example.net") == "OK REJECT two");
}

// policyd_request_timeout reaches the server: a request left unfinished is
// cut off after it, well before the idle time-out.
BOOST_AUTO_TEST_CASE(unfinished_request_is_cut_off) {
    Daemon d;
    d.start("policyd_request_timeout = 1s\n");
    sys::Fd fd = net::connect_endpoint(d.endpoint(), 5s);
    BOOST_REQUIRE(::send(fd.get(), "30:suppress", 11, MSG_NOSIGNAL) == 11);
    char buf[64];
    const auto start = std::chrono::steady_clock::now();
    const ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);  // SO_RCVTIMEO 5s
    const auto took = std::chrono::steady_clock::now() - start;
    BOOST_TEST(n == 0, "recv returned " << n);
    BOOST_TEST(
        (took < 4s), "closed after "
                         << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                         << "ms");
    BOOST_TEST(d.logged("reason=request not complete in time, request_timeout_ms=1000"), d.err());
}

// The log settings change with a reload: ident and facility. A reload
// line is a plain line: no NOQUEUE (Postfix writes that for messages only).
BOOST_AUTO_TEST_CASE(reload_reopens_the_log) {
    Daemon d;
    d.start();
    d.write("syslog_name = mx1\nsyslog_facility = local3\n");
    ::kill(d.proc->pid(), SIGHUP);
    BOOST_TEST(d.logged("mx1/policyd: policyd: reload=ok, restart_needed=0"), d.err());
}

// Defect 8: deleting lock.mdb while the daemon runs left it reading a
// snapshot nobody wrote any more. It notices, says so and reopens.
BOOST_AUTO_TEST_CASE(replaced_lock_file_reopens_the_store) {
    Daemon d;
    d.start();
    BOOST_TEST(try_query(d.endpoint(), "suppress", "bob@example.net") == "NOTFOUND ");
    const std::string lock = d.dir.path() + "/lib/suppress.lmdb/lock.mdb";
    BOOST_REQUIRE_MESSAGE(std::filesystem::exists(lock), lock);
    std::filesystem::remove(lock);
    d.add("bob@example.net");  // a new writer makes a new lock file
    BOOST_TEST(d.logged("lock.mdb was removed or replaced since it was opened, action=reopen", 15s),
               d.err());
    BOOST_TEST(d.logged("action=reopened"), d.err());
    BOOST_TEST(harness::wait_until(
        [&] { return try_query(d.endpoint(), "suppress", "bob@example.net").find("OK ") == 0; },
        5s));
}

// SIGTERM: stop accepting, finish the request in progress, exit 0.
BOOST_AUTO_TEST_CASE(sigterm_finishes_the_request_in_progress) {
    Daemon d;
    d.start();
    sys::Fd idle = net::connect_endpoint(d.endpoint());
    sys::Fd busy = net::connect_endpoint(d.endpoint());
    const std::string req = net::encode_netstring("suppress bob@example.net");
    BOOST_REQUIRE(::send(busy.get(), req.data(), 6, MSG_NOSIGNAL) == 6);
    std::this_thread::sleep_for(200ms);  // let the daemon read the first bytes
    ::kill(d.proc->pid(), SIGTERM);
    BOOST_TEST(d.logged("stop=draining"), d.err());
    BOOST_TEST(harness::wait_until([&] { return !std::filesystem::exists(d.sock); }, 5s),
               "socket file still there");
    BOOST_REQUIRE(::send(busy.get(), req.data() + 6, req.size() - 6, MSG_NOSIGNAL) ==
                  static_cast<ssize_t>(req.size() - 6));
    char buf[256];
    const ssize_t n = ::recv(busy.get(), buf, sizeof buf, 0);
    BOOST_TEST(std::string(buf, n > 0 ? static_cast<size_t>(n) : 0) ==
               net::encode_netstring("NOTFOUND "));
    auto st = d.proc->wait_for(5000ms);
    BOOST_REQUIRE_MESSAGE(st.has_value(), "still running after SIGTERM: " << d.err());
    BOOST_TEST(st->ok(), st->str() << " " << d.err());
}

// The policy service: DUNNO within a rule's burst, the N+1th gets the
// DEFER_IF_PERMIT text naming the rule, the limit, the key and the wait;
// another customer is not limited; a restart keeps the buckets.
BOOST_AUTO_TEST_CASE(policy_service_limits_and_keeps_state_across_restart) {
    PolicyDaemon d;
    harness::write_file(d.rules, "# customers\nlogin key=sasl_username 3/h burst 3\n");
    d.start_policy();
    {
        PolicyClient c(d.policy_sock);
        for (int i = 0; i < 3; ++i)
            BOOST_TEST(c.message("m" + std::to_string(i), "alice", "bob@example.net") == "DUNNO");
        const std::string over = c.rcpt("m3", "alice", "bob@example.net");
        BOOST_TEST(starts_with(over, "DEFER_IF_PERMIT 4.7.1 rule login: 3/h for alice "
                                     "reached; try again in "),
                   over);
        BOOST_TEST(c.message("b0", "bob", "carol@example.net") == "DUNNO");
        // A transaction that has not reached END-OF-MESSAGE holds its unit:
        // a parallel one may not take it too.
        BOOST_TEST(c.rcpt("b1", "bob", "carol@example.net") == "DUNNO");
        BOOST_TEST(c.message("b2", "bob", "carol@example.net") == "DUNNO");
        BOOST_TEST(starts_with(c.rcpt("b3", "bob", "carol@example.net"), "DEFER_IF_PERMIT 4.7.1"));
    }
    BOOST_TEST(d.logged("limit=reached, rule=login, key=alice"), d.err());
    BOOST_TEST(d.logged("event=limit, rule=login, key=alice"), d.err());
    d.stop();
    // What was flushed is what `sendguard status` shows.
    auto st = harness::run({harness::sendguard_bin("sendguard"), "-c", d.conf, "status", "--json"});
    BOOST_TEST(st.ok(), st.describe());
    BOOST_TEST(st.out.find("\"rule\":\"login\",\"key\":\"alice\",\"windows\":[{\"period_s\":3600,"
                           "\"period\":\"1h\",\"limit\":3,\"used\":3,\"used_stored\":3}],\"refused\":1,") != std::string::npos,
               st.out);
    // b1 never reached END-OF-MESSAGE: it consumed nothing.
    BOOST_TEST(st.out.find("\"key\":\"bob\",\"windows\":[{\"period_s\":3600,\"period\":\"1h\",\"limit\":3,"
                           "\"used\":2,\"used_stored\":2}],\"refused\":1,") != std::string::npos,
               st.out);

    d.start_policy();
    BOOST_TEST(d.logged("state=loaded"), d.err());
    PolicyClient c(d.policy_sock);
    BOOST_TEST(starts_with(c.rcpt("n0", "alice", "bob@example.net"), "DEFER_IF_PERMIT 4.7.1 rule login"));
    // b1's reservation does not outlive the daemon: bob has one message left.
    BOOST_TEST(c.message("n1", "bob", "carol@example.net") == "DUNNO");
    BOOST_TEST(starts_with(c.rcpt("n1b", "bob", "carol@example.net"), "DEFER_IF_PERMIT 4.7.1 rule login"));
    BOOST_TEST(c.message("n2", "dave", "carol@example.net") == "DUNNO");
}

// Malformed input closes that connection only; the others go on.
BOOST_AUTO_TEST_CASE(policy_malformed_request_closes_only_that_connection) {
    PolicyDaemon d;
    harness::write_file(d.rules, "");
    d.start_policy();
    PolicyClient good(d.policy_sock), bad(d.policy_sock), huge(d.policy_sock);
    BOOST_TEST(good.rcpt("g0", "alice", "bob@example.net") == "DUNNO");
    BOOST_TEST(bad.send_raw("request=smtpd_access_policy\nthis line has no equals sign\n\n") == "closed");
    BOOST_TEST(huge.send_raw("request=" + std::string(100000, 'x') + "\n\n") == "closed");
    BOOST_TEST(good.rcpt("g1", "alice", "bob@example.net") == "DUNNO");
    BOOST_TEST(d.logged("line without '='"), d.err());
}

// The policy decoder's limits and error action are fixed at start: a reload
// that changes them says, once per reload and parameter, that they need a
// restart, and the running limits stay (a line the new limit would refuse
// is still answered).
BOOST_AUTO_TEST_CASE(policy_reload_reports_restart_only_request_limits) {
    PolicyDaemon d;
    harness::write_file(d.rules, "");
    d.start_policy("policyd_policy_max_line = 2k\n");
    d.write(d.settings("policyd_policy_max_line = 512\npolicyd_policy_max_attributes = 50\n"
                       "policyd_policy_error_action = DEFER_IF_PERMIT busy\n"));
    ::kill(d.proc->pid(), SIGHUP);
    BOOST_TEST(d.logged("reload=ok"), d.err());
    const std::string e = d.err();
    for (const std::string want :
         {"warning: policyd: reload: policyd_policy_max_line changed from 2048 to 512; restart "
          "sendguard-policyd to apply",
          "warning: policyd: reload: policyd_policy_max_attributes changed from 100 to 50; restart "
          "sendguard-policyd to apply",
          "warning: policyd: reload: policyd_policy_error_action changed from DUNNO to DEFER_IF_PERMIT "
          "busy; restart sendguard-policyd to apply"}) {
        BOOST_TEST(e.find(want) != std::string::npos, want << "\n" << e);
        BOOST_TEST(e.find(want) == e.rfind(want), want << "\n" << e);
    }
    PolicyClient c(d.policy_sock);
    BOOST_TEST(c.ask({{"request", "smtpd_access_policy"}, {"protocol_state", "RCPT"},
                      {"recipient", "bob@example.net"}, {"ccert_subject", std::string(1000, 'x')}}) == "DUNNO");
}

// A bad rules file: at start a fatal error naming file:line; at a reload
// reload=failed naming it, and the running rules stay.
BOOST_AUTO_TEST_CASE(policy_bad_rules_file_names_file_and_line) {
    PolicyDaemon d;
    harness::write_file(d.rules, "ok 1/h\nbroken key=nonsense 1/h\n");
    d.write(d.settings());
    auto r = harness::run({harness::sendguard_bin("sendguard-policyd"), "-c", d.conf, "-o",
                           "policyd_user=root"});
    BOOST_TEST(r.status.code == 1, r.describe());
    BOOST_TEST(r.err.find(d.rules + ":2:") != std::string::npos, r.err);

    harness::write_file(d.rules, "all 1/h\n");
    d.start_policy();
    PolicyClient c(d.policy_sock);
    BOOST_TEST(c.message("m0", "", "bob@example.net") == "DUNNO");
    harness::write_file(d.rules, "all 100/h burst 100\nbroken count=sometimes 1/h\n");
    ::kill(d.proc->pid(), SIGHUP);
    BOOST_TEST(d.logged("reload=failed, error=" + d.rules + ":2:"), d.err());
    BOOST_TEST(starts_with(c.rcpt("m1", "", "bob@example.net"), "DEFER_IF_PERMIT 4.7.1 rule all: 1/h"));
    // A good file applies at the next reload.
    harness::write_file(d.rules, "all 100/h burst 100\n");
    ::kill(d.proc->pid(), SIGHUP);
    BOOST_TEST(d.logged("reload=ok"), d.err());
    BOOST_TEST(c.rcpt("m2", "", "bob@example.net") == "DUNNO");
}

// policyd_limit_notify: the first refusal of a key in a window mails one
// notice through policyd_notify_command; later refusals do not.
BOOST_AUTO_TEST_CASE(policy_first_refusal_mails_one_notice) {
    PolicyDaemon d;
    harness::write_file(d.rules, "login key=sasl_username 1/h\n");
    const std::string script = d.dir.sub("fake-sendmail");
    const std::string out = d.dir.sub("notices");
    std::filesystem::create_directory(out);
    harness::write_file(script, "#!/bin/sh\n{ echo \"ARGS: $*\"; cat; } > " + out + "/n.$$\n");
    ::chmod(script.c_str(), 0755);
    d.start_policy("policyd_limit_notify = admin@example.com\npolicyd_notify_command = " + script + "\n");
    PolicyClient c(d.policy_sock);
    BOOST_TEST(c.message("m0", "alice", "bob@example.net") == "DUNNO");
    for (int i = 1; i < 4; ++i)
        BOOST_TEST(starts_with(c.rcpt("m" + std::to_string(i), "alice", "bob@example.net"), "DEFER_IF_PERMIT"));
    const auto files = [&] {
        std::vector<std::string> v;
        for (const auto& e : std::filesystem::directory_iterator(out)) v.push_back(e.path());
        return v;
    };
    BOOST_TEST_REQUIRE(harness::wait_until([&] { return !files().empty(); }, 5s), d.err());
    std::this_thread::sleep_for(1500ms);  // another flush: no second notice
    BOOST_TEST_REQUIRE(files().size() == 1u);
    const std::string text = harness::file_text(files()[0]);
    BOOST_TEST(text.find("ARGS: -i -f  -- admin@example.com\n") == 0u, text);
    BOOST_TEST(text.find("\nTo: <admin@example.com>\n") != std::string::npos, text);
    BOOST_TEST(text.find("\nSubject: sendguard: rule login reached for alice\n") != std::string::npos, text);
    BOOST_TEST(text.find("login:          alice") != std::string::npos, text);
    BOOST_TEST(d.logged("notice=sent, to=admin@example.com"), d.err());
}

BOOST_AUTO_TEST_CASE(policy_count_at_must_be_known) {
    PolicyDaemon d;
    d.write("policyd_count_at = sometimes\n");
    auto r = harness::run({harness::sendguard_bin("sendguard-policyd"), "-c", d.conf, "-o",
                           "policyd_user=root"});
    BOOST_TEST(r.status.code == 1, r.describe());
    BOOST_TEST(r.err.find(d.conf + ":4: invalid policyd_count_at: sometimes (write end-of-message or rcpt)") !=
                   std::string::npos,
               r.err);
}

// The learner's maps on the socketmap socket: the status filter always
// answers NOTFOUND; transport answers NOTFOUND for a provider not in backoff.
BOOST_AUTO_TEST_CASE(learn_maps_are_served_beside_suppress) {
    PolicyDaemon d;
    harness::write_file(d.rules, "");
    d.start_policy();
    BOOST_TEST(try_query(d.endpoint(), "status",
                         "4.7.1 host mx01.gmx.net[212.227.15.9] said: 421 4.7.0 Rate limit reached "
                         "(in reply to RCPT TO command)") == "NOTFOUND ");
    BOOST_TEST(try_query(d.endpoint(), "transport", "example.net") == "NOTFOUND ");
    BOOST_TEST(try_query(d.endpoint(), "suppress", "x@example.net") == "NOTFOUND ");
}

// The learner's maps change how mail leaves: a member of the socket group
// who is not the Postfix user must not feed them fake delivery results.
// Refused: PERM, a warning naming the uid, and nothing learned; postfix
// (policyd_learn_clients' default) and root are served.
BOOST_AUTO_TEST_CASE(learn_maps_only_for_learn_clients) {
    if (!root()) return;
    const struct passwd* pf = ::getpwnam("postfix");
    BOOST_REQUIRE_MESSAGE(pf, "no postfix user");
    PolicyDaemon d;
    harness::write_file(d.rules, "");
    d.start_policy("policyd_socket_mode = 0666\n");
    const std::string key =
        "4.7.1 host mx01.gmx.net[212.227.15.9] said: 421 4.7.0 Rate limit reached "
        "(in reply to RCPT TO command)";
    for (const char* m : {"status", "status-gmx", "transport"}) {
        const std::string map = m;
        const std::string got = as_nobody(
            [&] { return try_query(d.endpoint(), map, map == "transport" ? "gmx.net" : key); });
        BOOST_TEST(got == "PERM access denied: not in policyd_learn_clients", map << ": " << got);
    }
    BOOST_TEST(d.logged("policyd: map=status, peer=unix uid=65534, action=refuse, "
                        "reason=peer not in policyd_learn_clients, suppressed=0"),
               d.err());
    BOOST_TEST(!d.logged("provider=gmx", 500ms), "nobody's status key was learned: " << d.err());
    const std::string got = as_user(pf->pw_uid, pf->pw_gid, [&] {
        return try_query(d.endpoint(), "status", key);
    });
    BOOST_TEST(got == "NOTFOUND ", "postfix got: " << got);
    BOOST_TEST(d.logged("provider=gmx"), "postfix's status key was not learned: " << d.err());
    BOOST_TEST(try_query(d.endpoint(), "transport", "example.net") == "NOTFOUND ");
}

// A local user who can reach the policy socket must not spend a customer's
// quota: requests from peers outside policyd_policy_clients are answered
// policyd_policy_error_action and count nowhere.
BOOST_AUTO_TEST_CASE(policy_requests_only_from_policy_clients) {
    if (!root()) return;
    PolicyDaemon d;
    harness::write_file(d.rules, "login key=sasl_username 1/h\n");
    d.start_policy("policyd_socket_mode = 0666\npolicyd_count_at = rcpt\n");
    const std::string got = as_nobody([&] {
        PolicyClient c(d.policy_sock);
        return c.rcpt("x0", "alice", "bob@example.net") + "|" + c.rcpt("x1", "alice", "bob@example.net");
    });
    BOOST_TEST(got == "DUNNO|DUNNO", "nobody got: " << got);
    BOOST_TEST(d.logged("policyd: service=policy, peer=unix uid=65534, action=refuse, "
                        "reason=peer not in policyd_policy_clients"),
               d.err());
    PolicyClient c(d.policy_sock);
    BOOST_TEST(c.rcpt("m0", "alice", "bob@example.net") == "DUNNO");
    BOOST_TEST(starts_with(c.rcpt("m1", "alice", "bob@example.net"), "DEFER_IF_PERMIT 4.7.1 rule login"));
}

// Two daemons on one state_directory would overwrite each other's throttle
// rows (and the second would take over the first's sockets): the second
// refuses to start, naming the lock and the first one's pid.
BOOST_AUTO_TEST_CASE(second_daemon_on_one_state_directory_is_refused) {
    Daemon d;
    d.start();
    const std::string lib = d.dir.path() + "/lib";
    const std::string other = d.dir.sub("run2");
    std::filesystem::create_directory(other);
    auto r = harness::run({harness::sendguard_bin("sendguard-policyd"), "-c", d.conf, "-o",
                           "policyd_user=root", "-o", "run_directory=" + other},
                          10000ms);
    BOOST_TEST(r.status.code == 1, r.describe());
    BOOST_TEST(r.err.find(d.conf + ":1: invalid state_directory: " + lib +
                          " (in use by another sendguard-policyd: " + lib +
                          "/sendguard-policyd.lock is locked by process " +
                          std::to_string(d.proc->pid()) + "; stop that one") != std::string::npos,
               r.err);
    BOOST_TEST(!std::filesystem::exists(other + "/socketmap.sock"), "the second one listened");
    BOOST_TEST(try_query(d.endpoint(), "suppress", "x@example.net") == "NOTFOUND ");
}

// A rules file only root can read works at start (as root) and would fail
// every reload (as policyd_user): refused at start, with the fix.
BOOST_AUTO_TEST_CASE(file_policyd_user_cannot_read_is_fatal_at_start) {
    if (!root()) return;
    PolicyDaemon d;
    ::chmod(d.dir.path().c_str(), 0755);
    harness::write_file(d.rules, "login key=sasl_username 1/h\n");
    ::chmod(d.rules.c_str(), 0600);
    d.write(d.settings());
    auto r = harness::run({harness::sendguard_bin("sendguard-policyd"), "-c", d.conf, "-o",
                           "policyd_user=nobody"},
                          10000ms);
    BOOST_TEST(r.status.code == 1, r.describe());
    BOOST_TEST(r.err.find(": invalid policyd_rate_rules: " + d.rules +
                          " (cannot open: Permission denied; sendguard-policyd reads it again at "
                          "every reload as user nobody (uid 65534): chgrp nogroup " + d.rules +
                          " && chmod g+r " + d.rules) != std::string::npos,
               r.err);
}

// A missing file names its parameter (and the config file:line), at start
// and at a reload.
// A rule whose provider= names no provider row would never apply: the
// daemon refuses to start with it, naming the rule's file:line.
BOOST_AUTO_TEST_CASE(rule_naming_an_unknown_provider_is_fatal_at_start) {
    PolicyDaemon d;
    harness::write_file(d.rules, "# rules\ngoogle-ok provider=google key=provider 100/h\n"
                                 "typo provider=gogle key=provider 100/h\n");
    d.write(d.settings(""));
    auto r = harness::run({harness::sendguard_bin("sendguard-policyd"), "-c", d.conf, "-o",
                           "policyd_user=root"},
                          10000ms);
    BOOST_TEST(r.status.code == 1, r.describe());
    BOOST_TEST(r.err.find(d.rules + ":3: rule \"typo\": provider=: unknown provider \"gogle\"") !=
                   std::string::npos,
               r.err);
}

BOOST_AUTO_TEST_CASE(missing_file_names_its_parameter) {
    PolicyDaemon d;
    harness::write_file(d.rules, "");
    d.write(d.settings("policyd_provider_table = /nonexistent/providers\n"));
    auto r = harness::run({harness::sendguard_bin("sendguard-policyd"), "-c", d.conf, "-o",
                           "policyd_user=root"},
                          10000ms);
    BOOST_TEST(r.status.code == 1, r.describe());
    BOOST_TEST(r.err.find("fatal: " + d.conf + ":6: invalid policyd_provider_table: "
                          "/nonexistent/providers (cannot open: No such file or directory; "
                          "create it or correct the parameter)") != std::string::npos,
               r.err);
    d.start_policy();
    std::filesystem::remove(d.rules);
    ::kill(d.proc->pid(), SIGHUP);
    BOOST_TEST(d.logged("reload=failed, error=" + d.conf + ":4: invalid policyd_rate_rules: " +
                        d.rules + " (cannot open: No such file or directory"),
               d.err());
}

BOOST_AUTO_TEST_SUITE_END()
