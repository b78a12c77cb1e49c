// suppression_import.cc - SuppressionList::import_batch / import_entries and
// the merge rules of an import (see suppression.h)
#include <algorithm>

#include "common/store/suppression.h"

namespace store {

namespace {

// The later of two expiry times; 0 (never) is the latest.
int64_t later_expiry(int64_t a, int64_t b) noexcept {
    if (a == 0 || b == 0)
        return 0;
    return std::max(a, b);
}

int64_t earlier_seen(int64_t a, int64_t b) noexcept {
    if (a == 0 || b == 0)
        return std::max(a, b);  // 0: not known
    return std::min(a, b);
}

void take_texts(Record& out, const Record& in) {
    out.klass = in.klass;
    out.source = in.source;
    out.reason = in.reason;
    out.status = in.status;
    out.diagnostic = in.diagnostic;
    out.remote_mta = in.remote_mta;
    out.evidence = in.evidence;
    if (!in.message_id.empty() || !in.headers.empty()) {
        out.message_id = in.message_id;
        out.headers = in.headers;
    }
}

void merge_counts(Record& out, const Record& in) {
    out.count = std::max(out.count, in.count);
    out.first_seen = earlier_seen(out.first_seen, in.first_seen);
    out.last_seen = std::max(out.last_seen, in.last_seen);
}

}  // namespace

std::string_view to_string(Merge m) noexcept {
    switch (m) {
    case Merge::Added: return "added";
    case Merge::Merged: return "merged";
    case Merge::Replaced: return "replaced";
    case Merge::Unchanged: return "unchanged";
    }
    return "unknown";
}

Merge merge_import(const Record* prev, const Entry& in, int64_t now, ImportMode mode,
                   Record& out) {
    const Record& r = in.record;
    if (mode == ImportMode::Replace) {
        out = r;
        if (!prev)
            return Merge::Added;
        return *prev == r ? Merge::Unchanged : Merge::Replaced;
    }
    if (!prev || prev->expired(now)) {  // an expired record reads as absent
        out = r;
        return prev && *prev == r ? Merge::Unchanged : Merge::Added;
    }
    out = *prev;
    if (!r.active(now))
        return Merge::Unchanged;  // never lifts or shortens a live record
    if (!prev->suppressed) {
        // A pending soft record: the import suppresses, it wins.
        take_texts(out, r);
        out.suppressed = true;
        out.expiry = r.expiry;
        merge_counts(out, r);
    } else {
        if (!in.bare && strength(r.klass) > strength(prev->klass))
            take_texts(out, r);
        out.expiry = later_expiry(prev->expiry, r.expiry);
        if (!in.bare)
            merge_counts(out, r);
    }
    return out == *prev ? Merge::Unchanged : Merge::Merged;
}

size_t SuppressionList::import_batch(std::span<const Entry> entries) {
    for (const Entry& e : entries)
        if (!valid_key(e.key))
            throw Error(Error::Kind::BadKey, 0, "import", env_->path(),
                        "key length " + std::to_string(e.key.size()));
    size_t stored = 0;
    std::string value;
    while (stored < entries.size()) {
        const auto batch = entries.subspan(stored, std::min(kImportBatch, entries.size() - stored));
        env_->write([&](WriteTxn& w) {
            for (const Entry& e : batch) {
                value = encode(e.record);
                w.put(db_, e.key, value);
            }
        });
        stored += batch.size();
    }
    return stored;
}

ImportCounts SuppressionList::import_entries(std::span<const Entry> entries, int64_t now,
                                             ImportMode mode) {
    for (const Entry& e : entries)
        if (!valid_key(e.key))
            throw Error(Error::Kind::BadKey, 0, "import", env_->path(),
                        "key length " + std::to_string(e.key.size()));
    ImportCounts total;
    size_t done = 0;
    while (done < entries.size()) {
        const auto batch = entries.subspan(done, std::min(kImportBatch, entries.size() - done));
        ImportCounts n;
        env_->write([&](WriteTxn& w) {
            n = {};  // Env::write reruns this after growing the map
            Record out;
            for (const Entry& e : batch) {
                // A write txn reads its own puts: a key given twice merges
                // with its first line.
                std::optional<Record> prev = load(w, e.key);
                const Merge m = merge_import(prev ? &*prev : nullptr, e, now, mode, out);
                if (e.repeat) {
                    ++n.duplicates;
                    if (m != Merge::Unchanged)
                        w.put(db_, e.key, encode(out));
                    continue;
                }
                switch (m) {
                case Merge::Added: ++n.added; break;
                case Merge::Merged: ++n.merged; break;
                case Merge::Replaced: ++n.replaced; break;
                case Merge::Unchanged: ++n.unchanged; continue;
                }
                w.put(db_, e.key, encode(out));
            }
        });
        total.added += n.added;
        total.merged += n.merged;
        total.replaced += n.replaced;
        total.unchanged += n.unchanged;
        total.duplicates += n.duplicates;
        done += batch.size();
    }
    return total;
}

}  // namespace store
