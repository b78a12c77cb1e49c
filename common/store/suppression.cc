// suppression.cc - SuppressionList: record(), check(), add/remove/import
#include "common/store/suppression.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "common/store/le_codec.h"

namespace store {

namespace {

int64_t add_sat(int64_t a, int64_t b) noexcept {
    if (b > 0 && a > std::numeric_limits<int64_t>::max() - b)
        return std::numeric_limits<int64_t>::max();
    return a + b;
}

uint32_t inc_sat(uint32_t v) noexcept {
    return v == std::numeric_limits<uint32_t>::max() ? v : v + 1;
}

// when + d, or 0 ("never") for a zero or negative duration.
int64_t expiry_after(int64_t when, std::chrono::seconds d) noexcept {
    return d.count() > 0 ? add_sat(when, d.count()) : 0;
}

void set_texts(Record& r, const Event& ev, const Policy& p) {
    r.reason = clean_remote_text(ev.reason, kMaxDiagnostic);
    r.status = clean_remote_text(ev.status, kMaxDiagnostic);
    r.diagnostic = clean_remote_text(ev.diagnostic, std::min(p.max_diagnostic, kMaxDiagnostic));
    r.remote_mta = clean_remote_text(ev.remote_mta, kMaxDiagnostic);
    r.source = ev.source;
}

// Folds one event into the (live or fresh) record r. See the rules in
// suppression.h.
void apply(Record& r, const Event& ev, const Policy& p) {
    const int64_t when = ev.when;
    r.count = inc_sat(r.count);
    r.first_seen = std::min(r.first_seen, when);
    r.last_seen = std::max(r.last_seen, when);
    r.evidence = ev.evidence;
    if (!ev.message_id.empty() || !ev.headers.empty()) {
        r.message_id = clean_remote_text(ev.message_id, kMaxMessageId);
        r.headers.clear();
        for (const auto& [name, value] : ev.headers) {
            if (r.headers.size() >= kMaxHeaders) break;
            r.headers.emplace_back(clean_remote_text(name, kMaxHeaderName), clean_remote_text(value, kMaxHeaderValue));
        }
    }

    bool suppress_now = true;
    std::chrono::seconds life{0};
    switch (ev.klass) {
    case Class::Soft: {
        const bool in_window = p.soft_window.count() <= 0 ||
                               when < add_sat(r.window_start, p.soft_window.count());
        if (r.window_count == 0 || !in_window) {
            r.window_start = when;
            r.window_count = 1;
        } else {
            r.window_count = inc_sat(r.window_count);
        }
        suppress_now = r.window_count >= static_cast<uint32_t>(std::max(1, p.soft_threshold));
        life = p.soft_expiry;
        break;
    }
    case Class::Hard: life = p.hard_expiry; break;
    case Class::Complaint: life = p.complaint_expiry; break;
    case Class::Manual: break;
    }
    // A reason of its own overrides the class default (mailbox full lapses
    // sooner than a suspended account).
    if (ev.klass != Class::Manual)
        if (auto it = p.reason_expiry.find(ev.reason); it != p.reason_expiry.end()) life = it->second;

    const bool active = r.active(when);
    const int current = active ? strength(r.klass) : -1;
    if (suppress_now && strength(ev.klass) >= current) {
        set_texts(r, ev, p);
        r.klass = ev.klass;
        r.suppressed = true;
        r.expiry = expiry_after(when, life);
    } else if (!active) {
        // A pending soft record: it means nothing once its window closes.
        set_texts(r, ev, p);
        r.klass = ev.klass;
        r.suppressed = false;
        r.expiry = expiry_after(r.window_start, p.soft_window);
    }
}

std::string hits_prefix(std::string_view domain) {
    std::string k(domain);
    k += '\0';
    return k;
}

}  // namespace

// domain_hits value: version byte 1, then the int64 expiry (little-endian).
std::string SuppressionList::encode_hit(int64_t expiry) {
    std::string v(1, '\1');
    put_le(v, expiry);
    return v;
}

int64_t SuppressionList::hit_expiry(std::string_view v) noexcept {
    if (v.size() < 9 || v[0] != 1)
        return 0;
    return get_le<int64_t>(v.data() + 1);
}

std::string suppression_dir(std::string_view state_dir) {
    std::string d(state_dir);
    while (d.size() > 1 && d.back() == '/')
        d.pop_back();
    if (!d.empty() && d.back() != '/')
        d += '/';
    d += "suppress.lmdb";
    return d;
}

std::optional<std::string_view> domain_of(std::string_view address) noexcept {
    const size_t at = address.rfind('@');
    if (at == std::string_view::npos || at == 0 || at + 1 == address.size())
        return std::nullopt;
    return address.substr(at + 1);
}

SuppressionList::SuppressionList(std::shared_ptr<Env> env) : env_(std::move(env)) {
    if (!env_)
        throw Error(Error::Kind::Usage, 0, "SuppressionList", "", "no environment");
    db_ = env_->dbi("suppress");
    hits_ = env_->dbi("domain_hits");
    blocks_ = env_->dbi("blocks");
}

void SuppressionList::bad_value(std::string_view key, std::string_view value,
                                Decode d) const {
    std::string detail = "record ";
    detail.append(cap_utf8(key, 200));
    detail += ": ";
    detail += to_string(d);
    if (d == Decode::UnknownVersion)
        detail += " " + std::to_string(static_cast<unsigned char>(value[0]));
    throw Error(Error::Kind::Format, 0, "decode", env_->path(), detail);
}

std::optional<Record> SuppressionList::load(const Txn& txn, std::string_view key) const {
    auto v = txn.get(db_, key);
    if (!v)
        return std::nullopt;
    Record r;
    if (Decode d = decode(*v, r); d != Decode::Ok)
        bad_value(key, *v, d);
    return r;
}

bool SuppressionList::active_fixed(const Txn& txn, std::string_view key, int64_t now,
                                   Record& out) const {
    auto v = txn.get(db_, key);
    if (!v)
        return false;
    if (Decode d = decode_fixed(*v, out); d != Decode::Ok)
        bad_value(key, *v, d);
    return out.active(now);
}

Outcome SuppressionList::record(const Event& ev, const Policy& p) {
    if (!valid_key(ev.address))
        throw Error(Error::Kind::BadKey, 0, "record", env_->path(),
                    "key length " + std::to_string(ev.address.size()));
    return env_->write([&](WriteTxn& w) {
        Outcome out;
        std::optional<Record> prev = load(w, ev.address);
        const bool was_active = prev && prev->active(ev.when);
        // The same report seen again (a delivery retried after this record
        // was committed) changes nothing: evidence is the report's id.
        if (prev && !ev.evidence.empty() && prev->evidence == ev.evidence &&
            prev->klass == ev.klass && !prev->expired(ev.when)) {
            out.suppressed = was_active;
            out.repeated = true;
            out.record = std::move(*prev);
            return out;
        }
        Record r;
        if (prev && !prev->expired(ev.when)) {
            r = std::move(*prev);
        } else {
            r.first_seen = r.last_seen = ev.when;  // expired reads as absent
        }
        apply(r, ev, p);
        w.put(db_, ev.address, encode(r));
        out.suppressed = r.active(ev.when);
        out.newly_suppressed = out.suppressed && !was_active;
        out.record = std::move(r);

        if (auto domain = domain_of(ev.address); domain && ev.address.front() != '@') {
            if (ev.klass == Class::Hard && ev.reason == kReasonHostUnknown)
                track_domain(w, *domain, ev, p);
            std::string dkey = "@";
            dkey.append(*domain);
            Record d;
            out.domain_suppressed = valid_key(dkey) && active_fixed(w, dkey, ev.when, d);
        }
        return out;
    });
}

// Notes the sighting, counts live sightings of the domain (stopping at the
// threshold, deleting stale rows on the way) and writes "@domain" when the
// threshold is met.
void SuppressionList::track_domain(WriteTxn& w, std::string_view domain, const Event& ev,
                                   const Policy& p) {
    if (p.domain_threshold <= 0)
        return;
    const std::string prefix = hits_prefix(domain);
    if (!valid_key(prefix + ev.address) || domain.size() + 1 > kMaxKeySize)
        return;  // too long to track; the address record still counts
    const int64_t until = p.soft_window.count() > 0
                              ? add_sat(ev.when, p.soft_window.count())
                              : std::numeric_limits<int64_t>::max();
    w.put(hits_, prefix + ev.address, encode_hit(until));

    const auto need = static_cast<size_t>(p.domain_threshold);
    size_t live = 0;
    Cursor c = w.cursor(hits_);
    for (auto kv = c.seek(prefix); kv && kv->key.starts_with(prefix) && live < need;
         kv = c.next()) {
        if (hit_expiry(kv->value) <= ev.when) {
            c.del();  // next() then yields the following row
            continue;
        }
        ++live;
    }
    if (live < need)
        return;

    const std::string dkey = "@" + std::string(domain);
    std::optional<Record> prev = load(w, dkey);
    Record d;
    if (prev && !prev->expired(ev.when)) {
        d = std::move(*prev);
    } else {
        d.first_seen = d.last_seen = ev.when;
    }
    d.count = inc_sat(d.count);
    d.first_seen = std::min(d.first_seen, ev.when);
    d.last_seen = std::max(d.last_seen, ev.when);
    d.evidence = ev.evidence;
    d.window_count = static_cast<uint32_t>(live);
    if (!(d.active(ev.when) && strength(d.klass) > strength(Class::Hard))) {
        set_texts(d, ev, p);
        d.klass = Class::Hard;
        d.suppressed = true;
        d.expiry = expiry_after(ev.when, p.hard_expiry);
    }
    w.put(db_, dkey, encode(d));
}

std::optional<Record> SuppressionList::check(std::string_view address, int64_t now) const {
    if (!valid_key(address))
        return std::nullopt;
    ReadTxn txn = env_->read();
    Record r;
    char buf[kMaxKeySize];
    std::string_view key = address;
    bool hit = active_fixed(txn, key, now, r);
    if (!hit && address.front() != '@') {
        if (auto domain = domain_of(address); domain && domain->size() < kMaxKeySize) {
            buf[0] = '@';
            std::memcpy(buf + 1, domain->data(), domain->size());
            key = std::string_view(buf, domain->size() + 1);
            hit = active_fixed(txn, key, now, r);
        }
    }
    if (!hit)
        return std::nullopt;
    return load(txn, key);  // the texts too, only for a hit
}

bool SuppressionList::is_suppressed(std::string_view address, int64_t now) const {
    if (!valid_key(address))
        return false;
    ReadTxn txn = env_->read();
    Record r;
    if (active_fixed(txn, address, now, r))
        return true;
    if (address.front() == '@')
        return false;
    auto domain = domain_of(address);
    if (!domain || domain->size() >= kMaxKeySize)
        return false;
    char buf[kMaxKeySize];
    buf[0] = '@';
    std::memcpy(buf + 1, domain->data(), domain->size());
    return active_fixed(txn, std::string_view(buf, domain->size() + 1), now, r);
}

void SuppressionList::add(std::string_view key, const Record& record) {
    if (!valid_key(key))
        throw Error(Error::Kind::BadKey, 0, "add", env_->path(),
                    "key length " + std::to_string(key.size()));
    const std::string value = encode(record);
    env_->write([&](WriteTxn& w) { w.put(db_, key, value); });
}

bool SuppressionList::remove(std::string_view key) {
    if (!valid_key(key))
        return false;
    return env_->write([&](WriteTxn& w) {
        const bool existed = w.del(db_, key);
        if (key.front() == '@' && key.size() > 1) {
            const std::string prefix = hits_prefix(key.substr(1));
            Cursor c = w.cursor(hits_);
            for (auto kv = c.seek(prefix); kv && kv->key.starts_with(prefix); kv = c.next())
                c.del();
        }
        return existed;
    });
}

}  // namespace store
