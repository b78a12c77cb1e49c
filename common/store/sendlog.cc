// sendlog.cc - see sendlog.h
#include "common/store/sendlog.h"

#include <cstring>
#include <vector>

#include "common/store/le_codec.h"

namespace store {
namespace {

std::string encode(std::string_view recipient, int64_t expiry) {
    std::string v(1, static_cast<char>(kSendLogVersion));
    put_le(v, expiry);
    v.append(recipient);
    return v;
}

bool decode(std::string_view v, int64_t& expiry, std::string_view& recipient) {
    if (v.size() < 9 || static_cast<uint8_t>(v[0]) != kSendLogVersion) return false;
    expiry = get_le<int64_t>(v.data() + 1);
    recipient = v.substr(9);
    return true;
}

}  // namespace

SendLog::SendLog(std::shared_ptr<Env> env) : env_(std::move(env)) {
    if (!env_) throw Error(Error::Kind::Usage, 0, "SendLog", "", "no environment");
    db_ = env_->dbi("sendlog");
}

void SendLog::put(std::string_view token, std::string_view recipient, int64_t expiry) {
    if (!valid_key(token)) throw Error(Error::Kind::BadKey, 0, "sendlog put", env_->path(), token);
    std::string v = encode(recipient, expiry);
    env_->write([&](WriteTxn& w) { w.put(db_, token, v); });
}

std::optional<std::string> SendLog::get(std::string_view token, int64_t now) const {
    if (!valid_key(token)) return std::nullopt;
    ReadTxn r = env_->read();
    auto v = r.get(db_, token);
    if (!v) return std::nullopt;
    int64_t expiry = 0;
    std::string_view rcpt;
    if (!decode(*v, expiry, rcpt))
        throw Error(Error::Kind::Format, 0, "sendlog get", env_->path(), token);
    if (expiry != 0 && expiry <= now) return std::nullopt;
    return std::string(rcpt);
}

size_t SendLog::purge_expired(int64_t now) {
    size_t n = 0;
    env_->write([&](WriteTxn& w) {
        n = 0;
        Cursor c(w, db_);
        for (auto kv = c.first(); kv;) {
            int64_t expiry = 0;
            std::string_view rcpt;
            if (decode(kv->value, expiry, rcpt) && expiry != 0 && expiry <= now) {
                c.del();
                ++n;
                kv = c.next();  // after del(), the entry that followed
            } else {
                kv = c.next();
            }
        }
    });
    return n;
}

}  // namespace store
