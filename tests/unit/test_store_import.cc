// test_store_import.cc - CSV formula protection, byte order marks, and the
// merge rules of an import (suppression.h)
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "common/store/record_format.h"
#include "tests/unit/test_store_support.h"

using store::Class;
using store::ImportMode;
using store::Merge;

namespace {

constexpr int64_t kNow = 1'700'000'000;
constexpr int64_t kDay = 86400;

const std::vector<std::string>& header() {
    static const std::vector<std::string> h = *store::split_csv(store::csv_header());
    return h;
}

store::Record hard_bounce() {
    store::Record r;
    r.klass = Class::Hard;
    r.source = store::Source::Dsn;
    r.suppressed = true;
    r.first_seen = kNow - 10 * kDay;
    r.last_seen = kNow - kDay;
    r.count = 2;
    r.reason = "userunknown";
    r.status = "5.1.1";
    r.diagnostic = "smtp; 550 5.1.1 no such user";
    r.remote_mta = "mx.example.net";
    r.evidence = "4XkQ3b7Lq2z";
    return r;
}

// What the command line makes of a plain import line.
store::Entry bare(std::string key) {
    store::Entry e{std::move(key), {}, true};
    e.record.klass = Class::Manual;
    e.record.source = store::Source::Import;
    e.record.suppressed = true;
    e.record.reason = "import";
    e.record.first_seen = e.record.last_seen = kNow;
    e.record.count = 1;
    return e;
}

store::Entry row(store::Record r) { return {"bob@example.net", std::move(r), false}; }

}  // namespace

BOOST_AUTO_TEST_SUITE(store_import_format)

BOOST_AUTO_TEST_CASE(every_text_column_is_protected_and_round_trips) {
    const std::string starts[] = {"=", "+", "-", "@", "\t", "\r", "'", "''", "'=", "a"};
    for (const auto& p : starts) {
        store::Record r;
        r.suppressed = true;
        r.reason = p + "reason";
        r.status = p + "5.1.1";
        r.diagnostic = p + "1+2";
        r.remote_mta = p + "mx";
        r.evidence = p + "Q1";
        r.first_seen = -5;  // a negative number starts with '-' too
        const std::string key = p + "x@example.com";
        const std::string line = store::record_csv(key, r, 0);
        auto fields = store::split_csv(line);
        BOOST_REQUIRE(fields);
        for (size_t i = 0; i < fields->size(); ++i) {
            const std::string& f = (*fields)[i];
            BOOST_TEST((f.empty() || std::string_view("=+-@\t\r").find(f[0]) == std::string_view::npos),
                       "column " << header()[i] << " starts with a formula character: " << f);
        }
        auto got = store::parse_import_line(store::ImportFormat::Csv, line, header());
        BOOST_REQUIRE_MESSAGE(got.record, "prefix " << p << ": " << got.error);
        BOOST_TEST(got.address == key, "got " << got.address << ", want " << key);
        // A CR, which the store never holds (clean_remote_text), reads back
        // as '?' like every control character of an import; the rest exactly.
        const std::string back = p == "\r" ? "?" : p;
        BOOST_TEST(got.record->reason == back + "reason");
        BOOST_TEST(got.record->status == back + "5.1.1");
        BOOST_TEST(got.record->diagnostic == back + "1+2");
        BOOST_TEST(got.record->remote_mta == back + "mx");
        BOOST_TEST(got.record->evidence == back + "Q1");
        BOOST_TEST(got.record->first_seen == -5);
    }
}

// message_id and headers: the last columns of CSV (headers as one JSON
// object's text) and fields of a JSON line (headers nested); both read back.
BOOST_AUTO_TEST_CASE(message_names_round_trip) {
    store::Record r = hard_bounce();
    r.message_id = "<m1@example.org>";
    r.headers = {{"Feedback-ID", "42:news, \"q\""}, {"List-Id", "<news.example.org>"}};
    const std::string csv = store::record_csv("bob@example.net", r, kNow);
    BOOST_TEST(header().back() == "headers");
    BOOST_TEST(header()[header().size() - 2] == "message_id");
    auto fields = store::split_csv(csv);
    BOOST_REQUIRE(fields);
    BOOST_TEST(fields->back() == "{\"Feedback-ID\":\"42:news, \\\"q\\\"\",\"List-Id\":\"<news.example.org>\"}");
    const std::string json = store::record_json("bob@example.net", r, kNow);
    BOOST_TEST(json.find(",\"message_id\":\"<m1@example.org>\",\"headers\":{\"Feedback-ID\":") != std::string::npos,
               json);
    for (const auto& [fmt, line] : {std::pair{store::ImportFormat::Csv, csv}, std::pair{store::ImportFormat::Json, json}}) {
        auto got = store::parse_import_line(fmt, line, header());
        BOOST_REQUIRE_MESSAGE(got.record, got.error << ": " << line);
        BOOST_TEST(got.record->message_id == r.message_id);
        BOOST_TEST((got.record->headers == r.headers), line);
    }
    // None known: an empty column, an empty object.
    const store::Record plain = hard_bounce();
    BOOST_TEST(store::record_csv("bob@example.net", plain, kNow).ends_with(",,"));
    BOOST_TEST(store::record_json("bob@example.net", plain, kNow).ends_with("\"message_id\":\"\",\"headers\":{}}"));
    auto bad = store::parse_import_line(store::ImportFormat::Json, "{\"address\":\"a@b\",\"headers\":{\"x\":}", {});
    BOOST_TEST(!bad.error.empty());
}

BOOST_AUTO_TEST_CASE(protection_as_the_defect_report_has_it) {
    store::Record r;
    r.suppressed = true;
    BOOST_TEST(store::record_csv("=1+2@example.com", r, 0).rfind("'=1+2@example.com,", 0) == 0);
    BOOST_TEST(store::record_csv("@example.com", r, 0).rfind("'@example.com,", 0) == 0);
    BOOST_TEST(store::record_csv("bob@example.com", r, 0).rfind("bob@example.com,", 0) == 0);
}

BOOST_AUTO_TEST_CASE(hand_written_quote_marks_are_kept) {
    // Only a quote mark in front of something export would protect is
    // taken off; any other leading "'" is the value's own.
    struct { std::string field, want; } cases[] = {
        {"'bob@example.com", "'bob@example.com"},
        {"'=1+2@example.com", "=1+2@example.com"},
        {"''bob@example.com", "'bob@example.com"},
        {"'", "'"},
    };
    for (auto& c : cases) {
        auto got = store::parse_import_line(store::ImportFormat::Csv, c.field + ",true,hard", header());
        BOOST_REQUIRE_MESSAGE(got.record, got.error);
        BOOST_TEST(got.address == c.want, "got " << got.address << ", want " << c.want);
    }
}

BOOST_AUTO_TEST_CASE(json_values_are_never_unquoted) {
    auto got = store::parse_import_line(store::ImportFormat::Json,
                                        R"({"address":"'=x@example.com","reason":"'-r"})", {});
    BOOST_REQUIRE_MESSAGE(got.record, got.error);
    BOOST_TEST(got.address == "'=x@example.com");
    BOOST_TEST(got.record->reason == "'-r");
}

// An import is text from a file someone else may have written: its text
// fields are stored as the store keeps remote text (clean_remote_text), so
// no listing carries a terminal escape, whether the file spelt the control
// character as a JSON escape or wrote it raw into a CSV field.
BOOST_AUTO_TEST_CASE(imported_text_is_stored_without_control_characters) {
    struct Case {
        std::string what;
        store::ImportFormat format;
        std::string line;
    } cases[] = {
        {"json escapes", store::ImportFormat::Json,
         R"({"address":"bob@example.net","class":"hard","reason":"user\u001b[2Junknown",)"
         R"("status":"5.1.1\u0007","remote_mta":"mx\u001b]0;x\u0007.example.net",)"
         R"("diagnostic":"550 no\tsuch\nuser\u007f","evidence":"Q\u001bID"})"},
        {"raw csv", store::ImportFormat::Csv,
         "bob@example.net,true,hard,user\x1b[2Junknown,5.1.1\x07,import,0,0,1,0,"
         "mx\x1b]0;x\x07.example.net,\"550 no\tsuch\nuser\x7f\",Q\x1bID"},
    };
    for (const auto& c : cases) {
        store::ImportLine l = store::parse_import_line(c.format, c.line, header());
        BOOST_REQUIRE_MESSAGE(l.error.empty() && l.record, c.what << ": " << l.error);
        const store::Record& r = *l.record;
        BOOST_TEST(r.reason == "user?[2Junknown", c.what << ": got " << r.reason);
        BOOST_TEST(r.status == "5.1.1?", c.what << ": got " << r.status);
        BOOST_TEST(r.remote_mta == "mx?]0;x?.example.net", c.what << ": got " << r.remote_mta);
        BOOST_TEST(r.diagnostic == "550 no\tsuch\nuser?", c.what << ": got " << r.diagnostic);
        BOOST_TEST(r.evidence == "Q?ID", c.what << ": got " << r.evidence);
    }
}

BOOST_AUTO_TEST_CASE(blanks_at_the_ends_survive) {
    store::Record r;
    r.suppressed = true;
    r.evidence = "ends with blank ";
    const std::string line = store::record_csv("bob@example.com", r, 0) + "\r";  // CRLF
    auto got = store::parse_import_line(store::ImportFormat::Csv, line, header());
    BOOST_REQUIRE_MESSAGE(got.record, got.error);
    BOOST_TEST(got.record->evidence == r.evidence);
}

BOOST_AUTO_TEST_CASE(bom_is_stripped) {
    BOOST_TEST(store::strip_bom("\xEF\xBB\xBF" "bob@example.com") == "bob@example.com");
    BOOST_TEST(store::strip_bom("bob@example.com") == "bob@example.com");
    BOOST_TEST(store::strip_bom("\xEF\xBB") == "\xEF\xBB");
}

BOOST_AUTO_TEST_CASE(bare_lines_and_open_quotes) {
    BOOST_TEST(store::parse_import_line(store::ImportFormat::Plain, "bob@example.com\r", {}).bare);
    BOOST_TEST(store::parse_import_line(store::ImportFormat::Plain, "bob@example.com\r", {}).address ==
               "bob@example.com");
    const std::vector<std::string> only_address{"address", "name"};
    BOOST_TEST(store::parse_import_line(store::ImportFormat::Csv, "bob@example.com,Bob", only_address).bare);
    BOOST_TEST(!store::parse_import_line(store::ImportFormat::Csv, "bob@example.com,true,hard", header()).bare);
    BOOST_TEST(store::parse_import_line(store::ImportFormat::Json, R"({"address":"a@b.example"})", {}).bare);
    auto open = store::parse_import_line(store::ImportFormat::Csv, "bob@example.com,true,hard,\"line one", header());
    BOOST_TEST(open.incomplete);
    auto joined = store::parse_import_line(store::ImportFormat::Csv,
                                           "bob@example.com,true,hard,\"line one\nline two\"", header());
    BOOST_REQUIRE_MESSAGE(joined.record, joined.error);
    BOOST_TEST(joined.record->reason == "line one\nline two");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(store_import_merge)

BOOST_AUTO_TEST_CASE(merge_rules) {
    const store::Record hard = hard_bounce();
    store::Record soft_expiring = hard;
    soft_expiring.klass = Class::Soft;
    soft_expiring.expiry = kNow + 5 * kDay;
    store::Record pending = soft_expiring;
    pending.suppressed = false;
    store::Record expired = hard;
    expired.expiry = kNow - 1;

    store::Record lift = hard;  // an export row that does not suppress
    lift.suppressed = false;
    store::Record stale = hard;  // an export row that has expired
    stale.expiry = kNow - 2;
    stale.evidence = "OLD";
    store::Record complaint = hard;
    complaint.klass = Class::Complaint;
    complaint.source = store::Source::Arf;
    complaint.reason = "abuse";
    complaint.evidence = "FBL1";
    complaint.expiry = kNow + kDay;
    complaint.count = 1;
    store::Record weaker_more = hard;  // soft, but seen more often
    weaker_more.klass = Class::Soft;
    weaker_more.evidence = "SOFT";
    weaker_more.count = 9;
    weaker_more.first_seen = kNow - 20 * kDay;

    struct Case {
        const char* what;
        const store::Record* prev;
        store::Entry in;
        ImportMode mode;
        Merge want;
        std::function<void(const store::Record&)> check;
    } cases[] = {
        {"plain line over a hard bounce", &hard, bare("bob@example.net"), ImportMode::Merge, Merge::Unchanged,
         [&](const store::Record& r) { BOOST_TEST((r == hard)); }},
        {"row that lifts", &hard, row(lift), ImportMode::Merge, Merge::Unchanged,
         [&](const store::Record& r) { BOOST_TEST(r.suppressed); }},
        {"expired row", &hard, row(stale), ImportMode::Merge, Merge::Unchanged,
         [&](const store::Record& r) { BOOST_TEST(r.evidence == "4XkQ3b7Lq2z"); }},
        {"same row again", &hard, row(hard), ImportMode::Merge, Merge::Unchanged, nullptr},
        {"stronger class", &hard, row(complaint), ImportMode::Merge, Merge::Merged,
         [&](const store::Record& r) {
             BOOST_TEST(store::to_string(r.klass) == "complaint");
             BOOST_TEST(r.evidence == "FBL1");
             BOOST_TEST(r.expiry == 0, "the hard bounce never expired: got expiry " << r.expiry);
             BOOST_TEST(r.count == 2u);
         }},
        {"weaker class, more sightings", &hard, row(weaker_more), ImportMode::Merge, Merge::Merged,
         [&](const store::Record& r) {
             BOOST_TEST(store::to_string(r.klass) == "hard");
             BOOST_TEST(r.evidence == "4XkQ3b7Lq2z");
             BOOST_TEST(r.count == 9u);
             BOOST_TEST(r.first_seen == kNow - 20 * kDay);
         }},
        {"plain line over an expiring suppression", &soft_expiring, bare("bob@example.net"), ImportMode::Merge,
         Merge::Merged,
         [&](const store::Record& r) {
             BOOST_TEST(store::to_string(r.klass) == "soft");
             BOOST_TEST(r.expiry == 0, "the import asks for no end: got " << r.expiry);
             BOOST_TEST(r.count == 2u);
         }},
        {"plain line over a pending soft record", &pending, bare("bob@example.net"), ImportMode::Merge,
         Merge::Merged,
         [&](const store::Record& r) {
             BOOST_TEST(r.active(kNow));
             BOOST_TEST(store::to_string(r.klass) == "manual");
             BOOST_TEST(r.reason == "import");
             BOOST_TEST(r.count == 2u);
         }},
        {"over an expired record", &expired, bare("bob@example.net"), ImportMode::Merge, Merge::Added,
         [&](const store::Record& r) { BOOST_TEST(r.reason == "import"); }},
        {"no record", nullptr, row(complaint), ImportMode::Merge, Merge::Added,
         [&](const store::Record& r) { BOOST_TEST((r == complaint)); }},
        {"replace lifts", &hard, row(lift), ImportMode::Replace, Merge::Replaced,
         [&](const store::Record& r) { BOOST_TEST(!r.suppressed); }},
        {"replace with the same", &hard, row(hard), ImportMode::Replace, Merge::Unchanged, nullptr},
    };
    for (auto& c : cases) {
        BOOST_TEST_CONTEXT(c.what) {
            store::Record out;
            const Merge got = store::merge_import(c.prev, c.in, kNow, c.mode, out);
            BOOST_TEST(store::to_string(got) == store::to_string(c.want),
                       "got " << store::to_string(got) << ", want " << store::to_string(c.want));
            if (c.check) c.check(out);
        }
    }
}

BOOST_AUTO_TEST_CASE(import_entries_counts_and_keeps_evidence) {
    store_test::TempDir td;
    auto env = store::Env::open(td.env_dir(), store_test::test_opts());
    store::SuppressionList list(env);
    store::Policy policy = store_test::default_policy();
    list.record(store_test::event("bob@example.net", Class::Hard, "userunknown", kNow - kDay, "4XkQ3b7Lq2z"),
                policy);
    std::vector<store::Entry> in{bare("bob@example.net"), bare("carol@example.net"),
                                 bare("carol@example.net")};
    in.back().repeat = true;
    store::Record lift = hard_bounce();
    lift.suppressed = false;
    in.push_back({"bob@example.net", lift, false, true});
    auto n = list.import_entries(in, kNow, ImportMode::Merge);
    BOOST_TEST(n.added == 1u);
    BOOST_TEST(n.merged == 0u);
    BOOST_TEST(n.unchanged == 1u, "got unchanged " << n.unchanged);
    BOOST_TEST(n.duplicates == 2u, "got duplicates " << n.duplicates);
    BOOST_TEST(n.stored() == 1u);
    auto bob = list.check("bob@example.net", kNow);
    BOOST_REQUIRE(bob);
    BOOST_TEST(store::to_string(bob->klass) == "hard");
    BOOST_TEST(bob->evidence == "4XkQ3b7Lq2z");
    BOOST_TEST(bob->reason == "userunknown");

    auto r = list.import_entries(std::vector<store::Entry>{{"bob@example.net", lift, false}}, kNow,
                                 ImportMode::Replace);
    BOOST_TEST(r.replaced == 1u);
    BOOST_TEST(!list.check("bob@example.net", kNow), "--replace must be able to lift");
}

BOOST_AUTO_TEST_SUITE_END()
