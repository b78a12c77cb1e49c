// sendlog_batch.cc - see sendlog_batch.h
#include "milter/sendlog_batch.h"

#include <exception>

namespace milter {

struct SendLogBatch::Item {
    Entries entry;  // one (token, entry)
    bool done = false;
    std::exception_ptr error;
};

void SendLogBatch::put(std::string token, store::SendLogEntry entry) {
    Item item;
    item.entry.emplace_back(std::move(token), std::move(entry));
    std::unique_lock lock(mu_);
    queue_.push_back(&item);
    while (!item.done) {
        if (committing_)
            done_.wait(lock);
        else
            commit_group(lock);
    }
    if (item.error) std::rethrow_exception(item.error);
}

// Takes the queue, commits it without the lock, marks its items done and
// wakes the waiters (their items may be done, or one of them commits next).
void SendLogBatch::commit_group(std::unique_lock<std::mutex>& lock) {
    committing_ = true;
    std::vector<Item*> group;
    group.swap(queue_);
    lock.unlock();
    Entries all;
    for (Item* i : group) all.push_back(std::move(i->entry.front()));
    try {
        commit_(all);
    } catch (...) {
        // One at a time, so each message gets its own entry's outcome.
        for (size_t n = 0; n < group.size(); ++n) {
            try {
                commit_(Entries{all[n]});
            } catch (...) {
                group[n]->error = std::current_exception();
            }
        }
    }
    lock.lock();
    for (Item* i : group) i->done = true;
    committing_ = false;
    done_.notify_all();
}

std::size_t SendLogBatch::queued() const {
    std::lock_guard lock(mu_);
    return queue_.size();
}

}  // namespace milter
