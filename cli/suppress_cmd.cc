// suppress_cmd.cc - "sendguard suppress ...": the suppression list for people and scripts
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <string>
#include <unordered_set>

#include "common/store/record_format.h"
#include "common/config/load.h"
#include "common/store/setup.h"
#include "cli/commands.h"
#include "common/address/address.h"
#include "common/config/value.h"
#include "common/log/json.h"
#include "common/log/log.h"

namespace cli {
namespace {

struct Opts {
    std::string format = "json";
    std::string klass, reason = "manual", expires, import_format = "plain";
    bool json = false;
    bool replace = false;
    std::vector<std::string> words;
};

int64_t now() { return static_cast<int64_t>(std::time(nullptr)); }

void out(const std::string& line) {
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fputc('\n', stdout);
}

// The suppression key of an address or "@domain"; why names the input.
std::optional<std::string> key_for(const std::string& in, std::string& why) {
    auto k = address::suppression_key(in);
    if (!k) {
        why = in + ": not an address or @domain (" + std::string(address::to_string(k.error())) +
              "); write local@domain or @domain";
        return std::nullopt;
    }
    return *k;
}

// The keys of the named addresses; a bad one is reported and sets status
// to kUsage, the others still count.
std::vector<std::string> keys_of(const std::vector<std::string>& words, int& status) {
    std::vector<std::string> keys;
    for (const auto& w : words) {
        std::string why;
        if (auto key = key_for(w, why)) keys.push_back(std::move(*key));
        else {
            std::fprintf(stderr, "sendguard: %s\n", why.c_str());
            status = kUsage;
        }
    }
    return keys;
}

// "--" ends the options; a word with an '@' is an address even when its
// local part starts with '-' (as in verp encode and decode).
bool parse_opts(const std::vector<std::string>& args, size_t from, Opts& o, std::string& why) {
    for (size_t i = from; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "--") {
            o.words.insert(o.words.end(), args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
            break;
        }
        auto value = [&](std::string& dst) {
            if (i + 1 >= args.size()) { why = a + " needs a value"; return false; }
            dst = args[++i];
            return true;
        };
        if (a == "--json") o.json = true;
        else if (a == "--replace") o.replace = true;
        else if (a == "--format") { if (!value(o.format)) return false; o.import_format = o.format; }
        else if (a == "--class") { if (!value(o.klass)) return false; }
        else if (a == "--reason") { if (!value(o.reason)) return false; }
        else if (a == "--expires") { if (!value(o.expires)) return false; }
        else if (a.size() > 1 && a[0] == '-' && a.find('@') == std::string::npos) {
            why = "unknown option " + a + " (an address starting with '-' goes after --)";
            return false;
        }
        else o.words.push_back(a);
    }
    return true;
}

// list is null when the store has not been created yet: nothing is suppressed.
int check(const store::SuppressionList* list, const Opts& o) {
    if (o.words.empty()) { std::fputs("sendguard: suppress check: name an address\n", stderr); return kUsage; }
    int status = 0;
    for (const auto& key : keys_of(o.words, status)) {
        auto r = list ? list->check(key, now()) : std::nullopt;
        if (!r && status == 0) status = 1;
        if (o.json) {
            if (r) out(store::record_json(key, *r, now()));
            else out(logging::JsonObject().add("address", key).add("suppressed", false).str());
        } else if (r) {
            out(key + ": suppressed, class=" + std::string(store::to_string(r->klass)) +
                ", reason=" + r->reason + (r->status.empty() ? "" : ", status=" + r->status) +
                (r->message_id.empty() ? "" : ", message_id=" + r->message_id) +
                (r->headers.empty() ? "" : ", headers=" + store::headers_json(r->headers)));
        } else {
            out(key + ": not suppressed");
        }
    }
    return status;
}

int dump(const store::SuppressionList* list, const Opts& o, bool active_only) {
    bool csv = o.format == "csv";
    if (!csv && o.format != "json") { std::fputs("sendguard: --format is json or csv\n", stderr); return kUsage; }
    std::optional<store::Class> want;
    if (!o.klass.empty() && !(want = store::parse_class(o.klass))) {
        std::fputs("sendguard: --class is hard, soft, complaint or manual\n", stderr);
        return kUsage;
    }
    if (csv) out(store::csv_header());
    int64_t t = now();
    if (list) list->for_each([&](std::string_view key, const store::Record& r) {
        if (active_only && !r.active(t)) return true;
        if (want && r.klass != *want) return true;
        out(csv ? store::record_csv(key, r, t) : store::record_json(key, r, t));
        return !std::ferror(stdout);
    });
    std::fflush(stdout);
    return std::ferror(stdout) ? kFailure : 0;
}

int add(store::SuppressionList& list, const Opts& o) {
    store::Record r;
    r.klass = store::Class::Manual;
    if (!o.klass.empty()) {
        auto c = store::parse_class(o.klass);
        if (!c) { std::fputs("sendguard: --class is hard, soft, complaint or manual\n", stderr); return kUsage; }
        r.klass = *c;
    }
    r.source = store::Source::Manual;
    r.suppressed = true;
    r.reason = o.reason;
    r.first_seen = r.last_seen = now();
    r.count = 1;
    if (!o.expires.empty()) {
        auto d = config::parse_duration(o.expires);
        if (!d) { std::fprintf(stderr, "sendguard: --expires %s: use a duration like 30d, 12h\n", o.expires.c_str()); return kUsage; }
        if (d->count() > 0) r.expiry = now() + d->count();
    }
    if (o.words.empty()) { std::fputs("sendguard: suppress add: name an address\n", stderr); return kUsage; }
    int status = 0;
    for (const auto& key : keys_of(o.words, status)) {
        list.add(key, r);
        logging::Line l = audit_line("add");
        l.kv("address", "<" + key + ">");
        audit_who(l)
            .kv("class", store::to_string(r.klass))
            .kv("reason", r.reason)
            .kv("expires", r.expiry ? store::iso_time(r.expiry) : std::string("never"));
        logging::info(l);
        out(key + ": added");
    }
    return status;
}

int remove(store::SuppressionList& list, const Opts& o) {
    if (o.words.empty()) { std::fputs("sendguard: suppress remove: name an address\n", stderr); return kUsage; }
    int status = 0;
    for (const auto& key : keys_of(o.words, status)) {
        const bool removed = list.remove(key);
        logging::Line l = audit_line("remove");
        l.kv("address", "<" + key + ">");
        audit_who(l).kv("result", removed ? "removed" : "absent");
        logging::info(l);
        if (removed) out(key + ": removed");
        else { std::fprintf(stderr, "sendguard: %s: not in the list\n", key.c_str()); status = 1; }
    }
    return status;
}

// The longest record an import takes (a CSV record may span lines).
constexpr size_t kMaxImportRecord = 64 * 1024;

// Reads one line without its "\n", keeping at most max bytes: a longer
// line is read to its end and flagged. False at the end of the input.
bool read_line(std::istream& in, std::string& line, size_t max, bool& too_long) {
    line.clear();
    too_long = false;
    std::streambuf* sb = in.rdbuf();
    bool any = false;
    for (int c; (c = sb->sbumpc()) != std::char_traits<char>::eof();) {
        any = true;
        if (c == '\n') return true;
        if (line.size() < max) line += static_cast<char>(c);
        else too_long = true;
    }
    return any;
}

int import(store::SuppressionList& list, const Opts& o) {
    store::ImportFormat f;
    if (o.import_format == "plain") f = store::ImportFormat::Plain;
    else if (o.import_format == "csv") f = store::ImportFormat::Csv;
    else if (o.import_format == "json") f = store::ImportFormat::Json;
    else { std::fputs("sendguard: --format is plain, csv or json\n", stderr); return kUsage; }
    const store::ImportMode mode = o.replace ? store::ImportMode::Replace : store::ImportMode::Merge;
    std::string name = o.words.empty() ? "-" : o.words[0];
    std::ifstream file;
    if (name != "-") {
        file.open(name, std::ios::binary);
        if (!file) { std::fprintf(stderr, "sendguard: cannot open %s: %s\n", name.c_str(), std::strerror(errno)); return kFailure; }
    }
    std::istream& in = name == "-" ? std::cin : file;
    bool progress = ::isatty(2);
    std::vector<store::Entry> batch;
    std::vector<std::string> columns;
    // Every key of this import, to report repeated lines (about 100 bytes
    // per address).
    std::unordered_set<std::string> seen;
    store::ImportCounts n;
    size_t lineno = 0, done = 0, bad = 0;
    int64_t t = now();
    auto summary = [&] {
        if (o.json) {
            out(logging::JsonObject()
                    .add("lines", static_cast<long long>(lineno))
                    .add("imported", static_cast<long long>(n.stored()))
                    .add("added", static_cast<long long>(n.added))
                    .add("merged", static_cast<long long>(n.merged))
                    .add("replaced", static_cast<long long>(n.replaced))
                    .add("unchanged", static_cast<long long>(n.unchanged))
                    .add("duplicates", static_cast<long long>(n.duplicates))
                    .add("rejected", static_cast<long long>(bad))
                    .str());
            return;
        }
        std::printf("imported %zu records from %zu lines: %zu added, %zu %s, %zu unchanged, "
                    "%zu duplicates, %zu rejected\n",
                    n.stored(), lineno, n.added, o.replace ? n.replaced : n.merged,
                    o.replace ? "replaced" : "merged", n.unchanged, n.duplicates, bad);
    };
    // The audit line: one per import, also when it stopped half-way.
    auto audit = [&](std::string_view result) {
        logging::Line l = audit_line("import");
        l.kv("file", name);
        audit_who(l)
            .kv("format", o.import_format)
            .kv("mode", o.replace ? "replace" : "merge")
            .kv("lines", static_cast<long long>(lineno))
            .kv("added", static_cast<long long>(n.added))
            .kv(o.replace ? "replaced" : "merged", static_cast<long long>(o.replace ? n.replaced : n.merged))
            .kv("unchanged", static_cast<long long>(n.unchanged))
            .kv("duplicates", static_cast<long long>(n.duplicates))
            .kv("rejected", static_cast<long long>(bad))
            .kv("result", result);
        logging::info(l);
    };
    auto flush = [&] {
        try {
            auto c = list.import_entries(batch, t, mode);
            n.added += c.added;
            n.merged += c.merged;
            n.replaced += c.replaced;
            n.unchanged += c.unchanged;
            n.duplicates += c.duplicates;
        } catch (...) {
            if (progress) std::fputc('\n', stderr);
            std::fputs("sendguard: the import stopped at the error below; counts so far:\n", stderr);
            summary();
            audit("stopped");
            std::fflush(stdout);
            throw;
        }
        done += batch.size();
        batch.clear();
        if (progress) std::fprintf(stderr, "\rsendguard: imported %zu of %zu lines", done, lineno);
    };
    // A rejected line is echoed cleaned (no terminal escapes from the file)
    // and, past kMaxShown, only counted: the summary gives the total.
    constexpr size_t kMaxShown = 100;
    auto reject = [&](size_t at, const std::string& why) {
        if (bad < kMaxShown)
            std::fprintf(stderr, "sendguard: %s:%zu: %s\n", name.c_str(), at, logging::printable(why, 400).c_str());
        else if (bad == kMaxShown)
            std::fprintf(stderr, "sendguard: %s: more rejected lines not shown; the summary counts them\n",
                         name.c_str());
        ++bad;
    };
    std::string line, rec;  // rec: a CSV record that spans lines so far
    size_t rec_line = 0;
    bool too_long = false;
    while (read_line(in, line, kMaxImportRecord, too_long)) {
        ++lineno;
        if (lineno == 1) line.erase(0, line.size() - store::strip_bom(line).size());
        if (rec.empty()) {
            rec = std::move(line);
            rec_line = lineno;
        } else {
            rec += '\n';
            rec += line;
        }
        if (too_long || rec.size() > kMaxImportRecord) {
            reject(rec_line, "record longer than " + std::to_string(kMaxImportRecord) + " bytes");
            rec.clear();
            continue;
        }
        auto il = store::parse_import_line(f, rec, columns);
        if (f == store::ImportFormat::Csv && columns.empty() && il.skip) {
            size_t b = rec.find_first_not_of(" \t\r");
            if (b == std::string::npos || rec[b] == '#') { rec.clear(); continue; }
            // The first line names the columns, as export writes them.
            auto cols = store::split_csv(std::string_view(rec).substr(b));
            if (!cols || std::find(cols->begin(), cols->end(), "address") == cols->end()) {
                std::fprintf(stderr, "sendguard: %s:%zu: the first CSV line must name the columns, "
                             "one of them \"address\" (as \"sendguard suppress export --format csv\" writes)\n",
                             name.c_str(), lineno);
                return kUsage;
            }
            columns = std::move(*cols);
            rec.clear();
            continue;
        }
        if (il.incomplete) continue;  // a quoted field goes on on the next line
        rec.clear();
        if (il.skip) continue;
        std::string why = il.error;
        std::optional<std::string> key;
        if (why.empty()) key = key_for(il.address, why);
        if (!key) {
            if (f == store::ImportFormat::Plain && il.address.find(',') != std::string::npos)
                why += " (a CSV file? import it with --format csv)";
            reject(rec_line, why);
            continue;
        }
        store::Record r;
        if (il.record) r = *il.record;
        else { r.klass = store::Class::Manual; r.source = store::Source::Import; r.suppressed = true; }
        if (il.bare && r.reason.empty()) r.reason = "import";
        if (r.first_seen == 0) r.first_seen = t;
        if (r.last_seen == 0) r.last_seen = t;
        if (r.count == 0) r.count = 1;
        const bool repeat = !seen.insert(*key).second;
        batch.push_back({std::move(*key), std::move(r), il.bare, repeat});
        if (batch.size() >= store::kImportBatch) flush();
    }
    if (!rec.empty()) reject(rec_line, "unterminated quoted field");
    flush();
    if (progress) std::fputc('\n', stderr);
    summary();
    audit("done");
    return bad ? 1 : 0;
}

int stats(const store::SuppressionList* list, const Opts& o) {
    const store::Stats s = list ? list->stats(now()) : store::Stats{};
    static const store::Class classes[] = {store::Class::Hard, store::Class::Soft,
                                           store::Class::Complaint, store::Class::Manual};
    static const store::Source sources[] = {store::Source::Dsn, store::Source::Arf,
                                            store::Source::Manual, store::Source::Import};
    if (o.json) {
        logging::JsonObject c, so, re;
        for (auto k : classes) c.add(store::to_string(k), static_cast<long long>(s.by_class[static_cast<size_t>(k)]));
        for (auto k : sources) so.add(store::to_string(k), static_cast<long long>(s.by_source[static_cast<size_t>(k)]));
        for (auto& [k, v] : s.by_reason) re.add(k, static_cast<long long>(v));
        logging::JsonObject j;
        j.add("total", static_cast<long long>(s.total)).add("suppressed", static_cast<long long>(s.active))
            .add("pending", static_cast<long long>(s.pending)).add("expired", static_cast<long long>(s.expired))
            .add("domains", static_cast<long long>(s.domains))
            .add("block_domains", static_cast<long long>(s.block_domains))
            .add_raw("by_class", c.str()).add_raw("by_source", so.str()).add_raw("by_reason", re.str());
        out(j.str());
        return 0;
    }
    std::printf("records: %llu  suppressed: %llu  pending soft: %llu  expired: %llu  domains: %llu  "
                "blocked destinations: %llu\n",
                (unsigned long long)s.total, (unsigned long long)s.active, (unsigned long long)s.pending,
                (unsigned long long)s.expired, (unsigned long long)s.domains,
                (unsigned long long)s.block_domains);
    for (auto k : classes)
        std::printf("  class %-10s %llu\n", std::string(store::to_string(k)).c_str(),
                    (unsigned long long)s.by_class[static_cast<size_t>(k)]);
    for (auto& [k, v] : s.by_reason) std::printf("  reason %-15s %llu\n", k.c_str(), (unsigned long long)v);
    return 0;
}

constexpr const char* kUsageText =
    "usage: sendguard [-c config] [-o name=value] suppress check [--json] address ...\n"
    "       sendguard [-c config] suppress list|export [--format json|csv] [--class class]\n"
    "       sendguard [-c config] suppress add [--class class] [--reason reason] [--expires duration] address ...\n"
    "       sendguard [-c config] suppress remove address ...\n"
    "       sendguard [-c config] suppress import [--format plain|csv|json] [--replace] [--json] [file]\n"
    "       sendguard [-c config] suppress stats [--json]\n";

}  // namespace

int suppress_command(const Global& g, const std::vector<std::string>& args) noexcept {
    if (wants_help(args)) {
        std::fputs(kUsageText, stdout);
        return 0;
    }
    if (args.empty()) {
        std::fputs(kUsageText, stderr);
        return kUsage;
    }
    const std::string& sub = args[0];
    Opts o;
    std::string why;
    if (!parse_opts(args, 1, o, why)) {
        std::fprintf(stderr, "sendguard: suppress %s: %s\n", sub.c_str(), why.c_str());
        return kUsage;
    }
    const bool reads = sub == "check" || sub == "list" || sub == "export" || sub == "stats";
    const bool writes = sub == "add" || sub == "remove" || sub == "import";
    if (!reads && !writes) {
        std::fprintf(stderr, "sendguard: suppress: unknown command %s\n%s", sub.c_str(), kUsageText);
        return kUsage;
    }
    try {
        config::Config cfg = config::load(g.config_path, g.overrides);
        if (writes) open_audit_log(cfg);
        // Readers open read-only: mailing software in the store's group, or
        // a read-only mount, can check and list.
        auto env = open_store(cfg, reads);
        std::optional<store::SuppressionList> list;
        if (env) list.emplace(env);
        else
            std::fprintf(stderr, "sendguard: note: no suppression store in %s yet: nothing is suppressed\n",
                         cfg.str("state_directory").c_str());
        const store::SuppressionList* l = list ? &*list : nullptr;
        if (sub == "check") return check(l, o);
        if (sub == "list") return dump(l, o, true);
        if (sub == "export") return dump(l, o, false);
        if (sub == "stats") return stats(l, o);
        if (sub == "add") return add(*list, o);
        if (sub == "remove") return remove(*list, o);
        return import(*list, o);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "sendguard: %s\n", e.what());
        return kFailure;
    }
}

}  // namespace cli
