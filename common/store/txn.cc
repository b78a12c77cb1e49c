// txn.cc - store::ReadTxn, store::WriteTxn and store::Cursor
#include "common/store/lmdb.h"

namespace store {

namespace {

MDB_val to_val(std::string_view s) noexcept {
    return MDB_val{s.size(), const_cast<char*>(s.data())};  // LMDB never writes keys
}

std::string_view to_view(const MDB_val& v) noexcept {
    return {static_cast<const char*>(v.mv_data), v.mv_size};
}

}  // namespace

std::optional<std::string_view> Txn::get(MDB_dbi dbi, std::string_view key) const {
    if (!valid_key(key))
        return std::nullopt;  // no such key can be stored
    MDB_val k = to_val(key), v{};
    const int rc = mdb_get(txn_, dbi, &k, &v);
    if (rc == MDB_NOTFOUND)
        return std::nullopt;
    if (rc != 0)
        env_->fail(rc, "mdb_get");
    return to_view(v);
}

Cursor Txn::cursor(MDB_dbi dbi) const {
    return Cursor(*this, dbi);
}

ReadTxn::ReadTxn(Env& env) : Txn(&env, env.begin(true)) {}

ReadTxn::~ReadTxn() {
    if (txn_ != nullptr)
        env_->end_read(std::exchange(txn_, nullptr));
}

WriteTxn::WriteTxn(Env& env) : Txn(&env, env.begin(false)) {
    map_size_ = env.map_size();  // stable: we hold the map lock shared
}

void WriteTxn::put(MDB_dbi dbi, std::string_view key, std::string_view value,
                   unsigned flags) {
    if (!valid_key(key))
        throw Error(Error::Kind::BadKey, MDB_BAD_VALSIZE, "mdb_put", env_->path(),
                    "key length " + std::to_string(key.size()));
    MDB_val k = to_val(key), v = to_val(value);
    if (int rc = mdb_put(txn_, dbi, &k, &v, flags); rc != 0)
        env_->fail(rc, "mdb_put");
}

bool WriteTxn::del(MDB_dbi dbi, std::string_view key) {
    if (!valid_key(key))
        return false;
    MDB_val k = to_val(key);
    const int rc = mdb_del(txn_, dbi, &k, nullptr);
    if (rc == MDB_NOTFOUND)
        return false;
    if (rc != 0)
        env_->fail(rc, "mdb_del");
    return true;
}

void WriteTxn::commit() {
    if (txn_ == nullptr)
        throw Error(Error::Kind::Usage, 0, "commit", env_->path(), "transaction already ended");
    const int rc = mdb_txn_commit(std::exchange(txn_, nullptr));
    env_->end_write();
    if (rc != 0)
        env_->fail(rc, "mdb_txn_commit");
}

void WriteTxn::abort() noexcept {
    if (txn_ == nullptr)
        return;
    mdb_txn_abort(std::exchange(txn_, nullptr));
    env_->end_write();
}

Cursor::Cursor(const Txn& txn, MDB_dbi dbi) : env_(&txn.env()) {
    MDB_cursor* c = nullptr;
    if (int rc = mdb_cursor_open(txn.raw(), dbi, &c); rc != 0)
        env_->fail(rc, "mdb_cursor_open");
    cur_.reset(c);
}

std::optional<KV> Cursor::get(MDB_val* key, MDB_cursor_op op, const char* what) {
    MDB_val k{}, v{};
    if (key != nullptr)
        k = *key;
    const int rc = mdb_cursor_get(cur_.get(), &k, &v, op);
    if (rc == MDB_NOTFOUND)
        return std::nullopt;
    if (rc != 0)
        env_->fail(rc, what);
    return KV{to_view(k), to_view(v)};
}

std::optional<KV> Cursor::first() {
    return get(nullptr, MDB_FIRST, "mdb_cursor_get(first)");
}

std::optional<KV> Cursor::next() {
    return get(nullptr, MDB_NEXT, "mdb_cursor_get(next)");
}

std::optional<KV> Cursor::seek(std::string_view key) {
    if (key.empty())
        return first();
    // No stored key is longer than kMaxKeySize; seek to the prefix, then
    // skip the entries that sort before the full key.
    MDB_val k = to_val(key.substr(0, kMaxKeySize));
    auto kv = get(&k, MDB_SET_RANGE, "mdb_cursor_get(set_range)");
    while (kv && kv->key < key)
        kv = next();
    return kv;
}

std::optional<KV> Cursor::after(std::string_view key) {
    if (key.empty())
        return first();
    auto kv = seek(key);
    while (kv && kv->key == key)
        kv = next();
    return kv;
}

void Cursor::del() {
    if (int rc = mdb_cursor_del(cur_.get(), 0); rc != 0)
        env_->fail(rc, "mdb_cursor_del");
}

}  // namespace store
