// test_log.cc - log line format, the log targets, printable(), JSON writer
#include <boost/test/unit_test.hpp>

#include "common/log/json.h"
#include "common/log/log.h"
#include "tests/support/temp_dir.h"

#include <fcntl.h>
#include <regex>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include <cstring>
#include <optional>
#include <vector>

namespace {

// A datagram socket bound at path, as syslogd binds /dev/log and postlogd
// $queue_directory/public/postlog.
class DgramReader {
public:
    explicit DgramReader(const std::string& path) {
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
        BOOST_REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    }
    ~DgramReader() { ::close(fd_); }
    // The datagrams waiting, without blocking.
    std::vector<std::string> take() {
        std::vector<std::string> out;
        char buf[9000];
        for (;;) {
            ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
            if (n < 0) break;
            out.emplace_back(buf, static_cast<size_t>(n));
        }
        return out;
    }

private:
    int fd_ = -1;
};

// Standard error sent to a file while it lives.
class StderrToFile {
public:
    explicit StderrToFile(const std::string& path) : path_(path) {
        saved_ = ::dup(2);
        int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        ::dup2(fd, 2);
        ::close(fd);
    }
    ~StderrToFile() { restore(); }
    std::string text() { restore(); return harness::file_text(path_); }

private:
    void restore() {
        if (saved_ < 0) return;
        ::dup2(saved_, 2);
        ::close(saved_);
        saved_ = -1;
    }
    std::string path_;
    int saved_ = -1;
};

std::string pid_s() { return std::to_string(::getpid()); }

}  // namespace

BOOST_AUTO_TEST_SUITE(logging_suite)

BOOST_AUTO_TEST_CASE(printable_replaces_and_caps) {
    struct { std::string in; size_t max; std::string want; } cases[] = {
        {"plain text", 100, "plain text"},
        {"a\nb\tc\x7f", 100, "a?b?c?"},
        {"\xc3\xa4", 100, "??"},
        {"abcdef", 3, "abc..."},
    };
    for (auto& c : cases) {
        auto got = logging::printable(c.in, c.max);
        BOOST_TEST(got == c.want, "printable(" << c.in << "): got " << got << ", want " << c.want);
    }
}

BOOST_AUTO_TEST_CASE(line_and_capture) {
    logging::open("test", logging::Sink::None);
    logging::clear_captured();
    const std::string qid = "4XkQ2m1Zz9z", none;
    logging::info(qid, logging::Line("bounce").kv("rcpt", "<bob@example.net>").kv("count", 3));
    logging::warning(logging::Line("store").kv("error", "map\nfull"));
    logging::warning(none, logging::Line("bounce").kv("action", "defer"));
    logging::info(logging::QueueId(std::string_view("Q\nforged")), "x");
    logging::debug("hidden");
    logging::set_verbose(true);
    logging::debug(logging::Line("policyd").kv("map", "suppress"));
    logging::set_verbose(false);
    auto got = logging::captured();
    // A plain line has no prefix; a message line without a queue id says
    // NOQUEUE, as Postfix does.
    std::string want =
        "4XkQ2m1Zz9z: bounce: rcpt=<bob@example.net>, count=3\n"
        "warning: store: error=map?full\n"
        "NOQUEUE: warning: bounce: action=defer\n"
        "Q?forged: x\n"
        "policyd: map=suppress\n";
    BOOST_TEST(got == want);
}

// A value cannot add fields of its own: one holding ", " is quoted.
BOOST_AUTO_TEST_CASE(values_cannot_forge_fields) {
    struct Case { std::string value, want; } cases[] = {
        {"550 5.1.1 unknown", "k=550 5.1.1 unknown"},
        {"bounce+x=example.net@b.example", "k=bounce+x=example.net@b.example"},
        {"A, action=suppress, rcpt=<victim@example.com>", "k=\"A, action=suppress, rcpt=<victim@example.com>\""},
        {"say \"hi\", then \\ go", "k=\"say \\\"hi\\\", then \\\\ go\""},
        {"\"quoted", "k=\"\\\"quoted\""},
        {"", "k="},
    };
    for (const auto& c : cases) {
        const std::string got = logging::Line("c").kv("k", c.value).str();
        BOOST_TEST(got == "c: " + c.want, "got " << got << ", want c: " << c.want);
    }
}

BOOST_AUTO_TEST_CASE(parse_target_values) {
    using logging::Sink;
    struct { std::string in; std::optional<logging::Target> want; } cases[] = {
        {"syslog", logging::Target{Sink::Syslog, ""}},
        {"syslog:/run/x/log", logging::Target{Sink::Syslog, "/run/x/log"}},
        {"postlog:/var/spool/postfix/public/postlog",
         logging::Target{Sink::Postlog, "/var/spool/postfix/public/postlog"}},
        {"file:/var/log/sendguard.log", logging::Target{Sink::File, "/var/log/sendguard.log"}},
        {"stderr", logging::Target{Sink::Stderr, ""}},
        {"file:relative.log", std::nullopt}, {"file:", std::nullopt}, {"postlog", std::nullopt},
        {"SYSLOG", std::nullopt}, {"journal", std::nullopt}, {"", std::nullopt},
        {"syslog,stderr", std::nullopt},
    };
    for (auto& c : cases) {
        auto got = logging::parse_target(c.in);
        BOOST_TEST((got == c.want), c.in << ": got " << (got ? logging::target_name(*got) : "none"));
        if (got) BOOST_TEST(logging::target_name(*got) == c.in);
    }
}

// The syslog target writes RFC 3164 datagrams itself: priority = facility
// | severity, so syslog_facility = local0 is visible in every record.
BOOST_AUTO_TEST_CASE(syslog_target_carries_facility_and_severity) {
    harness::TempDir dir("sg-log-");
    const std::string sock = dir.sub("log");
    DgramReader r(sock);
    logging::open("sendguard/policyd", logging::Target{logging::Sink::Syslog, sock}, LOG_LOCAL0);
    BOOST_TEST(logging::check() == "");
    logging::info("policyd: start=sendguard-policyd");
    logging::warning(logging::Line("policyd").kv("reload", "failed"));
    logging::fatal("cannot bind");
    auto got = r.take();
    BOOST_REQUIRE_EQUAL(got.size(), 3u);
    // local0 = 16 << 3 = 128; info 6, warning 4, crit 2.
    const std::string tail = " sendguard/policyd\\[" + pid_s() + "\\]: ";
    const std::string stamp = "[A-Z][a-z][a-z] [ 1-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-6][0-9]";
    BOOST_TEST(std::regex_match(got[0], std::regex("<134>" + stamp + tail + "policyd: start=sendguard-policyd")), got[0]);
    BOOST_TEST(std::regex_match(got[1], std::regex("<132>" + stamp + tail + "warning: policyd: reload=failed")), got[1]);
    BOOST_TEST(std::regex_match(got[2], std::regex("<130>" + stamp + tail + "fatal: cannot bind")), got[2]);
    logging::open("sendguard/bounce", logging::Target{logging::Sink::Syslog, sock});
    logging::info("x");
    got = r.take();
    BOOST_REQUIRE_EQUAL(got.size(), 1u);
    BOOST_TEST(got[0].rfind("<22>", 0) == 0u, got[0]);  // mail (2 << 3) | info
}

// postlogd(8) takes what Postfix's programs send: no priority, a
// zero-padded day, the host name, ident[pid] (checked against Postfix 3.7's
// postlog(1) with a socket bound at $queue_directory/public/postlog).
BOOST_AUTO_TEST_CASE(postlog_target_sends_postfix_records) {
    harness::TempDir dir("sg-log-");
    const std::string sock = dir.sub("postlog");
    DgramReader r(sock);
    logging::open("sendguard/bounce", logging::Target{logging::Sink::Postlog, sock});
    BOOST_TEST(logging::check() == "");
    const std::string qid = "4XkQ2m1Zz9z";
    logging::info(qid, logging::Line("bounce").kv("action", "suppress"));
    auto got = r.take();
    BOOST_REQUIRE_EQUAL(got.size(), 1u);
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    std::string h(host);
    h = h.substr(0, h.find('.'));
    const std::string want_re = "[A-Z][a-z][a-z] [0-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-6][0-9] " + h +
                                " sendguard/bounce\\[" + pid_s() + "\\]: 4XkQ2m1Zz9z: bounce: action=suppress";
    BOOST_TEST(std::regex_match(got[0], std::regex(want_re)), got[0]);
}

// A syslog daemon that restarts binds a new socket at the same path: the
// next record connects to it.
BOOST_AUTO_TEST_CASE(socket_target_reconnects_to_a_restarted_reader) {
    harness::TempDir dir("sg-log-");
    const std::string sock = dir.sub("log");
    {
        DgramReader first(sock);
        logging::open("sendguard/policyd", logging::Target{logging::Sink::Syslog, sock});
        logging::info("one");
        BOOST_TEST(first.take().size() == 1u);
    }
    ::unlink(sock.c_str());
    DgramReader second(sock);
    logging::info("two");
    auto got = second.take();
    BOOST_REQUIRE_EQUAL(got.size(), 1u);
    BOOST_TEST(got[0].ends_with("]: two"), got[0]);
    logging::open("test", logging::Sink::None);
}

BOOST_AUTO_TEST_CASE(file_target_appends_one_line_per_record) {
    harness::TempDir dir("sg-log-");
    const std::string path = dir.sub("sendguard.log");
    harness::write_file(path, "earlier line\n");
    logging::open("sendguard/cli", logging::Target{logging::Sink::File, path});
    BOOST_TEST(logging::check() == "");
    logging::info(logging::Line("suppress").kv("action", "add").kv("address", "<a@b>\nforged"));
    logging::warning("second");
    logging::open("sendguard/cli", logging::Sink::None);
    const std::string text = harness::file_text(path);
    const std::string stamp = "[A-Z][a-z][a-z] [0-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-6][0-9] [^ ]+ ";
    const std::string id = "sendguard/cli\\[" + pid_s() + "\\]: ";
    BOOST_TEST(std::regex_match(text, std::regex("earlier line\n" + stamp + id +
                                                 "suppress: action=add, address=<a@b>\\?forged\n" + stamp +
                                                 id + "warning: second\n")),
               text);
}

// Nothing vanishes: a target that cannot take records is named by check(),
// and the records go to standard error.
BOOST_AUTO_TEST_CASE(unreachable_target_falls_back_to_stderr) {
    harness::TempDir dir("sg-log-");
    const std::string sock = dir.sub("nosuch");
    StderrToFile err(dir.sub("stderr"));
    logging::open("sendguard/policyd", logging::Target{logging::Sink::Syslog, sock});
    BOOST_TEST(logging::check() == sock + ": No such file or directory");
    logging::info("policyd: listen=x");
    logging::open("sendguard/bounce", logging::Target{logging::Sink::File, dir.sub("no/dir/f.log")});
    BOOST_TEST(logging::check() == dir.sub("no/dir/f.log") + ": No such file or directory");
    logging::warning("lost?");
    {
        // A reader that goes away after open() (a stopped syslog daemon).
        DgramReader gone(dir.sub("gone"));
        logging::open("sendguard/cli", logging::Target{logging::Sink::Postlog, dir.sub("gone")});
        BOOST_TEST(logging::check() == "");
    }
    logging::info("after");
    // And one gone before.
    logging::open("sendguard/cli", logging::Target{logging::Sink::Syslog, dir.sub("gone")});
    BOOST_TEST(logging::check() == dir.sub("gone") + ": Connection refused");
    // sendguard-bounce: standard error is pipe(8)'s status text.
    logging::set_stderr_fallback(false);
    logging::info("not on stderr");
    logging::set_stderr_fallback(true);
    logging::open("test", logging::Sink::None);
    BOOST_TEST(err.text() == "sendguard/policyd: policyd: listen=x\n"
                             "sendguard/bounce: warning: lost?\n"
                             "sendguard/cli: after\n");
}


BOOST_AUTO_TEST_CASE(facility_names) {
    struct { std::string name; std::optional<int> want; } cases[] = {
        {"mail", LOG_MAIL}, {"daemon", LOG_DAEMON}, {"local0", LOG_LOCAL0}, {"local7", LOG_LOCAL7},
        {"auth", LOG_AUTH}, {"bogus", std::nullopt}, {"MAIL", std::nullopt}, {"", std::nullopt},
        {"kern", std::nullopt}, {"local8", std::nullopt},
    };
    for (auto& c : cases) {
        auto got = logging::facility_from_name(c.name);
        BOOST_TEST((got == c.want), c.name << ": got " << (got ? std::to_string(*got) : "none"));
    }
    BOOST_TEST(logging::facility_names().find("mail, news") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(reopen_changes_ident) {
    logging::open("sendguard/policyd", logging::Sink::None);
    BOOST_TEST(logging::ident() == "sendguard/policyd");
    logging::open("mx/policyd", logging::Sink::None, LOG_LOCAL1);
    BOOST_TEST(logging::ident() == "mx/policyd");
}

BOOST_AUTO_TEST_CASE(json_escapes_and_repairs_utf8) {
    struct { std::string in; std::string want; } cases[] = {
        {"a\"b\\c", R"("a\"b\\c")"},
        {"line\nbreak\x01", R"("line\nbreak\u0001")"},
        {"gr\xc3\xbc\xc3\x9f", "\"gr\xc3\xbc\xc3\x9f\""},
        {"bad\xff\xc3", "\"bad\xEF\xBF\xBD\xEF\xBF\xBD\""},
        {"\xed\xa0\x80", "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\""},
    };
    for (auto& c : cases) {
        std::string got;
        logging::json_quote(got, c.in);
        BOOST_TEST(got == c.want, "got " << got << ", want " << c.want);
    }
    logging::JsonArray arr;
    arr.add("x").add_raw("1");
    logging::JsonObject o;
    o.add("s", "v").add("b", false).add("n", 42).add_null("z").add_raw("a", arr.str());
    BOOST_TEST(o.str() == R"({"s":"v","b":false,"n":42,"z":null,"a":["x",1]})");
    BOOST_TEST(logging::JsonObject().str() == "{}");
}

BOOST_AUTO_TEST_SUITE_END()
