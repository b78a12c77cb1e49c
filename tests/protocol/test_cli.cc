// test_cli.cc - sendguard(1) as operators and mailing software run it
//
// Runs the real binary: imports that never weaken a suppression, CSV that a
// spreadsheet can open and save, read-only use by users who may not write
// the store, and signed VERP addresses by hand.
#include <boost/test/unit_test.hpp>

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>

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
    explicit Site(const std::string& extra = "")
        : harness::Site("sg-cli-", extra, "bounces.example.org, bounces.example.com") {}
    harness::RunResult bounce(const std::string& rcpt) const { return harness::Site::bounce(rcpt, ts::make_dsn({})); }
    std::vector<std::string> argv(std::vector<std::string> args) const { return cli_argv(std::move(args)); }
    // As user nobody, group nogroup plus extra_group (if any).
    harness::RunResult as_nobody(std::vector<std::string> args, const std::string& extra_group = "") const {
        std::vector<std::string> a{"setpriv", "--reuid=nobody", "--regid=nogroup"};
        if (extra_group.empty()) a.push_back("--clear-groups");
        else a.push_back("--groups=" + extra_group);
        for (auto& w : argv(std::move(args))) a.push_back(std::move(w));
        return harness::run(a);
    }
};

bool can_switch_users() {
    if (::geteuid() != 0 || !harness::have_program("setpriv")) {
        BOOST_TEST_MESSAGE("not root or no setpriv(1): read-only access as another user not tested");
        return false;
    }
    return true;
}

void chmod_store(const Site& s, mode_t dirs, mode_t files) {
    BOOST_REQUIRE(::chmod(s.lib.c_str(), dirs) == 0);
    BOOST_REQUIRE(::chmod(s.store.c_str(), dirs) == 0);
    BOOST_REQUIRE(::chmod((s.store + "/data.mdb").c_str(), files) == 0);
    BOOST_REQUIRE(::chmod((s.store + "/lock.mdb").c_str(), files) == 0);
}

bool has(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

}  // namespace

BOOST_AUTO_TEST_SUITE(cli)

// ---- import merges (defect 5) -------------------------------------------

BOOST_AUTO_TEST_CASE(plain_import_keeps_a_hard_bounce_and_counts_duplicates) {
    Site s;
    BOOST_REQUIRE(s.bounce(s.codec().encode(*address::parse_mailbox("bob@example.net"), {})->address).ok());
    auto before = s.cli({"suppress", "check", "--json", "bob@example.net"});
    BOOST_REQUIRE_MESSAGE(has(before.out, "\"class\":\"hard\""), before.describe() << before.out);

    auto r = s.cli({"suppress", "import"}, "bob@example.net\ncarol@example.net\nCarol@Example.NET\nbob@example.net\n");
    BOOST_TEST(r.ok(), r.describe());
    BOOST_TEST(r.out == "imported 1 records from 4 lines: 1 added, 0 merged, 1 unchanged, 2 duplicates, 0 rejected\n",
               "got " << r.out);
    auto after = s.cli({"suppress", "check", "--json", "bob@example.net"});
    BOOST_TEST(after.out == before.out, "a plain import changed the hard bounce:\n" << before.out << after.out);

    auto j = s.cli({"suppress", "import", "--json"}, "dave@example.net\n");
    BOOST_TEST(j.out == "{\"lines\":1,\"imported\":1,\"added\":1,\"merged\":0,\"replaced\":0,\"unchanged\":0,"
                        "\"duplicates\":0,\"rejected\":0}\n", j.out);
}

BOOST_AUTO_TEST_CASE(csv_row_cannot_lift_a_suppression_unless_replace) {
    Site s;
    BOOST_REQUIRE(s.bounce(s.codec().encode(*address::parse_mailbox("bob@example.net"), {})->address).ok());
    const std::string lift = "address,suppressed,class,reason\nbob@example.net,false,hard,userunknown\n";
    auto r = s.cli({"suppress", "import", "--format", "csv"}, lift);
    BOOST_TEST(r.ok(), r.describe());
    BOOST_TEST(has(r.out, "0 added, 0 merged, 1 unchanged"), r.out);
    BOOST_TEST(s.cli({"suppress", "check", "bob@example.net"}).status.code == 0, "a CSV row lifted a hard bounce");

    // A stronger row wins the class but keeps the bounce's count.
    auto up = s.cli({"suppress", "import", "--format", "csv"},
                    "address,suppressed,class,reason,evidence\nbob@example.net,true,complaint,abuse,FBL9\n");
    BOOST_TEST(has(up.out, "0 added, 1 merged, 0 unchanged"), up.out);
    auto j = s.cli({"suppress", "check", "--json", "bob@example.net"});
    BOOST_TEST(has(j.out, "\"class\":\"complaint\""), j.out);
    BOOST_TEST(has(j.out, "\"evidence\":\"FBL9\""), j.out);

    auto rep = s.cli({"suppress", "import", "--format", "csv", "--replace"}, lift);
    BOOST_TEST(rep.ok(), rep.describe());
    BOOST_TEST(has(rep.out, "0 added, 1 replaced, 0 unchanged"), rep.out);
    BOOST_TEST(s.cli({"suppress", "check", "bob@example.net"}).status.code == 1, "--replace must lift");
}

BOOST_AUTO_TEST_CASE(import_lines_are_bounded) {
    Site s;
    auto r = s.cli({"suppress", "import"}, "a@example.net\n" + std::string(70000, 'x') + "@example.net\nb@example.net\n");
    BOOST_TEST(r.status.code == 1, r.describe());
    BOOST_TEST(has(r.err, "sendguard: -:2: record longer than 65536 bytes"), r.err);
    BOOST_TEST(has(r.out, "imported 2 records from 3 lines"), r.out);
    // A quoted field left open runs into the limit or the end of input, not
    // into memory.
    auto open = s.cli({"suppress", "import", "--format", "csv"}, "address,class\n\"c@example.net,hard\nd@example.net,hard\n");
    BOOST_TEST(open.status.code == 1, open.describe());
    BOOST_TEST(has(open.err, "sendguard: -:2: unterminated quoted field"), open.err);
}

// ---- CSV from and for spreadsheets (defects 3 and 6) --------------------

BOOST_AUTO_TEST_CASE(csv_export_protects_every_text_column_and_round_trips) {
    Site s;
    const std::string in =
        "address,suppressed,class,reason,status,source,first_seen,last_seen,count,expiry,remote_mta,diagnostic,"
        "evidence\n"
        "=1+2@example.com,true,hard,userunknown,5.1.1,dsn,100,200,3,0,-mx.example,\"+550 line one\nline two\",@Q1\n"
        "@example.org,true,hard,hostunknown,5.1.2,dsn,100,200,1,0,,,\n"
        "'bob@example.com,true,manual,operator,,manual,100,100,1,0,,,\n";
    auto r = s.cli({"suppress", "import", "--format", "csv"}, in);
    BOOST_REQUIRE_MESSAGE(r.ok(), r.describe() << r.out);
    auto e = s.cli({"suppress", "export", "--format", "csv"});
    BOOST_REQUIRE(e.ok());
    BOOST_TEST(has(e.out, "\n'=1+2@example.com,true,hard,"), e.out);
    BOOST_TEST(has(e.out, "\n'@example.org,true,hard,"), e.out);
    BOOST_TEST(has(e.out, "\n''bob@example.com,true,manual,"), e.out);
    BOOST_TEST(has(e.out, ",'-mx.example,\"'+550 line one\nline two\",'@Q1,1970-01-01T00:01:40Z,1970-01-01T00:03:20Z,,,\n"),
               e.out);

    // Into a fresh store and out again: the same bytes.
    Site t;
    auto back = t.cli({"suppress", "import", "--format", "csv"}, e.out);
    BOOST_TEST(back.ok(), back.describe());
    BOOST_TEST(has(back.out, "imported 3 records from 5 lines: 3 added"), back.out);
    BOOST_TEST(t.cli({"suppress", "export", "--format", "csv"}).out == e.out);
    BOOST_TEST(t.cli({"suppress", "check", "'bob@example.com"}).status.code == 0);
}

// A rejected line says what is wrong and what to write instead.
BOOST_AUTO_TEST_CASE(a_rejected_import_line_says_what_to_do) {
    Site s;
    auto r = s.cli({"suppress", "import"}, "address,class\nbob@example.net,hard\nnot an address\n");
    BOOST_TEST(r.status.code == 1, r.describe());
    BOOST_TEST(has(r.err, "sendguard: -:1: address,class: not an address or @domain (syntax); write local@domain "
                          "or @domain (a CSV file? import it with --format csv)"), r.err);
    BOOST_TEST(has(r.err, "sendguard: -:3: not an address: not an address or @domain"), r.err);
    BOOST_TEST(!has(r.err, "-:3: not an address: not an address or @domain (syntax); write local@domain or "
                           "@domain (a CSV"), r.err);
}

// Rejected lines are echoed without the file's control characters, and at
// most 100 of them; the summary still counts them all.
BOOST_AUTO_TEST_CASE(rejected_lines_are_echoed_cleaned_and_capped) {
    Site s;
    std::string in;
    for (int i = 0; i < 150; ++i) in += "bad\x1b[2J line " + std::to_string(i) + "\n";
    auto r = s.cli({"suppress", "import"}, in);
    BOOST_TEST(r.status.code == 1, r.describe());
    BOOST_TEST(!has(r.err, "\x1b"), r.err);
    BOOST_TEST(has(r.err, "-:1: bad?[2J line 0"), r.err);
    BOOST_TEST(has(r.err, "-:100: bad?[2J line 99"), r.err);
    BOOST_TEST(!has(r.err, "-:101:"), r.err);
    BOOST_TEST(has(r.err, "more rejected lines not shown"), r.err);
    BOOST_TEST(has(r.out, "150 rejected"), r.out);
}

// A local part may start with '-' (RFC 5321 atext): such an address is a
// word, not an option, and "--" ends the options as in every other tool.
BOOST_AUTO_TEST_CASE(an_address_starting_with_a_dash_is_not_an_option) {
    Site s;
    auto add = s.cli({"suppress", "add", "-x@example.com", "--", "--y@example.com"});
    BOOST_TEST(add.ok(), add.describe() << add.err);
    BOOST_TEST(s.cli({"suppress", "check", "-x@example.com"}).status.code == 0);
    BOOST_TEST(s.cli({"suppress", "check", "--", "--y@example.com"}).status.code == 0);
    auto rm = s.cli({"suppress", "remove", "--", "-x@example.com"});
    BOOST_TEST(rm.ok(), rm.describe() << rm.err);
    BOOST_TEST(s.cli({"suppress", "check", "-x@example.com"}).status.code == 1);
    auto bad = s.cli({"suppress", "check", "-x"});
    BOOST_TEST(bad.status.code == 2, bad.describe());
    BOOST_TEST(has(bad.err, "unknown option -x"), bad.err);
}

BOOST_AUTO_TEST_CASE(byte_order_mark_and_crlf_in_every_format) {
    const std::string bom = "\xEF\xBB\xBF";
    struct Case { std::string format, text; } cases[] = {
        {"plain", bom + "bob@example.net\r\ncarol@example.net\r\n"},
        {"csv", bom + "address,class\r\nbob@example.net,hard\r\ncarol@example.net,hard\r\n"},
        {"json", bom + "{\"address\":\"bob@example.net\"}\r\n{\"address\":\"carol@example.net\"}\r\n"},
    };
    for (auto& c : cases) {
        Site s;
        auto r = s.cli({"suppress", "import", "--format", c.format}, c.text);
        BOOST_TEST(r.ok(), c.format << ": " << r.describe() << r.out);
        BOOST_TEST(has(r.out, "imported 2 records"), c.format << ": " << r.out);
        BOOST_TEST(s.cli({"suppress", "check", "bob@example.net", "carol@example.net"}).ok(), c.format);
        auto e = s.cli({"suppress", "export", "--format", "csv"});
        BOOST_TEST(!has(e.out, bom), c.format << ": the mark went into a key");
        BOOST_TEST(!has(e.out, "\r"), c.format << ": a CR went into a record");
    }
}

// ---- read-only use (defect 7) -------------------------------------------

BOOST_AUTO_TEST_CASE(a_user_who_can_only_read_checks_lists_and_decodes) {
    if (!can_switch_users()) return;
    Site s;
    BOOST_REQUIRE(s.cli({"suppress", "add", "bob@example.net"}).ok());
    chmod_store(s, 0755, 0644);
    harness::chown_to(s.keys, "nobody");
    for (std::vector<std::string> args : {std::vector<std::string>{"suppress", "check", "bob@example.net"},
                                          {"suppress", "list", "--format", "csv"},
                                          {"suppress", "export"},
                                          {"suppress", "stats", "--json"}}) {
        auto r = s.as_nobody(args);
        BOOST_TEST(r.ok(), r.describe());
        BOOST_TEST(has(r.err, "lock.mdb is not writable"), "no warning about reading without locks: " << r.err);
    }
    BOOST_TEST(has(s.as_nobody({"suppress", "list"}).out, "\"address\":\"bob@example.net\""));
    std::string tag = s.codec().encode(*address::parse_mailbox("carol@example.net"), {})->address;
    auto d = s.as_nobody({"verp", "decode", tag});
    BOOST_TEST(d.ok(), d.describe());
    BOOST_TEST(d.out == tag + ": valid, recipient=carol@example.net, age=0d\n", d.out);
    auto w = s.as_nobody({"suppress", "add", "carol@example.net"});
    BOOST_TEST(w.status.code == 3, "a write as nobody: " << w.describe());
}

BOOST_AUTO_TEST_CASE(a_reader_in_the_store_group_reads_with_locks) {
    if (!can_switch_users()) return;
    Site s;
    BOOST_REQUIRE(s.cli({"suppress", "add", "bob@example.net"}).ok());
    for (const std::string& p : {s.lib, s.store, s.store + "/data.mdb", s.store + "/lock.mdb"})
        BOOST_REQUIRE(::chown(p.c_str(), 0, 8) == 0);  // group mail
    chmod_store(s, 0750, 0660);
    auto r = s.as_nobody({"suppress", "check", "bob@example.net"}, "8");
    BOOST_TEST(r.ok(), r.describe());
    BOOST_TEST(r.err.empty(), r.err);
}

BOOST_AUTO_TEST_CASE(unreadable_store_says_what_failed) {
    if (!can_switch_users()) return;
    Site s;
    BOOST_REQUIRE(s.cli({"suppress", "add", "bob@example.net"}).ok());
    for (mode_t dirs : {mode_t(0755), mode_t(0700)}) {
        chmod_store(s, dirs, 0600);
        auto r = s.as_nobody({"suppress", "check", "bob@example.net"});
        BOOST_TEST(r.status.code == 3, r.describe());
        BOOST_TEST(has(r.err, "sendguard: cannot open suppression store " + s.store + ": Permission denied"), r.err);
        BOOST_TEST(!has(r.err, "mkdir"), r.err);
    }
}

// A writer who owns state_directory and still cannot write is told what
// stands in the way (a file's mode, its owner), not to become that owner.
BOOST_AUTO_TEST_CASE(a_write_the_store_refuses_says_what_is_wrong) {
    if (!can_switch_users()) return;
    Site s;
    BOOST_REQUIRE(s.cli({"suppress", "add", "bob@example.net"}).ok());
    harness::chown_to(s.keys, "nobody");
    for (const std::string& p : {s.lib, s.store, s.store + "/data.mdb", s.store + "/lock.mdb"})
        harness::chown_to(p, "nobody");
    struct Case {
        std::string what, file;
        mode_t mode;
        std::string want;
    } cases[] = {
        {"data.mdb read-only", s.store + "/data.mdb", 0440, s.store + "/data.mdb has mode 0440"},
        {"lock.mdb read-only", s.store + "/lock.mdb", 0440, s.store + "/lock.mdb has mode 0440"},
        {"directory read-only", s.store, 0550, s.store + " has mode 0550"},
    };
    for (auto& c : cases) {
        chmod_store(s, 0750, 0660);
        BOOST_REQUIRE(::chmod(c.file.c_str(), c.mode) == 0);
        // lock.mdb is gone when the directory may not be written: LMDB must create it.
        if (c.file == s.store) ::unlink((s.store + "/lock.mdb").c_str());
        auto w = s.as_nobody({"suppress", "add", "carol@example.net"});
        BOOST_TEST(w.status.code == 3, c.what << ": " << w.describe());
        BOOST_TEST(!has(w.err, "run as the owner of state_directory"), c.what << ": " << w.err);
        BOOST_TEST(has(w.err, c.want), c.what << ": got " << w.err << ", want " << c.want);
    }
    BOOST_REQUIRE(::chmod(s.store.c_str(), 0750) == 0);
    BOOST_REQUIRE(s.cli({"suppress", "add", "dave@example.net"}).ok());  // lock.mdb again
    chmod_store(s, 0750, 0660);
    harness::chown_to(s.store + "/data.mdb", "root");
    ::chmod((s.store + "/data.mdb").c_str(), 0644);
    auto o = s.as_nobody({"suppress", "add", "carol@example.net"});
    BOOST_TEST(o.status.code == 3, o.describe());
    BOOST_TEST(has(o.err, s.store + "/data.mdb is owned by root, not by nobody"), o.err);
}

BOOST_AUTO_TEST_CASE(a_store_not_created_yet_is_empty_and_stays_uncreated) {
    Site s;
    std::function<harness::RunResult(std::vector<std::string>)> run = [&](std::vector<std::string> a) {
        return ::geteuid() == 0 && harness::have_program("setpriv") ? s.as_nobody(a) : s.cli(a);
    };
    auto c = run({"suppress", "check", "bob@example.net"});
    BOOST_TEST(c.status.code == 1, c.describe());
    BOOST_TEST(c.out == "bob@example.net: not suppressed\n", c.out);
    BOOST_TEST(has(c.err, "no suppression store in " + s.lib + " yet"), c.err);
    auto l = run({"suppress", "list", "--format", "csv"});
    BOOST_TEST(l.ok(), l.describe());
    BOOST_TEST(std::count(l.out.begin(), l.out.end(), '\n') == 1, "only the header: " << l.out);
    auto st = run({"suppress", "stats", "--json"});
    BOOST_TEST(has(st.out, "\"total\":0"), st.describe() << st.out);
    struct stat sb {};
    BOOST_TEST(::stat(s.lib.c_str(), &sb) != 0, "a read created " << s.lib);
}

BOOST_AUTO_TEST_CASE(read_only_mount) {
    if (::geteuid() != 0 || !harness::have_program("unshare")) {
        BOOST_TEST_MESSAGE("not root or no unshare(1): read-only mount not tested");
        return;
    }
    Site s;
    BOOST_REQUIRE(s.cli({"suppress", "add", "bob@example.net"}).ok());
    std::string cmd = "mount --bind " + s.lib + " " + s.lib + " && mount -o remount,bind,ro " + s.lib +
                      " || exit 77; exec " + harness::join_argv(s.argv({"suppress", "check", "bob@example.net"}));
    auto r = harness::run({"unshare", "-m", "--propagation", "private", "sh", "-c", cmd});
    if (r.status.code == 77 || has(r.err, "unshare failed")) {
        BOOST_TEST_MESSAGE("no private read-only bind mount here: " << r.err);
        return;
    }
    BOOST_TEST(r.ok(), r.describe());
    BOOST_TEST(has(r.err, "lock.mdb is not writable"), r.err);
    // A write there names the mount, not the owner.
    std::string add = "mount --bind " + s.lib + " " + s.lib + " && mount -o remount,bind,ro " + s.lib +
                      " || exit 77; exec " + harness::join_argv(s.argv({"suppress", "add", "carol@example.net"}));
    auto w = harness::run({"unshare", "-m", "--propagation", "private", "sh", "-c", add});
    BOOST_TEST(w.status.code == 3, w.describe());
    BOOST_TEST(has(w.err, "is on a read-only file system"), w.err);
    BOOST_TEST(!has(w.err, "run as the owner"), w.err);
}

// ---- verp encode / decode -----------------------------------------------

BOOST_AUTO_TEST_CASE(verp_encode_then_decode) {
    Site s;
    auto e = s.cli({"verp", "encode", "Bob.O'Neil@Example.NET"});
    BOOST_REQUIRE_MESSAGE(e.ok(), e.describe());
    const std::string tag = e.out.substr(0, e.out.size() - 1);
    BOOST_TEST(tag.ends_with("@bounces.example.org"), tag);
    auto d = s.cli({"verp", "decode", tag});
    BOOST_TEST(d.ok(), d.describe());
    BOOST_TEST(d.out == tag + ": valid, recipient=bob.o'neil@example.net, age=0d\n", d.out);
    auto j = s.cli({"verp", "decode", "--json", "<" + tag + ">"});
    BOOST_TEST(j.out == "{\"address\":\"<" + tag + ">\",\"status\":\"valid\",\"bounce_domain\":\"bounces.example.org\","
                        "\"form\":\"recipient\",\"recipient\":\"bob.o'neil@example.net\",\"age_days\":0}\n", j.out);
    auto je = s.cli({"verp", "encode", "--json", "bob@example.net"});
    BOOST_TEST(has(je.out, "{\"recipient\":\"bob@example.net\",\"address\":\"bounce+r"), je.out);
    BOOST_TEST(has(je.out, "\"form\":\"recipient\"}"), je.out);
}

BOOST_AUTO_TEST_CASE(verp_decode_statuses_and_exit_codes) {
    Site s;
    const auto rcpt = *address::parse_mailbox("bob@example.net");
    const std::string good = s.codec().encode(rcpt, {})->address;
    const auto today = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
    const std::string old = s.codec().encode(rcpt, {}, today - std::chrono::days(61))->address;
    // verp_max_age is 60d by default.
    std::string forged = good;
    forged[good.find('+') + 5] = forged[good.find('+') + 5] == 'a' ? 'b' : 'a';  // inside the MAC
    const std::string truncated = good.substr(0, good.find('+') + 6) + "@bounces.example.org";
    struct Case { std::string address, want; int code; } cases[] = {
        {good, good + ": valid, recipient=bob@example.net, age=0d\n", 0},
        {old, old + ": expired, recipient=bob@example.net, age=61d\n", 1},
        {forged, forged + ": forged\n", 1},
        {truncated, truncated + ": truncated\n", 1},
        {"bob@example.net", "bob@example.net: not-verp\n", 1},
    };
    for (auto& c : cases) {
        auto r = s.cli({"verp", "decode", c.address});
        BOOST_TEST(r.status.code == c.code, c.address << ": " << r.describe());
        BOOST_TEST(r.out == c.want, "got " << r.out << "want " << c.want);
    }
    auto two = s.cli({"verp", "decode", good, forged});
    BOOST_TEST(two.status.code == 1, "one bad tag among several: " << two.describe());
}

BOOST_AUTO_TEST_CASE(verp_tokens_go_through_the_send_log) {
    Site s;
    const std::string longest(60, 'a');
    auto e = s.cli({"verp", "encode", "--json", longest + "@example.net"});
    BOOST_REQUIRE_MESSAGE(e.ok(), e.describe());
    BOOST_TEST(has(e.out, "\"form\":\"token\""), e.out);
    const size_t a = e.out.find("\"address\":\"") + 11;
    const std::string tag = e.out.substr(a, e.out.find('"', a) - a);
    auto d = s.cli({"verp", "decode", tag});
    BOOST_TEST(d.ok(), d.describe());
    BOOST_TEST(has(d.out, ": valid, token="), d.out);
    BOOST_TEST(has(d.out, ", recipient=" + longest + "@example.net (send log)"), d.out);
    // A signed token nobody recorded names no recipient.
    const address::VerpConfig vc = address::verp_config(config::Config::defaults(), "bounces.example.org");
    address::VerpCodec c(vc, address::VerpKeys::load_file(s.keys));
    const std::string unknown = c.encode(*address::parse_mailbox(longest + "@example.net"),
                                         [] { return std::string("nosuchtoken"); })->address;
    auto u = s.cli({"verp", "decode", unknown});
    BOOST_TEST(u.status.code == 1, u.describe());
    BOOST_TEST(has(u.out, ": valid, token=nosuchtoken, recipient unknown (token not in the send log)"), u.out);
}

BOOST_AUTO_TEST_CASE(verp_errors_name_what_is_at_fault) {
    Site s;
    ::chmod(s.keys.c_str(), 0644);
    auto k = s.cli({"verp", "decode", "bounce+x@bounces.example.org"});
    BOOST_TEST(k.status.code == 3, k.describe());
    BOOST_TEST(has(k.err, "sendguard: verp_key_file " + s.keys + ": refusing a key file"), k.err);
    ::chmod(s.keys.c_str(), 0600);
    auto bad = s.cli({"verp", "encode", "not an address"});
    BOOST_TEST(bad.status.code == 2, bad.describe());
    BOOST_TEST(has(bad.err, "sendguard: verp encode: not an address: "), bad.err);
    Site none("bounce_domains =\n");
    auto n = none.cli({"verp", "encode", "bob@example.net"});
    BOOST_TEST(n.status.code == 3, n.describe());
    BOOST_TEST(has(n.err, "bounce_domains is empty"), n.err);
    // The default, bounces.*, names no domain to sign with.
    Site patterns("bounce_domains = bounces.*\n");
    auto p = patterns.cli({"verp", "encode", "bob@example.net"});
    BOOST_TEST(p.status.code == 3, p.describe());
    BOOST_TEST(has(p.err, "lists only LABEL.* patterns; add a bounce domain to sign with"), p.err);
    // Decoding needs no domain of its own: an address on any domain the
    // patterns match is decoded with that domain's codec.
    const address::VerpConfig vc = address::verp_config(config::Config::defaults(), "bounces.customer.example");
    address::VerpCodec c(vc, address::VerpKeys::load_file(patterns.keys));
    const std::string made = c.encode(*address::parse_mailbox("gone@example.net"), {})->address;
    auto d = patterns.cli({"verp", "decode", made});
    BOOST_TEST(d.ok(), d.describe());
    BOOST_TEST(has(d.out, made + ": valid, recipient=gone@example.net"), d.out);
    auto other = patterns.cli({"verp", "decode", "bounce+x@elsewhere.example"});
    BOOST_TEST(other.status.code == 1, other.describe());
    BOOST_TEST(has(other.out, ": not-verp"), other.out);
}

BOOST_AUTO_TEST_CASE(help_exits_0) {
    Site s;
    for (std::vector<std::string> args : {std::vector<std::string>{"-h"}, {"--help"}, {"suppress", "--help"},
                                          {"suppress", "import", "-h"}, {"verp", "-h"}, {"config", "--help"}}) {
        auto r = harness::run([&] {
            std::vector<std::string> a{harness::sendguard_bin("sendguard")};
            a.insert(a.end(), args.begin(), args.end());
            return a;
        }());
        BOOST_TEST(r.ok(), r.describe());
        BOOST_TEST(r.out.rfind("usage: sendguard", 0) == 0, r.out);
    }
    BOOST_TEST(harness::run({harness::sendguard_bin("sendguard"), "nonsense"}).status.code == 2);
}

BOOST_AUTO_TEST_CASE(config_names_print_like_postconf) {
    Site s("bounce_soft_threshold = 5\nbounce_event_log = $state_directory/ev.jsonl\n");
    const std::string ev_raw = "bounce_event_log = $state_directory/ev.jsonl\n";
    const std::string ev_x = "bounce_event_log = " + s.lib + "/ev.jsonl\n";
    struct Case { std::string what; std::vector<std::string> args; int code; std::string out; } cases[] = {
        {"names in the order given", {"config", "bounce_soft_threshold", "bounce_domains"}, 0,
         "bounce_soft_threshold = 5\nbounce_domains = bounces.example.org, bounces.example.com\n"},
        {"as written", {"config", "bounce_event_log"}, 0, ev_raw},
        {"-x expands", {"config", "-x", "bounce_event_log"}, 0, ev_x},
        {"-d: the default", {"config", "-d", "bounce_soft_threshold"}, 0, "bounce_soft_threshold = 3\n"},
        {"-d -x", {"config", "-d", "-x", "bounce_quarantine_directory"}, 0,
         "bounce_quarantine_directory = /var/lib/sendguard/quarantine\n"},
        {"-n: set", {"config", "-n", "bounce_soft_threshold"}, 0, "bounce_soft_threshold = 5\n"},
        {"-n: at its default prints nothing", {"config", "-n", "bounce_soft_window"}, 0, ""},
        {"-n -x", {"config", "-n", "-x", "bounce_event_log"}, 0, ev_x},
        {"empty value", {"config", "bounce_local_mta_names"}, 0, "bounce_local_mta_names =\n"},
        {"-o wins", {"-o", "bounce_soft_threshold=7", "config", "bounce_soft_threshold"}, 0,
         "bounce_soft_threshold = 7\n"},
        {"-O still works", {"-O", "bounce_soft_threshold=8", "config", "bounce_soft_threshold"}, 0,
         "bounce_soft_threshold = 8\n"},
        {"unknown name", {"config", "bounce_soft_treshold", "bounce_soft_threshold"}, 2, "bounce_soft_threshold = 5\n"},
    };
    for (auto& c : cases) {
        auto r = s.cli(c.args);
        BOOST_TEST(r.status.code == c.code, c.what << ": " << r.describe());
        BOOST_TEST(r.out == c.out, c.what << ": got [" << r.out << "], want [" << c.out << "]");
    }
    auto u = s.cli({"config", "bounce_soft_treshold"});
    BOOST_TEST(u.status.code == 2, u.describe());
    BOOST_TEST(has(u.err, "sendguard: config: unknown parameter: bounce_soft_treshold "
                          "(did you mean bounce_soft_threshold?)\n"),
               u.err);
    auto far = s.cli({"config", "-d", "completely_unrelated_thing"});
    BOOST_TEST(far.status.code == 2, far.describe());
    BOOST_TEST(has(far.err, "unknown parameter: completely_unrelated_thing"), far.err);
}

BOOST_AUTO_TEST_CASE(changes_leave_an_audit_trail) {
    Site s;
    const struct passwd* pw = ::getpwuid(::getuid());
    BOOST_REQUIRE(pw);
    const std::string who = "uid=" + std::to_string(::getuid()) + ", user=" + pw->pw_name;
    auto a = s.cli({"suppress", "add", "--reason", "asked", "--expires", "30d", "bob@example.net"});
    BOOST_TEST(a.ok(), a.describe());
    BOOST_TEST(has(a.err, "sendguard/cli: suppress: action=add, address=<bob@example.net>, " + who +
                              ", class=manual, reason=asked, expires=20"),
               a.err);
    auto r = s.cli({"suppress", "remove", "bob@example.net", "nobody@example.net"});
    BOOST_TEST(r.status.code == 1, r.describe());
    BOOST_TEST(has(r.err, "sendguard/cli: suppress: action=remove, address=<bob@example.net>, " + who + ", result=removed\n"),
               r.err);
    BOOST_TEST(has(r.err, "sendguard/cli: suppress: action=remove, address=<nobody@example.net>, " + who +
                              ", result=absent\n"),
               r.err);
    std::string file = s.dir.sub("list.txt");
    harness::write_file(file, "a@example.net\nb@example.net\na@example.net\nnot an address\n");
    auto i = s.cli({"suppress", "import", file});
    BOOST_TEST(i.status.code == 1, i.describe());
    BOOST_TEST(has(i.err, "sendguard/cli: suppress: action=import, file=" + file + ", " + who +
                              ", format=plain, mode=merge, lines=4, added=2, merged=0, unchanged=0, "
                              "duplicates=1, rejected=1, result=done\n"),
               i.err);
    // One line per import, not per address.
    size_t n = 0;
    for (size_t p = 0; (p = i.err.find("action=import", p)) != std::string::npos; ++p) ++n;
    BOOST_TEST(n == 1u, i.err);
    // Readers change nothing and log nothing.
    auto c = s.cli({"suppress", "check", "a@example.net"});
    BOOST_TEST(!has(c.err, "suppress: action="), c.err);
}

BOOST_AUTO_TEST_CASE(list_and_export_give_iso_times_and_import_reads_either) {
    Site s;
    // An export with only ISO times, as a person or another tool writes it.
    const std::string csv = "address,class,reason,first_seen_iso,last_seen_iso,expiry_iso\n"
                            "bob@example.net,hard,userunknown,2026-01-02T03:04:05Z,2026-01-03T00:00:00Z,\n";
    auto r = s.cli({"suppress", "import", "--format", "csv"}, csv);
    BOOST_REQUIRE_MESSAGE(r.ok(), r.describe());
    const std::string json = "{\"address\":\"carol@example.net\",\"class\":\"hard\",\"first_seen_iso\":"
                             "\"2026-01-02T03:04:05Z\",\"last_seen\":1767312000,\"expiry_iso\":\"2999-01-01T00:00:00Z\"}\n";
    r = s.cli({"suppress", "import", "--format", "json"}, json);
    BOOST_REQUIRE_MESSAGE(r.ok(), r.describe());
    auto l = s.cli({"suppress", "list"});
    BOOST_TEST(l.ok(), l.describe());
    BOOST_TEST(has(l.out, "\"address\":\"bob@example.net\""), l.out);
    BOOST_TEST(has(l.out, "\"first_seen\":1767323045,"), l.out);
    BOOST_TEST(has(l.out, "\"first_seen_iso\":\"2026-01-02T03:04:05Z\",\"last_seen_iso\":\"2026-01-03T00:00:00Z\","
                          "\"expiry_iso\":\"\",\"message_id\":\"\",\"headers\":{}}"),
               l.out);
    BOOST_TEST(has(l.out, "\"expiry_iso\":\"2999-01-01T00:00:00Z\""), l.out);
    auto e = s.cli({"suppress", "export", "--format", "csv"});
    BOOST_TEST(has(e.out, ",evidence,first_seen_iso,last_seen_iso,expiry_iso,message_id,headers\n"), e.out);
    BOOST_TEST(has(e.out, ",2026-01-02T03:04:05Z,2026-01-03T00:00:00Z,,,\n"), e.out);
    // Both formats round-trip through a fresh store byte for byte.
    for (const char* fmt : {"csv", "json"}) {
        auto out = s.cli({"suppress", "export", "--format", fmt});
        Site t;
        auto back = t.cli({"suppress", "import", "--format", fmt}, out.out);
        BOOST_TEST(back.ok(), fmt << ": " << back.describe());
        auto again = t.cli({"suppress", "export", "--format", fmt});
        BOOST_TEST(again.out == out.out, fmt << ": got " << again.out << ", want " << out.out);
    }
    // A bad ISO time is refused, naming the column.
    auto bad = s.cli({"suppress", "import", "--format", "csv"},
                     "address,first_seen_iso\nx@example.net,2026-13-01T00:00:00Z\n");
    BOOST_TEST(bad.status.code == 1, bad.describe());
    BOOST_TEST(has(bad.err, "-:2: bad value in column first_seen_iso: 2026-13-01T00:00:00Z"), bad.err);
}

BOOST_AUTO_TEST_CASE(a_writer_store_error_names_the_store_once) {
    harness::TempDir d("sg-cli-");
    harness::write_file(d.sub("file"), "x");
    Site s("state_directory = " + d.sub("file") + "/lib\n");
    auto r = s.cli({"suppress", "add", "bob@example.net"});
    BOOST_TEST(r.status.code == 3, r.describe());
    BOOST_TEST(has(r.err, "sendguard: cannot open suppression store " + d.sub("file") + "/lib/suppress.lmdb: "), r.err);
    BOOST_TEST(!has(r.err, ": store: "), r.err);
    BOOST_TEST(!has(r.err, "suppress: action=add"), "a failed add was logged as done: " << r.err);
}

BOOST_AUTO_TEST_SUITE_END()
