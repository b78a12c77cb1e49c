// test_help.cc - every program and subcommand answers --help the same way,
// and every documented option spelling (-c, -o, -O, -v, -f) works
//
// --help and -h: exit 0, the usage on standard output, nothing on standard
// error. -o and -O: an override reaches the program (its effect shows) and
// an unknown name is refused naming it. The real binaries, as installed.
#include <boost/test/unit_test.hpp>

#include <signal.h>

#include <string>
#include <vector>

#include "common/net/socketmap_client.h"
#include "tests/support/net_wait.h"
#include "tests/support/paths.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

using namespace std::chrono_literals;

namespace {

std::string bin(const char* name) {
    return harness::sendguard_bin(name);
}

// A configuration in dir that any of the programs can run with.
std::string write_conf(const harness::TempDir& dir) {
    harness::write_file(dir.sub("verp.keys"), "0123456789abcdef0123456789abcdef\n", 0600);
    const std::string conf = dir.sub("sendguard.conf");
    harness::write_file(conf, "config_directory = " + dir.path() + "\nstate_directory = " +
                                  dir.sub("lib") + "\nrun_directory = " + dir.path() +
                                  "\nbounce_domains = bounces.example.org\npolicyd_user = root\n");
    return conf;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(help_and_options)

BOOST_AUTO_TEST_CASE(every_program_and_subcommand_answers_help) {
    struct Case {
        std::vector<std::string> args;  // after the program path
        std::string program;
        std::string want;  // the start of standard output
    } cases[] = {
        {{"--help"}, "sendguard", "usage: sendguard "},
        {{"-h"}, "sendguard", "usage: sendguard "},
        {{"help"}, "sendguard", "usage: sendguard "},
        {{"config", "--help"}, "sendguard", "usage: sendguard [-c config] [-o name=value] config"},
        {{"config", "-h"}, "sendguard", "usage: sendguard [-c config] [-o name=value] config"},
        {{"suppress", "--help"},
         "sendguard",
         "usage: sendguard [-c config] [-o name=value] suppress"},
        {{"suppress", "check", "--help"},
         "sendguard",
         "usage: sendguard [-c config] [-o name=value] suppress"},
        {{"suppress", "list", "--help"},
         "sendguard",
         "usage: sendguard [-c config] [-o name=value] suppress"},
        {{"suppress", "export", "-h"},
         "sendguard",
         "usage: sendguard [-c config] [-o name=value] suppress"},
        {{"suppress", "add", "--help"},
         "sendguard",
         "usage: sendguard [-c config] [-o name=value] suppress"},
        {{"suppress", "remove", "--help"},
         "sendguard",
         "usage: sendguard [-c config] [-o name=value] suppress"},
        {{"suppress", "import", "--help"},
         "sendguard",
         "usage: sendguard [-c config] [-o name=value] suppress"},
        {{"suppress", "stats", "--help"},
         "sendguard",
         "usage: sendguard [-c config] [-o name=value] suppress"},
        {{"verp", "--help"}, "sendguard", "usage: sendguard [-c config] [-o name=value] verp"},
        {{"verp", "encode", "--help"},
         "sendguard",
         "usage: sendguard [-c config] [-o name=value] verp"},
        {{"verp", "decode", "-h"},
         "sendguard",
         "usage: sendguard [-c config] [-o name=value] verp"},
        {{"doctor", "--help"}, "sendguard", "usage: sendguard [-c config] [-o name=value] doctor"},
        {{"doctor", "customer.example", "-h"}, "sendguard", "usage: sendguard [-c config] [-o name=value] doctor"},
        {{"status", "--help"}, "sendguard", "usage: sendguard [-c config] [-o name=value] status"},
        {{"status", "--json", "-h"}, "sendguard", "usage: sendguard [-c config] [-o name=value] status"},
        {{"backoff", "--help"}, "sendguard", "usage: sendguard [-c config] [-o name=value] backoff clear"},
        {{"backoff", "clear", "gmail", "-h"},
         "sendguard",
         "usage: sendguard [-c config] [-o name=value] backoff clear"},
        {{"--help"}, "sendguard-bounce", "usage: sendguard-bounce "},
        {{"-h"}, "sendguard-bounce", "usage: sendguard-bounce "},
        {{"--parse-only", "--help"}, "sendguard-bounce", "usage: sendguard-bounce "},
        {{"--help"}, "sendguard-policyd", "usage: sendguard-policyd "},
        {{"-h"}, "sendguard-policyd", "usage: sendguard-policyd "},
    };
    for (const auto& c : cases) {
        std::vector<std::string> argv{bin(c.program.c_str())};
        argv.insert(argv.end(), c.args.begin(), c.args.end());
        const auto r = harness::run(argv);
        BOOST_TEST_CONTEXT(c.program << " " << c.args.front() << " ...") {
            BOOST_TEST(r.status.code == 0, r.describe());
            BOOST_TEST(r.out.rfind(c.want, 0) == 0u, "got " << r.out << ", want " << c.want);
            BOOST_TEST(r.err.empty(), r.err);
        }
    }
}

// sendguard and sendguard-bounce: -c names the file, -o and -O override a
// parameter after it (the value shows), an unknown name is refused by name.
BOOST_AUTO_TEST_CASE(cli_and_bounce_take_c_o_and_O) {
    harness::TempDir dir("sg-help-");
    const std::string conf = write_conf(dir);
    for (const char* o : {"-o", "-O"}) {
        BOOST_TEST_CONTEXT("sendguard " << o) {
            auto r = harness::run({bin("sendguard"), "-c", conf, o, "bounce_soft_threshold=7",
                                   "config", "bounce_soft_threshold", "state_directory"});
            BOOST_TEST(r.status.code == 0, r.describe());
            BOOST_TEST(r.out.find("bounce_soft_threshold = 7") != std::string::npos, r.out);
            BOOST_TEST(r.out.find("state_directory = " + dir.sub("lib")) != std::string::npos,
                       r.out);
            auto bad = harness::run(
                {bin("sendguard"), "-c", conf, o, "no_such_parameter=1", "suppress", "stats"});
            BOOST_TEST(bad.status.code != 0, bad.describe());
            BOOST_TEST(bad.err.find("no_such_parameter") != std::string::npos, bad.err);
        }
        BOOST_TEST_CONTEXT("sendguard-bounce " << o) {
            const std::string sample =
                std::string(SENDGUARD_SOURCE_DIR) + "/tests/unit/samples/dsn/aol.eml";
            auto r = harness::run({bin("sendguard-bounce"), "-v", "-c", conf, o,
                                   "bounce_max_recipients=5", "--parse-only", "--json", sample});
            BOOST_TEST(r.status.code == 0, r.describe());
            BOOST_TEST(!r.out.empty(), r.describe());
            auto bad = harness::run({bin("sendguard-bounce"), "-c", conf, o, "no_such_parameter=1",
                                     "--parse-only", sample});
            BOOST_TEST(bad.status.code != 0, bad.describe());
            BOOST_TEST(bad.err.find("no_such_parameter") != std::string::npos, bad.err);
        }
    }
    // -c with a file that is not there names it.
    auto missing =
        harness::run({bin("sendguard"), "-c", dir.sub("nope.conf"), "suppress", "stats"});
    BOOST_TEST(missing.status.code != 0, missing.describe());
    BOOST_TEST(missing.err.find(dir.sub("nope.conf")) != std::string::npos, missing.err);
}

// sendguard-policyd: -c, -o and -O (the reply shows in a lookup), -v (debug
// lines) and -f (the log on standard error), separate and bundled.
BOOST_AUTO_TEST_CASE(policyd_takes_c_o_O_v_and_f) {
    struct Case {
        std::vector<std::string> opts;
        std::string reply;
    } cases[] = {
        {{"-f", "-v", "-o", "policyd_suppressed_reply=550 5.1.1 via -o"}, "550 5.1.1 via -o"},
        {{"-fv", "-O", "policyd_suppressed_reply=550 5.1.1 via -O"}, "550 5.1.1 via -O"},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.opts.front() << " " << c.opts[c.opts.size() - 2]) {
            harness::TempDir dir("sg-help-policyd-");
            const std::string conf = write_conf(dir);
            auto add =
                harness::run({bin("sendguard"), "-c", conf, "suppress", "add", "bob@example.net"});
            BOOST_REQUIRE_MESSAGE(add.ok(), add.describe());
            std::vector<std::string> argv{bin("sendguard-policyd"), "-c", conf};
            argv.insert(argv.end(), c.opts.begin(), c.opts.end());
            harness::Process p({.argv = argv});
            BOOST_REQUIRE_MESSAGE(harness::wait_for_unix(dir.sub("socketmap.sock"), 10s), p.err());
            net::Endpoint ep;
            ep.path = dir.sub("socketmap.sock");
            BOOST_TEST(net::SocketmapClient(ep).query("suppress", "bob@example.net").data ==
                       c.reply);
            // -f: the start line on standard error, not in syslog.
            BOOST_TEST(harness::wait_until(
                           [&] {
                               return p.err().find("policyd: start=sendguard-policyd") !=
                                      std::string::npos;
                           },
                           5s),
                       p.err());
            // -v: debug lines, such as the connection of the lookup above.
            BOOST_TEST(harness::wait_until(
                           [&] { return p.err().find(" connect=") != std::string::npos; }, 5s),
                       p.err());
            auto st = p.stop(10000ms);
            BOOST_TEST(st.ok(), st.str() << " " << p.err());
        }
    }
    for (const char* o : {"-o", "-O"}) {
        harness::TempDir dir("sg-help-policyd-");
        auto bad = harness::run(
            {bin("sendguard-policyd"), "-c", write_conf(dir), o, "no_such_parameter=1"});
        BOOST_TEST(bad.status.code == 1, bad.describe());
        BOOST_TEST(bad.err.find("no_such_parameter") != std::string::npos, bad.err);
        auto syntax = harness::run({bin("sendguard-policyd"), o, "no-equals-sign"});
        BOOST_TEST(syntax.status.code == 64, syntax.describe());
        BOOST_TEST(syntax.err.find("expected name=value") != std::string::npos, syntax.err);
    }
}

BOOST_AUTO_TEST_SUITE_END()
