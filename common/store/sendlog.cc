// sendlog.cc - see sendlog.h
#include "common/store/sendlog.h"

#include "common/store/le_codec.h"

namespace store {

std::string encode_sendlog(const SendLogEntry& e) {
    std::string v(1, static_cast<char>(kSendLogVersion));
    put_le(v, e.expiry);
    put_le_str(v, e.sender);
    put_le_str(v, e.queue_id);
    put_le(v, static_cast<uint32_t>(e.recipients.size()));
    for (const auto& r : e.recipients) put_le_str(v, r);
    put_le_str(v, e.message_id);
    put_le(v, static_cast<uint8_t>(e.headers.size()));
    for (const auto& [name, value] : e.headers) {
        put_le_str(v, name);
        put_le_str(v, value);
    }
    return v;
}

std::optional<SendLogEntry> decode_sendlog(std::string_view v) {
    if (v.size() < 9) return std::nullopt;
    SendLogEntry e;
    e.expiry = get_le<int64_t>(v.data() + 1);
    const auto version = static_cast<uint8_t>(v[0]);
    if (version == kSendLogVersion1) {
        e.recipients.emplace_back(v.substr(9));
        return e;
    }
    if (version != kSendLogVersion2 && version != kSendLogVersion) return std::nullopt;
    LeReader rd(v.substr(9));
    e.sender = rd.str();
    e.queue_id = rd.str();
    const uint64_t n = rd.uint(4);
    if (!rd.ok() || n > kSendLogMaxRecipients) return std::nullopt;
    for (uint64_t i = 0; i < n && rd.ok(); ++i) e.recipients.emplace_back(rd.str());
    if (version == kSendLogVersion) {
        e.message_id = rd.str();
        const uint64_t h = rd.uint(1);
        if (!rd.ok() || h > kSendLogMaxHeaders) return std::nullopt;
        for (uint64_t i = 0; i < h && rd.ok(); ++i) {
            const std::string_view name = rd.str(), value = rd.str();
            e.headers.emplace_back(name, value);
        }
    }
    if (!rd.ok() || rd.pos() != v.size() - 9) return std::nullopt;
    return e;
}

SendLog::SendLog(std::shared_ptr<Env> env) : env_(std::move(env)) {
    if (!env_) throw Error(Error::Kind::Usage, 0, "SendLog", "", "no environment");
    db_ = env_->dbi("sendlog");
}

// The value of an entry under token, or Error (a bad key, an entry over
// the limits).
std::string SendLog::checked_value(std::string_view token, const SendLogEntry& entry) const {
    if (!valid_key(token)) throw Error(Error::Kind::BadKey, 0, "sendlog put", env_->path(), token);
    bool fits = entry.sender.size() <= kSendLogMaxString && entry.queue_id.size() <= kSendLogMaxString &&
                entry.recipients.size() <= kSendLogMaxRecipients;
    for (const auto& r : entry.recipients) fits = fits && r.size() <= kSendLogMaxString;
    fits = fits && entry.message_id.size() <= kSendLogMaxString && entry.headers.size() <= kSendLogMaxHeaders;
    for (const auto& [name, value] : entry.headers)
        fits = fits && name.size() <= kSendLogMaxString && value.size() <= kSendLogMaxString;
    if (!fits) throw Error(Error::Kind::Usage, 0, "sendlog put", env_->path(), "entry over the size limits");
    return encode_sendlog(entry);
}

void SendLog::put(std::string_view token, const SendLogEntry& entry) {
    const std::string v = checked_value(token, entry);
    env_->write([&](WriteTxn& w) { w.put(db_, token, v); });
}

void SendLog::put_all(const std::vector<std::pair<std::string, SendLogEntry>>& entries) {
    std::vector<std::string> values;
    values.reserve(entries.size());
    for (const auto& [token, entry] : entries) values.push_back(checked_value(token, entry));
    env_->write([&](WriteTxn& w) {
        for (size_t i = 0; i < entries.size(); ++i) w.put(db_, entries[i].first, values[i]);
    });
}

void SendLog::put(std::string_view token, std::string_view recipient, int64_t expiry) {
    SendLogEntry e;
    e.expiry = expiry;
    e.recipients.emplace_back(recipient);
    put(token, e);
}

std::optional<SendLogEntry> SendLog::lookup(std::string_view token, int64_t now) const {
    if (!valid_key(token)) return std::nullopt;
    ReadTxn r = env_->read();
    auto v = r.get(db_, token);
    if (!v) return std::nullopt;
    auto e = decode_sendlog(*v);
    if (!e) throw Error(Error::Kind::Format, 0, "sendlog get", env_->path(), token);
    if (e->expiry != 0 && e->expiry <= now) return std::nullopt;
    return e;
}

std::optional<std::string> SendLog::get(std::string_view token, int64_t now) const {
    auto e = lookup(token, now);
    if (!e || e->recipients.empty()) return std::nullopt;
    return e->recipients.front();
}

size_t SendLog::purge_expired(int64_t now) {
    size_t n = 0;
    env_->write([&](WriteTxn& w) {
        n = 0;
        Cursor c(w, db_);
        for (auto kv = c.first(); kv;) {
            // Only the version byte and the expiry matter here.
            const std::string_view v = kv->value;
            const auto version = v.empty() ? 0 : static_cast<uint8_t>(v[0]);
            const bool known = v.size() >= 9 && version >= kSendLogVersion1 && version <= kSendLogVersion;
            const int64_t expiry = known ? get_le<int64_t>(v.data() + 1) : 0;
            if (known && expiry != 0 && expiry <= now) {
                c.del();
                ++n;
            }
            kv = c.next();  // after del(), the entry that followed
        }
    });
    return n;
}

}  // namespace store
