// test_config.cc - the parameter table and the value parsers
//
// The table is checked the way Postfix checks its own with
// mantools/check-param-defaults: every default parses and lies within its
// bounds, every name has a component prefix, every parameter has a one-line
// doc and at least one user.
#include <boost/test/unit_test.hpp>

#include <set>
#include <string>
#include <vector>

#include "common/config/config.h"

using namespace std::string_literals;
using config::Type;

namespace {

std::string join(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& e : v) s += (s.empty() ? "" : "|") + e;
    return s;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(config_table)

BOOST_AUTO_TEST_CASE(names_are_unique_prefixed_and_found) {
    static const std::set<std::string_view> kShared = {"config_directory", "state_directory", "run_directory",
                                                       "syslog_name",      "syslog_facility", "log_target",
                                                       "log_to_stderr",    "postlog_command"};
    static const std::string_view kPrefixes[] = {"store_", "verp_", "bounce_", "policyd_", "milter_",
                                                 "dns_",   "dkim_", "relay_"};
    std::set<std::string_view> seen;
    BOOST_TEST(config::params().size() >= 30u);
    for (const auto& p : config::params()) {
        BOOST_TEST_CONTEXT("parameter " << p.name) {
            BOOST_TEST(seen.insert(p.name).second, "declared twice");
            bool snake = !p.name.empty();
            for (char c : p.name) snake = snake && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
            BOOST_TEST(snake, "not lower snake case");
            bool prefixed = kShared.count(p.name) > 0;
            for (auto pre : kPrefixes) prefixed = prefixed || p.name.starts_with(pre);
            BOOST_TEST(prefixed, "no component prefix and not a shared parameter");
            BOOST_TEST(config::find_param(p.name) == &p, "find_param does not find it");
            BOOST_TEST(p.users != 0u, "no program uses it");
            BOOST_TEST((p.users & ~unsigned{config::kAll}) == 0u, "unknown user bits");
            BOOST_TEST(p.min <= p.max, "min " << p.min << " > max " << p.max);
        }
    }
    BOOST_TEST(config::find_param("no_such_parameter") == nullptr);
    BOOST_TEST(config::find_param("") == nullptr);
    BOOST_TEST(config::find_param("bounce_time_limi") == nullptr);
}

BOOST_AUTO_TEST_CASE(every_param_has_a_one_line_doc) {
    for (const auto& p : config::params()) {
        BOOST_TEST_CONTEXT("parameter " << p.name << " doc \"" << p.doc << "\"") {
            BOOST_TEST(p.doc.size() >= 20u, "doc too short");
            BOOST_TEST(p.doc.size() <= 200u, "doc longer than 200 characters: " << p.doc.size());
            BOOST_TEST(p.doc.find('\n') == std::string_view::npos, "doc is more than one line");
            const char first = p.doc.empty() ? 0 : p.doc.front();
            const char last = p.doc.empty() ? 0 : p.doc.back();
            BOOST_TEST((first >= 'A' && first <= 'Z'), "doc does not start with a capital");
            BOOST_TEST(last == '.', "doc does not end with a full stop");
            BOOST_TEST(p.doc.find('\\') == std::string_view::npos, "backslash in doc");
        }
    }
}

BOOST_AUTO_TEST_CASE(every_default_parses_within_bounds) {
    const config::Config c = config::Config::defaults();  // throws if any default is invalid
    for (const auto& p : config::params()) {
        BOOST_TEST_CONTEXT("parameter " << p.name << " default \"" << p.default_value << "\"") {
            BOOST_TEST(c.is_default(config::AnyKey::runtime(p.name)));
            BOOST_TEST(c.origin_of(config::AnyKey::runtime(p.name)) == "default");
            long long v = 0;
            bool numeric = true;
            switch (p.type) {
            case Type::Int: v = c.integer(config::Key<Type::Int>::runtime(p.name)); break;
            case Type::Duration: v = c.duration(config::Key<Type::Duration>::runtime(p.name)).count(); break;
            case Type::Size: v = static_cast<long long>(c.size(config::Key<Type::Size>::runtime(p.name))); break;
            case Type::Rate: v = static_cast<long long>(c.rate(config::Key<Type::Rate>::runtime(p.name)).count); break;
            case Type::Mode: v = c.mode(config::Key<Type::Mode>::runtime(p.name)); break;
            case Type::List: v = static_cast<long long>(c.list(config::Key<Type::List>::runtime(p.name)).size()); break;
            case Type::String: case Type::Path: v = static_cast<long long>(c.str(config::TextKey::runtime(p.name)).size()); break;
            default: numeric = false; break;
            }
            if (numeric && !(p.type == Type::Path && v == 0)) {
                BOOST_TEST(v >= p.min, "got " << v << ", want >= " << p.min);
                BOOST_TEST(v <= p.max, "got " << v << ", want <= " << p.max);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(defaults_have_expected_values) {
    const config::Config c = config::Config::defaults();
    BOOST_TEST(c.str("config_directory") == config::find_param("config_directory")->default_value);
    BOOST_TEST(c.str("verp_key_file") == c.str("config_directory") + "/verp.keys");
    BOOST_TEST(c.str("bounce_quarantine_directory") == "/var/lib/sendguard/quarantine");
    BOOST_TEST(c.str("bounce_event_log") == "/var/lib/sendguard/events.jsonl");
    BOOST_TEST(join(c.list("policyd_socketmap_listen")) == "unix:/run/sendguard/socketmap.sock");
    BOOST_TEST(join(c.list("bounce_domains")) == "bounces.*");
    BOOST_TEST(c.character("verp_delimiter") == '+');
    BOOST_TEST(c.boolean("log_to_stderr") == false);
    BOOST_TEST(c.integer("store_max_readers") == 126);
    BOOST_TEST(c.size("store_map_size") == 16u << 20);
    BOOST_TEST(c.size("store_max_map_size") == 4ull << 30);
    BOOST_TEST(c.size("policyd_socketmap_max_request") == 100u << 10);
    BOOST_TEST(c.duration("verp_max_age").count() == 60 * 86400);
    BOOST_TEST(c.duration("bounce_hard_expiry").count() == 0);
    BOOST_TEST(c.duration("bounce_time_limit").count() == 60);
    BOOST_TEST(c.mode("policyd_socket_mode") == 0660u);
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------- values

BOOST_AUTO_TEST_SUITE(config_values)

BOOST_AUTO_TEST_CASE(durations) {
    struct Case { std::string in; long long want; };  // want -1: rejected
    const Case cases[] = {
        {"30s", 30}, {"5m", 300}, {"1h", 3600}, {"1d", 86400}, {"2w", 14 * 86400}, {"0", 0}, {"45", 45},
        {"007m", 420}, {"9223372036854775807", 9223372036854775807LL},
        {"", -1}, {"s", -1}, {"-1s", -1}, {"+1s", -1}, {"1.5h", -1}, {"1 h", -1}, {"1H", -1}, {"1y", -1},
        {"1ms", -1}, {"99999999999999999999", -1}, {"9223372036854775807m", -1}, {"15250284452472w", -1},
        {"15250284452471w", 15250284452471LL * 604800},
    };
    for (const auto& c : cases) {
        auto got = config::parse_duration(c.in);
        long long g = got ? got->count() : -1;
        BOOST_TEST(g == c.want, "parse_duration(\"" << c.in << "\"): got " << g << ", want " << c.want);
    }
}

BOOST_AUTO_TEST_CASE(sizes) {
    struct Case { std::string in; long long want; };
    const Case cases[] = {
        {"0", 0}, {"512", 512}, {"64k", 65536}, {"1K", 1024}, {"16m", 16 << 20}, {"4g", 4LL << 30},
        {"9223372036854775807", 9223372036854775807LL}, {"8589934591g", 8589934591LL << 30},
        {"", -1}, {"k", -1}, {"1kb", -1}, {"-1", -1}, {"1t", -1}, {"1.5m", -1}, {"1 k", -1},
        {"9223372036854775808", -1}, {"8589934592g", -1},
    };
    for (const auto& c : cases) {
        auto got = config::parse_size(c.in);
        long long g = got ? static_cast<long long>(*got) : -1;
        BOOST_TEST(g == c.want, "parse_size(\"" << c.in << "\"): got " << g << ", want " << c.want);
    }
}

BOOST_AUTO_TEST_CASE(rates) {
    struct Case { std::string in; long long count, per; };  // per -1: rejected
    const Case cases[] = {
        {"100/min", 100, 60}, {"5/s", 5, 1}, {"1000/h", 1000, 3600}, {"10000/d", 10000, 86400},
        {"1/sec", 1, 1}, {"2/m", 2, 60}, {"3/hour", 3, 3600}, {"7/day", 7, 86400}, {"0/s", 0, 1},
        {"100", 0, -1}, {"/min", 0, -1}, {"100/", 0, -1}, {"100/y", 0, -1}, {"-1/s", 0, -1},
        {"1.5/s", 0, -1}, {"100/ min", 0, -1}, {"100 /min", 0, -1}, {"100/5min", 0, -1}, {"", 0, -1},
        {"99999999999999999999/s", 0, -1},
    };
    for (const auto& c : cases) {
        auto got = config::parse_rate(c.in);
        long long count = got ? static_cast<long long>(got->count) : 0;
        long long per = got ? got->per.count() : -1;
        BOOST_TEST((count == c.count && per == c.per), "parse_rate(\"" << c.in << "\"): got " << count << "/"
                                                                      << per << "s, want " << c.count << "/"
                                                                      << c.per << "s");
    }
}

BOOST_AUTO_TEST_CASE(booleans_integers_modes) {
    struct BoolCase { std::string in; int want; };  // -1: rejected
    const BoolCase bools[] = {{"yes", 1}, {"no", 0}, {"YES", 1}, {"No", 0},
                              {"true", -1}, {"1", -1}, {"", -1}, {"yess", -1}, {"n", -1}};
    for (const auto& c : bools) {
        auto got = config::parse_bool(c.in);
        int g = got ? int(*got) : -1;
        BOOST_TEST(g == c.want, "parse_bool(\"" << c.in << "\"): got " << g << ", want " << c.want);
    }

    struct IntCase { std::string in; bool ok; long long want; };
    const IntCase ints[] = {{"0", true, 0}, {"-5", true, -5}, {"+7", true, 7},
                            {"9223372036854775807", true, 9223372036854775807LL},
                            {"", false, 0}, {"-", false, 0}, {"1e3", false, 0}, {"0x10", false, 0},
                            {"9223372036854775808", false, 0}, {" 1", false, 0}, {"1 ", false, 0}};
    for (const auto& c : ints) {
        auto got = config::parse_int(c.in);
        BOOST_TEST(got.has_value() == c.ok, "parse_int(\"" << c.in << "\"): got ok=" << got.has_value());
        if (got && c.ok) BOOST_TEST(*got == c.want, "parse_int(\"" << c.in << "\"): got " << *got);
    }

    struct ModeCase { std::string in; int want; };  // -1: rejected
    const ModeCase modes[] = {{"0666", 0666}, {"666", 0666}, {"0", 0}, {"07777", 07777}, {"0600", 0600},
                              {"8", -1}, {"0888", -1}, {"17777", -1}, {"", -1}, {"000000", -1}, {"rw", -1}};
    for (const auto& c : modes) {
        auto got = config::parse_mode(c.in);
        int g = got ? int(*got) : -1;
        BOOST_TEST(g == c.want, "parse_mode(\"" << c.in << "\"): got " << g << ", want " << c.want);
    }
}

BOOST_AUTO_TEST_CASE(lists) {
    struct Case { std::string in, want; };
    const Case cases[] = {
        {"a, b c,,d\t e", "a|b|c|d|e"}, {"", ""}, {" , ", ""}, {"one", "one"},
        {"unix:/run/x.sock inet:127.0.0.1:1234", "unix:/run/x.sock|inet:127.0.0.1:1234"},
    };
    for (const auto& c : cases) {
        std::string got = join(config::split_list(c.in));
        BOOST_TEST(got == c.want, "split_list(\"" << c.in << "\"): got \"" << got << "\", want \"" << c.want << "\"");
    }
}

BOOST_AUTO_TEST_CASE(formatting) {
    struct Case { long long in; std::string want; };
    const Case durations[] = {{0, "0s"}, {59, "59s"}, {60, "1m"}, {3600, "1h"}, {86400, "1d"},
                              {604800, "1w"}, {90000, "25h"}, {5184000, "60d"}};
    for (const auto& c : durations)
        BOOST_TEST(config::format_duration(c.in) == c.want,
                   "format_duration(" << c.in << "): got " << config::format_duration(c.in) << ", want " << c.want);
    const Case sizes[] = {{0, "0"}, {64, "64"}, {65536, "64k"}, {1536, "1536"}, {16 << 20, "16m"},
                          {4LL << 30, "4g"}, {1LL << 40, "1024g"}};
    for (const auto& c : sizes)
        BOOST_TEST(config::format_size(c.in) == c.want,
                   "format_size(" << c.in << "): got " << config::format_size(c.in) << ", want " << c.want);
    BOOST_TEST(config::quote_value("") == "\"\"");
    BOOST_TEST(config::quote_value("a\tb\x01") == "a?b?");
    BOOST_TEST(config::quote_value(std::string(150, 'x')) == std::string(100, 'x') + "...");
}

BOOST_AUTO_TEST_SUITE_END()
