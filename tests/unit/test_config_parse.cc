// test_config_parse.cc - sendguard.conf syntax, expansion, errors, overrides, dumps
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <unistd.h>
#include <vector>

#include "common/config/config.h"

using config::Config;
using namespace std::string_literals;

namespace {

std::string join(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& e : v) s += (s.empty() ? "" : "|") + e;
    return s;
}

// The message parse() throws, or "" when it succeeds.
std::string error_of(const std::string& text, const std::vector<std::string>& overrides = {}) {
    try {
        Config::parse(text, "t.conf", overrides);
    } catch (const config::Error& e) {
        return e.what();
    }
    return "";
}

// A temporary directory removed at the end of the test.
struct TempDir {
    std::filesystem::path path;
    TempDir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "sg-config-XXXXXX").string();
        if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
        path = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    std::string write(const std::string& name, const std::string& text) const {
        auto p = path / name;
        std::ofstream(p, std::ios::binary) << text;
        return p.string();
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(config_parse)

BOOST_AUTO_TEST_CASE(comments_blank_lines_and_continuations) {
    const std::string text =
        "# sendguard.conf for the tests\n"       // 1
        "syslog_name = one\n"                     // 2
        "\n"                                      // 3
        "bounce_domains = a.example,\n"           // 4
        "    b.example\n"                         // 5
        "  # an indented comment does not end the value\n"
        "\n"                                      // 7
        "\tc.example\n"                           // 8
        "   \n"                                   // 9
        "policyd_suppressed_reply=REJECT #1 is not a comment\r\n"  // 10
        "syslog_facility   =   local3   \n";      // 11
    const Config c = Config::parse(text, "t.conf");
    BOOST_TEST(c.str("syslog_name") == "one");
    BOOST_TEST(c.str("bounce_domains") == "a.example,    b.example\tc.example");
    BOOST_TEST(join(c.list("bounce_domains")) == "a.example|b.example|c.example");
    BOOST_TEST(c.origin_of("bounce_domains") == "t.conf:4");
    BOOST_TEST(c.str("policyd_suppressed_reply") == "REJECT #1 is not a comment");
    BOOST_TEST(c.origin_of("policyd_suppressed_reply") == "t.conf:10");
    BOOST_TEST(c.str("syslog_facility") == "local3");
    BOOST_TEST(c.origin_of("syslog_facility") == "t.conf:11");
    BOOST_TEST(!c.is_default("syslog_name"));
    BOOST_TEST(c.is_default("state_directory"));
    BOOST_TEST(c.origin_of("state_directory") == "default");
    BOOST_TEST(c.warnings().empty());
}

BOOST_AUTO_TEST_CASE(expansion) {
    struct Case { std::string text, name, want; };
    const Case cases[] = {
        // defaults refer to other parameters, set or not
        {"state_directory = /srv/sg\n", "bounce_event_log", "/srv/sg/events.jsonl"},
        {"", "bounce_quarantine_directory", "/var/lib/sendguard/quarantine"},
        {"run_directory = /tmp/r\n", "policyd_socketmap_listen", "unix:/tmp/r/socketmap.sock"},
        // the three reference forms and $$
        {"bounce_event_log = ${state_directory}/e.jsonl\n", "bounce_event_log", "/var/lib/sendguard/e.jsonl"},
        {"bounce_event_log = $(state_directory)/e.jsonl\n", "bounce_event_log", "/var/lib/sendguard/e.jsonl"},
        {"syslog_name = $syslog_facility$syslog_facility\n", "syslog_name", "mailmail"},
        {"policyd_suppressed_reply = REJECT costs $$5\n", "policyd_suppressed_reply", "REJECT costs $5"},
        {"policyd_suppressed_reply = $$$$\n", "policyd_suppressed_reply", "$$"},
        // a reference to a parameter set later in the file sees its final value
        {"bounce_event_log = $state_directory/x\nstate_directory = /late\n", "bounce_event_log", "/late/x"},
        // chains
        {"config_directory = /c\nstate_directory = $config_directory/s\n", "bounce_quarantine_directory",
         "/c/s/quarantine"},
        // a name ends at the first character that cannot be part of one
        {"syslog_name = $syslog_facility-x\n", "syslog_name", "mail-x"},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT("text \"" << c.text << "\"") {
            const Config cfg = Config::parse(c.text, "t.conf");
            const auto key = config::TextKey::runtime(c.name);
            BOOST_TEST(cfg.str(key) == c.want, "got \"" << cfg.str(key) << "\", want \"" << c.want << "\"");
        }
    }
}

BOOST_AUTO_TEST_CASE(errors_name_file_line_parameter_and_range) {
    struct Case { std::string text; std::vector<std::string> overrides; std::string want; };
    const Case cases[] = {
        // unknown names
        {"bounce_tim_limit = 5s\n", {}, "t.conf:1: unknown parameter: bounce_tim_limit (did you mean bounce_time_limit?)"},
        {"# x\n\nSyslog_name = a\n", {}, "t.conf:3: unknown parameter: Syslog_name (did you mean syslog_name?)"},
        // each type, good syntax out of range and bad syntax
        {"\n\nbounce_time_limit = 1000s\n", {}, "t.conf:3: invalid bounce_time_limit: 1000s (max 900s)"},
        {"bounce_time_limit = 0\n", {}, "t.conf:1: invalid bounce_time_limit: 0 (min 1s)"},
        {"bounce_time_limit = 5 minutes\n", {},
         "t.conf:1: invalid bounce_time_limit: 5 minutes (expected a duration like 30s, 5m, 1h, 1d)"},
        {"verp_max_age = 23h\n", {}, "t.conf:1: invalid verp_max_age: 23h (min 86400s)"},
        {"store_max_readers = 4\n", {}, "t.conf:1: invalid store_max_readers: 4 (min 8)"},
        {"store_max_readers = 40000\n", {}, "t.conf:1: invalid store_max_readers: 40000 (max 32768)"},
        {"store_max_readers = many\n", {}, "t.conf:1: invalid store_max_readers: many (expected an integer)"},
        {"store_map_size = 1k\n", {}, "t.conf:1: invalid store_map_size: 1k (min 64k)"},
        {"store_map_size = 2t\n", {},
         "t.conf:1: invalid store_map_size: 2t (expected a size like 512, 64k, 16m, 4g)"},
        {"bounce_max_message_size = 2g\n", {}, "t.conf:1: invalid bounce_max_message_size: 2g (max 1g)"},
        {"log_to_stderr = true\n", {}, "t.conf:1: invalid log_to_stderr: true (expected yes or no)"},
        {"verp_delimiter = ++\n", {}, "t.conf:1: invalid verp_delimiter: ++ (expected a single character)"},
        {"verp_delimiter =\n", {}, "t.conf:1: invalid verp_delimiter: \"\" (expected a single character)"},
        {"policyd_socket_mode = 0999\n", {},
         "t.conf:1: invalid policyd_socket_mode: 0999 (expected an octal mode like 0660)"},
        {"syslog_name =\n", {}, "t.conf:1: invalid syslog_name: \"\" (must not be empty)"},
        {"verp_local_part = " + std::string(33, 'b') + "\n", {},
         "t.conf:1: invalid verp_local_part: " + std::string(33, 'b') + " (max 32 bytes)"},
        {"state_directory = var/lib\n", {}, "t.conf:1: invalid state_directory: var/lib (expected an absolute path)"},
        {"state_directory =\n", {}, "t.conf:1: invalid state_directory: \"\" (must not be empty)"},
        {"policyd_socketmap_listen = ,\n", {}, "t.conf:1: invalid policyd_socketmap_listen: , (must not be empty)"},
        // expansion
        {"config_directory = $verp_key_file\nverp_key_file = $config_directory/k\n", {},
         "t.conf:1: invalid config_directory: $verp_key_file (recursive expansion: "
         "$config_directory -> $verp_key_file -> $config_directory)"},
        {"syslog_name = x$syslog_name\n", {},
         "t.conf:1: invalid syslog_name: x$syslog_name (recursive expansion: $syslog_name -> $syslog_name)"},
        {"state_directory = $bounce_event_log\n", {},
         "t.conf:1: invalid state_directory: $bounce_event_log (recursive expansion: "
         "$state_directory -> $bounce_event_log -> $state_directory)"},
        {"syslog_name = $nosuch\n", {}, "t.conf:1: invalid syslog_name: $nosuch (unknown parameter $nosuch)"},
        {"syslog_name = a$ b\n", {}, "t.conf:1: invalid syslog_name: a$ b (stray '$'; write $$ for a literal '$')"},
        {"syslog_name = ${syslog_facility\n", {},
         "t.conf:1: invalid syslog_name: ${syslog_facility (bad parameter reference; missing '}' after "
         "${syslog_facility)"},
        {"syslog_name = $(syslog_facility}\n", {},
         "t.conf:1: invalid syslog_name: $(syslog_facility} (bad parameter reference; missing ')' after "
         "$(syslog_facility)"},
        {"syslog_name = ${}\n", {}, "t.conf:1: invalid syslog_name: ${} (bad parameter reference; expected ${name})"},
        {"syslog_name = ${syslog_facility?x}\n", {},
         "t.conf:1: invalid syslog_name: ${syslog_facility?x} (bad parameter reference; missing '}' after "
         "${syslog_facility)"},
        // the expanded value is what is checked
        {"state_directory = $syslog_name\n", {},
         "t.conf:1: invalid state_directory: sendguard (expected an absolute path)"},
        // syntax
        {"syslog_name\n", {}, "t.conf:1: syntax error: expected \"name = value\", got \"syslog_name\""},
        {" = x\n", {}, "t.conf:1: syntax error: continuation line without a preceding \"name = value\" line"},
        {"= x\n", {}, "t.conf:1: syntax error: missing parameter name before '='"},
        {"\n  syslog_name = x\n", {},
         "t.conf:2: syntax error: continuation line without a preceding \"name = value\" line"},
        {"syslog name = x\n", {}, "t.conf:1: syntax error: bad parameter name \"syslog name\""},
        {"syslog_name = a\x01b\n", {}, "t.conf:1: control character in line"},
        {"syslog_name = a\n\nsyslog_facility = b\0c\n"s, {}, "t.conf:3: control character in line"},
        {"syslog_name = a\rb\n", {}, "t.conf:1: control character in line"},
        // -o overrides
        {"", {"bounce_time_limit=2000s"}, "-o: invalid bounce_time_limit: 2000s (max 900s)"},
        {"", {"nosuch=1"}, "-o: unknown parameter: nosuch (run \"sendguard config -d\" for the parameter names)"},
        {"", {"bad"}, "-o: syntax error: expected \"name = value\", got \"bad\""},
        {"", {"syslog_name=a\nb"}, "-o: control character in override"},
        // names are checked as they are read; values in the order they were set
        {"bounce_time_limit = 1h\n", {"nosuch=1"}, "-o: unknown parameter: nosuch (run \"sendguard config -d\" for the parameter names)"},
        {"bounce_time_limit = 1h\n", {"store_max_readers=1"}, "t.conf:1: invalid bounce_time_limit: 1h (max 900s)"},
        {"bounce_time_limit = 1h\nstore_max_readers = 1\n", {"bounce_time_limit=1m"},
         "t.conf:2: invalid store_max_readers: 1 (min 8)"},
    };
    for (const auto& c : cases) {
        const std::string got = error_of(c.text, c.overrides);
        BOOST_TEST(got == c.want, "text \"" << c.text << "\": got \"" << got << "\", want \"" << c.want << "\"");
    }
}

BOOST_AUTO_TEST_CASE(limits) {
    // A logical line, continuation included, is at most 64k.
    std::string big = "policyd_suppressed_reply = OK\n";
    for (int i = 0; i < 700; ++i) big += "  " + std::string(98, 'x') + "\n";
    BOOST_TEST(error_of(big) == "t.conf:1: line too long (max 64k)");
    // An expansion may not exceed 64k.
    const std::string half(40000, 'd');
    BOOST_TEST(error_of("config_directory = /" + half + "\nsyslog_name = $config_directory$config_directory\n") ==
               "t.conf:2: invalid syslog_name: $config_directory$config_directory (expanded value longer than 64k)");
    // Doubling references cannot blow up: each value is expanded once and capped.
    std::string doubling = "syslog_facility = xxxxxxxxxxxxxxxx\n"
                           "syslog_name = $syslog_facility$syslog_facility$syslog_facility$syslog_facility\n"
                           "verp_local_part = $syslog_name$syslog_name$syslog_name$syslog_name\n";
    BOOST_TEST(error_of(doubling) ==
               "t.conf:3: invalid verp_local_part: " + std::string(100, 'x') + "... (max 32 bytes)");
    // The whole text is at most 1m.
    BOOST_TEST(error_of(std::string((1 << 20) + 1, '#')) == "t.conf: file too large (max 1m)");
}

BOOST_AUTO_TEST_CASE(overrides_win_and_duplicates_warn) {
    const std::string text = "syslog_name = a\nbounce_time_limit = 30s\nsyslog_name = b\n";
    const Config c = Config::parse(text, "t.conf", {"bounce_time_limit=45s", " syslog_facility = local1 x "});
    BOOST_TEST(c.duration("bounce_time_limit").count() == 45);
    BOOST_TEST(c.origin_of("bounce_time_limit") == "-o");
    BOOST_TEST(c.str("syslog_facility") == "local1 x");
    BOOST_TEST(c.str("syslog_name") == "b");
    BOOST_TEST(c.origin_of("syslog_name") == "t.conf:3");
    BOOST_TEST(c.warnings().size() == 1u);
    if (!c.warnings().empty())
        BOOST_TEST(c.warnings()[0] == "t.conf:3: overriding earlier entry: syslog_name=a (t.conf:1)");
    // An override replaces a bad file value before it is checked.
    const Config fixed = Config::parse("bounce_time_limit = 1h\n", "t.conf", {"bounce_time_limit=15m"});
    BOOST_TEST(fixed.duration("bounce_time_limit").count() == 900);
    // An override is expanded like a file value.
    const Config d = Config::parse("", "t.conf", {"state_directory=/o", "bounce_event_log=$state_directory/ev"});
    BOOST_TEST(d.str("bounce_event_log") == "/o/ev");
}

BOOST_AUTO_TEST_CASE(typed_getters) {
    const std::string text =
        "bounce_domains = bounces.example.com, bounces.example.net\n"
        "verp_delimiter = -\n"
        "log_to_stderr = YES\n"
        "store_max_readers = 500\n"
        "bounce_soft_window = 2d\n"
        "bounce_soft_expiry = 0\n"
        "store_map_size = 1g\n"
        "policyd_socket_mode = 660\n";
    const Config c = Config::parse(text, "t.conf");
    BOOST_TEST(join(c.list("bounce_domains")) == "bounces.example.com|bounces.example.net");
    BOOST_TEST(c.character("verp_delimiter") == '-');
    BOOST_TEST(c.str("verp_delimiter") == "-");
    BOOST_TEST(c.boolean("log_to_stderr"));
    BOOST_TEST(c.integer("store_max_readers") == 500);
    BOOST_TEST(c.duration("bounce_soft_window").count() == 2 * 86400);
    BOOST_TEST(c.duration("bounce_soft_expiry").count() == 0);
    BOOST_TEST(c.size("store_map_size") == 1ull << 30);
    BOOST_TEST(c.mode("policyd_socket_mode") == 0660u);
    BOOST_TEST(c.str("policyd_socket_mode") == "660");

    // Programming errors: an undeclared name or the wrong getter does not
    // compile (config::Key is consteval); names known only at run time are
    // checked by Key::runtime().
    using config::Key;
    using config::Type;
    BOOST_CHECK_THROW(config::TextKey::runtime("no_such_parameter"), std::logic_error);
    BOOST_CHECK_THROW(Key<Type::Int>::runtime("bounce_time_limit"), std::logic_error);
    BOOST_CHECK_THROW(Key<Type::Duration>::runtime("store_max_readers"), std::logic_error);
    BOOST_CHECK_THROW(config::TextKey::runtime("store_max_readers"), std::logic_error);
    BOOST_CHECK_THROW(config::AnyKey::runtime("no_such_parameter"), std::logic_error);
    BOOST_TEST(c.duration(Key<Type::Duration>::runtime("bounce_soft_expiry")).count() == 0);
    BOOST_TEST(config::AnyKey::runtime("store_max_readers").name() == "store_max_readers");
    // config::Error is not a logic_error: callers can tell them apart.
    BOOST_TEST(!(std::is_base_of_v<std::logic_error, config::Error>));
}

BOOST_AUTO_TEST_CASE(dumps) {
    const std::string text = "syslog_name = sg\nstate_directory = /srv/sg\nbounce_domains =\n";
    const Config c = Config::parse(text, "t.conf");

    // -n: the parameters set, sorted by name, as written.
    const std::string want_n = "bounce_domains =\nstate_directory = /srv/sg\nsyslog_name = sg\n";
    BOOST_TEST(c.dump(config::DumpMode::NonDefault) == want_n);

    // All: one line per parameter, sorted by name, unexpanded unless asked.
    const std::string all = c.dump(config::DumpMode::All);
    size_t lines = 0;
    std::string prev;
    for (size_t at = 0, nl; (nl = all.find('\n', at)) != std::string::npos; at = nl + 1, ++lines) {
        std::string name = all.substr(at, all.find(' ', at) - at);
        BOOST_TEST((prev < name), "not sorted: " << prev << " before " << name);
        prev = name;
    }
    BOOST_TEST(lines == config::params().size());
    BOOST_TEST(all.find("\nbounce_event_log = $state_directory/events.jsonl\n") != std::string::npos);
    BOOST_TEST(all.find("\nsyslog_name = sg\n") != std::string::npos);
    const std::string expanded = c.dump(config::DumpMode::All, true);
    BOOST_TEST(expanded.find("\nbounce_event_log = /srv/sg/events.jsonl\n") != std::string::npos);

    // -d: defaults, whatever the file says.
    const std::string d = c.dump(config::DumpMode::Defaults);
    BOOST_TEST(d == Config::defaults().dump(config::DumpMode::All));
    BOOST_TEST(d.find("\nsyslog_name = sendguard\n") != std::string::npos);
    const std::string dx = c.dump(config::DumpMode::Defaults, true);
    BOOST_TEST(dx.find("\nbounce_event_log = /var/lib/sendguard/events.jsonl\n") != std::string::npos);
    BOOST_TEST(Config::defaults().dump(config::DumpMode::NonDefault).empty());

    // A dump parses back to the same configuration.
    const Config again = Config::parse(all, "dump");
    BOOST_TEST(again.dump(config::DumpMode::All) == all);
    BOOST_TEST(again.dump(config::DumpMode::All, true) == expanded);
}

BOOST_AUTO_TEST_CASE(load_files) {
    TempDir dir;
    const std::string path = dir.write("sendguard.conf", "# test\nbounce_time_limit = 2m\n");
    const Config c = Config::load(path, {"syslog_name=x"});
    BOOST_TEST(c.duration("bounce_time_limit").count() == 120);
    BOOST_TEST(c.origin_of("bounce_time_limit") == path + ":2");
    BOOST_TEST(c.str("syslog_name") == "x");

    const std::string bad = dir.write("bad.conf", "\nstore_max_readers = 1\n");
    try {
        Config::load(bad);
        BOOST_TEST(false, "load(bad.conf) did not throw");
    } catch (const config::Error& e) {
        BOOST_TEST(std::string(e.what()) == bad + ":2: invalid store_max_readers: 1 (min 8)");
    }

    const std::string missing = (dir.path / "missing.conf").string();
    try {
        Config::load(missing);
        BOOST_TEST(false, "load(missing.conf) did not throw");
    } catch (const config::Error& e) {
        BOOST_TEST(std::string(e.what()) == "open " + missing + ": No such file or directory");
    }
    BOOST_CHECK_THROW(Config::load(dir.path.string()), config::Error);  // a directory

    const std::string huge = dir.write("huge.conf", std::string((1 << 20) + 10, '#'));
    try {
        Config::load(huge);
        BOOST_TEST(false, "load(huge.conf) did not throw");
    } catch (const config::Error& e) {
        BOOST_TEST(std::string(e.what()) == huge + ": file too large (max 1m)");
    }
}

BOOST_AUTO_TEST_CASE(default_path) {
    const char* old = std::getenv("SENDGUARD_CONFIG");
    const std::string saved = old ? old : "";
    ::setenv("SENDGUARD_CONFIG", "/tmp/x.conf", 1);
    BOOST_TEST(config::default_config_path() == "/tmp/x.conf");
    ::setenv("SENDGUARD_CONFIG", "", 1);
    const std::string want = std::string(config::find_param("config_directory")->default_value) + "/sendguard.conf";
    BOOST_TEST(config::default_config_path() == want);
    ::unsetenv("SENDGUARD_CONFIG");
    BOOST_TEST(config::default_config_path() == want);
    if (old) ::setenv("SENDGUARD_CONFIG", saved.c_str(), 1);
}

BOOST_AUTO_TEST_SUITE_END()
