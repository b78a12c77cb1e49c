// test_bounce_cli.cc - sendguard-bounce as pipe(8) runs it, and sendguard
//
// Runs the real binaries: exit codes are the contract with Postfix (0 stored
// or deliberately ignored, 75 with a 4.x.x line for anything transient,
// never anything that would bounce a bounce) and with scripts (check: 0/1).
#include <boost/test/unit_test.hpp>

#include <sys/stat.h>

#include "common/address/verp.h"
#include "common/address/verp_setup.h"
#include "tests/support/paths.h"
#include "tests/support/process.h"
#include "tests/support/samples.h"
#include "tests/support/site.h"
#include "tests/support/temp_dir.h"

namespace ts = testing_support;

namespace {

struct Site : harness::Site {
    explicit Site(const std::string& extra = "") : harness::Site("sg-cli-", extra) {}
};

}  // namespace

BOOST_AUTO_TEST_SUITE(bounce_cli)

BOOST_AUTO_TEST_CASE(delivery_then_check) {
    Site s;
    auto r = s.bounce(s.verp("bob@example.net"), ts::make_dsn({}));
    BOOST_TEST(r.status.code == 0, r.describe());
    auto c = s.cli({"suppress", "check", "bob@example.net"});
    BOOST_TEST(c.status.code == 0, c.describe());
    c = s.cli({"suppress", "check", "alice@example.net"});
    BOOST_TEST(c.status.code == 1, c.describe());
    c = s.cli({"suppress", "check", "--json", "bob@example.net"});
    BOOST_TEST(c.out.find("\"reason\":\"userunknown\"") != std::string::npos, c.out);
}

BOOST_AUTO_TEST_CASE(transient_failures_exit_75_with_4xx_line) {
    struct Case { std::string what; std::string extra; std::string want_prefix; } cases[] = {
        {"bad parameter", "bounce_soft_threshold = lots\n", "4.3.5 configuration error: "},
        {"unknown parameter", "no_such_thing = 1\n", "4.3.5 configuration error: "},
        {"bad reason expiry", "bounce_reason_expiry = mailboxfull=14d, notareason=3d\n",
         "4.3.5 configuration error: "},
        {"unusable store", "", ""},
    };
    for (auto& c : cases) {
        Site s(c.extra);
        if (c.what == "unusable store") {
            harness::write_file(s.dir.sub("lib"), "a file where the state directory should be");
            auto r = s.bounce(s.verp("bob@example.net"), ts::make_dsn({}));
            BOOST_TEST(r.status.code == 75, c.what << ": " << r.describe());
            BOOST_TEST(r.out.rfind("4.3.0 suppression store: ", 0) == 0, c.what << ": " << r.out);
            continue;
        }
        auto r = s.bounce(s.verp("bob@example.net"), ts::make_dsn({}));
        BOOST_TEST(r.status.code == 75, c.what << ": " << r.describe());
        BOOST_TEST(r.out.rfind(c.want_prefix, 0) == 0, c.what << ": got " << r.out);
        BOOST_TEST(r.out.find("sendguard.conf:") != std::string::npos, c.what << ": no file:line in " << r.out);
    }
}

// A configuration error is logged with the program's ident, where -o
// log_target says (the file's own log_to_stderr is never read).
BOOST_AUTO_TEST_CASE(config_error_is_logged_as_sendguard_bounce) {
    Site s("bounce_soft_threshold = lots\n");
    const std::string log = s.dir.sub("bounce.log");
    auto r = harness::run({.argv = {harness::sendguard_bin("sendguard-bounce"), "-c", s.conf, "-o",
                                    "log_target=file:" + log, "-q", "4XkQ3b7Lq2z", "--", s.verp("bob@example.net")},
                           .stdin_data = ts::make_dsn({})});
    BOOST_TEST(r.status.code == 75, r.describe());
    const std::string text = harness::file_text(log);
    BOOST_TEST(text.find(" sendguard/bounce[") != std::string::npos, text);
    BOOST_TEST(text.find("]: 4XkQ3b7Lq2z: warning: bounce: action=defer") != std::string::npos, text);
    BOOST_TEST(text.find("invalid bounce_soft_threshold") != std::string::npos, text);
    BOOST_TEST(r.err == "", r.err);  // pipe(8)'s status text stays clean
}

BOOST_AUTO_TEST_CASE(unreadable_key_file_and_missing_recipient_defer) {
    Site s;
    std::string to = s.verp("bob@example.net");
    ::chmod(s.keys.c_str(), 0644);  // readable by others: refused
    auto r = s.bounce(to, ts::make_dsn({}));
    BOOST_TEST(r.status.code == 75, r.describe());
    BOOST_TEST(r.out.rfind("4.3.5 VERP key file: ", 0) == 0, r.out);
    auto u = harness::run({.argv = {harness::sendguard_bin("sendguard-bounce"), "-c", s.conf, "-Z"}, .stdin_data = "x"});
    BOOST_TEST(u.status.code == 75, u.describe());
    BOOST_TEST(u.out.rfind("4.3.5 ", 0) == 0, u.out);
}

BOOST_AUTO_TEST_CASE(watchdog_defers_a_stuck_delivery) {
    Site s("bounce_time_limit = 1s\n");
    // stdin never reaches EOF: the watchdog must end the delivery with a
    // deferral long before Postfix's command_time_limit.
    auto t0 = std::chrono::steady_clock::now();
    std::string fifo = s.dir.sub("stdin.fifo");
    BOOST_REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    auto r = harness::run({"sh", "-c", "exec 3<>" + fifo + "; exec " + harness::sendguard_bin("sendguard-bounce") + " -c " +
                                           s.conf + " -- " + s.verp("bob@example.net") + " <&3"},
                          std::chrono::milliseconds(15000));
    auto took = std::chrono::steady_clock::now() - t0;
    BOOST_TEST(r.status.code == 75, r.describe());
    BOOST_TEST(r.out == "4.3.0 sendguard-bounce: time limit exceeded\n", r.out);
    BOOST_TEST(took < std::chrono::seconds(10));
}

BOOST_AUTO_TEST_CASE(ignored_mail_exits_0) {
    Site s;
    auto r = s.bounce(s.verp("bob@example.net"), ts::make_autoreply("x@y", "Out of Office"));
    BOOST_TEST(r.status.code == 0, r.describe());
    r = s.bounce("bounce+garbage@bounces.example.org", ts::make_dsn({}));
    BOOST_TEST(r.status.code == 0, r.describe());
    auto c = s.cli({"suppress", "check", "bob@example.net"});
    BOOST_TEST(c.status.code == 1, "a forged or auto-reply report suppressed bob: " << c.describe());
}

BOOST_AUTO_TEST_CASE(parse_only_prints_one_json_line_per_file) {
    Site s;
    std::string a = s.dir.sub("a.eml"), b = s.dir.sub("b.eml");
    harness::write_file(a, ts::make_dsn({}));
    harness::write_file(b, ts::make_arf("news@example.org", "dave@example.net"));
    auto r = harness::run({.argv = {harness::sendguard_bin("sendguard-bounce"), "-c", s.conf, "--parse-only", "--json"},
                           .stdin_data = a + "\n" + b + "\n"});
    BOOST_TEST(r.ok(), r.describe());
    std::string want_a = "{\"file\":\"" + a + "\",\"is_bounce\":true";
    BOOST_TEST(r.out.find(want_a) == 0, r.out);
    BOOST_TEST(r.out.find("\"class\":\"complaint\"") != std::string::npos, r.out);
    BOOST_TEST(std::count(r.out.begin(), r.out.end(), '\n') == 2);
    auto st = s.cli({"suppress", "stats", "--json"});
    BOOST_TEST(st.out.find("\"total\":0") != std::string::npos, "parse-only wrote to the store: " << st.out);
}

BOOST_AUTO_TEST_CASE(import_export_round_trip) {
    Site s;
    std::string list;
    for (int i = 0; i < 25000; ++i) list += "User" + std::to_string(i) + "@Example.NET\n";
    list += "not an address\n";
    auto r = harness::run({.argv = {harness::sendguard_bin("sendguard"), "-c", s.conf, "suppress", "import"}, .stdin_data = list});
    BOOST_TEST(r.status.code == 1, r.describe());  // one bad line, reported by number
    BOOST_TEST(r.err.find("-:25001: ") != std::string::npos, r.err);
    BOOST_TEST(r.out.find("imported 25000 records") != std::string::npos, r.out);
    auto e = s.cli({"suppress", "export", "--format", "csv"});
    BOOST_TEST(e.ok(), e.describe());
    BOOST_TEST(std::count(e.out.begin(), e.out.end(), '\n') == 25001);
    BOOST_TEST(e.out.find("\nuser42@example.net,true,manual,import,") != std::string::npos);
    // Export -> remove -> import csv restores the record.
    BOOST_TEST(s.cli({"suppress", "remove", "user42@example.net"}).ok());
    BOOST_TEST(s.cli({"suppress", "check", "user42@example.net"}).status.code == 1);
    auto back = harness::run({.argv = {harness::sendguard_bin("sendguard"), "-c", s.conf, "suppress", "import", "--format", "csv"},
                              .stdin_data = e.out});
    BOOST_TEST(back.ok(), back.describe());
    BOOST_TEST(s.cli({"suppress", "check", "user42@example.net"}).status.code == 0);
    // A CSV file without the header line is refused, not half imported.
    auto nohead = harness::run({.argv = {harness::sendguard_bin("sendguard"), "-c", s.conf, "suppress", "import",
                                         "--format", "csv"},
                                .stdin_data = "  # exported last week\nx@example.net,true,hard\n"});
    BOOST_TEST(nohead.status.code == 2, nohead.describe());
    BOOST_TEST(nohead.err.find("-:2: the first CSV line must name the columns") != std::string::npos, nohead.err);
}

BOOST_AUTO_TEST_CASE(import_shows_progress_only_on_a_terminal) {
    if (!harness::have_program("script")) {
        BOOST_TEST_MESSAGE("script(1) not installed: terminal progress not tested");
        return;
    }
    Site s;
    std::string list;
    for (int i = 0; i < 25000; ++i) list += "p" + std::to_string(i) + "@example.net\n";
    harness::write_file(s.dir.sub("list.txt"), list);
    // script(1) gives the command a terminal on stderr; stdin is the file.
    auto tty = harness::run({"script", "-qec",
                             harness::sendguard_bin("sendguard") + " -c " + s.conf + " suppress import " +
                                 s.dir.sub("list.txt"),
                             "/dev/null"});
    BOOST_TEST(tty.ok(), tty.describe());
    BOOST_TEST(tty.out.find("imported 10000 of 10000 lines") != std::string::npos, tty.out);
    BOOST_TEST(tty.out.find("imported 25000 records from 25000 lines") != std::string::npos, tty.out);
    auto pipe = harness::run({.argv = {harness::sendguard_bin("sendguard"), "-c", s.conf, "suppress", "import"},
                              .stdin_data = list});
    BOOST_TEST(pipe.err.find("imported") == std::string::npos, "progress without a terminal: " << pipe.err);
}

BOOST_AUTO_TEST_CASE(root_creates_the_store_for_the_owner_of_state_directory) {
    if (::geteuid() != 0) {
        BOOST_TEST_MESSAGE("not root: ownership hand-over not tested");
        return;
    }
    Site s;
    harness::make_dirs(s.dir.sub("lib"), 0750);
    harness::chown_to(s.dir.sub("lib"), "nobody", true);
    auto r = s.cli({"suppress", "add", "bob@example.net"});
    BOOST_REQUIRE_MESSAGE(r.ok(), r.describe());
    struct stat dir {}, data {}, lock {};
    ::stat(s.dir.sub("lib").c_str(), &dir);
    BOOST_REQUIRE(::stat(s.dir.sub("lib/suppress.lmdb/data.mdb").c_str(), &data) == 0);
    BOOST_REQUIRE(::stat(s.dir.sub("lib/suppress.lmdb/lock.mdb").c_str(), &lock) == 0);
    BOOST_TEST(data.st_uid == dir.st_uid, "data.mdb left to uid " << data.st_uid);
    BOOST_TEST(lock.st_uid == dir.st_uid, "lock.mdb left to uid " << lock.st_uid);
}

BOOST_AUTO_TEST_CASE(config_dump_shows_non_defaults) {
    Site s;
    auto r = s.cli({"config", "-n"});
    BOOST_TEST(r.ok(), r.describe());
    BOOST_TEST(r.out.find("bounce_domains = bounces.example.org\n") != std::string::npos, r.out);
    BOOST_TEST(r.out.find("bounce_soft_threshold") == std::string::npos, r.out);
    auto all = s.cli({"config"});
    BOOST_TEST(all.out.find("bounce_soft_threshold = 3\n") != std::string::npos, all.out);
}

BOOST_AUTO_TEST_SUITE_END()
