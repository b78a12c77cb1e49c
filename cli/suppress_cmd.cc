// suppress_cmd.cc - "sendguard suppress ...": the suppression list for people and scripts
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <string>

#include "common/store/record_format.h"
#include "common/config/load.h"
#include "common/store/setup.h"
#include "cli/commands.h"
#include "common/address/address.h"
#include "common/config/value.h"
#include "common/log/json.h"

namespace cli {
namespace {

struct Opts {
    std::string format = "json";
    std::string klass, reason = "manual", expires, import_format = "plain";
    bool json = false;
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
        why = in + ": " + std::string(address::to_string(k.error()));
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

bool parse_opts(const std::vector<std::string>& args, size_t from, Opts& o, std::string& why) {
    for (size_t i = from; i < args.size(); ++i) {
        const std::string& a = args[i];
        auto value = [&](std::string& dst) {
            if (i + 1 >= args.size()) { why = a + " needs a value"; return false; }
            dst = args[++i];
            return true;
        };
        if (a == "--json") o.json = true;
        else if (a == "--format") { if (!value(o.format)) return false; o.import_format = o.format; }
        else if (a == "--class") { if (!value(o.klass)) return false; }
        else if (a == "--reason") { if (!value(o.reason)) return false; }
        else if (a == "--expires") { if (!value(o.expires)) return false; }
        else if (a.size() > 1 && a[0] == '-' && a != "-") { why = "unknown option " + a; return false; }
        else o.words.push_back(a);
    }
    return true;
}

int check(store::SuppressionList& list, const Opts& o) {
    if (o.words.empty()) { std::fputs("sendguard: suppress check: name an address\n", stderr); return kUsage; }
    int status = 0;
    for (const auto& key : keys_of(o.words, status)) {
        auto r = list.check(key, now());
        if (!r && status == 0) status = 1;
        if (o.json) {
            if (r) out(store::record_json(key, *r, now()));
            else out(logging::JsonObject().add("address", key).add("suppressed", false).str());
        } else if (r) {
            out(key + ": suppressed, class=" + std::string(store::to_string(r->klass)) +
                ", reason=" + r->reason + (r->status.empty() ? "" : ", status=" + r->status));
        } else {
            out(key + ": not suppressed");
        }
    }
    return status;
}

int dump(store::SuppressionList& list, const Opts& o, bool active_only) {
    bool csv = o.format == "csv";
    if (!csv && o.format != "json") { std::fputs("sendguard: --format is json or csv\n", stderr); return kUsage; }
    std::optional<store::Class> want;
    if (!o.klass.empty() && !(want = store::parse_class(o.klass))) {
        std::fputs("sendguard: --class is hard, soft, complaint or manual\n", stderr);
        return kUsage;
    }
    if (csv) out(store::csv_header());
    int64_t t = now();
    list.for_each([&](std::string_view key, const store::Record& r) {
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
        out(key + ": added");
    }
    return status;
}

int remove(store::SuppressionList& list, const Opts& o) {
    if (o.words.empty()) { std::fputs("sendguard: suppress remove: name an address\n", stderr); return kUsage; }
    int status = 0;
    for (const auto& key : keys_of(o.words, status)) {
        if (list.remove(key)) out(key + ": removed");
        else { std::fprintf(stderr, "sendguard: %s: not in the list\n", key.c_str()); status = 1; }
    }
    return status;
}

int import(store::SuppressionList& list, const Opts& o) {
    store::ImportFormat f;
    if (o.import_format == "plain") f = store::ImportFormat::Plain;
    else if (o.import_format == "csv") f = store::ImportFormat::Csv;
    else if (o.import_format == "json") f = store::ImportFormat::Json;
    else { std::fputs("sendguard: --format is plain, csv or json\n", stderr); return kUsage; }
    std::string name = o.words.empty() ? "-" : o.words[0];
    std::ifstream file;
    if (name != "-") {
        file.open(name);
        if (!file) { std::fprintf(stderr, "sendguard: cannot open %s\n", name.c_str()); return kFailure; }
    }
    std::istream& in = name == "-" ? std::cin : file;
    bool progress = ::isatty(2);
    std::vector<store::Entry> batch;
    std::vector<std::string> columns;
    size_t lineno = 0, stored = 0, bad = 0;
    int64_t t = now();
    auto flush = [&] {
        try {
            stored += list.import_batch(batch);
        } catch (...) {
            if (progress) std::fputc('\n', stderr);
            std::printf("imported %zu records from %zu lines before the error below\n", stored, lineno);
            std::fflush(stdout);
            throw;
        }
        batch.clear();
        if (progress) std::fprintf(stderr, "\rsendguard: imported %zu of %zu lines", stored, lineno);
    };
    std::string line;
    while (std::getline(in, line)) {
        ++lineno;
        auto il = store::parse_import_line(f, line, columns);
        if (f == store::ImportFormat::Csv && columns.empty() && il.skip) {
            size_t b = line.find_first_not_of(" \t\r");
            if (b == std::string::npos || line[b] == '#') continue;
            // The first line names the columns, as export writes them.
            auto cols = store::split_csv(std::string_view(line).substr(b));
            if (!cols || std::find(cols->begin(), cols->end(), "address") == cols->end()) {
                std::fprintf(stderr, "sendguard: %s:%zu: the first CSV line must name the columns, "
                             "one of them \"address\" (as \"sendguard suppress export --format csv\" writes)\n",
                             name.c_str(), lineno);
                return kUsage;
            }
            columns = std::move(*cols);
            continue;
        }
        if (il.skip) continue;
        std::string why = il.error;
        std::optional<std::string> key;
        if (why.empty()) key = key_for(il.address, why);
        if (!key) {
            std::fprintf(stderr, "sendguard: %s:%zu: %s\n", name.c_str(), lineno, why.c_str());
            ++bad;
            continue;
        }
        store::Record r;
        if (il.record) r = *il.record;
        else { r.klass = store::Class::Manual; r.source = store::Source::Import; r.suppressed = true; r.reason = "import"; }
        if (r.first_seen == 0) r.first_seen = t;
        if (r.last_seen == 0) r.last_seen = t;
        if (r.count == 0) r.count = 1;
        batch.push_back({std::move(*key), std::move(r)});
        if (batch.size() >= store::kImportBatch) flush();
    }
    flush();
    if (progress) std::fputc('\n', stderr);
    std::printf("imported %zu records from %zu lines, %zu rejected\n", stored, lineno, bad);
    return bad ? 1 : 0;
}

int stats(store::SuppressionList& list, const Opts& o) {
    auto s = list.stats(now());
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

}  // namespace

int suppress_command(const Global& g, const std::vector<std::string>& args) noexcept {
    if (args.empty()) {
        std::fputs("sendguard: suppress check|list|add|remove|export|import|stats\n", stderr);
        return kUsage;
    }
    const std::string& sub = args[0];
    Opts o;
    std::string why;
    if (!parse_opts(args, 1, o, why)) {
        std::fprintf(stderr, "sendguard: suppress %s: %s\n", sub.c_str(), why.c_str());
        return kUsage;
    }
    try {
        config::Config cfg = config::load(g.config_path, g.overrides);
        store::SuppressionList list(store::open_suppression_store(cfg));
        if (sub == "check") return check(list, o);
        if (sub == "list") return dump(list, o, true);
        if (sub == "export") return dump(list, o, false);
        if (sub == "add") return add(list, o);
        if (sub == "remove") return remove(list, o);
        if (sub == "import") return import(list, o);
        if (sub == "stats") return stats(list, o);
        std::fprintf(stderr, "sendguard: suppress: unknown command %s\n", sub.c_str());
        return kUsage;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "sendguard: %s\n", e.what());
        return kFailure;
    }
}

}  // namespace cli
