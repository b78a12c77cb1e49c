// test_daemon_start.cc - who the daemon skeleton runs as, and its pid file,
// through the real sendguard-policyd
//
// Started as root: an empty policyd_user is refused before anything is
// opened; policyd_user = root keeps root with a warning; another user is
// switched to. policyd_pid_file holds the pid while the daemon runs and is
// gone after it stopped. With NOTIFY_SOCKET (systemd's Type=notify) it says
// READY=1 once it listens and STOPPING=1 when it stops. Cases that need
// root are skipped without it.
#include <boost/test/unit_test.hpp>

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/net_wait.h"
#include "tests/support/paths.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

using namespace std::chrono_literals;

namespace {

struct Policyd {
    harness::TempDir dir{"sg-start-"};
    std::string conf = dir.sub("sendguard.conf");
    std::string sock = dir.sub("socketmap.sock");

    explicit Policyd(const std::string& extra) {
        ::chmod(dir.path().c_str(), 0755);
        harness::write_file(conf, "state_directory = " + dir.sub("lib") + "\nrun_directory = " +
                                      dir.path() + "\nlog_to_stderr = yes\n" + extra);
    }
    harness::SpawnSpec spec(std::vector<std::string> env = {}) const {
        return {.argv = {harness::sendguard_bin("sendguard-policyd"), "-c", conf}, .env = env};
    }
};

// A datagram socket standing in for systemd's notification socket; name
// "@..." is in the abstract namespace.
class NotifySocket {
public:
    explicit NotifySocket(const std::string& name) : name_(name) {
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        BOOST_REQUIRE(fd_ >= 0);
        sockaddr_un sa{};
        sa.sun_family = AF_UNIX;
        std::memcpy(sa.sun_path, name.data(), name.size());
        if (name[0] == '@') sa.sun_path[0] = '\0';
        BOOST_REQUIRE(
            ::bind(fd_, reinterpret_cast<const sockaddr*>(&sa),
                   static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size())) == 0);
    }
    ~NotifySocket() { ::close(fd_); }
    // The next datagram, or "" after timeout_ms.
    std::string next(int timeout_ms = 10000) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, timeout_ms) != 1) return "";
        char buf[256];
        const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
    }
    std::string env() const { return "NOTIFY_SOCKET=" + name_; }

private:
    std::string name_;
    int fd_ = -1;
};

bool root() {
    if (::geteuid() == 0) return true;
    BOOST_TEST_MESSAGE("not root: the start as root is not tested");
    return false;
}

std::string uid_line(pid_t pid) {
    const std::string status = harness::file_text("/proc/" + std::to_string(pid) + "/status");
    const size_t at = status.find("Uid:");
    return status.substr(at, status.find('\n', at) - at);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(daemon_start)

BOOST_AUTO_TEST_CASE(root_with_empty_user_is_refused_before_listening) {
    if (!root()) return;
    Policyd d("policyd_user =\n");
    auto r = harness::run(d.spec(), 10000ms);
    BOOST_TEST(r.status.code == 1, r.describe());
    BOOST_TEST(r.err.find("fatal: sendguard-policyd started as root with policyd_user empty: set "
                          "policyd_user") != std::string::npos,
               r.err);
    BOOST_TEST(!std::filesystem::exists(d.sock), "the socket was created before the refusal");
}

BOOST_AUTO_TEST_CASE(root_on_purpose_keeps_root_and_warns) {
    if (!root()) return;
    Policyd d("policyd_user = root\n");
    harness::Process p(d.spec());
    BOOST_REQUIRE_MESSAGE(harness::wait_for_unix(d.sock, 10s), p.err());
    BOOST_TEST(harness::wait_until(
                   [&] {
                       return p.err().find(
                                  "warning: policyd: start=sendguard-policyd, user=root, "
                                  "remark=running as root because policyd_user = root") !=
                              std::string::npos;
                   },
                   5s),
               p.err());
    BOOST_TEST(uid_line(p.pid()).find("\t0\t") != std::string::npos, uid_line(p.pid()));
    BOOST_TEST(p.stop(10000ms).ok(), p.err());
}

BOOST_AUTO_TEST_CASE(an_unprivileged_user_is_switched_to) {
    if (!root()) return;
    Policyd d("policyd_user = nobody\n");
    harness::Process p(d.spec());
    BOOST_REQUIRE_MESSAGE(harness::wait_for_unix(d.sock, 10s), p.err());
    BOOST_TEST(harness::wait_until(
                   [&] {
                       return p.err().find("policyd: start=sendguard-policyd, user=nobody") !=
                              std::string::npos;
                   },
                   5s),
               p.err());
    BOOST_TEST(uid_line(p.pid()).find("\t0\t") == std::string::npos, uid_line(p.pid()));
    BOOST_TEST(p.stop(10000ms).ok(), p.err());
}

// The pid file: the daemon's pid once it listens, nothing after the stop.
BOOST_AUTO_TEST_CASE(pid_file_is_written_after_start_and_removed_on_stop) {
    harness::TempDir piddir("sg-start-pid-");
    const std::string pid_file = piddir.sub("sendguard-policyd.pid");
    Policyd d("policyd_user = " + std::string(::geteuid() == 0 ? "root" : "") +
              "\npolicyd_pid_file = " + pid_file + "\n");
    harness::Process p(d.spec());
    BOOST_REQUIRE_MESSAGE(harness::wait_for_unix(d.sock, 10s), p.err());
    BOOST_REQUIRE(harness::wait_until([&] { return std::filesystem::exists(pid_file); }, 5s));
    BOOST_TEST(harness::file_text(pid_file) == std::to_string(p.pid()) + "\n");
    BOOST_TEST(!std::filesystem::exists(pid_file + ".tmp"));
    BOOST_TEST(p.stop(10000ms).ok(), p.err());
    BOOST_TEST(!std::filesystem::exists(pid_file), "pid file left after the stop");
}

BOOST_AUTO_TEST_CASE(unwritable_pid_file_is_a_fatal_error_naming_it) {
    Policyd d("policyd_user = " + std::string(::geteuid() == 0 ? "root" : "") +
              "\npolicyd_pid_file = /nonexistent-sg/policyd.pid\n");
    auto r = harness::run(d.spec(), 10000ms);
    BOOST_TEST(r.status.code == 1, r.describe());
    BOOST_TEST(r.err.find("cannot write policyd_pid_file /nonexistent-sg/policyd.pid") !=
                   std::string::npos,
               r.err);
}

BOOST_AUTO_TEST_CASE(notify_socket_hears_ready_once_listening_and_stopping) {
    for (const bool abstract : {false, true}) {
        Policyd d("policyd_user = " + std::string(::geteuid() == 0 ? "root" : "") + "\n");
        const std::string name =
            abstract ? "@sg-notify-test-" + std::to_string(::getpid()) : d.dir.sub("notify.sock");
        BOOST_TEST_CONTEXT(name) {
            NotifySocket n(name);
            harness::Process p(d.spec({n.env()}));
            BOOST_TEST(n.next() == "READY=1", p.err());
            // Ready means listening: the socket answers now.
            BOOST_TEST(std::filesystem::exists(d.sock));
            BOOST_TEST(harness::wait_for_unix(d.sock, 1s));
            BOOST_TEST(p.stop(10000ms).ok(), p.err());
            BOOST_TEST(n.next() == "STOPPING=1", p.err());
        }
    }
    // Not a socket path: a warning, and the daemon runs on.
    Policyd d("policyd_user = " + std::string(::geteuid() == 0 ? "root" : "") + "\n");
    harness::Process p(d.spec({"NOTIFY_SOCKET=relative/notify.sock"}));
    BOOST_REQUIRE(harness::wait_for_unix(d.sock, 10s));
    BOOST_TEST(
        harness::wait_until(
            [&] {
                return p.err().find(
                           "warning: NOTIFY_SOCKET=relative/notify.sock: not a socket path") !=
                       std::string::npos;
            },
            5s),
        p.err());
    BOOST_TEST(p.stop(10000ms).ok(), p.err());
}

BOOST_AUTO_TEST_SUITE_END()
