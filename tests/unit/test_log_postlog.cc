// test_log_postlog.cc - a postlog target that refuses the user goes through
// postlog(1); a log file created by the writer can be given away
//
// The refusal needs a user without root's DAC override: each case forks a
// child that becomes nobody, logs, and reports through files; the parent
// (root) checks them. A shell script stands in for postlog(1): it writes
// its arguments and its input to files, so the test sees what postlogd
// would have been sent.
#include <boost/test/unit_test.hpp>

#include "common/log/log.h"
#include "common/log/postlog_pipe.h"
#include "tests/support/temp_dir.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <sstream>
#include <string>
#include <thread>

namespace {

struct Nobody {
    uid_t uid = 65534;
    gid_t gid = 65534;
    Nobody() {
        if (const passwd* pw = ::getpwnam("nobody")) {
            uid = pw->pw_uid;
            gid = pw->pw_gid;
        }
    }
};

// A datagram socket at path: the postlogd stand-in nobody may not reach.
int bind_dgram(const std::string& path) {
    int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
    BOOST_REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    return fd;
}

// Runs fn as nobody in a child, its standard error in err_path; returns its
// exit status (fn's return value, 99 when it could not switch).
int as_nobody(const std::string& err_path, const std::function<int()>& fn) {
    const Nobody n;
    const pid_t pid = ::fork();
    if (pid == 0) {
        int fd = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0666);
        ::dup2(fd, 2);
        if (::setgroups(0, nullptr) != 0 || ::setgid(n.gid) != 0 || ::setuid(n.uid) != 0) ::_exit(99);
        ::_exit(fn());
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
}

struct Setup {
    harness::TempDir dir{"sg-postlog-"};
    std::string pub, sock, fake;
    int reader = -1;
    explicit Setup(mode_t fake_mode, const std::string& body = {}) {
        ::chmod(dir.path().c_str(), 0777);
        pub = dir.mkdir("public", 0710);  // root's: nobody may not enter
        sock = pub + "/postlog";
        reader = bind_dgram(sock);
        fake = dir.sub("postlog");
        harness::write_file(fake,
                            "#!/bin/sh\n" +
                                (body.empty() ? "echo \"$*\" >> " + dir.sub("args") + "\ncat >> " + dir.sub("lines") + "\n"
                                              : body),
                            0755);
        ::chmod(fake.c_str(), fake_mode);
    }
    ~Setup() { ::close(reader); }
    logging::Target target() const { return logging::Target{logging::Sink::Postlog, sock}; }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(logging_postlog)

BOOST_AUTO_TEST_CASE(refused_socket_hands_lines_to_one_postlog_child) {
    Setup s(02755);
    const int rc = as_nobody(s.dir.sub("err"), [&] {
        logging::set_stderr_fallback(false);
        logging::open("sendguard/bounce", s.target(), -1, s.fake);
        if (!logging::check().empty()) return 1;
        if (logging::postlog_relay() != s.fake) return 2;
        logging::info(logging::QueueId(std::string_view("4XkQ3b7Lq2z")), "bounce: action=suppress");
        logging::warning("bounce: problem=x");
        logging::info("line\nwith a break");
        // A reload with the same settings keeps the child.
        logging::open("sendguard/bounce", s.target(), -1, s.fake);
        logging::info("after reopen");
        logging::open("test", logging::Sink::None);  // ends the child, bounded
        return 0;
    });
    BOOST_TEST(rc == 0);
    // One child, told the ident and severity info ("warning: " is in the text).
    BOOST_TEST(harness::file_text(s.dir.sub("args")) == "-p info -t sendguard/bounce\n");
    BOOST_TEST(harness::file_text(s.dir.sub("lines")) ==
               "4XkQ3b7Lq2z: bounce: action=suppress\n"
               "warning: bounce: problem=x\n"
               "line?with a break\n"
               "after reopen\n");
    BOOST_TEST(harness::file_text(s.dir.sub("err")) == "");  // pipe(8)'s status text stays empty
}

// Debian ships postlog 0755: it could not reach postlogd either. Start-up
// (check) says so and how to fix it; nothing is run.
BOOST_AUTO_TEST_CASE(postlog_without_set_gid_is_refused_at_open) {
    Setup s(0755);
    const int rc = as_nobody(s.dir.sub("err"), [&] {
        logging::open("sendguard/cli", s.target(), -1, s.fake);
        const std::string want = s.sock + ": Permission denied; " + s.fake +
                                 " is not set-group-id root (mode 0755, group root), so it cannot reach "
                                 "postlogd either: give it the bit with 'dpkg-statoverride --update --add root root 2755 " +
                                 s.fake + "' (kept by package upgrades), or chgrp root " + s.fake +
                                 " && chmod 2755 " + s.fake;
        if (logging::check() != want) {
            std::fprintf(stderr, "check: %s\n", logging::check().c_str());
            return 1;
        }
        logging::info("cli: to stderr");
        logging::open("test", logging::Sink::None);
        return 0;
    });
    BOOST_TEST(rc == 0, harness::file_text(s.dir.sub("err")));
    BOOST_TEST(::access(s.dir.sub("args").c_str(), F_OK) != 0);  // never run
    BOOST_TEST(harness::file_text(s.dir.sub("err")) == "sendguard/cli: cli: to stderr\n");
}

// A postlog that fails (here: exits at once) is said once, where the
// records then go; without the stderr fallback and a terminal, nowhere.
BOOST_AUTO_TEST_CASE(failing_postlog_is_said_once) {
    Setup s(02755, "exit 1\n");
    auto run = [&](bool fallback) {
        return as_nobody(s.dir.sub("err"), [&] {
            logging::set_stderr_fallback(fallback);
            logging::open("sendguard/cli", s.target(), -1, s.fake);
            for (int i = 0; i < 200 && logging::check().empty(); ++i) {
                logging::info("cli: try");
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            }
            if (logging::check() != s.fake + " failed (exit status 1)" &&
                logging::check() != s.fake + " closed its input")
                return 1;
            logging::info("cli: after");
            logging::info("cli: after");
            logging::open("test", logging::Sink::None);
            return 0;
        });
    };
    BOOST_TEST(run(true) == 0);
    const std::string err = harness::file_text(s.dir.sub("err"));
    const std::string warning = std::string(program_invocation_short_name) + ": warning: cannot log to postlog:" +
                                s.sock + ": " + s.fake;
    BOOST_TEST(err.find(warning) != std::string::npos, err);
    BOOST_TEST(err.find(warning) == err.rfind(warning), "said twice: " << err);
    BOOST_TEST(err.find("; log records go to standard error\n") != std::string::npos, err);
    BOOST_TEST(err.ends_with("sendguard/cli: cli: after\nsendguard/cli: cli: after\n"), err);
    BOOST_TEST(run(false) == 0);
    BOOST_TEST(harness::file_text(s.dir.sub("err")) == "");
}

// A postlog that never finishes (here: a script whose own child sleeps) is
// killed with its process group at finish(), not left behind per delivery.
BOOST_AUTO_TEST_CASE(hung_postlog_is_killed_at_finish) {
    harness::TempDir dir("sg-log-");
    const std::string script = dir.sub("postlog"), pids = dir.sub("pids");
    harness::write_file(script, "#!/bin/sh\nsleep 60 &\necho $$ $! > " + pids + "\nwait\n", 0755);
    logging::detail::PostlogPipe p;
    p.configure(script, "sendguard/test");
    BOOST_REQUIRE(p.write("Q1: test: line"));
    for (int i = 0; i < 200 && harness::file_text(pids).empty(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    std::istringstream in(harness::file_text(pids));
    pid_t shell = 0, sleeper = 0;
    in >> shell >> sleeper;
    BOOST_REQUIRE(shell > 0 && sleeper > 0);
    const std::string why = p.finish(std::chrono::milliseconds(100));
    BOOST_TEST(why == script + " did not finish within 100 ms; killed", why);
    BOOST_TEST(!p.running());
    // The sleeper was the shell's child: dead means gone, or a zombie left
    // for init to reap.
    const auto dead = [](pid_t pid) {
        const std::string stat = harness::file_text("/proc/" + std::to_string(pid) + "/stat");
        const auto paren = stat.rfind(')');
        return stat.empty() || (paren != std::string::npos && stat.compare(paren + 1, 3, " Z ") == 0);
    };
    bool gone = false;
    for (int i = 0; i < 200 && !gone; ++i) {
        gone = dead(sleeper);
        if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    BOOST_TEST(gone, "the postlog child's own child is still there");
}

// A daemon opens its log file as root, then runs as its user: the file it
// created goes to that user; one that was there keeps its owner.
BOOST_AUTO_TEST_CASE(created_log_file_can_be_given_away) {
    harness::TempDir dir("sg-log-");
    const Nobody n;
    const std::string fresh = dir.sub("fresh.log"), old = dir.sub("old.log");
    logging::open("sendguard/policyd", logging::Target{logging::Sink::File, fresh});
    BOOST_TEST(logging::give_created_file(n.uid, n.gid) == 0);
    struct stat st {};
    BOOST_REQUIRE(::stat(fresh.c_str(), &st) == 0);
    BOOST_TEST(st.st_uid == n.uid);
    BOOST_TEST(st.st_gid == n.gid);
    BOOST_TEST((st.st_mode & 0777) == 0640u);
    harness::write_file(old, "", 0640);
    logging::open("sendguard/policyd", logging::Target{logging::Sink::File, old});
    BOOST_TEST(logging::give_created_file(n.uid, n.gid) == 0);
    BOOST_REQUIRE(::stat(old.c_str(), &st) == 0);
    BOOST_TEST(st.st_uid == 0u);
    logging::open("test", logging::Sink::None);
    BOOST_TEST(logging::give_created_file(n.uid, n.gid) == 0);  // not a file: nothing to do
}

// A relay that takes the records and then fails (a set-gid postlog that
// refuses MAIL_CONFIG reads its input first): lost_records() has every
// record handed to it, and why; a relay that works loses nothing.
BOOST_AUTO_TEST_CASE(lost_records_names_what_a_failing_relay_took) {
    auto run = [](Setup& s, const std::string& out) {
        return as_nobody(s.dir.sub("err"), [&] {
            logging::set_stderr_fallback(false);
            logging::open("sendguard/bounce", s.target(), -1, s.fake);
            logging::warning(logging::QueueId(std::string_view("4XkQ3b7Lq2z")), "bounce: problem=x");
            logging::info(logging::QueueId(std::string_view("4XkQ3b7Lq2z")), "bounce: action=suppress, rcpt=<b@x>");
            const logging::LostRecords lost = logging::lost_records();
            std::string text = lost.why + "\n";
            for (const auto& r : lost.records) text += r + "\n";
            harness::write_file(out, text, 0666);
            logging::open("test", logging::Sink::None);
            return 0;
        });
    };
    Setup failing(02755, "cat >/dev/null\nexit 1\n");
    BOOST_TEST(run(failing, failing.dir.sub("lost")) == 0);
    BOOST_TEST(harness::file_text(failing.dir.sub("lost")) ==
               "postlog:" + failing.sock + ": " + failing.fake + " failed (exit status 1)\n"
               "4XkQ3b7Lq2z: warning: bounce: problem=x\n"
               "4XkQ3b7Lq2z: bounce: action=suppress, rcpt=<b@x>\n");
    BOOST_TEST(harness::file_text(failing.dir.sub("err")) == "");

    Setup working(02755);
    BOOST_TEST(run(working, working.dir.sub("lost")) == 0);
    BOOST_TEST(harness::file_text(working.dir.sub("lost")) == "\n");
}

BOOST_AUTO_TEST_SUITE_END()
