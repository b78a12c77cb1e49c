// test_policyd_providers.cc - provider table: patterns, rows, override
// file, roll-up of a domain's MX hosts
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <string>
#include <vector>

#include "common/config/error.h"
#include "policyd/providers.h"
#include "tests/support/temp_dir.h"

namespace {

using policyd::Destination;
using policyd::ProviderTable;

std::string of_host(const ProviderTable& t, const std::string& host) {
    auto p = t.provider_of_host(host);
    return p ? *p : "(none)";
}

// The message parse() throws for text, or "" when it does not throw.
std::string parse_error(const std::string& text) {
    try {
        ProviderTable::parse(text, "providers.cf");
    } catch (const config::Error& e) {
        return e.what();
    }
    return "";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(policyd_providers)

BOOST_AUTO_TEST_CASE(pattern_table) {
    struct Row {
        const char* pattern;
        const char* host;
        bool want;
    };
    const Row rows[] = {
        {"*.google.com", "aspmx.l.google.com", true},
        {"*.google.com", "ASPMX.L.Google.COM.", true},  // case, trailing dot
        {"*.google.com", "alt1.aspmx.l.google.com..", true},
        {"*.google.com", "google.com", false},  // * takes at least one
        {"*.google.com", ".google.com", false},
        {"*.google.com", "..google.com", true},                   // "." is a character
        {"*.google.com", "aspmx.l.google.com.evil.test", false},  // anchored end
        {"*.google.com", "aspmx.l.notgoogle.com", false},
        {"*.google.com", "xgoogle.com", false},
        {"mx*.t-online.de", "mx00.t-online.de", true},
        {"mx*.t-online.de", "mx.t-online.de", false},
        {"mx*.t-online.de", "smx00.t-online.de", false},  // anchored start
        {"mx*.t-online.de", "mx0.a.t-online.de", true},   // spans labels
        {"*.ionos.*", "mx00.ionos.de", true},
        {"*.ionos.*", "mx00.ionos.co.uk", true},
        {"*.ionos.*", "mx00.ionos.", false},
        {"*.ionos.*", "ionos.de", false},
        {"a*b*c", "abc", false},
        {"a*b*c", "axbyc", true},
        {"a*b*c", "axxbbbyyc", true},
        {"a*b*c", "axbyc.d", false},
        {"exact.example", "exact.example", true},
        {"exact.example", "exact.example.", true},
        {"exact.example", "xexact.example", false},
        {"*.example", "", false},
        {"*.example", ".", false},
    };
    for (const auto& r : rows) {
        BOOST_TEST_INFO("pattern " << r.pattern << " host \"" << r.host << "\"");
        BOOST_TEST(policyd::pattern_matches(r.pattern, r.host) == r.want);
    }
}

BOOST_AUTO_TEST_CASE(builtin_hosts) {
    const auto t = ProviderTable::builtin();
    struct Row {
        std::string host;
        std::string want;
    };
    const std::vector<Row> rows = {
        {"aspmx.l.google.com", "google"},
        {"alt4.aspmx.l.google.com.", "google"},
        {"gmail-smtp-in.l.google.com", "google"},
        {"aspmx2.googlemail.com", "google"},
        {"eur.olc.protection.outlook.com", "outlook"},
        {"example-org.mail.protection.outlook.com", "microsoft365"},
        {"example-org.r-v1.mx.microsoft", "microsoft365"},
        {"mta5.am0.yahoodns.net", "yahoo"},
        {"mx-aol.mail.gm0.yahoodns.net", "yahoo"},
        {"mx00.emig.gmx.net", "gmx"},
        {"mx00.gmx.com", "gmx"},
        {"mx-ha03.web.de", "gmx"},
        {"mx00.kundenserver.de", "gmx"},
        {"mx00.ionos.de", "gmx"},
        {"mx00.ionos.co.uk", "gmx"},
        {"mx00.ionos.attacker.example", "(none)"},
        {"aspmx.l.google.com.attacker.example", "(none)"},
        {"mx00.t-online.de", "t-online"},
        {"mx01.mail.icloud.com", "apple"},
        {"smtp-in.orange.fr", "orange"},
        {"mx1.comcast.net", "comcast"},
        {"mx1.free.fr", "free"},
        {"mxs.mail.ru", "mailru"},
        {"mx.yandex.ru", "yandex"},
        {"mx.yandex.net", "yandex"},
        {"mx.zoho.com", "zoho"},
        {"mx.zoho.eu", "zoho"},
        {"mail.protonmail.ch", "proton"},
        {"in1-smtp.messagingengine.com", "fastmail"},
        {"mx.example.org", "(none)"},
        {"google.com", "(none)"},
        {"protection.outlook.com", "(none)"},
        {"outlook.com", "(none)"},
        {"t-online.de", "(none)"},
        {"", "(none)"},
        {std::string(300, 'a'), "(none)"},
    };
    for (const auto& r : rows) {
        BOOST_TEST_INFO("host " << r.host);
        BOOST_TEST(of_host(t, r.host) == r.want);
    }
    // Every built-in row is valid as an override row would be.
    for (const auto& row : t.rows()) {
        BOOST_TEST(!policyd::check_provider_name(row.name).has_value());
        for (const auto& p : row.patterns) BOOST_TEST(!policyd::check_pattern(p).has_value(), p);
    }
}

BOOST_AUTO_TEST_CASE(rollup_table) {
    const auto t = ProviderTable::builtin();
    struct Row {
        const char* name;
        const char* domain;
        std::vector<std::string> hosts;
        Destination want;
    };
    const std::vector<Row> rows = {
        {"workspace",
         "example.org",
         {"aspmx.l.google.com", "alt1.aspmx.l.google.com", "aspmx2.googlemail.com"},
         {"google", "google"}},
        {"one host", "Example.NET.", {"mx00.emig.gmx.net"}, {"gmx", "gmx"}},
        {"mixed providers",
         "example.com",
         {"aspmx.l.google.com", "mx00.emig.gmx.net"},
         {"default", "example.com"}},
        {"one own host",
         "Example.COM.",
         {"aspmx.l.google.com", "backup.example.com"},
         {"default", "example.com"}},
        {"own host", "example.com", {"mx.example.com"}, {"default", "example.com"}},
        {"no MX", "example.com", {}, {"default", "example.com"}},
        {"null MX", "example.com", {"."}, {"default", "example.com"}},
        {"implicit MX", "example.com", {"example.com"}, {"default", "example.com"}},
        {"outlook vs 365",
         "example.com",
         {"a.olc.protection.outlook.com", "b.mail.protection.outlook.com"},
         {"default", "example.com"}},
        {"365 both forms",
         "example.com",
         {"x.mail.protection.outlook.com", "x.r-v1.mx.microsoft"},
         {"microsoft365", "microsoft365"}},
    };
    for (const auto& r : rows) {
        BOOST_TEST_INFO(r.name);
        auto got = t.rollup(r.domain, r.hosts);
        BOOST_TEST(got.provider == r.want.provider);
        BOOST_TEST(got.key == r.want.key);
    }
}

BOOST_AUTO_TEST_CASE(override_rows) {
    const auto t = ProviderTable::parse(
        "# our overrides\n"
        "\n"
        "google  *.google.com          # Workspace only, not googlemail\n"
        "comcast -\n"
        "corp    mx*.corp.example  *.CORP-MAIL.example.\r\n"
        "   \t  \n"
        "wide    *.mail.protection.outlook.com.example\n",
        "providers.cf");
    BOOST_TEST(of_host(t, "aspmx.l.google.com") == "google");
    BOOST_TEST(of_host(t, "aspmx2.googlemail.com") == "(none)");  // replaced
    BOOST_TEST(of_host(t, "mx1.comcast.net") == "(none)");        // removed
    BOOST_TEST(!t.find("comcast"));
    BOOST_TEST(of_host(t, "mx1.corp.example") == "corp");
    BOOST_TEST(of_host(t, "in.corp-mail.example") == "corp");  // lower-cased, dot stripped
    BOOST_TEST(of_host(t, "mx00.emig.gmx.net") == "gmx");      // untouched
    // Replaced rows keep their place, new rows come after the built-in ones.
    BOOST_REQUIRE(!t.rows().empty());
    BOOST_TEST(t.rows().front().name == "google");
    BOOST_TEST(t.rows().back().name == "wide");
    BOOST_TEST(t.rows().size() == ProviderTable::builtin().rows().size() - 1 + 2);
    // The more specific pattern wins over an earlier row.
    BOOST_TEST(of_host(t, "x.mail.protection.outlook.com") == "microsoft365");

    // Overlap resolved by specificity, then by order.
    const auto o =
        ProviderTable::parse("a *.example\nb *.mx.example\nc *.mx.example\n", "t", ProviderTable());
    BOOST_TEST(of_host(o, "h.example") == "a");
    BOOST_TEST(of_host(o, "h.mx.example") == "b");

    BOOST_TEST(ProviderTable::parse("", "t", ProviderTable()).rows().empty());
    BOOST_TEST(ProviderTable::parse("# nothing\n", "t").rows() == ProviderTable::builtin().rows());
}

BOOST_AUTO_TEST_CASE(override_errors) {
    struct Row {
        std::string text;
        std::string want;  // the whole message
    };
    const std::vector<Row> rows = {
        {"Google *.google.com\n",
         "providers.cf:1: bad provider name \"Google\" (use a-z, 0-9, '.', '_', '-')"},
        {"\n\ngo/ogle *.google.com\n",
         "providers.cf:3: bad provider name \"go/ogle\" (use a-z, 0-9, '.', '_', '-')"},
        {"default *.example\n",
         "providers.cf:1: the provider name \"default\" is reserved for domains that match no row"},
        {"x *.example\nx *.other\n", "providers.cf:2: duplicate row \"x\""},
        {"x *.example\nx -\n", "providers.cf:2: duplicate row \"x\""},
        {"x\n", "providers.cf:1: row \"x\" has no pattern (give PATTERN... or \"-\" to remove it)"},
        {"nosuch -\n", "providers.cf:1: cannot remove \"nosuch\": no such built-in row"},
        {"x *.a - \n",
         "providers.cf:1: \"-\" must stand alone after the name (it removes the row)"},
        {"x *\n", "providers.cf:1: bad pattern \"*\" (it would match every host)"},
        {"x *.*\n", "providers.cf:1: bad pattern \"*.*\" (it would match every host)"},
        {"x **.example\n", "providers.cf:1: bad pattern \"**.example\" (\"**\")"},
        {"x a..example\n", "providers.cf:1: bad pattern \"a..example\" (empty label)"},
        {"x .example\n", "providers.cf:1: bad pattern \".example\" (empty label)"},
        {"x mx_1.example\n",
         "providers.cf:1: bad pattern \"mx_1.example\" (use A-Z, a-z, 0-9, '.', '-', '*')"},
        {"x m\xc3\xbc.example\n",
         "providers.cf:1: bad pattern \"m\xc3\xbc.example\" (use A-Z, a-z, 0-9, '.', '-', '*')"},
        {"x " + std::string(254, 'a') + "\n", "providers.cf:1: pattern longer than 253 characters"},
        {std::string(64, 'n') + " *.a\n",
         "providers.cf:1: provider name longer than 63 characters"},
        {"x " + std::string(5000, 'a') + "\n", "providers.cf:1: line longer than 4096 bytes"},
    };
    for (const auto& r : rows) {
        BOOST_TEST_INFO("text " << r.text.substr(0, 60));
        BOOST_TEST(parse_error(r.text) == r.want);
    }
    std::string many = "x";
    for (int i = 0; i < 65; ++i) many += " *.p" + std::to_string(i) + ".example";
    BOOST_TEST(parse_error(many) == "providers.cf:1: row \"x\" has more than 64 patterns");
    std::string rows_text;
    for (int i = 0; i < 1100; ++i)
        rows_text += "r" + std::to_string(i) + " *.e" + std::to_string(i) + ".example\n";
    BOOST_TEST(parse_error(rows_text) ==
               "providers.cf:" + std::to_string(1024 - ProviderTable::builtin().rows().size() + 1) +
                   ": more than 1024 rows");
}

BOOST_AUTO_TEST_CASE(load_file) {
    harness::TempDir dir;
    const std::string path = dir.path() + "/providers";
    {
        std::ofstream out(path);
        out << "corp *.corp.example\nyahoo -\nbad na/me\n";
    }
    try {
        ProviderTable::load(path);
        BOOST_FAIL("no error");
    } catch (const config::Error& e) {
        BOOST_TEST(std::string(e.what()) ==
                   path + ":3: bad pattern \"na/me\" (use A-Z, a-z, 0-9, '.', '-', '*')");
    }
    {
        std::ofstream out(path);
        out << "corp *.corp.example\nyahoo -\n";
    }
    const auto t = ProviderTable::load(path);
    BOOST_TEST(of_host(t, "mx.corp.example") == "corp");
    BOOST_TEST(of_host(t, "mta5.am0.yahoodns.net") == "(none)");
    try {
        ProviderTable::load(dir.path() + "/missing");
        BOOST_FAIL("no error");
    } catch (const config::Error& e) {
        BOOST_TEST(std::string(e.what()).rfind(
                       dir.path() + "/missing: cannot read the provider table: ", 0) == 0);
    }
}

BOOST_AUTO_TEST_SUITE_END()
