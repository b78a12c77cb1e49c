// test_config_table.cc - "key value" table files: format and every error
#include <boost/test/unit_test.hpp>

#include <string>

#include "common/config/error.h"
#include "common/config/table_file.h"
#include "tests/support/temp_dir.h"

namespace {

const config::TableLimits kLimits{.max_line = 64, .max_key = 16, .max_entries = 3, .max_bytes = 256};

std::string error_of(std::string_view text, const config::TableLimits& lim = kLimits) {
    try {
        (void)config::TableFile::parse(text, "senders", lim);
    } catch (const config::Error& e) {
        return e.what();
    }
    return "(no error)";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(config_table)

BOOST_AUTO_TEST_CASE(format) {
    const config::TableFile t = config::TableFile::parse(
        "# senders and their keys\n"
        "\n"
        "example.com   sel1:/etc/keys/a\r\n"
        "   \t\n"
        "news@example.org\tone two\n"
        "  # a comment inside an entry is skipped\n"
        "\t three\n"
        "   # trailing comment\n"
        "x.example y  \n",
        "senders", kLimits);
    BOOST_REQUIRE(t.entries().size() == 3u);
    BOOST_TEST(t.entries()[0].key == "example.com");
    BOOST_TEST(t.entries()[0].value == "sel1:/etc/keys/a");
    BOOST_TEST(t.entries()[0].line == 3u);
    BOOST_TEST(t.entries()[1].key == "news@example.org");
    BOOST_TEST(t.entries()[1].value == "one two\t three");
    BOOST_TEST(t.entries()[1].line == 5u);
    BOOST_TEST(t.where(t.entries()[1]) == "senders:5");
    BOOST_TEST(t.entries()[2].value == "y");
    BOOST_REQUIRE(t.find("x.example"));
    BOOST_TEST(t.find("x.example")->line == 9u);
    BOOST_TEST(!t.find("X.example"));  // keys as written
    BOOST_TEST(config::TableFile::parse("", "senders", kLimits).entries().empty());
    BOOST_TEST(config::TableFile::parse("# only\n\n", "senders", kLimits).entries().empty());
}

BOOST_AUTO_TEST_CASE(errors_name_file_and_line) {
    struct Case {
        std::string text, want;
    } cases[] = {
        {"a 1\nlonely\n", "senders:2: expected \"key value\", got only lonely"},
        {"lonely   \n", "senders:1: expected \"key value\", got only lonely"},
        {"  starts indented\n", "senders:1: continuation line without a preceding entry"},
        {"# c\n\n\tx y\n", "senders:3: continuation line without a preceding entry"},
        {"a 1\nb \x01\n", "senders:2: control character in line"},
        {"a 1\nb 2\x7f\n", "senders:2: control character in line"},
        {std::string("a \0b\n", 5), "senders:1: control character in line"},
        {"a 1\nb 2\na 3\n", "senders:3: duplicate key a (first at line 1)"},
        {"k " + std::string(63, 'v') + "\n", "senders:1: line too long (max 64 bytes)"},
        {"k " + std::string(30, 'v') + "\n " + std::string(32, 'w') + "\n", "senders:1: line too long (max 64 bytes)"},
        {std::string(17, 'k') + " v\n", "senders:1: key longer than 16 bytes: " + std::string(17, 'k')},
        {"a 1\nb 2\nc 3\nd 4\n", "senders:4: more than 3 entries"},
        {std::string(257, '#'), "senders: file too large (max 256 bytes)"},
    };
    for (const auto& c : cases) BOOST_TEST(error_of(c.text) == c.want, "input " << c.text);
}

BOOST_AUTO_TEST_CASE(limits_are_inclusive) {
    BOOST_TEST(error_of("k " + std::string(62, 'v') + "\n") == "(no error)");
    BOOST_TEST(error_of(std::string(16, 'k') + " v\n") == "(no error)");
    BOOST_TEST(error_of("a 1\nb 2\nc 3\n") == "(no error)");
    BOOST_TEST(error_of(std::string(256, '#')) == "(no error)");
}

BOOST_AUTO_TEST_CASE(load_reads_the_file) {
    harness::TempDir dir("sg-table-");
    harness::write_file(dir.sub("senders"), "a 1\nb 2\nb 3\n");
    try {
        (void)config::TableFile::load(dir.sub("senders"), kLimits);
        BOOST_FAIL("no exception");
    } catch (const config::Error& e) {
        BOOST_TEST(std::string(e.what()) == dir.sub("senders") + ":3: duplicate key b (first at line 2)");
    }
    harness::write_file(dir.sub("ok"), "a 1\n");
    const config::TableFile t = config::TableFile::load(dir.sub("ok"), kLimits);
    BOOST_TEST(t.where(t.entries().at(0)) == dir.sub("ok") + ":1");
    harness::write_file(dir.sub("big"), std::string(300, '#'));
    try {
        (void)config::TableFile::load(dir.sub("big"), kLimits);
        BOOST_FAIL("no exception");
    } catch (const config::Error& e) {
        BOOST_TEST(std::string(e.what()) == dir.sub("big") + ": file too large (max 256 bytes)");
    }
    try {
        (void)config::TableFile::load(dir.sub("missing"), kLimits);
        BOOST_FAIL("no exception");
    } catch (const config::Error& e) {
        BOOST_TEST(std::string(e.what()).find(dir.sub("missing")) != std::string::npos, e.what());
    }
}

BOOST_AUTO_TEST_SUITE_END()
