// test_dsn_corpus.cc - the bounce parser scored against the shared corpus
//
// Reads ../shared/corpus/sisimai/expected.jsonl (see its README.md), parses
// every message and checks the bars: recipient sets, classes, status codes,
// no false bounces, every complaint found. Messages marked ambiguous are
// parsed (they must not crash) but not scored. When the corpus is missing
// the test exits 77 (skipped) with a message, and fails under CI=true
// (harness::require).
// SENDGUARD_CORPUS_VERBOSE=1 lists every miss as "file: got X, want Y".
#define BOOST_TEST_NO_MAIN
#include <boost/property_tree/json_parser.hpp>
#include <boost/property_tree/ptree.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <string>

#include "tests/support/require.h"
#include "tests/unit/test_dsn_support.h"
#include "common/dsn/dsn.h"
#include "common/sys/fd.h"

namespace {

namespace fs = std::filesystem;
namespace pt = boost::property_tree;

struct Want {
    std::string address, status, klass;
    bool status_in_message = false;
};

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

std::string join(const std::set<std::string>& s) {
    std::string out;
    for (const auto& x : s) out += (out.empty() ? "" : ",") + x;
    return "{" + out + "}";
}

double pct(size_t a, size_t b) { return b ? 100.0 * static_cast<double>(a) / static_cast<double>(b) : 100.0; }

}  // namespace

BOOST_AUTO_TEST_CASE(dsn_corpus_bars, *boost::unit_test::label("corpus")) {
    const fs::path dir = fs::path(SENDGUARD_SHARED_DIR) / "corpus" / "sisimai";
    harness::require(fs::exists(dir / "expected.jsonl"), "the DSN corpus at " + dir.string() + " (../shared beside the source tree)");
    const char* v = std::getenv("SENDGUARD_CORPUS_VERBOSE");
    const bool verbose = v && std::string_view(v) == "1";

    size_t files = 0, bounces = 0, set_ok = 0, cls_n = 0, cls_ok = 0, st_n = 0, st_ok = 0;
    size_t nonb = 0, nonb_ok = 0, compl_n = 0, compl_ok = 0;
    std::chrono::steady_clock::duration spent{};
    std::ifstream in(dir / "expected.jsonl");
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        pt::ptree row;
        std::istringstream ls(line);
        pt::read_json(ls, row);
        const std::string file = row.get<std::string>("file");
        const std::string is_bounce = row.get<std::string>("is_bounce", "null");
        const bool ambiguous = row.get<std::string>("ambiguous", "false") == "true";
        std::vector<Want> want;
        for (const auto& r : row.get_child("recipients")) {
            Want w;
            w.address = lower(r.second.get<std::string>("address"));
            w.status = r.second.get<std::string>("status", "");
            w.klass = r.second.get<std::string>("class", "");
            w.status_in_message = r.second.get<std::string>("status_in_message", "false") == "true";
            want.push_back(w);
        }
        const std::string msg = sys::read_file((dir / file).string());
        auto t0 = std::chrono::steady_clock::now();
        const dsn::Report got = dsn_test::parse(msg);
        spent += std::chrono::steady_clock::now() - t0;
        ++files;
        if (ambiguous) continue;

        std::set<std::string> got_set, want_set;
        for (const auto& r : got.recipients) got_set.insert(lower(r.address));
        for (const auto& w : want) want_set.insert(w.address);
        if (is_bounce == "true") {
            ++bounces;
            if (got_set == want_set) ++set_ok;
            else if (verbose)
                std::cout << "RCPT " << file << ": got " << join(got_set) << " (" << dsn::to_string(got.kind)
                          << "), want " << join(want_set) << "\n";
        } else if (is_bounce == "false") {
            ++nonb;
            if (!got.is_bounce) ++nonb_ok;
            else if (verbose) std::cout << "NONB " << file << ": got a bounce, want none\n";
        }
        for (const auto& w : want) {
            auto it = std::find_if(got.recipients.begin(), got.recipients.end(),
                                   [&](const dsn::Recipient& r) { return lower(r.address) == w.address; });
            if (w.klass == "complaint") {
                ++compl_n;
                if (it != got.recipients.end() && it->klass == dsn::Class::Complaint) ++compl_ok;
                else if (verbose) std::cout << "ARF  " << file << ": complaint " << w.address << " not found\n";
            }
            if (it == got.recipients.end()) continue;
            ++cls_n;
            if (dsn::to_string(it->klass) == w.klass) ++cls_ok;
            else if (verbose)
                std::cout << "CLAS " << file << ": got " << dsn::to_string(it->klass) << "/"
                          << dsn::to_string(it->reason) << " status=" << it->status << ", want " << w.klass
                          << " status=" << w.status << " diag=" << it->diagnostic.substr(0, 160) << "\n";
            if (w.status_in_message) {
                ++st_n;
                if (it->status == w.status) ++st_ok;
                else if (verbose)
                    std::cout << "STAT " << file << ": got '" << it->status << "', want '" << w.status << "'\n";
            }
        }
    }
    const double secs = std::chrono::duration<double>(spent).count();
    BOOST_TEST_MESSAGE("dsn corpus: " << files << " files, " << (secs > 0 ? files / secs : 0.0) << " msgs/s");
    BOOST_TEST_MESSAGE("  recipient sets: " << set_ok << "/" << bounces << " = " << pct(set_ok, bounces) << "%");
    BOOST_TEST_MESSAGE("  class:          " << cls_ok << "/" << cls_n << " = " << pct(cls_ok, cls_n) << "%");
    BOOST_TEST_MESSAGE("  status:         " << st_ok << "/" << st_n << " = " << pct(st_ok, st_n) << "%");
    BOOST_TEST_MESSAGE("  non-bounces:    " << nonb_ok << "/" << nonb << " not flagged");
    BOOST_TEST_MESSAGE("  complaints:     " << compl_ok << "/" << compl_n << " found");
    BOOST_TEST(files > 0u);
    BOOST_TEST(pct(set_ok, bounces) >= 97.0, "recipient sets " << pct(set_ok, bounces) << "%, want >= 97%");
    BOOST_TEST(pct(cls_ok, cls_n) >= 93.0, "class " << pct(cls_ok, cls_n) << "%, want >= 93%");
    BOOST_TEST(pct(st_ok, st_n) >= 95.0, "status " << pct(st_ok, st_n) << "%, want >= 95%");
    BOOST_TEST(nonb_ok == nonb, "non-bounces flagged: " << nonb - nonb_ok << ", want 0");
    BOOST_TEST(compl_ok == compl_n, "complaints found " << compl_ok << "/" << compl_n);
}
