// test_daemon.cc - the daemon skeleton: options, log settings, restart-only
// changes; policyd::Settings against the parameter table
#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <functional>

#include <string>
#include <vector>

#include "common/config/value.h"
#include "common/daemon/daemon.h"
#include "common/daemon/log_setup.h"
#include "common/daemon/users.h"
#include "common/log/log.h"
#include "tests/support/temp_dir.h"
#include "policyd/settings.h"

namespace {

daemons::ParsedOptions parse(std::vector<std::string> args) {
    args.insert(args.begin(), "sendguard-policyd");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    return daemons::parse_options(static_cast<int>(args.size()), argv.data());
}

std::string describe(const daemons::ParsedOptions& p) {
    if (!p.options) return "exit " + std::to_string(p.exit_status) + " " + p.error;
    const auto& o = *p.options;
    std::string s = "c=" + o.config_path + " v=" + std::to_string(o.verbose) +
                    " f=" + (o.foreground ? "1" : "0");
    for (const auto& ov : o.overrides) s += " o=" + ov;
    return s;
}

const std::string& table_default(std::string_view name) {
    static std::string s;
    s = std::string(config::find_param(name)->default_value);
    return s;
}

// What fn writes to standard error (through a file in dir); the log is
// reset to the capture sink afterwards.
std::string stderr_of(const harness::TempDir& dir, const std::function<void()>& fn) {
    const std::string errfile = dir.sub("stderr");
    const int saved = ::dup(2);
    const int fd = ::open(errfile.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(fd, 2);
    ::close(fd);
    fn();
    ::dup2(saved, 2);
    ::close(saved);
    logging::open("test", logging::Sink::None);
    return harness::file_text(errfile);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(daemon_skeleton)

BOOST_AUTO_TEST_CASE(options_table) {
    struct Case {
        std::vector<std::string> args;
        std::string want;
    } cases[] = {
        {{}, "c= v=0 f=0"},
        {{"-c", "/etc/x.conf"}, "c=/etc/x.conf v=0 f=0"},
        {{"-v", "-v", "-f"}, "c= v=2 f=1"},
        {{"-vv"}, "c= v=2 f=0"},
        {{"-o", "syslog_name=a", "-O", "policyd_user=b"},
         "c= v=0 f=0 o=syslog_name=a o=policyd_user=b"},
        {{"-h"}, "exit 0 "},
        {{"--help"}, "exit 0 "},
        {{"-x"}, "exit 64 unknown option -x"},
        {{"--bogus"}, "exit 64 unknown option --bogus"},
        {{"-c"}, "exit 64 option -c needs an argument"},
        {{"-o", "novalue"}, "exit 64 -o novalue: expected name=value"},
        {{"extra"}, "exit 64 unexpected argument extra"},
    };
    for (const auto& c : cases) {
        const std::string got = describe(parse(c.args));
        std::string shown;
        for (const auto& a : c.args) shown += a + " ";
        BOOST_TEST(got == c.want,
                   "[" << shown << "]: got \"" << got << "\", want \"" << c.want << "\"");
    }
}

BOOST_AUTO_TEST_CASE(log_settings_ident_and_facility) {
    auto s = daemons::LogSettings::from(config::Config::defaults(), "policyd");
    BOOST_TEST(s.ident == "sendguard/policyd");
    BOOST_TEST(s.facility == LOG_MAIL);
    BOOST_TEST(!s.to_stderr);
    auto t = daemons::LogSettings::from(
        config::Config::parse("syslog_name = mx1\nsyslog_facility = local3\n", "t.conf"), "milter");
    BOOST_TEST(t.ident == "mx1/milter");
    BOOST_TEST(t.facility == LOG_LOCAL3);
    try {
        daemons::LogSettings::from(config::Config::parse("\nsyslog_facility = bogus\n", "t.conf"),
                                   "policyd");
        BOOST_ERROR("bogus facility accepted");
    } catch (const config::Error& e) {
        const std::string want =
            "t.conf:2: invalid syslog_facility: bogus (expected one of auth, authpriv";
        BOOST_TEST(std::string(e.what()).find(want) == 0u, "got " << e.what());
    }
}

BOOST_AUTO_TEST_CASE(log_settings_target) {
    auto s = daemons::LogSettings::defaults("bounce");
    BOOST_TEST(s.ident == "sendguard/bounce");
    BOOST_TEST((s.target == logging::Target{logging::Sink::Syslog, ""}));
    BOOST_TEST(daemons::describe(s) == "syslog facility mail as sendguard/bounce");
    BOOST_TEST(daemons::describe(s, true) == "standard error as sendguard/bounce");
    auto p = daemons::LogSettings::from(
        config::Config::parse("log_target = postlog:/var/spool/postfix/public/postlog\n", "t.conf"), "policyd");
    BOOST_TEST((p.target == logging::Target{logging::Sink::Postlog, "/var/spool/postfix/public/postlog"}));
    BOOST_TEST(daemons::describe(p) ==
               "postlogd(8) socket /var/spool/postfix/public/postlog as sendguard/policyd");
    auto f = daemons::LogSettings::from(
        config::Config::parse("log_target = file:/var/log/sg.log\nlog_to_stderr = yes\n", "t.conf"), "cli");
    BOOST_TEST(daemons::describe(f) == "standard error as sendguard/cli");  // log_to_stderr wins
    try {
        daemons::LogSettings::from(config::Config::parse("\n\nlog_target = file:sg.log\n", "t.conf"), "cli");
        BOOST_ERROR("relative log file accepted");
    } catch (const config::Error& e) {
        BOOST_TEST(std::string(e.what()) ==
                   "t.conf:3: invalid log_target: file:sg.log (expected syslog, postlog:/path/to/socket, "
                   "file:/path/to/file or stderr)");
    }
}

BOOST_AUTO_TEST_CASE(early_log_settings_take_the_overrides) {
    auto s = daemons::LogSettings::early("bounce", {"syslog_name=mx2", "log_target=stderr"});
    BOOST_TEST(s.ident == "mx2/bounce");
    BOOST_TEST((s.target == logging::Target{logging::Sink::Stderr, ""}));
    // An override that does not parse: the table's settings (loading says why).
    auto d = daemons::LogSettings::early("bounce", {"log_target=nowhere"});
    BOOST_TEST((d == daemons::LogSettings::defaults("bounce")));
}

// Nothing vanishes silently: a missing syslog socket is said on standard
// error at start-up, and the records go there.
BOOST_AUTO_TEST_CASE(open_log_warns_about_a_missing_syslog_socket) {
    harness::TempDir dir("sg-daemon-");
    auto s = daemons::LogSettings::from(
        config::Config::parse("log_target = syslog:" + dir.sub("log") + "\n", "t.conf"), "policyd");
    const std::string err = stderr_of(dir, [&] {
        daemons::open_log(s, false, daemons::Announce::Always);
        logging::info("policyd: start=x");
    });
    BOOST_TEST(err == std::string(program_invocation_short_name) + ": warning: cannot log to syslog:" +
                          dir.sub("log") + ": " + dir.sub("log") +
                          ": No such file or directory; log records go to standard error (start the "
                          "syslog daemon, or set log_target in sendguard.conf)\n"
                          "sendguard/policyd: policyd: start=x\n",
               err);
}

BOOST_AUTO_TEST_CASE(open_log_says_where_the_log_goes) {
    harness::TempDir dir("sg-daemon-");
    auto s = daemons::LogSettings::from(
        config::Config::parse("log_target = file:" + dir.sub("f.log") + "\n", "t.conf"), "policyd");
    const std::string err = stderr_of(dir, [&] {
        daemons::open_log(s, false, daemons::Announce::Always);
        daemons::open_log(s, false, daemons::Announce::Terminal);  // not a terminal: quiet
        daemons::open_log(s, false);
    });
    BOOST_TEST(err == std::string(program_invocation_short_name) +
                                                  ": logging to file " + dir.sub("f.log") +
                                                  " as sendguard/policyd\n");
}

// A daemon that reaches the postlog socket itself says, in that log, when
// postlog(1) is not set-gid: sendguard-bounce's lines would be lost.
BOOST_AUTO_TEST_CASE(open_log_warns_when_postlog_cannot_carry_other_programs_lines) {
    harness::TempDir dir("sg-daemon-");
    const std::string sock = dir.sub("postlog");
    const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    BOOST_REQUIRE(fd >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sock.c_str());
    BOOST_REQUIRE(::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0);
    const std::string plain = dir.sub("postlog-0755");
    harness::write_file(plain, "#!/bin/sh\nexit 0\n");
    ::chmod(plain.c_str(), 0755);
    for (const bool set_gid : {false, true}) {
        if (set_gid) ::chmod(plain.c_str(), 02755);
        auto s = daemons::LogSettings::from(
            config::Config::parse("log_target = postlog:" + sock + "\npostlog_command = " + plain + "\n", "t.conf"),
            "policyd");
        (void)stderr_of(dir, [&] { daemons::open_log(s, false, daemons::Announce::Always); });
        std::string got;  // every record the "postlogd" socket received
        char buf[4096];
        for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT)) > 0;) got.append(buf, size_t(n)) += '\n';
        if (set_gid) {
            BOOST_TEST(got.find("postlog_command") == std::string::npos, got);
        } else {
            BOOST_TEST(got.find("warning: postlog_command " + plain + ": " + plain + " is not set-group-id") !=
                           std::string::npos,
                       got);
            BOOST_TEST(got.find("sendguard-bounce, which pipe(8) runs as a user that") != std::string::npos, got);
        }
    }
    ::close(fd);
}

BOOST_AUTO_TEST_CASE(changes_list_only_differences) {
    daemons::Changes c;
    c.restart_only("state_directory", "/a", "/a");
    c.restart_only("policyd_user", "", "sendguard");
    BOOST_REQUIRE_EQUAL(c.items().size(), 1u);
    BOOST_TEST(c.items()[0].name == "policyd_user");
    BOOST_TEST(c.items()[0].to == "sendguard");
}

// Every field of policyd::Settings built from the defaults is the table's
// default: no library struct carries a default of its own that could drift.
BOOST_AUTO_TEST_CASE(policyd_settings_from_defaults_equal_the_table) {
    // policyd_user names the system user scripts/install.sh creates; on a
    // machine without it the defaults cannot be built, so root stands in.
    const bool have_user = daemons::uid_of(table_default("policyd_user")).has_value();
    const config::Config d =
        have_user ? config::Config::defaults() : config::Config::parse("policyd_user = root\n", "t.conf");
    const auto s = policyd::Settings::from(d);
    const auto dur = [](std::string_view name) {
        return *config::parse_duration(table_default(name));
    };
    const auto num = [](std::string_view name) {
        return static_cast<size_t>(std::stoll(table_default(name)));
    };

    BOOST_REQUIRE_EQUAL(s.socketmap_listen.size(), 1u);
    BOOST_TEST(table_default("policyd_socketmap_listen") == "unix:$run_directory/socketmap.sock");
    BOOST_TEST(s.socketmap_listen[0].path == table_default("run_directory") + "/socketmap.sock");
    BOOST_TEST(s.socket_mode ==
               static_cast<mode_t>(std::stoul(table_default("policyd_socket_mode"), nullptr, 8)));
    BOOST_TEST(s.socket_group == table_default("policyd_socket_group"));
    BOOST_TEST(s.socket_gid == *daemons::gid_of(table_default("policyd_socket_group")));
    BOOST_TEST(s.limits.max_connections == num("policyd_max_connections"));
    BOOST_TEST(s.limits.max_connections_per_peer == num("policyd_max_connections_per_peer"));
    BOOST_TEST((s.limits.idle_timeout == dur("policyd_idle_timeout")));
    BOOST_TEST((s.limits.request_timeout == dur("policyd_request_timeout")));
    BOOST_TEST(s.socketmap.max_request ==
               *config::parse_size(table_default("policyd_socketmap_max_request")));
    BOOST_TEST(s.socketmap.max_reply ==
               net::kSocketmapMaxReply);  // Postfix's limit, not a parameter
    BOOST_TEST(s.limits.max_input == net::SocketmapProtocol::server_max_input(s.socketmap));
    BOOST_TEST(s.maps.suppressed_reply == table_default("policyd_suppressed_reply"));
    BOOST_TEST(table_default("policyd_user") == "sendguard");
    if (have_user) BOOST_TEST(s.user == table_default("policyd_user"));
    BOOST_TEST(s.pid_file == table_default("policyd_pid_file"));
    BOOST_TEST(table_default("policyd_pid_file").empty());
    // The numeric form: clients see 550 5.1.1, not access_map_reject_code's 554.
    BOOST_TEST(table_default("policyd_suppressed_reply").rfind("550 5.1.1 ", 0) == 0u);
    BOOST_TEST(s.state_directory == table_default("state_directory"));
    BOOST_TEST(s.store.map_size == *config::parse_size(table_default("store_map_size")));
    BOOST_TEST(s.store.max_map_size == *config::parse_size(table_default("store_max_map_size")));
    BOOST_TEST(s.store.max_readers == std::stoll(table_default("store_max_readers")));
    BOOST_TEST(s.store.sync == (table_default("store_sync") == "yes"));
    BOOST_TEST(table_default("policyd_record_clients") == "root, $policyd_user");
    BOOST_TEST(s.maps.record_clients.names.front() == "root");
    BOOST_TEST(s.maps.record_clients.names.back() == s.user);
    BOOST_TEST(s.maps.record_clients.uids.front() == 0u);
    // Sanity of the chosen defaults: a per-peer limit Postfix's default
    // process limit (100 smtpd, each with a socketmap and, later, a policy
    // connection) fits under, and a request time-out well inside Postfix's
    // 100s lookup time-outs.
    BOOST_TEST(s.limits.max_connections_per_peer >= 300u);
    BOOST_TEST(s.limits.max_connections_per_peer < s.limits.max_connections);
    BOOST_TEST((s.limits.request_timeout <= std::chrono::seconds(30)));
}

BOOST_AUTO_TEST_CASE(policyd_settings_errors_name_file_and_line) {
    struct Case {
        std::string text;
        std::string want;
    } cases[] = {
        {"\npolicyd_socket_group = no-such-group-sg\n",
         "t.conf:2: invalid policyd_socket_group: no-such-group-sg (no such group"},
        {"policyd_record_clients = root, no-such-user-sg\npolicyd_user = root\n",
         "t.conf:1: invalid policyd_record_clients: no-such-user-sg (no such user no-such-user-sg"},
        {"policyd_record_clients = @no-such-group-sg\npolicyd_user = root\n",
         "t.conf:1: invalid policyd_record_clients: @no-such-group-sg (no such group "
         "no-such-group-sg)"},
        {"policyd_user = no-such-user-sg\n",
         "t.conf:1: invalid policyd_user: no-such-user-sg (unknown user"},
        {"policyd_socketmap_listen = unix:\n", "t.conf:1: invalid policyd_socketmap_listen: unix:"},
    };
    for (const auto& c : cases) {
        try {
            policyd::Settings::from(config::Config::parse(c.text, "t.conf"));
            BOOST_ERROR(c.text << ": accepted");
        } catch (const config::Error& e) {
            BOOST_TEST(std::string(e.what()).find(c.want) == 0u, c.text << ": got " << e.what());
        }
    }
}

BOOST_AUTO_TEST_CASE(record_clients_rule) {
    policyd::ClientList l;
    l.uids = {0, 107};
    l.gids = {120};
    struct Case {
        net::Peer peer;
        bool want;
    } cases[] = {
        {net::Peer::local(0, 0), true},
        {net::Peer::local(107, 5), true},
        {net::Peer::local(1000, 120), true},              // primary group
        {net::Peer::local(1000, 1000, {27, 120}), true},  // supplementary group
        {net::Peer::local(1000, 1000, {27}), false},
        {net::Peer{.addr = "127.0.0.1:4000", .key = "127.0.0.1", .groups = {}},
         false},  // inet: no credentials
    };
    for (const auto& c : cases)
        BOOST_TEST(l.allows(c.peer) == c.want, c.peer.str() << " gid " << c.peer.gid);
}

BOOST_AUTO_TEST_SUITE_END()
