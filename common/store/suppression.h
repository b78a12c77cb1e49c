// suppression.h - the suppression list and the per-domain block-event table
//
// API
//   store::SuppressionList list(store::Env::open(store::suppression_dir(state_dir)));
//   Outcome o = list.record(event, policy);        // one write txn per event
//   std::optional<Record> r = list.check(addr, now);   // hot path, one read txn
//   list.add(key, record); list.remove(key); list.import_batch(entries);
//   ImportCounts n = list.import_entries(entries, now, ImportMode::Merge);
//   list.for_each(fn, after); list.stats(now); list.purge_expired(now);
//   list.record_block(block_event, policy); list.for_each_block(fn, after);
//
// Keys are plain strings normalised by the caller: "user@example.com" for an
// address, "@example.com" for a domain-level entry. Values use the layout in
// record.h (first byte = format version).
//
// Rules applied by record():
//   - hard, complaint (and manual) events suppress at once; a soft event only
//     when it is the soft_threshold-th inside one soft_window (the window
//     restarts with the first soft event after it closes);
//   - expiry = event time + hard_expiry / complaint_expiry / soft_expiry of the
//     class that suppressed (0 = never); a pending soft record (counted, not
//     suppressing) expires when its window closes;
//   - an expired record reads as absent: check() ignores it, the next event
//     starts afresh, purge_expired() deletes it;
//   - a weaker class never overrides an active stronger suppression
//     (soft < hard < complaint < manual): it updates count, last_seen and
//     evidence only;
//   - domain_threshold distinct addresses of one domain with a hard
//     "hostunknown" event inside soft_window create or refresh the domain-level
//     entry "@domain" (class hard, expiry hard_expiry). Those sightings live in
//     a side table ("domain_hits": "domain\0address" -> expiry).
//
// Rules applied by import_entries() in ImportMode::Merge (merge_import()):
// an import never weakens a live suppression.
//   - no record, or an expired one: the imported record is stored as given;
//   - an imported record that does not suppress (suppressed false, or
//     expired) leaves a live record alone: a CSV row cannot lift a bounce;
//   - a pending soft record (counted, not suppressing) takes the imported
//     class, texts, source and expiry; counts and times are merged;
//   - over an active record the stronger class (soft < hard < complaint <
//     manual) keeps or takes the texts, source and evidence; the expiry is
//     the later of the two (0 = never is the latest); count is the larger,
//     first_seen the earlier, last_seen the later;
//   - a bare entry (only an address: a plain import line) carries no class
//     and no evidence: over an active record it can only lengthen the
//     expiry, so a hard bounce stays a hard bounce with its evidence.
// ImportMode::Replace stores every record as given (the way to lift
// suppressions in bulk). Either way an entry that leaves the stored value
// as it was counts as unchanged.
//
// Block events (blocked, spamdetected, ratelimited, ...) never suppress a
// recipient; record_block() counts them per recipient domain ("blocks" table),
// once per report: an event whose evidence equals the one the domain's
// record last counted changes nothing (a retried delivery).
//
// Scans (for_each, for_each_block, stats, purge_expired) work in batches of
// kScanBatch entries, each in its own short txn, so no long-lived read txn
// pins old pages; the callbacks run with no txn held (they may call back into
// the list). A scan sees each key once but not one snapshot of the whole table.
//
// Errors: expected outcomes are values (std::nullopt, false, Outcome). Store
// failures throw store::Error: kind MapFull when the map is at its maximum
// (nothing of that call is committed: tempfail), BadKey for an empty or
// over-long key, Format for a stored value that does not decode (e.g. written
// by a newer version; the message names the key).
// Thread safety: all members may be called from many threads and processes at
// once; writes serialise on LMDB's writer lock. The one-txn-per-thread rule of
// lmdb.h applies: do not call these while holding a txn of the same thread.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/store/lmdb.h"
#include "common/store/record.h"

namespace store {

inline constexpr std::string_view kReasonHostUnknown = "hostunknown";
inline constexpr size_t kScanBatch = 1024;     // entries per txn in scans
inline constexpr size_t kImportBatch = 10000;  // entries per txn in import_batch
inline constexpr size_t kMaxReasonsInStats = 256;

// No defaults here: the parameter table has them (bounce_soft_threshold,
// bounce_soft_window, ...), and store::suppression_policy(cfg) fills every
// field from a Config, Config::defaults() for the shipped ones.
struct Policy {
    int soft_threshold = 0;
    std::chrono::seconds soft_window{};   // <= 0: the window never closes
    std::chrono::seconds soft_expiry{};   // 0: never
    std::chrono::seconds hard_expiry{};
    std::chrono::seconds complaint_expiry{};
    // Distinct hard hostunknown addresses in one domain within soft_window that
    // make a domain-level entry; 0 disables.
    int domain_threshold = 0;
    size_t max_diagnostic = 0;  // also capped by kMaxDiagnostic
    // Expiry by reason ("mailboxfull" -> 14d), overriding the class's; 0 = never.
    std::map<std::string, std::chrono::seconds, std::less<>> reason_expiry;
};

struct Event {
    std::string address;  // normalised key
    Class klass = Class::Hard;
    std::string reason, status, diagnostic, remote_mta, evidence;
    // The message the report is about (the send log, or the returned
    // headers): kept in the record when given, else the record keeps the
    // ones an earlier report gave.
    std::string message_id;
    std::vector<std::pair<std::string, std::string>> headers;
    Source source = Source::Dsn;
    int64_t when = 0;  // unix seconds
};

struct Outcome {
    bool suppressed = false;         // the address record suppresses after this event
    bool newly_suppressed = false;   // ... and did not before it
    bool domain_suppressed = false;  // "@domain" suppresses after this event
    // The same report was recorded before (a retried delivery): nothing
    // changed, and record is the stored one.
    bool repeated = false;
    Record record;                   // the address record as stored
};

struct Entry {
    std::string key;
    Record record;
    bool bare = false;    // only an address was given (see the import rules)
    bool repeat = false;  // the key came earlier in the same import
};

enum class ImportMode { Merge, Replace };
enum class Merge { Added, Merged, Replaced, Unchanged };
std::string_view to_string(Merge m) noexcept;

struct ImportCounts {
    size_t added = 0;      // no live record before
    size_t merged = 0;     // a live record took something from the import
    size_t replaced = 0;   // ImportMode::Replace overwrote a different record
    size_t unchanged = 0;  // the stored value stayed as it was
    // Entries marked repeat: applied like the others, counted only here.
    size_t duplicates = 0;
    size_t stored() const noexcept { return added + merged + replaced; }
};

// What importing in over prev (nullptr: no record) at time now gives, per
// the import rules above; out is the record to store (for Unchanged: *prev).
Merge merge_import(const Record* prev, const Entry& in, int64_t now, ImportMode mode,
                   Record& out);

struct BlockEvent {
    std::string domain;  // recipient domain, normalised
    std::string reason, status, diagnostic, remote_mta;
    int64_t when = 0;
    std::string evidence = {};  // the report's id, as Event::evidence
};

struct BlockOutcome {
    BlockRecord record;     // as stored
    bool repeated = false;  // the same report was counted before: nothing changed
};

struct Stats {
    uint64_t total = 0;       // records stored
    uint64_t active = 0;      // suppressing now
    uint64_t pending = 0;     // counted soft bounces, not (yet) suppressing
    uint64_t expired = 0;     // awaiting purge_expired()
    uint64_t domains = 0;     // active domain-level entries ("@domain")
    uint64_t undecodable = 0; // values that do not decode
    // Active records only, indexed by Class / Source.
    std::array<uint64_t, 4> by_class{};
    std::array<uint64_t, 4> by_source{};
    // Active records by reason; past kMaxReasonsInStats reasons, "(other)".
    std::map<std::string, uint64_t, std::less<>> by_reason;
    uint64_t block_domains = 0;  // rows in the block-event table
};

// "<state_dir>/suppress.lmdb": the env directory of the suppression list.
std::string suppression_dir(std::string_view state_dir);
// The domain of "local@domain" (after the last '@'), or nullopt when either
// part is empty.
std::optional<std::string_view> domain_of(std::string_view address) noexcept;

class SuppressionList {
public:
    using Visit = std::function<bool(std::string_view key, const Record&)>;  // false stops
    using VisitBlock = std::function<bool(std::string_view domain, const BlockRecord&)>;

    // Opens (creating) the DBs "suppress", "domain_hits" and "blocks".
    explicit SuppressionList(std::shared_ptr<Env> env);

    // One write txn. Idempotent per report: an event whose evidence (the
    // report's queue id) and class equal the stored record's changes nothing,
    // so a delivery retried after a partial commit does not count twice.
    Outcome record(const Event& ev, const Policy& policy);

    // The active entry for address, else the active "@domain" entry, else nullopt.
    std::optional<Record> check(std::string_view address, int64_t now) const;
    // check() without decoding the texts: no allocation at all.
    bool is_suppressed(std::string_view address, int64_t now) const;

    // Stores record under key as given (manual entries, imports). Throws BadKey.
    void add(std::string_view key, const Record& record);
    // Deletes key; for "@domain" also its domain_hits rows. False: no such key.
    bool remove(std::string_view key);
    // Stores the records as given, overwriting (bulk loads into a new
    // list, benchmarks). All keys are checked first (BadKey: nothing
    // written); then one txn per kImportBatch entries. Returns the number stored.
    size_t import_batch(std::span<const Entry> entries);
    // An import by the rules above, checked and batched like import_batch.
    // Entries are applied in order, so a key given twice merges with itself.
    ImportCounts import_entries(std::span<const Entry> entries, int64_t now, ImportMode mode);

    // Every record with key > after, in key order, expired ones included.
    void for_each(const Visit& fn, std::string_view after = {}) const;
    Stats stats(int64_t now) const;
    // Deletes expired records and stale domain_hits rows; returns records deleted.
    size_t purge_expired(int64_t now);

    BlockOutcome record_block(const BlockEvent& ev, const Policy& policy);
    std::optional<BlockRecord> block(std::string_view domain) const;
    void for_each_block(const VisitBlock& fn, std::string_view after = {}) const;

    Env& env() const noexcept { return *env_; }

private:
    std::optional<Record> load(const Txn& txn, std::string_view key) const;
    void track_domain(WriteTxn& w, std::string_view domain, const Event& ev, const Policy& p);
    bool active_fixed(const Txn& txn, std::string_view key, int64_t now, Record& out) const;
    // domain_hits values; hit_expiry() is 0 (stale) for a value it cannot read.
    static std::string encode_hit(int64_t expiry);
    static int64_t hit_expiry(std::string_view value) noexcept;
    template <class Pred>
    size_t purge(MDB_dbi dbi, Pred&& expired);
    [[noreturn]] void bad_value(std::string_view key, std::string_view value, Decode d) const;

    std::shared_ptr<Env> env_;
    MDB_dbi db_ = 0;
    MDB_dbi hits_ = 0;
    MDB_dbi blocks_ = 0;
};

}  // namespace store
