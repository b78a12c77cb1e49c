// lmdb.cc - store::Error and store::Env: open registry, map growth, read pool
#include "common/store/lmdb.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <condition_variable>
#include <cstdlib>

namespace store {

namespace {

// Txns this thread holds (of any Env); see "Rule that follows" in lmdb.h.
thread_local int t_txns = 0;

class ExclusiveLock {
public:
    explicit ExclusiveLock(pthread_rwlock_t* l) : l_(l) { pthread_rwlock_wrlock(l_); }
    ~ExclusiveLock() { pthread_rwlock_unlock(l_); }
    ExclusiveLock(const ExclusiveLock&) = delete;
    ExclusiveLock& operator=(const ExclusiveLock&) = delete;

private:
    pthread_rwlock_t* l_;
};

std::string make_message(int code, std::string_view op, std::string_view path,
                         std::string_view detail) {
    std::string m = "store: ";
    m.append(op);
    if (code != 0) {
        m += ": ";
        m += mdb_strerror(code);  // strerror() for errno values
    }
    if (!path.empty()) {
        m += ": ";
        m.append(path);
    }
    if (!detail.empty()) {
        m += ": ";
        m.append(detail);
    }
    return m;
}

// The process-wide registry: one Env per realpath. An entry whose Env is
// being destroyed stays until ~Env has closed the file, and open() waits for
// it, so two MDB_envs of one file never coexist in this process.
struct Registry {
    struct Entry {
        pid_t pid;
        const Env* env;
        std::weak_ptr<Env> ref;
    };
    std::mutex mu;
    std::condition_variable cv;
    std::map<std::string, Entry, std::less<>> entries;
};

Registry& registry() {
    // Never destroyed: an Env held by a static may be released after this
    // function's statics would have been.
    alignas(Registry) static unsigned char buf[sizeof(Registry)];
    static Registry* r = ::new (buf) Registry();
    return *r;
}

std::string real_dir(const std::string& dir, mode_t mode, bool read_only) {
    if (dir.empty())
        throw Error(Error::Kind::Usage, EINVAL, "open", dir, "empty path");
    // A reader never creates anything: a missing store is the caller's news.
    if (!read_only && ::mkdir(dir.c_str(), mode) != 0 && errno != EEXIST)
        throw Error(kind_of(errno), errno, "mkdir", dir);
    char buf[PATH_MAX];
    if (::realpath(dir.c_str(), buf) == nullptr)
        throw Error(kind_of(errno), errno, "realpath", dir);
    struct stat st {};
    if (::stat(buf, &st) != 0)
        throw Error(kind_of(errno), errno, "stat", buf);
    if (!S_ISDIR(st.st_mode))
        throw Error(Error::Kind::Usage, ENOTDIR, "open", buf);
    return buf;
}

}  // namespace

Error::Error(Kind kind, int code, std::string_view op, std::string_view path,
             std::string_view detail)
    : std::runtime_error(make_message(code, op, path, detail)), kind_(kind), code_(code) {}

std::string_view to_string(Error::Kind kind) noexcept {
    switch (kind) {
    case Error::Kind::MapFull: return "map-full";
    case Error::Kind::ReadersFull: return "readers-full";
    case Error::Kind::Corrupt: return "corrupt";
    case Error::Kind::Format: return "format";
    case Error::Kind::BadKey: return "bad-key";
    case Error::Kind::Usage: return "usage";
    case Error::Kind::NotFound: return "not-found";
    case Error::Kind::Io: return "io";
    case Error::Kind::Other: return "other";
    }
    return "other";
}

Error::Kind kind_of(int rc) noexcept {
    switch (rc) {
    case MDB_MAP_FULL: return Error::Kind::MapFull;
    case MDB_READERS_FULL: return Error::Kind::ReadersFull;
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_PANIC:
    case MDB_INVALID:
    case MDB_VERSION_MISMATCH:
    case MDB_INCOMPATIBLE: return Error::Kind::Corrupt;
    case MDB_BAD_VALSIZE: return Error::Kind::BadKey;
    case MDB_BAD_TXN:
    case MDB_BAD_DBI:
    case MDB_BAD_RSLOT:
    case MDB_DBS_FULL:
    case EINVAL: return Error::Kind::Usage;
    case MDB_NOTFOUND: return Error::Kind::NotFound;
    default: break;
    }
    return rc > 0 ? Error::Kind::Io : Error::Kind::Other;
}

std::shared_ptr<Env> Env::open(const std::string& dir, const EnvOptions& opts) {
    const std::string path = real_dir(dir, opts.dir_mode, opts.read_only);
    Registry& reg = registry();
    std::unique_lock lk(reg.mu);
    for (;;) {
        auto it = reg.entries.find(path);
        if (it == reg.entries.end() || it->second.pid != ::getpid())
            break;  // none, or inherited from the parent across fork()
        if (auto env = it->second.ref.lock())
            return env;
        reg.cv.wait(lk);  // the last owner is closing it
    }
    auto env = std::make_shared<Env>(Key{}, path, opts);
    reg.entries.insert_or_assign(path, Registry::Entry{::getpid(), env.get(), env});
    return env;
}

Env::Env(Key, std::string path, const EnvOptions& opts)
    : path_(std::move(path)), opts_(opts), pid_(::getpid()) {
    if (opts_.max_map_size < opts_.map_size)
        opts_.max_map_size = opts_.map_size;
    MDB_env* raw = nullptr;
    int rc = mdb_env_create(&raw);
    if (rc != 0)
        fail(rc, "mdb_env_create");
    env_.reset(raw);  // mdb_env_close is needed even when open fails
    if ((rc = mdb_env_set_mapsize(raw, opts_.map_size)) != 0)
        fail(rc, "mdb_env_set_mapsize");
    if ((rc = mdb_env_set_maxdbs(raw, opts_.max_dbs)) != 0)
        fail(rc, "mdb_env_set_maxdbs");
    if ((rc = mdb_env_set_maxreaders(raw, opts_.max_readers)) != 0)
        fail(rc, "mdb_env_set_maxreaders");
    const unsigned flags = MDB_NOTLS | (opts_.read_only ? MDB_RDONLY : 0) |
                           (opts_.durable ? 0 : MDB_NOSYNC);
    rc = mdb_env_open(raw, path_.c_str(), flags, opts_.file_mode);
    // A reader without write access to lock.mdb (a read-only mount makes
    // LMDB itself skip the lock file): read without the reader table; see
    // lmdb.h for the caveat.
    if (rc == EACCES && opts_.read_only)
        raw = open_lockless(flags, rc);
    if (rc != 0)
        fail(rc, "mdb_env_open");
    int dead = 0;
    if ((rc = mdb_reader_check(raw, &dead)) != 0)
        fail(rc, "mdb_reader_check");

    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    // Writer preference: a resize must not wait forever behind lookups. Safe
    // because a thread never takes the lock shared twice (one txn per thread).
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&map_lock_, &attr);
    pthread_rwlockattr_destroy(&attr);
    map_size_ = read_map_size();
    pool_.reserve(kReadPool);
    remember_files();
}

Env::~Env() {
    if (pid_ != ::getpid()) {
        // Inherited across fork(): closing would release the parent's reader
        // slots and locks. Leak it; the child is about to _exit() anyway.
        (void)env_.release();
        return;
    }
    Registry& reg = registry();
    std::lock_guard lk(reg.mu);
    for (MDB_txn* t : pool_)
        mdb_txn_abort(t);
    pool_.clear();
    env_.reset();  // mdb_env_close, under the registry lock (see Registry)
    pthread_rwlock_destroy(&map_lock_);
    auto it = reg.entries.find(path_);
    if (it != reg.entries.end() && it->second.env == this)
        reg.entries.erase(it);
    reg.cv.notify_all();
}

// Reopens the env with MDB_NOLOCK after mdb_env_open(flags) failed (a
// failed open needs mdb_env_close first); rc is the new open's result.
MDB_env* Env::open_lockless(unsigned flags, int& rc) {
    env_.reset();
    MDB_env* raw = nullptr;
    if ((rc = mdb_env_create(&raw)) != 0)
        fail(rc, "mdb_env_create");
    env_.reset(raw);
    if ((rc = mdb_env_set_mapsize(raw, opts_.map_size)) != 0 ||
        (rc = mdb_env_set_maxdbs(raw, opts_.max_dbs)) != 0 ||
        (rc = mdb_env_set_maxreaders(raw, opts_.max_readers)) != 0)
        fail(rc, "mdb_env_set");
    rc = mdb_env_open(raw, path_.c_str(), flags | MDB_NOLOCK, opts_.file_mode);
    return raw;
}

void Env::fail(int rc, std::string_view op, std::string_view detail) const {
    throw Error(kind_of(rc), rc, op, path_, detail);
}

size_t Env::read_map_size() const {
    MDB_envinfo info{};
    if (int rc = mdb_env_info(env_.get(), &info); rc != 0)
        fail(rc, "mdb_env_info");
    return info.me_mapsize;
}

MDB_dbi Env::dbi(const std::string& name) {
    if (t_txns != 0)
        throw Error(Error::Kind::Usage, 0, "dbi", path_, "called inside a transaction");
    std::lock_guard lk(dbi_mu_);
    if (auto it = dbis_.find(name); it != dbis_.end())
        return it->second;
    MDB_dbi dbi = 0;
    if (opts_.read_only) {
        // A handle opened in a read txn becomes shared once that txn commits.
        MDB_txn* txn = begin(true);
        int rc = mdb_dbi_open(txn, name.c_str(), 0, &dbi);
        if (rc == 0) {
            rc = mdb_txn_commit(txn);
        } else {
            mdb_txn_abort(txn);
        }
        pthread_rwlock_unlock(&map_lock_);
        --t_txns;
        if (rc != 0)
            fail(rc, "mdb_dbi_open", name);
    } else {
        write([&](WriteTxn& w) {
            if (int rc = mdb_dbi_open(w.raw(), name.c_str(), MDB_CREATE, &dbi); rc != 0)
                fail(rc, "mdb_dbi_open", name);
        });
    }
    dbis_.emplace(name, dbi);
    return dbi;
}

int Env::take_reader(MDB_txn** txn) {
    MDB_txn* t = nullptr;
    {
        std::lock_guard lk(pool_mu_);
        if (!pool_.empty()) {
            t = pool_.back();
            pool_.pop_back();
        }
    }
    if (t != nullptr) {
        int rc = mdb_txn_renew(t);
        if (rc != 0) {
            mdb_txn_abort(t);  // a failed renew leaves it reset; abort frees it
            return rc;
        }
        *txn = t;
        return 0;
    }
    return mdb_txn_begin(env_.get(), nullptr, MDB_RDONLY, txn);
}

MDB_txn* Env::begin(bool read_only) {
    if (t_txns != 0)
        throw Error(Error::Kind::Usage, 0, "begin", path_,
                    "this thread already holds a transaction");
    if (!read_only && opts_.read_only)
        throw Error(Error::Kind::Usage, EACCES, "begin", path_, "environment is read-only");
    constexpr int kAttempts = 8;
    for (int attempt = 1;; ++attempt) {
        pthread_rwlock_rdlock(&map_lock_);
        MDB_txn* txn = nullptr;
        const int rc = read_only ? take_reader(&txn)
                                 : mdb_txn_begin(env_.get(), nullptr, 0, &txn);
        if (rc == 0) {
            ++t_txns;
            return txn;
        }
        pthread_rwlock_unlock(&map_lock_);
        const char* op = read_only ? "mdb_txn_begin(read)" : "mdb_txn_begin(write)";
        if (attempt == kAttempts)
            fail(rc, op, "retries exhausted");
        if (rc == MDB_MAP_RESIZED) {
            adopt_map_size();
        } else if (rc == MDB_READERS_FULL) {
            int dead = 0;
            if (mdb_reader_check(env_.get(), &dead) != 0 || dead == 0)
                fail(rc, op);
        } else {
            fail(rc, op);
        }
    }
}

void Env::end_read(MDB_txn* txn) noexcept {
    mdb_txn_reset(txn);
    bool kept = false;
    {
        std::lock_guard lk(pool_mu_);
        if (pool_.size() < kReadPool) {
            pool_.push_back(txn);
            kept = true;
        }
    }
    if (!kept)
        mdb_txn_abort(txn);
    pthread_rwlock_unlock(&map_lock_);
    --t_txns;
}

void Env::end_write() noexcept {
    pthread_rwlock_unlock(&map_lock_);
    --t_txns;
}

// Both resizes run with the map lock held exclusively, so no txn of this
// process is live (mdb_env_set_mapsize's precondition); t_txns == 0 makes sure
// this thread is not itself holding the lock shared.
void Env::grow(size_t seen) {
    if (t_txns != 0)
        throw Error(Error::Kind::Usage, MDB_MAP_FULL, "grow map", path_,
                    "this thread holds a transaction");
    ExclusiveLock lock(&map_lock_);
    const size_t cur = read_map_size();
    if (cur > seen)
        return;  // another thread grew it meanwhile
    if (cur >= opts_.max_map_size)
        throw Error(Error::Kind::MapFull, MDB_MAP_FULL, "grow map", path_,
                    "max_map_size " + std::to_string(opts_.max_map_size) + " reached");
    const size_t next = std::min(opts_.max_map_size, std::max(cur * 2, cur + 4096));
    if (int rc = mdb_env_set_mapsize(env_.get(), next); rc != 0)
        fail(rc, "mdb_env_set_mapsize");
    map_size_ = read_map_size();
    ++resizes_;
}

void Env::adopt_map_size() {
    if (t_txns != 0)
        throw Error(Error::Kind::Usage, MDB_MAP_RESIZED, "adopt map size", path_,
                    "this thread holds a transaction");
    ExclusiveLock lock(&map_lock_);
    if (int rc = mdb_env_set_mapsize(env_.get(), 0); rc != 0)  // 0: the size in the file
        fail(rc, "mdb_env_set_mapsize(0)");
    map_size_ = read_map_size();
    ++resizes_;
}

// --- replaced files (see lmdb.h)

namespace {
bool stat_id(const std::string& f, dev_t* dev, ino_t* ino) {
    struct stat st {};
    if (::stat(f.c_str(), &st) != 0) return false;
    *dev = st.st_dev;
    *ino = st.st_ino;
    return true;
}
}  // namespace

void Env::remember_files() {
    stat_id(path_ + "/data.mdb", &data_id_.dev, &data_id_.ino);
    stat_id(path_ + "/lock.mdb", &lock_id_.dev, &lock_id_.ino);
}

std::string Env::replaced_file() const {
    for (const auto& [name, id] : {std::pair{"/data.mdb", data_id_}, std::pair{"/lock.mdb", lock_id_}}) {
        const std::string f = path_ + name;
        dev_t dev = 0;
        ino_t ino = 0;
        if (!stat_id(f, &dev, &ino) || dev != id.dev || ino != id.ino) return f;
    }
    return {};
}

}  // namespace store
