// test_bounce_transport.cc - sendguard-bounce's command line as pipe(8) and
// an administrator use it
//
// Runs the real binary: which configuration it runs with, what a usage
// error and --help do, what --parse-only prints, that an untrusted queue id
// cannot forge a log line, and that a test run as root leaves nothing behind
// that later runs as the transport user cannot write.
#include <boost/test/unit_test.hpp>

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "common/address/verp.h"
#include "common/address/verp_setup.h"
#include "common/config/config.h"
#include "tests/support/paths.h"
#include "tests/support/process.h"
#include "tests/support/samples.h"
#include "tests/support/site.h"
#include "tests/support/temp_dir.h"

namespace ts = testing_support;

namespace {

struct Site : harness::Site {
    explicit Site(const std::string& extra = "") : harness::Site("sg-bt-", extra) {}
    harness::RunResult bounce(std::vector<std::string> args, const std::string& msg,
                              std::vector<std::string> env = {}) const {
        args.insert(args.begin(), harness::sendguard_bin("sendguard-bounce"));
        return harness::run({.argv = args, .env = std::move(env), .stdin_data = msg});
    }
    harness::RunResult check(const std::string& addr) const { return cli({"suppress", "check", addr}); }
};

bool starts_with(const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; }
bool contains(const std::string& s, const std::string& p) { return s.find(p) != std::string::npos; }

// The .eml files of a quarantine directory (none when it does not exist).
std::vector<std::string> quarantined(const std::string& dir) {
    std::vector<std::string> out;
    std::error_code ec;
    for (auto it = std::filesystem::directory_iterator(dir, ec); !ec && it != std::filesystem::directory_iterator();
         it.increment(ec))
        out.push_back(it->path().string());
    return out;
}

// A signed hard bounce padded past bounce_max_message_size (64k, its
// minimum) by a long returned message.
std::string oversized_report(size_t size) {
    std::string m = ts::make_dsn({});
    m.insert(m.rfind("--sg-boundary-42--"), "X-Padding: " + std::string(size - m.size() - 13, 'p') + "\n\n");
    return m;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(bounce_transport_cli)

BOOST_AUTO_TEST_CASE(a_missing_configuration_defers_and_names_the_file) {
    // Without its configuration the transport knows neither bounce_domains
    // nor verp_key_file and would ignore a validly signed bounce: the bounce
    // would be lost. It must defer until the file is there.
    Site s;
    std::string to = s.verp("bob@example.net");
    std::string missing = s.dir.sub("nosuch.conf");
    struct Case {
        std::string what;
        std::vector<std::string> args;
        std::vector<std::string> env;
        std::string file;
    } cases[] = {
        {"-c names a missing file", {"-c", missing, "-q", "4XkQ3b7Lq2z", "--", to}, {}, missing},
        {"SENDGUARD_CONFIG names a missing file", {"-q", "4XkQ3b7Lq2z", "--", to},
         {"SENDGUARD_CONFIG=" + missing}, missing},
    };
    for (auto& c : cases) {
        auto r = s.bounce(c.args, ts::make_dsn({}), c.env);
        BOOST_TEST(r.status.code == 75, c.what << ": " << r.describe());
        std::string want = "4.3.5 configuration error: cannot read configuration file " + c.file +
                           ": No such file or directory; create it or name another with -c";
        BOOST_TEST(starts_with(r.out, want), c.what << ": got " << r.out << ", want " << want);
    }
    if (!std::filesystem::exists("/etc/sendguard/sendguard.conf")) {
        // No -c, no SENDGUARD_CONFIG and no default file: no defaults either.
        auto r = s.bounce({"-q", "4XkQ3b7Lq2z", "--", to}, ts::make_dsn({}), {"SENDGUARD_CONFIG="});
        BOOST_TEST(r.status.code == 75, r.describe());
        BOOST_TEST(starts_with(r.out, "4.3.5 configuration error: cannot read configuration file "), r.out);
        BOOST_TEST(contains(r.out, "sendguard.conf: No such file or directory"), r.out);
    }
    // The other programs say which file they could not read, and the
    // defaults still print without one.
    auto c = harness::run({harness::sendguard_bin("sendguard"), "-c", missing, "config", "-n"});
    BOOST_TEST(c.status.code != 0, c.describe());
    BOOST_TEST(contains(c.err, "cannot read configuration file " + missing + ": No such file or directory"), c.err);
    auto d = harness::run({.argv = {harness::sendguard_bin("sendguard"), "config", "-d"},
                           .env = {"SENDGUARD_CONFIG=" + missing}});
    BOOST_TEST(d.ok(), d.describe());
    BOOST_TEST(contains(d.out, "bounce_soft_threshold = 3\n"), d.out);
}

BOOST_AUTO_TEST_CASE(help_prints_usage_and_usage_errors_defer) {
    Site s;
    for (const char* opt : {"--help", "-h"}) {
        auto r = s.bounce({opt}, "");
        BOOST_TEST(r.status.code == 0, opt << ": " << r.describe());
        BOOST_TEST(starts_with(r.out, "usage: sendguard-bounce "), opt << ": " << r.out);
        BOOST_TEST(contains(r.out, "--parse-only"), r.out);
    }
    // In a pipe(8) run a mistake in master.cf must not lose the bounce.
    for (std::vector<std::string> args : {std::vector<std::string>{"-c", s.conf, "-Z", "--", "x@y"},
                                          std::vector<std::string>{"-c", s.conf, "--bogus", "--", "x@y"},
                                          std::vector<std::string>{"-c", s.conf, "-q"}}) {
        auto r = s.bounce(args, "x");
        BOOST_TEST(r.status.code == 75, r.describe());
        BOOST_TEST(starts_with(r.out, "4.3.5 sendguard-bounce: "), r.out);
    }
}

BOOST_AUTO_TEST_CASE(parse_only_prints_json_with_json_and_text_without) {
    Site s;
    std::string a = s.dir.sub("a.eml");
    harness::write_file(a, ts::make_dsn({}));
    auto j = s.bounce({"-c", s.conf, "--parse-only", "--json", a}, "");
    BOOST_TEST(j.ok(), j.describe());
    BOOST_TEST(starts_with(j.out, "{\"file\":\"" + a + "\",\"is_bounce\":true"), j.out);
    // --json before --parse-only means the same.
    auto j2 = s.bounce({"-c", s.conf, "--json", "--parse-only", a}, "");
    BOOST_TEST(j2.out == j.out, "got " << j2.out << ", want " << j.out);
    auto t = s.bounce({"-c", s.conf, "--parse-only", a}, "");
    BOOST_TEST(t.ok(), t.describe());
    BOOST_TEST(t.out == a + ": kind=dsn, is_bounce=yes, rcpt=<bob@example.net>, status=5.1.1, "
                            "class=hard, reason=userunknown, action=failed\n",
               t.out);
    // --json without --parse-only is a usage error, not silently ignored.
    auto bad = s.bounce({"-c", s.conf, "--json", "--", "x@y"}, "x");
    BOOST_TEST(bad.status.code == 75, bad.describe());
    BOOST_TEST(starts_with(bad.out, "4.3.5 sendguard-bounce: "), bad.out);
    auto missing = s.bounce({"-c", s.conf, "--parse-only", s.dir.sub("none.eml")}, "");
    BOOST_TEST(missing.status.code == 1, missing.describe());
    BOOST_TEST(contains(missing.out, s.dir.sub("none.eml") + ": error="), missing.out);
}

BOOST_AUTO_TEST_CASE(a_queue_id_cannot_forge_a_log_line) {
    Site s;
    std::string to = s.verp("bob@example.net");
    auto r = s.bounce({"-c", s.conf, "-q", "4XkQ\nNOQUEUE: bounce: rcpt=<x@y>, action=forged", "--", to},
                      ts::make_dsn({}));
    BOOST_TEST(r.status.code == 0, r.describe());
    for (size_t pos = 0; pos < r.err.size();) {
        size_t nl = r.err.find('\n', pos);
        std::string line = r.err.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
        BOOST_TEST(!starts_with(line, "NOQUEUE: bounce: rcpt=<x@y>"), "forged line: " << r.err);
        pos = nl == std::string::npos ? r.err.size() : nl + 1;
    }
    BOOST_TEST(contains(r.err, "invalid queue id"), r.err);
    auto events = harness::file_text(s.dir.sub("lib/events.jsonl"));
    BOOST_TEST(!contains(events, "\\n"), events);
    BOOST_TEST(contains(events, "\"queue_id\":\"4XkQ_NOQUEUE_"), events);
}

BOOST_AUTO_TEST_CASE(a_run_as_root_leaves_files_the_transport_user_can_write) {
    if (::geteuid() != 0) {
        BOOST_TEST_MESSAGE("not root: root runs not tested");
        return;
    }
    Site s;
    ::chmod(s.dir.path().c_str(), 0755);
    harness::make_dirs(s.dir.sub("lib"), 0750);
    harness::chown_to(s.dir.sub("lib"), "nobody", true);
    harness::chown_to(s.keys, "nobody");
    std::string to = s.verp("bob@example.net");
    // A report for our signed address that is no report: quarantined; and
    // a hard bounce: stored. Between them every file the transport creates.
    auto q = s.bounce({"-c", s.conf, "-q", "4XkQ3b7Lq2z", "--", to}, "Subject: hello\n\nhi\n");
    BOOST_TEST(q.status.code == 0, q.describe());
    auto r = s.bounce({"-c", s.conf, "-q", "4XkQ3b7Lq2y", "--", to}, ts::make_dsn({}));
    BOOST_TEST(r.status.code == 0, r.describe());
    struct passwd* nobody = ::getpwnam("nobody");
    BOOST_REQUIRE(nobody);
    std::vector<std::string> paths{s.dir.sub("lib/quarantine"), s.dir.sub("lib/events.jsonl"),
                                   s.dir.sub("lib/suppress.lmdb"), s.dir.sub("lib/suppress.lmdb/data.mdb")};
    for (auto& e : std::filesystem::directory_iterator(s.dir.sub("lib/quarantine"))) paths.push_back(e.path());
    BOOST_TEST(paths.size() > 4u, "nothing quarantined");
    for (const auto& p : paths) {
        struct stat st {};
        BOOST_REQUIRE_MESSAGE(::stat(p.c_str(), &st) == 0, p);
        BOOST_TEST(st.st_uid == nobody->pw_uid, p << " left to uid " << st.st_uid);
    }
    BOOST_TEST(s.check("bob@example.net").ok(), "the root run stored nothing");
}

BOOST_AUTO_TEST_CASE(dash_o_overrides_and_dash_O_still_does) {
    // -o is Postfix's spelling; -O is kept for master.cf files written before.
    for (const char* opt : {"-o", "-O"}) {
        Site s;
        auto r = s.bounce({"-c", s.conf, opt, "bounce_accept_unsigned=yes", "-q", "4XkQ3b7Lq2z", "--",
                           "postmaster@bounces.example.org"},
                          ts::make_dsn({}));
        BOOST_TEST(r.status.code == 0, opt << ": " << r.describe());
        BOOST_TEST(s.check("bob@example.net").ok(), opt << ": the override did not take: " << r.err);
        // The start-up warning, every time it is on.
        BOOST_TEST(contains(r.err, "warning: bounce: bounce_accept_unsigned=yes, risk=anyone who can send mail to "
                                   "the bounce domains can suppress any address"),
                   r.err);
        BOOST_TEST(contains(r.err, "bounce: action=suppress, rcpt=<bob@example.net>, "
                                   "verp=<postmaster@bounces.example.org>, signed=no"),
                   r.err);
    }
    Site quiet;
    auto r = quiet.bounce({"-c", quiet.conf, "-q", "4XkQ3b7Lq2z", "--", quiet.verp("bob@example.net")},
                          ts::make_dsn({}));
    BOOST_TEST(r.status.code == 0, r.describe());
    BOOST_TEST(!contains(r.err, "bounce_accept_unsigned"), "warning while off: " << r.err);
    auto h = quiet.bounce({"-c", quiet.conf, "--parse-only", "--help"}, "");
    BOOST_TEST(h.status.code == 0, h.describe());
    BOOST_TEST(contains(h.out, "[-o name=value]"), h.out);
}

BOOST_AUTO_TEST_CASE(defer_lines_say_what_failed_once_and_end_cleanly) {
    // A state_directory under a regular file: the store cannot be created.
    harness::TempDir d("sg-bt-");
    harness::write_file(d.sub("file"), "x");
    Site s("state_directory = " + d.sub("file") + "/lib\n");
    auto r = s.bounce({"-c", s.conf, "-q", "4XkQ3b7Lq2z", "--", s.verp("bob@example.net")}, ts::make_dsn({}));
    BOOST_TEST(r.status.code == 75, r.describe());
    BOOST_TEST(starts_with(r.out, "4.3.0 suppression store: "), r.out);
    BOOST_TEST(!contains(r.out, "store: store:"), r.out);
    BOOST_TEST(contains(r.out, d.sub("file")), "the path at fault is not named: " << r.out);
    BOOST_TEST((!r.out.empty() && r.out.back() == '\n' && r.out.find('\n') == r.out.size() - 1), r.out);
    BOOST_TEST((r.out.size() > 1 && r.out[r.out.size() - 2] != ' '), "trailing blank: [" << r.out << "]");
    BOOST_TEST(contains(r.err, "warning: bounce: action=defer, rcpt=<>, verp=<" + s.verp("bob@example.net") +
                                   ">, signed=-, status=4.3.0, class=-, reason=-, why=store, detail=suppression store: "),
               r.err);
    // An empty recipient argument: pipe(8) expanded nothing.
    auto e = s.bounce({"-c", s.conf, "-q", "4XkQ3b7Lq2z", "--", ""}, ts::make_dsn({}));
    BOOST_TEST(e.status.code == 75, e.describe());
    BOOST_TEST(e.out == "4.3.5 no recipient argument: check master.cf argv\n", e.out);
}

// A report over bounce_max_message_size is kept whole, however large, and
// the line and the event say how large it was.
BOOST_AUTO_TEST_CASE(an_oversized_report_is_quarantined_whole) {
    Site s("bounce_max_message_size = 64k\n");
    const std::string msg = oversized_report(200000);
    BOOST_REQUIRE_EQUAL(msg.size(), 200000u);
    auto r = s.bounce({"-c", s.conf, "-q", "4XkQ3b7Lq2z", "--", s.verp("bob@example.net")}, msg);
    BOOST_TEST(r.status.code == 0, r.describe());
    auto files = quarantined(s.lib + "/quarantine");
    BOOST_REQUIRE_EQUAL(files.size(), 1u);
    const std::string kept = harness::file_text(files.front());
    BOOST_TEST(kept.size() == msg.size(), "kept " << kept.size() << " bytes of " << msg.size());
    BOOST_TEST((kept == msg), "the quarantined copy differs from the message");
    BOOST_TEST(contains(r.err, "why=too-large, file=" + files.front() + ", size=200000"), r.err);
    BOOST_TEST(contains(harness::file_text(s.lib + "/events.jsonl"), "\"size\":200000"),
               harness::file_text(s.lib + "/events.jsonl"));
    BOOST_TEST(!s.check("bob@example.net").ok(), "an oversized report was acted on");
}

// What the quarantine may not hold is not thrown away: the delivery defers
// (Postfix keeps the report queued, and mailq shows why), the line and the
// event say which limit and the sizes, and nothing is left behind.
BOOST_AUTO_TEST_CASE(a_report_the_quarantine_cannot_hold_defers) {
    struct Case {
        std::string what, extra, msg, reply, detail;
    } cases[] = {
        {"over bounce_quarantine_limit", "bounce_max_message_size = 64k\nbounce_quarantine_limit = 100k\n",
         oversized_report(200000),
         "4.3.4 sendguard-bounce: a report of 200000 bytes does not fit in bounce_quarantine_limit (102400 bytes)",
         "\"size\":200000"},
        {"bounce_quarantine_max_files = 0", "bounce_quarantine_max_files = 0\n", "Subject: hello\n\nhi\n",
         "4.3.1 sendguard-bounce: bounce_quarantine_max_files is 0: no report can be quarantined", "\"size\":19"},
    };
    for (auto& c : cases) {
        Site s(c.extra);
        const std::string to = s.verp("bob@example.net");
        auto r = s.bounce({"-c", s.conf, "-q", "4XkQ3b7Lq2z", "--", to}, c.msg);
        BOOST_TEST(r.status.code == 75, c.what << ": " << r.describe());
        BOOST_TEST(starts_with(r.out, c.reply), c.what << ": got " << r.out << ", want " << c.reply);
        BOOST_TEST(contains(r.err, "warning: bounce: action=defer, rcpt=<bob@example.net>, verp=<" + to +
                                       ">, signed=yes, status=" + c.reply.substr(0, 5)),
                   c.what << ": " << r.err);
        BOOST_TEST(contains(r.err, "why=quarantine-limit"), c.what << ": " << r.err);
        BOOST_TEST(quarantined(s.lib + "/quarantine").empty(), c.what << ": a file was left in the quarantine");
        const std::string ev = harness::file_text(s.lib + "/events.jsonl");
        BOOST_TEST(contains(ev, "\"action\":\"defer\",\"why\":\"quarantine-limit\""), c.what << ": " << ev);
        BOOST_TEST(contains(ev, c.detail), c.what << ": " << ev);
    }
}

// A defer after the return address was decoded names the recipient, as
// every other decision line does.
BOOST_AUTO_TEST_CASE(a_defer_names_the_decoded_recipient) {
    harness::TempDir d("sg-bt-");
    harness::write_file(d.sub("file"), "x");
    Site s("bounce_quarantine_directory = " + d.sub("file") + "/q\n");
    const std::string to = s.verp("bob@example.net");
    auto r = s.bounce({"-c", s.conf, "-q", "4XkQ3b7Lq2z", "--", to}, "Subject: hello\n\nhi\n");
    BOOST_TEST(r.status.code == 75, r.describe());
    BOOST_TEST(contains(r.err, "warning: bounce: action=defer, rcpt=<bob@example.net>, verp=<" + to +
                                   ">, signed=yes, status=4.3.0"),
               r.err);
}

BOOST_AUTO_TEST_SUITE_END()
