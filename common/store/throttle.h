// throttle.h - the persisted state of sendguard-policyd: provider backoff,
// rate buckets and per-customer usage
//
// sendguard-policyd keeps its throttle state in memory and flushes what
// changed about once a second (never per request) into the shared store, so
// a restart resumes where it stopped and `sendguard status` can show it.
// `sendguard backoff clear` marks a provider cleared here; policyd resets
// that provider's backoff when it sees a cleared_at newer than its own.
//
// API
//   store::ThrottleState ts(store::open_suppression_store(cfg));
//   ts.put_provider(p); ts.get_provider("gmail"); ts.erase_provider("gmail");
//   ts.put_bucket(b);   ts.get_bucket(rule, key); ts.erase_bucket(rule, key);
//   ts.put_usage(u);    ts.get_usage(rule, key);  ts.erase_usage(rule, key);
//   ts.for_each_provider(fn); ts.for_each_bucket(fn); ts.for_each_usage(fn);
//   std::vector<ProviderState> c = ts.write_batch(providers, buckets, usage);
//   ts.purge(now_us - max_idle_us);       // buckets/usage not updated since
//   std::optional<ProviderState> p = ts.mark_cleared("gmail", now_us);
//
// DBs (in the env of the suppression store):
//   throttle_providers  key: provider name (1..kThrottleMaxName bytes)
//   throttle_buckets    key: rule "\0" key (rule 1..kThrottleMaxRule bytes
//   throttle_usage           without NUL; key 0..kThrottleMaxKey bytes, any)
// All times are microseconds since the Unix epoch (wall clock), except a
// usage window's period, which is in seconds. On a read-only env (the CLI)
// a DB that does not exist yet (policyd never wrote one) reads as empty.
//
// Value layouts (integers little-endian, le_codec.h; doubles as the
// little-endian bits of an IEEE 754 binary64). Byte 0 is the format
// version: kThrottleVersion (1) for provider and usage rows,
// kThrottleBucketVersion (2) for bucket rows; the name and key live in the
// DB key only.
//   provider v1: configured_per_hour f64, allowed_per_hour f64, level u32,
//     suspended_until i64, last_signal i64, last_change i64, last_reply
//     (u16 length, bytes), last_reply_at i64, deferrals u64, rate_signals
//     u64, successes u64, cleared_at i64, updated i64.
//   bucket v2 (written): updated i64, refused_since i64, refused u64, u8
//     count, that many tat_us i64, u8 window count (0 or count), that many
//     windows (count u64, period_us i64, burst u64): the rule's limits the
//     TATs belong to, so a reader without the rules file (`sendguard
//     status`) can tell how much of each window is in use now.
//   bucket v1 (still read; written before refused_since was kept): updated
//     i64, u8 count, that many tat_us i64; reads as refused_since 0,
//     refused 0, no windows.
//   usage v1: updated i64, refused u64, first_refused_at i64, u8 count,
//     that many windows (period_s i64, limit u64, used u64).
// A value that is truncated, has bytes left over, another version, a
// window count over kThrottleMaxWindows, a bucket window of count, period
// or burst 0 (or a window count other than 0 or the TAT count) or a rate
// that is not a finite number >= 0 does not decode: reading it throws Error (kind Format) naming
// the DB and the key. purge() deletes such bucket/usage rows (state that
// policyd rebuilds within a period) instead of failing on them.
//
// write_batch() and cleared_at. The CLI writes cleared_at while policyd
// holds the row in memory. So that a flush never undoes a clear, write_batch
// compares each provider row with the stored one inside its write txn: when
// the stored cleared_at is newer than the one given, the row is left as
// stored and returned, and policyd resets that provider (level 0, allowed 0,
// suspended_until 0) and adopts the stored cleared_at. mark_cleared() does
// that reset in the stored row itself, so `sendguard status` shows the
// configured rate at once.
//
// Limits: names and keys as above, last_reply at most kThrottleMaxReply
// bytes (put/write_batch clean it as remote text, clean_remote_text() in
// record.h: cut at a UTF-8 character boundary, control characters '?'),
// at most kThrottleMaxWindows tat_us / windows. A put of a state over the
// limits (bad name or key, too many windows, a NaN or negative rate) throws
// Error (kind BadKey for the name/key, Usage otherwise) before anything is
// written; write_batch checks every row first, so it is all or nothing.
//
// Scans (for_each_*) work in batches of kScanBatch rows, each in its own
// short txn; the callbacks run with no txn held (they may call back in).
// A visit returning false stops the scan.
//
// Purge in steps: purge_step() deletes what purge() would, but looks at no
// more than max_rows rows in one write txn and returns; a PurgeCursor says
// where the next step resumes, so a daemon's loop can run one step per turn
// and LMDB's writer lock is never held for a whole DB. purge() runs the
// steps back to back (kPurgeBatch rows each).
//
// Idle rows: bucket_idle()/usage_idle() say whether a row holds nothing a
// reader would act on at now_us (every TAT passed and no refusal window
// still open; a usage row not written for its longest window), so a loader can skip them
// instead of letting them count against its cap (policyd loads at most
// kMaxLoadedRows rows of each kind).
//
// Errors: "no such row" is a value (std::nullopt / false). Store failures
// throw store::Error: kind MapFull when the map is at its maximum (nothing of
// that call is committed), BadKey, Usage and Format as above.
// Thread safety: as SuppressionList (any thread and process; writes
// serialise on LMDB's writer lock; do not call while this thread holds a txn).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/rate/rate.h"
#include "common/store/lmdb.h"

namespace store {

inline constexpr uint8_t kThrottleVersion = 1;        // provider and usage rows
inline constexpr uint8_t kThrottleBucketVersion = 2;  // bucket rows (v1 still read)
inline constexpr size_t kPurgeBatch = 1000;            // rows per purge_step txn
inline constexpr size_t kThrottleMaxName = 255;     // provider name
inline constexpr size_t kThrottleMaxRule = 128;     // rule name
inline constexpr size_t kThrottleMaxKey = kMaxKeySize - kThrottleMaxRule - 1;  // 382
inline constexpr size_t kThrottleMaxReply = 512;    // last_reply
inline constexpr size_t kThrottleMaxWindows = 16;   // tat_us / windows per row

inline constexpr std::string_view kThrottleProvidersDb = "throttle_providers";
inline constexpr std::string_view kThrottleBucketsDb = "throttle_buckets";
inline constexpr std::string_view kThrottleUsageDb = "throttle_usage";

struct ProviderState {
    std::string provider;
    double configured_per_hour = 0;  // the provider row's rate
    double allowed_per_hour = 0;     // 0: not in backoff
    uint32_t level = 0;              // backoff level (0: none)
    int64_t suspended_until = 0;     // 0: not suspended
    int64_t last_signal = 0;         // last rate-limit signal
    int64_t last_change = 0;         // last change of allowed_per_hour/level
    std::string last_reply;          // last 4xx text (<= kThrottleMaxReply)
    int64_t last_reply_at = 0;
    uint64_t deferrals = 0;
    uint64_t rate_signals = 0;
    uint64_t successes = 0;
    int64_t cleared_at = 0;          // set by `sendguard backoff clear`
    int64_t updated = 0;
    bool operator==(const ProviderState&) const = default;
};

struct BucketState {
    std::string rule;
    std::string key;
    std::vector<int64_t> tat_us;     // GCRA theoretical arrival time per window
    int64_t updated = 0;
    int64_t refused_since = 0;       // first refusal of the current refusal window (0: none)
    uint64_t refused = 0;            // refusals counted in memory since the bucket was made
    std::vector<rate::Window> windows{};   // the rule's limits, one per TAT; empty: unknown (v1)
    bool operator==(const BucketState&) const = default;
};

struct UsageState {
    std::string rule;
    std::string key;
    struct Window {
        int64_t period_s = 0;
        uint64_t limit = 0;
        uint64_t used = 0;
        bool operator==(const Window&) const = default;
    };
    std::vector<Window> windows;
    uint64_t refused = 0;
    int64_t first_refused_at = 0;    // 0: none refused
    int64_t updated = 0;
    bool operator==(const UsageState&) const = default;
};

struct ThrottlePurged {
    size_t buckets = 0;
    size_t usage = 0;
};

// Where a purge in steps stands (see purge_step).
struct PurgeCursor {
    int db = 0;             // 0 buckets, 1 usage, 2 done
    std::string after;      // the last key looked at in that DB
    ThrottlePurged purged;  // deleted so far
    bool done() const noexcept { return db >= 2; }
};

class ThrottleState {
public:
    template <class T>
    using Visit = std::function<bool(const T&)>;  // false stops

    // Opens (creating unless read-only) the three throttle_* DBs.
    explicit ThrottleState(std::shared_ptr<Env> env);

    std::optional<ProviderState> get_provider(std::string_view provider) const;
    void put_provider(const ProviderState& p);
    bool erase_provider(std::string_view provider);  // false: no such row
    void for_each_provider(const Visit<ProviderState>& fn) const;  // name order

    std::optional<BucketState> get_bucket(std::string_view rule, std::string_view key) const;
    void put_bucket(const BucketState& b);
    bool erase_bucket(std::string_view rule, std::string_view key);
    void for_each_bucket(const Visit<BucketState>& fn) const;      // (rule, key) order

    std::optional<UsageState> get_usage(std::string_view rule, std::string_view key) const;
    void put_usage(const UsageState& u);
    bool erase_usage(std::string_view rule, std::string_view key);
    void for_each_usage(const Visit<UsageState>& fn) const;        // (rule, key) order

    // Every row in ONE write txn (all or nothing). Returns the stored rows of
    // the providers that were cleared since (see above); those were not
    // overwritten.
    std::vector<ProviderState> write_batch(const std::vector<ProviderState>& providers,
                                           const std::vector<BucketState>& buckets,
                                           const std::vector<UsageState>& usage);

    // Deletes buckets and usage rows whose updated < older_than_us (and the
    // ones that do not decode). Provider rows stay.
    ThrottlePurged purge(int64_t older_than_us);
    // The bucket and usage rows that are not idle at now_us (see "Idle
    // rows"), at most max_rows of each kind; idle rows are skipped, not
    // counted against max_rows. A row that does not decode throws as
    // for_each_* does, with what was read before it left in out.
    struct LiveRows {
        std::vector<BucketState> buckets;
        std::vector<UsageState> usage;
        size_t idle_buckets = 0, idle_usage = 0;  // skipped
        bool capped = false;                      // max_rows live rows of a kind, more not read
    };
    void live_rows(int64_t now_us, size_t max_rows, LiveRows& out) const;

    // One step of that purge: at most max_rows rows looked at, in one write
    // txn; returns cursor.done().
    bool purge_step(int64_t older_than_us, PurgeCursor& cursor, size_t max_rows = kPurgeBatch);

    // Sets cleared_at = last_change = updated = now_us (cleared_at at least
    // one more than the stored one, so it is always newer) and resets the
    // backoff (allowed_per_hour 0, level 0, suspended_until 0) of an existing
    // row; returns the new row, or nullopt when there is no such provider
    // (the CLI lists provider_names()). One write txn.
    std::optional<ProviderState> mark_cleared(std::string_view provider, int64_t now_us);
    std::vector<std::string> provider_names() const;

    Env& env() const noexcept { return *env_; }

private:
    std::shared_ptr<Env> env_;
    MDB_dbi providers_ = 0;
    MDB_dbi buckets_ = 0;
    MDB_dbi usage_ = 0;
};

// Whether a row holds nothing to act on at now_us (see "Idle rows").
// A bucket: every TAT <= now_us and no refusal within its longest window
// (for a v1 row without windows: refused_since is 0). A usage row: not
// written for its longest window (as policyd's own expiry decides).
bool bucket_idle(const BucketState& b, int64_t now_us) noexcept;
bool usage_idle(const UsageState& u, int64_t now_us) noexcept;

// The value bytes of each kind (buckets version 2, the others 1), and back (nullopt: does not
// decode). The name/rule/key fields of the result are left empty by decode.
std::string encode_provider(const ProviderState& p);
std::optional<ProviderState> decode_provider(std::string_view value);
std::string encode_bucket(const BucketState& b);
std::optional<BucketState> decode_bucket(std::string_view value);
std::string encode_usage(const UsageState& u);
std::optional<UsageState> decode_usage(std::string_view value);

// The DB key of a bucket/usage row ("rule\0key"); throws Error (BadKey) for
// a rule or key over the limits or a rule that is empty or holds a NUL.
std::string throttle_key(std::string_view rule, std::string_view key);

}  // namespace store
