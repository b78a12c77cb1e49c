// read_batch.h - one batch of a store scan (internal to common/store)
//
// read_batch(env, dbi, after, take) passes up to kScanBatch entries with
// key > after to take(key, value), in one short read txn, and returns
// whether entries remain after the batch. Scans loop on it so no read txn
// lives long (a long one pins old pages and grows the map).
// Errors: store::Error from the txn or cursor. Thread safety: as ReadTxn.
#pragma once

#include <string_view>

#include "common/store/lmdb.h"
#include "common/store/suppression.h"

namespace store {

template <class Take>
bool read_batch(Env& env, MDB_dbi dbi, std::string_view after, Take&& take) {
    ReadTxn txn = env.read();
    Cursor c = txn.cursor(dbi);  // closed before the txn ends
    size_t n = 0;
    auto kv = c.after(after);
    for (; kv && n < kScanBatch; kv = c.next(), ++n)
        take(kv->key, kv->value);
    return kv.has_value();
}

}  // namespace store
