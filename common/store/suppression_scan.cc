// suppression_scan.cc - SuppressionList scans (for_each, stats, purge) and the
// block-event table
#include <algorithm>
#include <limits>
#include <vector>

#include "common/store/read_batch.h"
#include "common/store/suppression.h"

namespace store {

void SuppressionList::for_each(const Visit& fn, std::string_view after) const {
    std::string resume(after);
    std::vector<Entry> batch;
    batch.reserve(kScanBatch);
    for (;;) {
        batch.clear();
        const bool more = read_batch(*env_, db_, resume, [&](std::string_view k, std::string_view v) {
            Entry e{std::string(k), {}};
            if (Decode d = decode(v, e.record); d != Decode::Ok)
                bad_value(k, v, d);
            batch.push_back(std::move(e));
        });
        // No txn is held here: fn may take its time or call back into the list.
        for (const Entry& e : batch)
            if (!fn(e.key, e.record))
                return;
        if (!more || batch.empty())
            return;
        resume = std::move(batch.back().key);
    }
}

Stats SuppressionList::stats(int64_t now) const {
    Stats s;
    std::string resume, last;
    bool more = true;
    while (more) {
        last.clear();
        more = read_batch(*env_, db_, resume, [&](std::string_view k, std::string_view v) {
            last.assign(k);
            ++s.total;
            Record r;
            std::string_view reason;
            if (decode_fixed(v, r) != Decode::Ok || decode_reason(v, reason) != Decode::Ok) {
                ++s.undecodable;
                return;
            }
            if (r.expired(now)) {
                ++s.expired;
                return;
            }
            if (!r.suppressed) {
                ++s.pending;
                return;
            }
            ++s.active;
            ++s.by_class[static_cast<size_t>(r.klass)];
            ++s.by_source[static_cast<size_t>(r.source)];
            if (k.front() == '@')
                ++s.domains;
            if (auto it = s.by_reason.find(reason); it != s.by_reason.end())
                ++it->second;
            else if (s.by_reason.size() < kMaxReasonsInStats)
                s.by_reason.emplace(std::string(reason), 1);
            else
                ++s.by_reason["(other)"];
        });
        if (last.empty())
            break;
        resume = last;
    }
    ReadTxn txn = env_->read();
    MDB_stat st{};
    if (int rc = mdb_stat(txn.raw(), blocks_, &st); rc != 0)
        throw Error(kind_of(rc), rc, "mdb_stat", env_->path(), "blocks");
    s.block_domains = st.ms_entries;
    return s;
}

// Deletes the entries of dbi whose value satisfies expired(value), one write
// txn per kScanBatch entries examined. The lambda resets its state on entry
// because Env::write may rerun it after growing the map.
template <class Pred>
size_t SuppressionList::purge(MDB_dbi dbi, Pred&& expired) {
    size_t total = 0;
    std::string resume;
    for (;;) {
        size_t removed = 0;
        std::string last;
        bool more = false;
        env_->write([&](WriteTxn& w) {
            removed = 0;
            last.clear();
            Cursor c = w.cursor(dbi);
            size_t n = 0;
            auto kv = c.after(resume);
            for (; kv && n < kScanBatch; ++n) {
                last.assign(kv->key);
                if (expired(kv->value)) {
                    c.del();
                    ++removed;
                }
                kv = c.next();  // after del(): the entry that followed
            }
            more = kv.has_value();
        });
        total += removed;
        if (!more || last.empty())
            return total;
        resume = std::move(last);
    }
}

size_t SuppressionList::purge_expired(int64_t now) {
    const size_t removed = purge(db_, [now](std::string_view v) {
        Record r;  // undecodable values are kept: they may be a newer format
        return decode_fixed(v, r) == Decode::Ok && r.expired(now);
    });
    purge(hits_, [now](std::string_view v) { return hit_expiry(v) <= now; });
    return removed;
}

BlockOutcome SuppressionList::record_block(const BlockEvent& ev, const Policy& p) {
    if (!valid_key(ev.domain))
        throw Error(Error::Kind::BadKey, 0, "record_block", env_->path(),
                    "key length " + std::to_string(ev.domain.size()));
    return env_->write([&](WriteTxn& w) {
        BlockRecord b;
        if (auto v = w.get(blocks_, ev.domain)) {
            if (Decode d = decode(*v, b); d != Decode::Ok)
                bad_value(ev.domain, *v, d);
        } else {
            b.first_seen = b.last_seen = ev.when;
        }
        // The same report again (a delivery retried after this commit).
        if (!ev.evidence.empty() && b.evidence == ev.evidence) return BlockOutcome{std::move(b), true};
        b.evidence = clean_remote_text(ev.evidence, kMaxEvidence);
        if (b.count < std::numeric_limits<uint64_t>::max())
            ++b.count;
        b.first_seen = std::min(b.first_seen, ev.when);
        if (ev.when >= b.last_seen) {  // the texts describe the latest event
            b.last_seen = ev.when;
            b.reason = clean_remote_text(ev.reason, kMaxDiagnostic);
            b.status = clean_remote_text(ev.status, kMaxDiagnostic);
            b.diagnostic = clean_remote_text(ev.diagnostic, std::min(p.max_diagnostic, kMaxDiagnostic));
            b.remote_mta = clean_remote_text(ev.remote_mta, kMaxDiagnostic);
        }
        w.put(blocks_, ev.domain, encode(b));
        return BlockOutcome{std::move(b), false};
    });
}

std::optional<BlockRecord> SuppressionList::block(std::string_view domain) const {
    ReadTxn txn = env_->read();
    auto v = txn.get(blocks_, domain);
    if (!v)
        return std::nullopt;
    BlockRecord b;
    if (Decode d = decode(*v, b); d != Decode::Ok)
        bad_value(domain, *v, d);
    return b;
}

void SuppressionList::for_each_block(const VisitBlock& fn, std::string_view after) const {
    std::string resume(after);
    std::vector<std::pair<std::string, BlockRecord>> batch;
    for (;;) {
        batch.clear();
        const bool more = read_batch(*env_, blocks_, resume, [&](std::string_view k, std::string_view v) {
            BlockRecord b;
            if (Decode d = decode(v, b); d != Decode::Ok)
                bad_value(k, v, d);
            batch.emplace_back(std::string(k), std::move(b));
        });
        for (const auto& [key, rec] : batch)
            if (!fn(key, rec))
                return;
        if (!more || batch.empty())
            return;
        resume = std::move(batch.back().first);
    }
}

}  // namespace store
