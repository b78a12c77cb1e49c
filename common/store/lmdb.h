// lmdb.h - RAII over LMDB: environment, transactions, cursors
//
// API
//   auto env = store::Env::open(dir, opts);  // dir is the env directory, e.g.
//                                            // <state_dir>/suppress.lmdb/ (data.mdb, lock.mdb)
//   MDB_dbi db = env->dbi("suppress");       // named DB, created on first use
//   env->write([&](store::WriteTxn& w) { w.put(db, key, value); });   // commits
//   store::ReadTxn r = env->read();          // one short snapshot
//   std::optional<std::string_view> v = r.get(db, key);
//   store::Cursor c = r.cursor(db);          // first() / after(key) / next()
//
// One Env per file per process. LMDB forbids opening one file twice in a
// process (closing the second handle drops the first one's fcntl locks), so
// open() keeps a process-wide registry keyed by realpath(3) and returns the
// Env that is already open; the first opener's options win.
//
// Map size. Env::write(fn) runs fn in a write txn and commits. On MDB_MAP_FULL
// (from a put or from the commit) it aborts, doubles the map (at most
// max_map_size) and runs fn again from the start: fn is the whole unit of work
// and must have no effects outside the txn that a rerun would duplicate. At the
// maximum it throws Error (kind MapFull) and nothing of fn is committed.
// mdb_env_set_mapsize() remaps the file, so no txn of this process may be live
// while it runs: every ReadTxn/WriteTxn holds the Env's map lock shared for its
// lifetime, and a resize takes it exclusively (writer-preferring, so a stream
// of lookups cannot starve it). MDB_MAP_RESIZED at txn begin (another process
// grew the map past ours) is handled the same way: mdb_env_set_mapsize(env, 0)
// adopts the size recorded in the file, then the begin is retried.
// Rule that follows: a thread holds at most one txn at a time (of any Env);
// beginning a second one throws Error (kind Usage) instead of deadlocking.
//
// MDB_NOTLS. The env is opened with MDB_NOTLS: a reader slot belongs to a txn
// object, not to a thread. That lets the Env keep a pool of reset read txns
// which any thread renews (mdb_txn_reset/mdb_txn_renew), so a lookup costs a
// renew, a get and a reset: no malloc, no reader-table lock. Pooled txns keep
// their reader slots; the pool holds at most kReadPool of them.
// Reader slots left by dead processes are cleared with mdb_reader_check() at
// open and whenever a begin reports MDB_READERS_FULL.
//
// fork(): an Env must not be used in a child. A child that calls open() gets a
// new Env (the registry remembers the opening pid); an Env inherited from the
// parent is never closed in the child (that would free the parent's reader
// slots). Leave a forked child with _exit() or exec.
//
// Read-only opening (EnvOptions::read_only) creates nothing: a missing
// directory or data.mdb is an error (ENOENT). LMDB readers write their slot
// into lock.mdb; a reader that may not write it (EACCES: a user in no group
// with write access) opens with MDB_NOLOCK, and on a read-only file system
// LMDB skips the lock file by itself. Such a reader is invisible to writers,
// which may reuse pages it still reads: while the store is being written a
// scan may then see inconsistent data or fail with MDB_CORRUPTED. Give
// readers write access to lock.mdb (group) for reads that are always safe.
//
// Replaced files. LMDB coordinates processes through lock.mdb; if it (or
// data.mdb) is deleted or replaced while this process has the env open, the
// others work on the new file and this process keeps reading the old one,
// silently stale. replaced_file() compares the files' device and inode with
// those seen at open and names the first that differs or is gone ("" when
// both are the ones we opened); long-running readers call it periodically
// and reopen (drop every reference, then open() again).
//
// Errors: "no such key" is a value (std::nullopt / false). Every other LMDB
// failure throws store::Error, which names the operation, mdb_strerror() and
// the env path; kind() sorts it (MapFull: the store is full, tempfail).
// Thread safety: Env is thread safe. A txn is begun and ended by one thread
// (it holds that thread's share of the map lock); a cursor must not outlive
// its txn, a txn must not outlive its Env.
#pragma once

#include <lmdb.h>
#include <pthread.h>
#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/sys/c_handle.h"

namespace store {

// LMDB's compiled-in maximum key size (mdb_env_get_maxkeysize, default build).
inline constexpr size_t kMaxKeySize = 511;
// Reset read txns kept for reuse per Env. Each keeps a reader slot, so
// max_readers must cover the pools of all processes sharing the file plus
// the txns in flight.
inline constexpr size_t kReadPool = 16;

// A key LMDB accepts: 1..kMaxKeySize bytes.
constexpr bool valid_key(std::string_view key) noexcept {
    return !key.empty() && key.size() <= kMaxKeySize;
}

class Error : public std::runtime_error {
public:
    enum class Kind {
        MapFull,      // map reached max_map_size: the store is full (tempfail)
        ReadersFull,  // no reader slot even after clearing stale ones
        Corrupt,      // MDB_CORRUPTED, MDB_PANIC, MDB_INVALID, version mismatch
        Format,       // a stored value we cannot decode (e.g. unknown version)
        BadKey,       // empty or longer than kMaxKeySize
        Usage,        // API misuse: second txn in one thread, bad txn/dbi
        NotFound,     // a named DB missing from a read-only env
        Io,           // errno from the system (EACCES, ENOSPC, EIO, ...)
        Other,
    };
    // message: "store: <op>: <strerror>: <path>[: <detail>]"
    Error(Kind kind, int code, std::string_view op, std::string_view path,
          std::string_view detail = {});
    Kind kind() const noexcept { return kind_; }
    int code() const noexcept { return code_; }  // MDB_* or errno; 0 if none

private:
    Kind kind_;
    int code_;
};

std::string_view to_string(Error::Kind kind) noexcept;
// The Kind an MDB_* or errno code belongs to.
Error::Kind kind_of(int rc) noexcept;

// The sizes and the readers count have no defaults here: the parameter
// table does (store_map_size, store_max_map_size, store_max_readers), and
// store::open_suppression_store fills them. Left at 0, map_size is LMDB's
// minimum and max_readers makes open() fail.
struct EnvOptions {
    size_t map_size = 0;                      // initial map
    size_t max_map_size = 0;                  // auto-grow stops here
    unsigned max_dbs = 16;                    // the store's layout, not a parameter
    unsigned max_readers = 0;
    bool read_only = false;
    // false: MDB_NOSYNC, no fsync at commit. For tests and rebuildable bulk
    // loads only: a system crash may lose the last commits.
    bool durable = true;
    mode_t file_mode = 0660;
    mode_t dir_mode = 0770;                   // when open() creates the directory
};

class Env;
class Cursor;

struct KV {
    std::string_view key;
    std::string_view value;
};

// What ReadTxn and WriteTxn share. Views returned point into the map and are
// valid until the txn ends (or, in a write txn, until the key is modified).
class Txn {
public:
    Txn(const Txn&) = delete;
    Txn& operator=(const Txn&) = delete;

    std::optional<std::string_view> get(MDB_dbi dbi, std::string_view key) const;
    Cursor cursor(MDB_dbi dbi) const;
    MDB_txn* raw() const noexcept { return txn_; }
    Env& env() const noexcept { return *env_; }
    explicit operator bool() const noexcept { return txn_ != nullptr; }

protected:
    Txn(Env* env, MDB_txn* txn) noexcept : env_(env), txn_(txn) {}
    Txn(Txn&& o) noexcept
        : env_(o.env_), txn_(std::exchange(o.txn_, nullptr)) {}
    ~Txn() = default;

    Env* env_;
    MDB_txn* txn_;
};

// A read snapshot from the Env's pool; reset and returned in the destructor.
class ReadTxn : public Txn {
public:
    explicit ReadTxn(Env& env);  // throws Error
    ReadTxn(ReadTxn&& o) noexcept : Txn(std::move(o)) {}
    ReadTxn& operator=(ReadTxn&&) = delete;
    ~ReadTxn();
};

// Never commits by accident: aborts in the destructor. Prefer Env::write(),
// which adds map growth and retry.
class WriteTxn : public Txn {
public:
    explicit WriteTxn(Env& env);  // throws Error; blocks for the writer lock
    WriteTxn(WriteTxn&& o) noexcept : Txn(std::move(o)), map_size_(o.map_size_) {}
    WriteTxn& operator=(WriteTxn&&) = delete;
    ~WriteTxn() { abort(); }

    void put(MDB_dbi dbi, std::string_view key, std::string_view value,
             unsigned flags = 0);
    bool del(MDB_dbi dbi, std::string_view key);  // false: no such key
    // mdb_txn_commit frees the txn even when it fails, hence the exchange.
    void commit();
    void abort() noexcept;
    // The map size in force when the txn began (for Env::write's growth).
    size_t map_size() const noexcept { return map_size_; }

private:
    size_t map_size_ = 0;
};

class Cursor {
public:
    Cursor(const Txn& txn, MDB_dbi dbi);  // throws Error
    Cursor(Cursor&&) noexcept = default;
    Cursor& operator=(Cursor&&) noexcept = default;

    std::optional<KV> first();
    std::optional<KV> next();
    std::optional<KV> seek(std::string_view key);   // first key >= key
    std::optional<KV> after(std::string_view key);  // first key > key; first() if empty
    // Deletes the entry under the cursor (write txns only); next() then
    // returns the entry that followed it.
    void del();

private:
    std::optional<KV> get(MDB_val* key, MDB_cursor_op op, const char* what);

    Env* env_;
    sys::CHandle<MDB_cursor, mdb_cursor_close> cur_;
};

class Env {
    struct Key {
        explicit Key() = default;
    };

public:
    // Creates dir (one level, dir_mode) if missing. Throws Error.
    static std::shared_ptr<Env> open(const std::string& dir, const EnvOptions& opts = {});

    Env(Key, std::string path, const EnvOptions& opts);  // use open()
    ~Env();
    Env(const Env&) = delete;
    Env& operator=(const Env&) = delete;

    // Opens a named DB (creating it unless read-only) and caches the handle.
    // Call it at setup, outside any txn of this thread. Throws Error.
    MDB_dbi dbi(const std::string& name);

    ReadTxn read() { return ReadTxn(*this); }

    // Runs fn(WriteTxn&) and commits; grows the map and reruns fn on
    // MDB_MAP_FULL; throws Error (kind MapFull) at max_map_size. Returns fn's
    // result.
    template <class Fn>
    auto write(Fn&& fn) -> std::invoke_result_t<Fn&, WriteTxn&>;

    const std::string& path() const noexcept { return path_; }
    const EnvOptions& options() const noexcept { return opts_; }
    size_t map_size() const noexcept { return map_size_.load(std::memory_order_relaxed); }
    // How often this process grew or adopted a new map size (for tests, stats).
    uint64_t resize_count() const noexcept { return resizes_.load(std::memory_order_relaxed); }
    MDB_env* raw() const noexcept { return env_.get(); }
    // See "Replaced files" above. Two stat(2) calls; thread safe.
    std::string replaced_file() const;

private:
    friend class ReadTxn;
    friend class WriteTxn;
    friend class Cursor;
    friend class Txn;

    MDB_txn* begin(bool read_only);          // takes the map lock shared
    void end_read(MDB_txn* txn) noexcept;    // resets into the pool, unlocks
    void end_write() noexcept;               // after commit/abort: unlocks
    MDB_env* open_lockless(unsigned flags, int& rc);
    int take_reader(MDB_txn** txn);
    void grow(size_t seen);                  // doubles the map or throws MapFull
    void adopt_map_size();                   // after MDB_MAP_RESIZED
    size_t read_map_size() const;
    [[noreturn]] void fail(int rc, std::string_view op, std::string_view detail = {}) const;

    std::string path_;
    EnvOptions opts_;
    pid_t pid_;
    sys::CHandle<MDB_env, mdb_env_close> env_;
    pthread_rwlock_t map_lock_;
    std::atomic<size_t> map_size_{0};
    std::atomic<uint64_t> resizes_{0};
    std::mutex pool_mu_;
    std::vector<MDB_txn*> pool_;
    std::mutex dbi_mu_;
    std::map<std::string, MDB_dbi, std::less<>> dbis_;
    struct FileId {
        dev_t dev = 0;
        ino_t ino = 0;
    };
    FileId data_id_, lock_id_;  // at open; see replaced_file()
    void remember_files();
};

template <class Fn>
auto Env::write(Fn&& fn) -> std::invoke_result_t<Fn&, WriteTxn&> {
    using R = std::invoke_result_t<Fn&, WriteTxn&>;
    for (;;) {
        WriteTxn txn(*this);
        const size_t seen = txn.map_size();
        try {
            if constexpr (std::is_void_v<R>) {
                fn(txn);
                txn.commit();
                return;
            } else {
                R result = fn(txn);
                txn.commit();
                return result;
            }
        } catch (const Error& e) {
            if (e.kind() != Error::Kind::MapFull)
                throw;
        }
        txn.abort();  // frees the writer lock and the map lock before growing
        grow(seen);
    }
}

}  // namespace store
