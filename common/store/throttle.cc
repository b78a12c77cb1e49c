// throttle.cc - see throttle.h
#include "common/store/throttle.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <utility>

#include "common/store/le_codec.h"
#include "common/store/read_batch.h"
#include "common/store/record.h"
#include "common/store/suppression.h"

namespace store {

namespace {

void put_f64(std::string& out, double d) { put_le(out, std::bit_cast<uint64_t>(d)); }

double get_f64(LeReader& rd) noexcept { return std::bit_cast<double>(rd.uint(8)); }

bool good_rate(double d) noexcept { return std::isfinite(d) && d >= 0; }

// The DB key split back into rule and key, or false for one throttle_key()
// could not have written.
bool split_key(std::string_view k, std::string& rule, std::string& key) {
    const size_t nul = k.find('\0');
    if (nul == std::string_view::npos || nul == 0 || nul > kThrottleMaxRule)
        return false;
    rule.assign(k.substr(0, nul));
    key.assign(k.substr(nul + 1));
    return true;
}

bool valid_provider(std::string_view name) noexcept {
    return !name.empty() && name.size() <= kThrottleMaxName;
}

// DB handle for name, or 0 when the env is read-only and the DB does not exist.
MDB_dbi open_db(Env& env, std::string_view name) {
    try {
        return env.dbi(std::string(name));
    } catch (const Error& e) {
        if (env.options().read_only && e.kind() == Error::Kind::NotFound)
            return 0;
        throw;
    }
}

}  // namespace

// --- value codecs -----------------------------------------------------------

std::string encode_provider(const ProviderState& p) {
    std::string v(1, static_cast<char>(kThrottleVersion));
    put_f64(v, p.configured_per_hour);
    put_f64(v, p.allowed_per_hour);
    put_le(v, p.level);
    put_le(v, p.suspended_until);
    put_le(v, p.last_signal);
    put_le(v, p.last_change);
    put_le_str(v, cap_utf8(p.last_reply, kThrottleMaxReply));
    put_le(v, p.last_reply_at);
    put_le(v, p.deferrals);
    put_le(v, p.rate_signals);
    put_le(v, p.successes);
    put_le(v, p.cleared_at);
    put_le(v, p.updated);
    return v;
}

std::optional<ProviderState> decode_provider(std::string_view v) {
    if (v.empty() || static_cast<uint8_t>(v[0]) != kThrottleVersion)
        return std::nullopt;
    LeReader rd(v.substr(1));
    ProviderState p;
    p.configured_per_hour = get_f64(rd);
    p.allowed_per_hour = get_f64(rd);
    p.level = static_cast<uint32_t>(rd.uint(4));
    p.suspended_until = rd.i64();
    p.last_signal = rd.i64();
    p.last_change = rd.i64();
    const std::string_view reply = rd.str();
    p.last_reply.assign(reply);
    p.last_reply_at = rd.i64();
    p.deferrals = rd.uint(8);
    p.rate_signals = rd.uint(8);
    p.successes = rd.uint(8);
    p.cleared_at = rd.i64();
    p.updated = rd.i64();
    if (!rd.ok() || rd.pos() != v.size() - 1 || reply.size() > kThrottleMaxReply ||
        !good_rate(p.configured_per_hour) || !good_rate(p.allowed_per_hour))
        return std::nullopt;
    return p;
}

std::string encode_bucket(const BucketState& b) {
    std::string v(1, static_cast<char>(kThrottleBucketVersion));
    put_le(v, b.updated);
    put_le(v, b.refused_since);
    put_le(v, b.refused);
    put_le(v, static_cast<uint8_t>(b.tat_us.size()));
    for (int64_t t : b.tat_us) put_le(v, t);
    put_le(v, static_cast<uint8_t>(b.windows.size()));
    for (const auto& w : b.windows) {
        put_le(v, w.count);
        put_le(v, w.period_us);
        put_le(v, w.burst);
    }
    return v;
}

std::optional<BucketState> decode_bucket(std::string_view v) {
    if (v.empty())
        return std::nullopt;
    const uint8_t version = static_cast<uint8_t>(v[0]);
    if (version != 1 && version != kThrottleBucketVersion)
        return std::nullopt;
    LeReader rd(v.substr(1));
    BucketState b;
    b.updated = rd.i64();
    if (version >= 2) {
        b.refused_since = rd.i64();
        b.refused = rd.uint(8);
    }
    const uint64_t n = rd.uint(1);
    if (!rd.ok() || n > kThrottleMaxWindows)
        return std::nullopt;
    for (uint64_t i = 0; i < n; ++i) b.tat_us.push_back(rd.i64());
    if (version >= 2) {
        const uint64_t m = rd.uint(1);
        if (!rd.ok() || (m != 0 && m != n))
            return std::nullopt;
        for (uint64_t i = 0; i < m; ++i) {
            rate::Window w;
            w.count = rd.uint(8);
            w.period_us = rd.i64();
            w.burst = rd.uint(8);
            if (w.count == 0 || w.period_us <= 0 || w.burst == 0)
                return std::nullopt;
            b.windows.push_back(w);
        }
    }
    if (!rd.ok() || rd.pos() != v.size() - 1)
        return std::nullopt;
    return b;
}

bool bucket_idle(const BucketState& b, int64_t now_us) noexcept {
    for (int64_t t : b.tat_us)
        if (t > now_us) return false;
    if (b.refused_since == 0) return true;
    int64_t longest = 1'000'000;  // a refusal window lasts at least a second
    for (const auto& w : b.windows) longest = std::max(longest, w.period_us);
    // Without windows (a v1 row has no refused_since either) nothing says
    // how long the refusal window is: not idle until purged.
    return !b.windows.empty() && now_us - b.refused_since >= longest;
}

bool usage_idle(const UsageState& u, int64_t now_us) noexcept {
    int64_t longest = 0;
    for (const auto& w : u.windows) longest = std::max(longest, w.period_s);
    return now_us - u.updated >= longest * 1'000'000;
}

std::string encode_usage(const UsageState& u) {
    std::string v(1, static_cast<char>(kThrottleVersion));
    put_le(v, u.updated);
    put_le(v, u.refused);
    put_le(v, u.first_refused_at);
    put_le(v, static_cast<uint8_t>(u.windows.size()));
    for (const auto& w : u.windows) {
        put_le(v, w.period_s);
        put_le(v, w.limit);
        put_le(v, w.used);
    }
    return v;
}

std::optional<UsageState> decode_usage(std::string_view v) {
    if (v.empty() || static_cast<uint8_t>(v[0]) != kThrottleVersion)
        return std::nullopt;
    LeReader rd(v.substr(1));
    UsageState u;
    u.updated = rd.i64();
    u.refused = rd.uint(8);
    u.first_refused_at = rd.i64();
    const uint64_t n = rd.uint(1);
    if (!rd.ok() || n > kThrottleMaxWindows)
        return std::nullopt;
    for (uint64_t i = 0; i < n; ++i) {
        UsageState::Window w;
        w.period_s = rd.i64();
        w.limit = rd.uint(8);
        w.used = rd.uint(8);
        u.windows.push_back(w);
    }
    if (!rd.ok() || rd.pos() != v.size() - 1)
        return std::nullopt;
    return u;
}

std::string throttle_key(std::string_view rule, std::string_view key) {
    if (rule.empty() || rule.size() > kThrottleMaxRule || rule.find('\0') != std::string_view::npos)
        throw Error(Error::Kind::BadKey, 0, "throttle key", "",
                    "rule name must be 1.." + std::to_string(kThrottleMaxRule) +
                        " bytes without NUL");
    if (key.size() > kThrottleMaxKey)
        throw Error(Error::Kind::BadKey, 0, "throttle key", "",
                    "rule " + std::string(rule) + ": key longer than " +
                        std::to_string(kThrottleMaxKey) + " bytes");
    std::string k(rule);
    k += '\0';
    k.append(key);
    return k;
}

// --- ThrottleState ----------------------------------------------------------

namespace {

// What a row is called in an error: "throttle_usage row rule/key". The key
// part is cleaned like remote text so a hostile key cannot carry escapes.
std::string row_name(std::string_view db, std::string_view k) {
    std::string out(db);
    out += " row ";
    const size_t nul = k.find('\0');
    if (nul == std::string_view::npos) {
        out += clean_remote_text(k, 200);
    } else {
        out += clean_remote_text(k.substr(0, nul), 200);
        out += '/';
        out += clean_remote_text(k.substr(nul + 1), 200);
    }
    return out;
}

[[noreturn]] void bad_value(const Env& env, std::string_view db, std::string_view k) {
    throw Error(Error::Kind::Format, 0, "throttle get", env.path(),
                row_name(db, k) + ": value does not decode (written by another version?)");
}

[[noreturn]] void over_limits(const Env& env, std::string_view db, std::string_view k,
                              std::string_view what) {
    throw Error(Error::Kind::Usage, 0, "throttle put", env.path(),
                row_name(db, k) + ": " + std::string(what));
}

}  // namespace

ThrottleState::ThrottleState(std::shared_ptr<Env> env) : env_(std::move(env)) {
    if (!env_)
        throw Error(Error::Kind::Usage, 0, "ThrottleState", "", "no environment");
    providers_ = open_db(*env_, kThrottleProvidersDb);
    buckets_ = open_db(*env_, kThrottleBucketsDb);
    usage_ = open_db(*env_, kThrottleUsageDb);
}

namespace {

// The checked key and value of each kind: throws before any txn is begun.
std::pair<std::string, std::string> provider_row(const Env& env, const ProviderState& p) {
    if (!valid_provider(p.provider))
        throw Error(Error::Kind::BadKey, 0, "throttle put", env.path(),
                    "provider name must be 1.." + std::to_string(kThrottleMaxName) + " bytes");
    if (!good_rate(p.configured_per_hour) || !good_rate(p.allowed_per_hour))
        over_limits(env, kThrottleProvidersDb, p.provider, "rate is not a finite number >= 0");
    ProviderState clean = p;
    clean.last_reply = clean_remote_text(p.last_reply, kThrottleMaxReply);
    return {p.provider, encode_provider(clean)};
}

std::pair<std::string, std::string> bucket_row(const Env& env, const BucketState& b) {
    std::string k = throttle_key(b.rule, b.key);
    if (b.tat_us.size() > kThrottleMaxWindows)
        over_limits(env, kThrottleBucketsDb, k,
                    "more than " + std::to_string(kThrottleMaxWindows) + " windows");
    if (!b.windows.empty() && b.windows.size() != b.tat_us.size())
        over_limits(env, kThrottleBucketsDb, k, "window count differs from the TAT count");
    for (const auto& w : b.windows)
        if (w.count == 0 || w.period_us <= 0 || w.burst == 0)
            over_limits(env, kThrottleBucketsDb, k, "a window of count, period or burst 0");
    return {std::move(k), encode_bucket(b)};
}

std::pair<std::string, std::string> usage_row(const Env& env, const UsageState& u) {
    std::string k = throttle_key(u.rule, u.key);
    if (u.windows.size() > kThrottleMaxWindows)
        over_limits(env, kThrottleUsageDb, k,
                    "more than " + std::to_string(kThrottleMaxWindows) + " windows");
    return {std::move(k), encode_usage(u)};
}

void need_db(const Env& env, MDB_dbi db, std::string_view name) {
    if (db == 0)
        throw Error(Error::Kind::Usage, 0, "throttle put", env.path(),
                    std::string(name) + ": store opened read-only");
}

// The bucket and usage rows share their key form (throttle_key) and their
// get/put/erase; only the value codec differs.
template <class Row, class Decode>
std::optional<Row> get_keyed(Env& env, MDB_dbi dbi, std::string_view db, std::string_view rule,
                             std::string_view key, Decode decode) {
    if (dbi == 0)
        return std::nullopt;
    const std::string k = throttle_key(rule, key);
    ReadTxn r = env.read();
    auto v = r.get(dbi, k);
    if (!v)
        return std::nullopt;
    std::optional<Row> row = decode(*v);
    if (!row)
        bad_value(env, db, k);
    row->rule.assign(rule);
    row->key.assign(key);
    return row;
}

// The caller checked need_db before building the row (a read-only store is
// reported before a bad row).
void put_keyed(Env& env, MDB_dbi dbi, const std::pair<std::string, std::string>& row) {
    env.write([&](WriteTxn& w) { w.put(dbi, row.first, row.second); });
}

bool erase_keyed(Env& env, MDB_dbi dbi, std::string_view db, std::string_view rule, std::string_view key) {
    need_db(env, dbi, db);
    const std::string k = throttle_key(rule, key);
    return env.write([&](WriteTxn& w) { return w.del(dbi, k); });
}

}  // namespace

std::optional<ProviderState> ThrottleState::get_provider(std::string_view provider) const {
    if (providers_ == 0 || !valid_provider(provider))
        return std::nullopt;
    ReadTxn r = env_->read();
    auto v = r.get(providers_, provider);
    if (!v)
        return std::nullopt;
    auto p = decode_provider(*v);
    if (!p)
        bad_value(*env_, kThrottleProvidersDb, provider);
    p->provider.assign(provider);
    return p;
}

void ThrottleState::put_provider(const ProviderState& p) {
    need_db(*env_, providers_, kThrottleProvidersDb);
    const auto row = provider_row(*env_, p);
    env_->write([&](WriteTxn& w) { w.put(providers_, row.first, row.second); });
}

bool ThrottleState::erase_provider(std::string_view provider) {
    need_db(*env_, providers_, kThrottleProvidersDb);
    if (!valid_provider(provider))
        return false;
    return env_->write([&](WriteTxn& w) { return w.del(providers_, provider); });
}

std::optional<BucketState> ThrottleState::get_bucket(std::string_view rule, std::string_view key) const {
    return get_keyed<BucketState>(*env_, buckets_, kThrottleBucketsDb, rule, key,
                                  [](std::string_view v) { return decode_bucket(v); });
}

void ThrottleState::put_bucket(const BucketState& b) {
    need_db(*env_, buckets_, kThrottleBucketsDb);
    put_keyed(*env_, buckets_, bucket_row(*env_, b));
}

bool ThrottleState::erase_bucket(std::string_view rule, std::string_view key) {
    return erase_keyed(*env_, buckets_, kThrottleBucketsDb, rule, key);
}

std::optional<UsageState> ThrottleState::get_usage(std::string_view rule, std::string_view key) const {
    return get_keyed<UsageState>(*env_, usage_, kThrottleUsageDb, rule, key,
                                 [](std::string_view v) { return decode_usage(v); });
}

void ThrottleState::put_usage(const UsageState& u) {
    need_db(*env_, usage_, kThrottleUsageDb);
    put_keyed(*env_, usage_, usage_row(*env_, u));
}

bool ThrottleState::erase_usage(std::string_view rule, std::string_view key) {
    return erase_keyed(*env_, usage_, kThrottleUsageDb, rule, key);
}

namespace {

// Scans db in batches, decoding each row with decode(key, value) -> T
// (throwing for a bad one), and passes the rows to fn with no txn held.
template <class T, class Decode>
void scan(Env& env, MDB_dbi db, const std::function<bool(const T&)>& fn, Decode&& decode) {
    if (db == 0)
        return;
    std::string resume;
    std::vector<std::pair<std::string, T>> batch;
    for (;;) {
        batch.clear();
        const bool more = read_batch(env, db, resume, [&](std::string_view k, std::string_view v) {
            batch.emplace_back(std::string(k), decode(k, v));
        });
        for (const auto& row : batch)
            if (!fn(row.second))
                return;
        if (!more || batch.empty())
            return;
        resume = std::move(batch.back().first);
    }
}

}  // namespace

void ThrottleState::for_each_provider(const Visit<ProviderState>& fn) const {
    scan<ProviderState>(*env_, providers_, fn, [&](std::string_view k, std::string_view v) {
        auto p = decode_provider(v);
        if (!p)
            bad_value(*env_, kThrottleProvidersDb, k);
        p->provider.assign(k);
        return std::move(*p);
    });
}

void ThrottleState::for_each_bucket(const Visit<BucketState>& fn) const {
    scan<BucketState>(*env_, buckets_, fn, [&](std::string_view k, std::string_view v) {
        auto b = decode_bucket(v);
        if (!b || !split_key(k, b->rule, b->key))
            bad_value(*env_, kThrottleBucketsDb, k);
        return std::move(*b);
    });
}

void ThrottleState::for_each_usage(const Visit<UsageState>& fn) const {
    scan<UsageState>(*env_, usage_, fn, [&](std::string_view k, std::string_view v) {
        auto u = decode_usage(v);
        if (!u || !split_key(k, u->rule, u->key))
            bad_value(*env_, kThrottleUsageDb, k);
        return std::move(*u);
    });
}

void ThrottleState::live_rows(int64_t now_us, size_t max_rows, LiveRows& out) const {
    out = LiveRows{};
    for_each_bucket([&](const BucketState& b) {
        if (bucket_idle(b, now_us)) {
            ++out.idle_buckets;
            return true;
        }
        if (out.buckets.size() == max_rows) {
            out.capped = true;
            return false;
        }
        out.buckets.push_back(b);
        return true;
    });
    for_each_usage([&](const UsageState& u) {
        if (usage_idle(u, now_us)) {
            ++out.idle_usage;
            return true;
        }
        if (out.usage.size() == max_rows) {
            out.capped = true;
            return false;
        }
        out.usage.push_back(u);
        return true;
    });
}

std::vector<ProviderState> ThrottleState::write_batch(const std::vector<ProviderState>& providers,
                                                      const std::vector<BucketState>& buckets,
                                                      const std::vector<UsageState>& usage) {
    if (!providers.empty())
        need_db(*env_, providers_, kThrottleProvidersDb);
    if (!buckets.empty())
        need_db(*env_, buckets_, kThrottleBucketsDb);
    if (!usage.empty())
        need_db(*env_, usage_, kThrottleUsageDb);
    // Every row checked and encoded first: a bad one fails the batch before
    // the write txn begins.
    std::vector<std::pair<std::string, std::string>> prow, brow, urow;
    prow.reserve(providers.size());
    brow.reserve(buckets.size());
    urow.reserve(usage.size());
    for (const auto& p : providers) prow.push_back(provider_row(*env_, p));
    for (const auto& b : buckets) brow.push_back(bucket_row(*env_, b));
    for (const auto& u : usage) urow.push_back(usage_row(*env_, u));

    std::vector<ProviderState> cleared;
    env_->write([&](WriteTxn& w) {
        cleared.clear();  // a rerun after map growth starts afresh
        for (size_t i = 0; i < providers.size(); ++i) {
            const auto& [k, v] = prow[i];
            if (auto old = w.get(providers_, k)) {
                auto stored = decode_provider(*old);
                // A row that does not decode is replaced: policyd's state is
                // the newer truth, and the flush must not stall on it.
                if (stored && stored->cleared_at > providers[i].cleared_at) {
                    stored->provider = k;
                    cleared.push_back(std::move(*stored));
                    continue;
                }
            }
            w.put(providers_, k, v);
        }
        for (const auto& [k, v] : brow) w.put(buckets_, k, v);
        for (const auto& [k, v] : urow) w.put(usage_, k, v);
    });
    return cleared;
}

ThrottlePurged ThrottleState::purge(int64_t older_than_us) {
    PurgeCursor c;
    while (!purge_step(older_than_us, c)) {
    }
    return c.purged;
}

bool ThrottleState::purge_step(int64_t older_than_us, PurgeCursor& cursor, size_t max_rows) {
    if (env_->options().read_only)
        need_db(*env_, 0, "throttle purge");
    max_rows = std::max<size_t>(max_rows, 1);
    // A row's updated time, or nullopt for one that does not decode (gone too).
    auto updated_of = [&](std::string_view v) -> std::optional<int64_t> {
        if (cursor.db == 0) {
            auto b = decode_bucket(v);
            return b ? std::optional<int64_t>(b->updated) : std::nullopt;
        }
        auto u = decode_usage(v);
        return u ? std::optional<int64_t>(u->updated) : std::nullopt;
    };
    while (!cursor.done()) {
        const MDB_dbi db = cursor.db == 0 ? buckets_ : usage_;
        if (db == 0) {
            cursor.db++;
            cursor.after.clear();
            continue;
        }
        size_t deleted = 0;
        bool more = false;
        std::string last;
        env_->write([&](WriteTxn& w) {
            deleted = 0;  // a rerun after map growth starts the step afresh
            more = false;
            last = cursor.after;
            Cursor c(w, db);
            size_t seen = 0;
            for (auto kv = c.after(cursor.after); kv;) {
                if (seen == max_rows) {
                    more = true;
                    break;
                }
                ++seen;
                last.assign(kv->key);
                const std::optional<int64_t> updated = updated_of(kv->value);
                if (!updated || *updated < older_than_us) {
                    c.del();
                    ++deleted;
                }
                kv = c.next();  // after del(), the entry that followed
            }
        });
        (cursor.db == 0 ? cursor.purged.buckets : cursor.purged.usage) += deleted;
        if (more) {
            cursor.after = std::move(last);
            return false;
        }
        cursor.db++;
        cursor.after.clear();
        return cursor.done();
    }
    return true;
}

std::optional<ProviderState> ThrottleState::mark_cleared(std::string_view provider, int64_t now_us) {
    need_db(*env_, providers_, kThrottleProvidersDb);
    if (!valid_provider(provider))
        return std::nullopt;
    return env_->write([&](WriteTxn& w) -> std::optional<ProviderState> {
        auto v = w.get(providers_, provider);
        if (!v)
            return std::nullopt;
        auto p = decode_provider(*v);
        if (!p)
            bad_value(*env_, kThrottleProvidersDb, provider);
        p->provider.assign(provider);
        p->allowed_per_hour = 0;
        p->level = 0;
        p->suspended_until = 0;
        // Strictly newer than any earlier clear, even if the clock stepped back.
        p->cleared_at = std::max(now_us, p->cleared_at + 1);
        p->last_change = now_us;
        p->updated = now_us;
        w.put(providers_, provider, encode_provider(*p));
        return p;
    });
}

std::vector<std::string> ThrottleState::provider_names() const {
    std::vector<std::string> names;
    if (providers_ == 0)
        return names;
    std::string resume;
    for (;;) {
        const size_t before = names.size();
        const bool more = read_batch(*env_, providers_, resume, [&](std::string_view k, std::string_view) {
            names.emplace_back(k);
        });
        if (!more || names.size() == before)
            return names;
        resume = names.back();
    }
}

}  // namespace store
