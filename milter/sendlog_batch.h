// sendlog_batch.h - concurrent send-log writes share one commit
//
// Every VERP message's send-log entry is written at the end of the message
// (session.h), and with milter_store_sync = commit or data each commit
// waits for the disk (fdatasync), holding LMDB's writer lock: the end of
// the message of every other connection queues behind it, and the flushes
// were the milter's largest cost (~20% of its CPU time in bench_milter).
//
//   SendLogBatch batch([&](const auto& entries) { log.put_all(entries); });
//   batch.put(token, entry);   // returns once committed; throws its error
//
// put() queues the entry; when no commit is running the caller commits
// every queued entry in one transaction (commit()), else it waits for the
// running one to end and, if its own entry is still queued, commits the
// next group. So a lone entry is committed at once, as before, and
// entries that arrive during a commit share the next one. When a group's
// commit fails, its entries are committed one at a time, so each put()
// gets its own entry's outcome (an entry over the store's limits fails its
// message only). The durability is the store's: put() returns after the
// commit that holds the entry, flushed as milter_store_sync says.
//
// Errors: put() throws what commit() threw for its entry. Thread safety:
// put() from any number of threads; commit() runs on one at a time.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "common/store/sendlog.h"

namespace milter {

class SendLogBatch {
public:
    using Entries = std::vector<std::pair<std::string, store::SendLogEntry>>;
    using Commit = std::function<void(const Entries&)>;  // one transaction

    explicit SendLogBatch(Commit commit) : commit_(std::move(commit)) {}
    SendLogBatch(const SendLogBatch&) = delete;
    SendLogBatch& operator=(const SendLogBatch&) = delete;

    void put(std::string token, store::SendLogEntry entry);
    std::size_t queued() const;  // entries waiting for a commit (tests)

private:
    struct Item;
    void commit_group(std::unique_lock<std::mutex>& lock);

    Commit commit_;
    mutable std::mutex mu_;
    std::condition_variable done_;
    std::vector<Item*> queue_;
    bool committing_ = false;
};

}  // namespace milter
