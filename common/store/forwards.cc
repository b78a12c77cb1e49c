// forwards.cc - see forwards.h
#include "common/store/forwards.h"

#include <optional>
#include <string>

#include "common/store/le_codec.h"

namespace store {
namespace {

constexpr uint8_t kVersion = 1;
constexpr size_t kSize = 1 + 8 + 8 + 4;

struct Window {
    int64_t start = 0, end = 0;
    uint32_t count = 0;
};

std::optional<Window> decode(std::string_view v) {
    if (v.size() != kSize || static_cast<uint8_t>(v[0]) != kVersion) return std::nullopt;
    return Window{get_le<int64_t>(v.data() + 1), get_le<int64_t>(v.data() + 9), get_le<uint32_t>(v.data() + 17)};
}

std::string encode(const Window& w) {
    std::string v(1, static_cast<char>(kVersion));
    put_le(v, w.start);
    put_le(v, w.end);
    put_le(v, w.count);
    return v;
}

// The window in force at now, if the stored one has not ended.
std::optional<Window> current(std::optional<std::string_view> v, int64_t now) {
    if (!v) return std::nullopt;
    auto w = decode(*v);
    if (!w || w->end <= now) return std::nullopt;
    return w;
}

}  // namespace

Forwards::Forwards(std::shared_ptr<Env> env) : env_(std::move(env)) {
    if (!env_) throw Error(Error::Kind::Usage, 0, "Forwards", "", "no environment");
    db_ = env_->dbi("forwards");
}

Forwards::Take Forwards::take(std::string_view sender, int64_t now, uint32_t limit, int64_t window) {
    if (!valid_key(sender)) throw Error(Error::Kind::BadKey, 0, "forwards put", env_->path(), sender);
    return env_->write([&](WriteTxn& w) {
        std::optional<Window> cur = current(w.get(db_, sender), now);
        if (cur && cur->count >= limit) return Take{false, cur->count};
        if (!cur) {
            cur = Window{now, now + window, 0};
            // Sweep a few ended windows after this key (wrapping to the
            // first): bounded work per new window keeps the DB bounded.
            Cursor c(w, db_);
            auto kv = c.after(sender);
            bool wrapped = false;
            for (size_t seen = 0; seen < kForwardsSweep; ++seen) {
                if (!kv && !wrapped) {
                    wrapped = true;
                    kv = c.first();
                }
                if (!kv || (wrapped && kv->key >= sender)) break;
                if (!current(kv->value, now)) c.del();  // next() then gives the one after
                kv = c.next();
            }
        }
        ++cur->count;
        w.put(db_, sender, encode(*cur));
        return Take{true, cur->count};
    });
}

void Forwards::give_back(std::string_view sender, int64_t now) {
    if (!valid_key(sender)) return;
    env_->write([&](WriteTxn& w) {
        std::optional<Window> cur = current(w.get(db_, sender), now);
        if (!cur || cur->count == 0) return;
        --cur->count;
        w.put(db_, sender, encode(*cur));
    });
}

uint32_t Forwards::count(std::string_view sender, int64_t now) const {
    if (!valid_key(sender)) return 0;
    ReadTxn r = env_->read();
    const auto cur = current(r.get(db_, sender), now);
    return cur ? cur->count : 0;
}

}  // namespace store
