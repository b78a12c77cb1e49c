// test_log.cc - log line format, printable(), JSON writer
#include <boost/test/unit_test.hpp>

#include "common/log/json.h"
#include "common/log/log.h"

#include <syslog.h>

#include <optional>

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
    logging::info("4XkQ2m1Zz9z", logging::Line("bounce").kv("rcpt", "<bob@example.net>").kv("count", 3));
    logging::warning("", logging::Line("store").kv("error", "map\nfull"));
    auto got = logging::captured();
    std::string want =
        "4XkQ2m1Zz9z: bounce: rcpt=<bob@example.net>, count=3\n"
        "NOQUEUE: warning: store: error=map?full\n";
    BOOST_TEST(got == want);
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
