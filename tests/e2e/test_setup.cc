// test_setup.cc - what an installation creates: scripts/install.sh in a
// throw-away root (directories, owners, modes, configuration, VERP key,
// idempotence), the system users it creates (label "users": only as root
// under CI, or with SENDGUARD_TEST_SYSTEM_USERS=1, since it adds users to
// this machine), and the systemd unit, which must pass systemd-analyze
// verify without a warning (label "systemd"); and what Postfix answers while
// the socketmap is down (label "postfix").
#include <boost/test/unit_test.hpp>

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "tests/support/cleanup.h"
#include "tests/support/paths.h"
#include "tests/support/postfix_harness.h"
#include "tests/support/process.h"
#include "tests/support/require.h"
#include "tests/support/temp_dir.h"

namespace {

const std::string kScript = std::string(SENDGUARD_SOURCE_DIR) + "/scripts/install.sh";

struct Meta {
    std::string owner, group;
    unsigned mode = 0;
};

Meta meta(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return {"(missing)", "", 0};
    const passwd* pw = ::getpwuid(st.st_uid);
    const group* gr = ::getgrgid(st.st_gid);
    return {pw ? pw->pw_name : std::to_string(st.st_uid),
            gr ? gr->gr_name : std::to_string(st.st_gid),
            static_cast<unsigned>(st.st_mode & 07777)};
}

std::string str(const Meta& m) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", m.mode);
    return m.owner + ":" + m.group + " " + mode;
}

// The group of nobody, named as this system names it.
std::string nogroup() {
    const passwd* pw = ::getpwnam("nobody");
    const group* gr = pw ? ::getgrgid(pw->pw_gid) : nullptr;
    return gr ? gr->gr_name : "nogroup";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(e2e_setup)

// With existing accounts (nobody stands in for sendguard), so nothing on
// this machine changes: every directory and file with its documented owner
// and mode, and a second run keeps the key and fixes a wrong mode.
BOOST_AUTO_TEST_CASE(install_script_creates_directories_key_and_config) {
    if (::geteuid() != 0) {
        BOOST_TEST_MESSAGE("not root: install.sh sets owners; not tested");
        return;
    }
    harness::TempDir root("sg-install-");
    const std::string ng = nogroup();
    const std::vector<std::string> argv{"sh",         kScript,          "--root", root.path(),
                                        "--no-users", "--user",         "nobody", "--group",
                                        ng,           "--reader-group", ng};
    auto r = harness::run(argv);
    BOOST_REQUIRE_MESSAGE(r.ok(), r.describe());
    struct Want {
        std::string path;
        std::string want;
    } wants[] = {
        {"/etc/sendguard", "root:" + ng + " 0755"},
        {"/etc/sendguard/sendguard.conf", "root:" + ng + " 0644"},
        {"/etc/sendguard/verp.keys", "root:" + ng + " 0640"},
        {"/var/lib/sendguard", "nobody:" + ng + " 2750"},
        {"/run/sendguard", "nobody:" + ng + " 0755"},
    };
    for (const auto& w : wants)
        BOOST_TEST(str(meta(root.path() + w.path)) == w.want,
                   w.path << ": got " << str(meta(root.path() + w.path)) << ", want " << w.want);
    // The configuration is the example, ending with the tree's own paths;
    // the key is 32 bytes in hex.
    const std::string tree = root.path();
    BOOST_TEST(harness::file_text(tree + "/etc/sendguard/sendguard.conf") ==
               harness::file_text(std::string(SENDGUARD_SOURCE_DIR) + "/conf-examples/sendguard.conf") +
                   "\n# The tree made by \"install.sh --root " + tree + "\".\n"
                   "config_directory = " + tree + "/etc/sendguard\n"
                   "state_directory = " + tree + "/var/lib/sendguard\n"
                   "run_directory = " + tree + "/run/sendguard\n");
    const std::string key = harness::file_text(tree + "/etc/sendguard/verp.keys");
    BOOST_TEST(key.size() == 65u, key);
    BOOST_TEST(key.find_first_not_of("0123456789abcdef") == 64u, key);
    // The tree works as it is: every sendguard path of the configuration is
    // below it, the key signs and the store is written there, without -o.
    const std::string conf = tree + "/etc/sendguard/sendguard.conf";
    auto paths = harness::run({harness::sendguard_bin("sendguard"), "-c", conf, "config", "-x",
                               "config_directory", "state_directory", "run_directory",
                               "verp_key_file", "bounce_quarantine_directory", "bounce_event_log",
                               "policyd_socketmap_listen"});
    BOOST_REQUIRE_MESSAGE(paths.ok(), paths.describe());
    for (const std::string& want :
         {"config_directory = " + tree + "/etc/sendguard\n",
          "state_directory = " + tree + "/var/lib/sendguard\n",
          "run_directory = " + tree + "/run/sendguard\n",
          "verp_key_file = " + tree + "/etc/sendguard/verp.keys\n",
          "bounce_quarantine_directory = " + tree + "/var/lib/sendguard/quarantine\n",
          "bounce_event_log = " + tree + "/var/lib/sendguard/events.jsonl\n",
          "policyd_socketmap_listen = unix:" + tree + "/run/sendguard/socketmap.sock\n"})
        BOOST_TEST(paths.out.find(want) != std::string::npos, "want " << want << "got:\n" << paths.out);
    auto enc = harness::run({harness::sendguard_bin("sendguard"), "-c", conf, "verp", "encode",
                             "bob@example.net"});
    BOOST_TEST(enc.status.code == 0, enc.describe());
    auto add = harness::run({harness::sendguard_bin("sendguard"), "-c", conf, "suppress", "add",
                             "bob@example.net"});
    BOOST_TEST(add.status.code == 0, add.describe());
    BOOST_TEST(std::filesystem::exists(tree + "/var/lib/sendguard/suppress.lmdb/data.mdb"));

    // Again: the key and the configuration stay, a wrong mode is fixed.
    harness::write_file(root.path() + "/etc/sendguard/sendguard.conf", "# mine\n", 0600);
    ::chmod((root.path() + "/var/lib/sendguard").c_str(), 0777);
    auto again = harness::run(argv);
    BOOST_REQUIRE_MESSAGE(again.ok(), again.describe());
    BOOST_TEST(again.out.find("created") == std::string::npos, again.out);
    BOOST_TEST(harness::file_text(root.path() + "/etc/sendguard/verp.keys") == key);
    BOOST_TEST(harness::file_text(root.path() + "/etc/sendguard/sendguard.conf") == "# mine\n");
    BOOST_TEST(str(meta(root.path() + "/etc/sendguard/sendguard.conf")) == "root:" + ng + " 0644");
    BOOST_TEST(str(meta(root.path() + "/var/lib/sendguard")) == "nobody:" + ng + " 2750");

    // Missing accounts with --no-users: an error naming them.
    auto bad = harness::run({"sh", kScript, "--root", root.path(), "--no-users", "--user",
                             "no-such-user-sg", "--group", ng, "--reader-group", ng});
    BOOST_TEST(bad.status.code == 1, bad.describe());
    BOOST_TEST(bad.err.find("no user no-such-user-sg") != std::string::npos, bad.err);
}

// The real accounts: sendguard (user and group) and sendguard-read, created
// once; a second run creates nothing.
BOOST_AUTO_TEST_CASE(install_script_creates_system_users, *boost::unit_test::label("users")) {
    const char* allowed = std::getenv("SENDGUARD_TEST_SYSTEM_USERS");
    harness::require(
        ::geteuid() == 0 && (harness::in_ci() || (allowed && std::string(allowed) == "1")),
        "root with CI=true or SENDGUARD_TEST_SYSTEM_USERS=1 (the test adds system users)");
    harness::TempDir root("sg-install-users-");
    auto r = harness::run({"sh", kScript, "--root", root.path()});
    BOOST_REQUIRE_MESSAGE(r.ok(), r.describe());
    const passwd* pw = ::getpwnam("sendguard");
    BOOST_REQUIRE(pw != nullptr);
    BOOST_TEST(pw->pw_uid != 0u);
    BOOST_TEST(pw->pw_uid < 1000u, "not a system user: uid " << pw->pw_uid);
    BOOST_TEST(std::string(pw->pw_shell) == "/usr/sbin/nologin");
    const group* g = ::getgrgid(pw->pw_gid);
    BOOST_TEST((g && std::string(g->gr_name) == "sendguard"));
    BOOST_TEST(::getgrnam("sendguard-read") != nullptr);
    BOOST_TEST(str(meta(root.path() + "/var/lib/sendguard")) == "sendguard:sendguard-read 2750");
    BOOST_TEST(str(meta(root.path() + "/etc/sendguard/verp.keys")) == "root:sendguard 0640");
    auto again = harness::run({"sh", kScript, "--root", root.path()});
    BOOST_TEST(again.ok(), again.describe());
    BOOST_TEST(again.out.find("created") == std::string::npos, again.out);
}

// cmake --install into a DESTDIR: the installed examples name the programs
// and the configuration where this build installs them (the same as the
// unit's ExecStart), and differ from conf-examples/ in nothing else; the
// installed setup script finds them.
BOOST_AUTO_TEST_CASE(installed_examples_name_the_installed_paths) {
    harness::require(harness::have_program("cmake"), "cmake (apt-get install cmake)");
    harness::TempDir dest("sg-destdir-");
    auto inst = harness::run({"env", "DESTDIR=" + dest.path(), "cmake", "--install",
                              SENDGUARD_BINARY_DIR});
    BOOST_REQUIRE_MESSAGE(inst.ok(), inst.describe());
    namespace fs = std::filesystem;
    std::string examples, unit, script;
    for (const auto& e : fs::recursive_directory_iterator(dest.path())) {
        const std::string p = e.path().string();
        if (p.ends_with("/share/doc/sendguard/examples/master.cf")) examples = e.path().parent_path();
        if (p.ends_with("/sendguard-policyd.service")) unit = p;
        if (p.ends_with("/share/sendguard/install.sh")) script = p;
    }
    BOOST_REQUIRE_MESSAGE(!examples.empty() && !unit.empty() && !script.empty(), inst.out);
    // argv=SBINDIR/sendguard-bounce -c SYSCONFDIR/sendguard.conf, as in the unit.
    const std::string master = harness::file_text(examples + "/master.cf");
    const size_t argv = master.find("argv=");
    BOOST_REQUIRE(argv != std::string::npos);
    const size_t prog = master.find("/sendguard-bounce -c ", argv);
    BOOST_REQUIRE(prog != std::string::npos);
    const std::string sbindir = master.substr(argv + 5, prog - argv - 5);
    const size_t conf_at = prog + std::string("/sendguard-bounce -c ").size();
    const std::string conf = master.substr(conf_at, master.find('\n', conf_at) - conf_at);
    BOOST_REQUIRE(conf.ends_with("/sendguard.conf"));
    const std::string sysconfdir = conf.substr(0, conf.size() - std::string("/sendguard.conf").size());
    BOOST_TEST(::access((dest.path() + sbindir + "/sendguard-bounce").c_str(), X_OK) == 0,
               "no " << sbindir << "/sendguard-bounce installed");
    BOOST_TEST(harness::file_text(unit).find("ExecStart=" + sbindir + "/sendguard-policyd -c " + conf +
                                             "\n") != std::string::npos,
               "the unit's ExecStart names another place than " << sbindir << " and " << conf);
    // Otherwise the installed copies are the repository's.
    for (const char* name : {"main.cf", "master.cf", "sendguard.conf", "sendmail.mc"}) {
        std::string text = harness::file_text(examples + "/" + name);
        for (auto [from, to] : {std::pair{sbindir + "/sendguard-", std::string("/usr/sbin/sendguard-")},
                                std::pair{sysconfdir + "/", std::string("/etc/sendguard/")}})
            for (size_t at = 0; (at = text.find(from, at)) != std::string::npos; at += to.size())
                text.replace(at, from.size(), to);
        BOOST_TEST(text == harness::file_text(std::string(SENDGUARD_SOURCE_DIR) + "/conf-examples/" + name),
                   name << " differs from conf-examples/" << name << " in more than the paths");
    }
    // The installed script copies the installed example.
    if (::geteuid() != 0) return;
    harness::TempDir root("sg-install-ex-");
    const std::string ng = nogroup();
    auto r = harness::run({"sh", script, "--root", root.path(), "--no-users", "--user", "nobody",
                           "--group", ng, "--reader-group", ng});
    BOOST_REQUIRE_MESSAGE(r.ok(), r.describe());
    BOOST_TEST(r.out.find("(from " + examples + "/sendguard.conf)") != std::string::npos, r.out);
}

// The units as installed, with ExecStart pointing at the build tree (verify
// checks that the program exists): no error and no warning.
BOOST_AUTO_TEST_CASE(systemd_unit_passes_verify, *boost::unit_test::label("systemd")) {
    harness::require(harness::have_program("systemd-analyze"),
                     "systemd-analyze (apt-get install systemd)");
    for (const std::string program : {"sendguard-policyd", "sendguard-milter"}) {
        BOOST_TEST_CONTEXT(program) {
            const std::string unit =
                harness::file_text(std::string(SENDGUARD_BINARY_DIR) + "/init/" + program + ".service");
            const std::string exec = "ExecStart=";
            const size_t at = unit.find(exec);
            BOOST_REQUIRE(at != std::string::npos);
            const size_t prog = unit.find("/" + program + " ", at);
            BOOST_REQUIRE(prog != std::string::npos);
            std::string copy = unit;
            copy.replace(at + exec.size(), prog - at - exec.size(),
                         std::string(SENDGUARD_BINARY_DIR) + "/bin");
            harness::TempDir dir("sg-unit-");
            const std::string path = dir.sub(program + ".service");
            harness::write_file(path, copy);
            auto r = harness::run({"systemd-analyze", "verify", "--man=no", path});
            BOOST_TEST(r.status.code == 0, r.describe());
            BOOST_TEST(r.err.empty(), r.err);
            // What the man pages and README promise about the units.
            for (const char* want :
                 {"Type=notify", "ExecReload=/bin/kill -HUP $MAINPID", "RuntimeDirectory=sendguard",
                  "ProtectSystem=strict", "ReadWritePaths=/var/lib/sendguard", "NoNewPrivileges=yes",
                  "PrivateTmp=yes", "ProtectHome=yes", "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
                  "CapabilityBoundingSet=CAP_SETUID CAP_SETGID", "Restart=on-failure"})
                BOOST_TEST(unit.find(want) != std::string::npos, "unit lacks " << want);
        }
    }
}

// What the man pages say Postfix does while sendguard-policyd is down: the
// suppress lookup fails, and smtpd answers every recipient it guards with a
// temporary error (the client retries), never with delivery.
BOOST_AUTO_TEST_CASE(postfix_defers_recipients_while_the_socketmap_is_down,
                     *boost::unit_test::label("postfix")) {
    harness::skip_if(harness::PostfixInstance::unavailable());
    harness::TempDir dir("sg-down-");
    harness::PostfixInstance pf;
    pf.start();
    pf.set("smtpd_recipient_restrictions",
           "check_recipient_access socketmap:unix:" + dir.sub("socketmap.sock") +
               ":suppress, permit_mynetworks, reject_unauth_destination");
    auto t = pf.send({.mail_from = "news@example.org",
                      .rcpt_to = {"bob@example.net"},
                      .data = "Subject: down\n\nHello\n"});
    BOOST_REQUIRE_EQUAL(t.rcpt.size(), 1u);
    // Postfix 3.7: the socketmap client cannot connect, smtpd treats the
    // table as broken and answers with its server-configuration-error reply.
    BOOST_TEST(t.rcpt[0].code == 451, t.str());
    BOOST_TEST(t.rcpt[0].str().find("451 4.3.5 <bob@example.net>: Recipient address rejected: "
                                    "Server configuration error") != std::string::npos,
               t.str());
    BOOST_TEST(!t.accepted(), t.str());
    BOOST_TEST_MESSAGE("maillog:\n" << pf.log_tail());
}

BOOST_AUTO_TEST_SUITE_END()
