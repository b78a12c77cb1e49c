// test_store_lmdb.cc - Env registry, txns, cursors, map growth and MapFull
#include <boost/test/unit_test.hpp>

#include <sys/stat.h>

#include <string>
#include <thread>
#include <vector>

#include "tests/unit/test_store_support.h"

using store_test::TempDir;
using store_test::test_opts;

BOOST_AUTO_TEST_SUITE(store_lmdb)

BOOST_AUTO_TEST_CASE(one_env_per_file_per_process) {
    TempDir td;
    auto a = store::Env::open(td.env_dir(), test_opts());
    auto b = store::Env::open(td.env_dir() + "/.", test_opts());      // another spelling
    auto c = store::Env::open(td.path() + "/../" + td.path().substr(td.path().rfind('/') + 1) +
                              "/suppress.lmdb");
    BOOST_TEST(a.get() == b.get(), "second open returned a different Env");
    BOOST_TEST(a.get() == c.get(), "third open returned a different Env");
    struct stat st {};
    BOOST_TEST(::stat((td.env_dir() + "/data.mdb").c_str(), &st) == 0, "no data.mdb in the env dir");
    BOOST_TEST(::stat((td.env_dir() + "/lock.mdb").c_str(), &st) == 0, "no lock.mdb in the env dir");

    // Once every owner is gone the file is closed; a new open works.
    const MDB_dbi db = a->dbi("t");
    a->write([&](store::WriteTxn& w) { w.put(db, "k", "v"); });
    a.reset();
    b.reset();
    c.reset();
    auto d = store::Env::open(td.env_dir(), test_opts());
    const MDB_dbi db2 = d->dbi("t");
    auto r = d->read();
    auto v = r.get(db2, "k");
    BOOST_TEST((v && *v == "v"), "value lost across reopen");
}

BOOST_AUTO_TEST_CASE(read_only_env_reads_and_refuses_writes) {
    TempDir td;
    {
        auto rw = store::Env::open(td.env_dir(), test_opts());
        const MDB_dbi db = rw->dbi("t");
        rw->write([&](store::WriteTxn& w) { w.put(db, "k", "v"); });
    }
    auto opts = test_opts();
    opts.read_only = true;
    auto ro = store::Env::open(td.env_dir(), opts);
    const MDB_dbi db = ro->dbi("t");
    {
        auto r = ro->read();
        auto v = r.get(db, "k");
        BOOST_TEST((v && *v == "v"), "read-only env lost the value");
    }
    try {
        ro->write([&](store::WriteTxn& w) { w.put(db, "k2", "v"); });
        BOOST_FAIL("write to a read-only env succeeded");
    } catch (const store::Error& e) {
        BOOST_TEST((e.kind() == store::Error::Kind::Usage), e.what());
    }
    try {
        ro->dbi("missing");
        BOOST_FAIL("opened a missing DB read-only");
    } catch (const store::Error& e) {
        BOOST_TEST((e.kind() == store::Error::Kind::NotFound), e.what());
        BOOST_TEST(std::string(e.what()).find("missing") != std::string::npos, e.what());
    }
}

BOOST_AUTO_TEST_CASE(open_errors_name_the_path) {
    try {
        store::Env::open("/nonexistent-sendguard/x/suppress.lmdb");
        BOOST_FAIL("no exception");
    } catch (const store::Error& e) {
        const std::string what = e.what();
        BOOST_TEST(what.find("/nonexistent-sendguard/x/suppress.lmdb") != std::string::npos, what);
        BOOST_TEST(what.find("mkdir") != std::string::npos, what);
        BOOST_TEST((e.kind() == store::Error::Kind::Io), "kind " << store::to_string(e.kind()));
    }
}

BOOST_AUTO_TEST_CASE(get_put_del_and_abort_by_default) {
    TempDir td;
    auto env = store::Env::open(td.env_dir(), test_opts());
    const MDB_dbi db = env->dbi("t");
    env->write([&](store::WriteTxn& w) {
        w.put(db, "a", "1");
        w.put(db, "b", "2");
    });
    {
        store::WriteTxn w(*env);
        w.put(db, "c", "3");
        BOOST_TEST(w.del(db, "a"));
        BOOST_TEST(!w.del(db, "zz"), "del of a missing key returned true");
        // destroyed without commit: aborted
    }
    BOOST_CHECK_THROW(env->write([&](store::WriteTxn& w) {
        w.put(db, "d", "4");
        throw std::runtime_error("unit of work fails");
    }), std::runtime_error);

    auto r = env->read();
    struct {
        std::string key;
        std::optional<std::string> want;
    } cases[] = {{"a", "1"}, {"b", "2"}, {"c", std::nullopt}, {"d", std::nullopt},
                 {"", std::nullopt}, {std::string(600, 'x'), std::nullopt}};
    for (const auto& c : cases) {
        auto got = r.get(db, c.key);
        const std::string g = got ? std::string(*got) : "(none)";
        const std::string w = c.want ? *c.want : "(none)";
        BOOST_TEST(g == w, "get(" << c.key.substr(0, 10) << "): got " << g << ", want " << w);
    }
}

BOOST_AUTO_TEST_CASE(bad_keys_and_second_txn_are_errors) {
    TempDir td;
    auto env = store::Env::open(td.env_dir(), test_opts());
    const MDB_dbi db = env->dbi("t");
    for (const std::string& key : {std::string(), std::string(store::kMaxKeySize + 1, 'k')}) {
        try {
            env->write([&](store::WriteTxn& w) { w.put(db, key, "v"); });
            BOOST_FAIL("no exception for key of length " << key.size());
        } catch (const store::Error& e) {
            BOOST_TEST((e.kind() == store::Error::Kind::BadKey), e.what());
        }
    }
    env->write([&](store::WriteTxn& w) { w.put(db, std::string(store::kMaxKeySize, 'k'), "v"); });

    auto r = env->read();
    try {
        auto r2 = env->read();
        BOOST_FAIL("second txn in one thread was allowed");
    } catch (const store::Error& e) {
        BOOST_TEST((e.kind() == store::Error::Kind::Usage), e.what());
    }
    BOOST_CHECK_THROW(env->dbi("other"), store::Error);
    // Another thread is free to write meanwhile, and our snapshot does not see it.
    std::thread t([&] { env->write([&](store::WriteTxn& w) { w.put(db, "late", "x"); }); });
    t.join();
    BOOST_TEST(!r.get(db, "late"), "snapshot saw a later commit");
}

BOOST_AUTO_TEST_CASE(cursor_seek_after_and_delete) {
    TempDir td;
    auto env = store::Env::open(td.env_dir(), test_opts());
    const MDB_dbi db = env->dbi("t");
    env->write([&](store::WriteTxn& w) {
        for (std::string k : {"a", "b", "b1", "c", "d", "e"})
            w.put(db, k, "v" + k);
    });
    struct {
        std::string op, arg, want;  // want: keys visited, or "-" for none
    } cases[] = {
        {"after", "", "a b b1 c d e"}, {"after", "b", "b1 c d e"}, {"after", "bb", "c d e"},
        {"after", "e", "-"},           {"seek", "b", "b b1 c d e"}, {"seek", "b0", "b1 c d e"},
        {"seek", "f", "-"},
    };
    auto r = env->read();
    for (const auto& c : cases) {
        store::Cursor cur = r.cursor(db);
        std::string got;
        for (auto kv = c.op == "seek" ? cur.seek(c.arg) : cur.after(c.arg); kv; kv = cur.next()) {
            if (!got.empty())
                got += ' ';
            got += kv->key;
        }
        if (got.empty())
            got = "-";
        BOOST_TEST(got == c.want, c.op << "(" << c.arg << "): got " << got << ", want " << c.want);
    }
}

BOOST_AUTO_TEST_CASE(cursor_delete_then_next_visits_every_entry) {
    TempDir td;
    auto env = store::Env::open(td.env_dir(), test_opts());
    const MDB_dbi db = env->dbi("t");
    constexpr int kN = 5000;  // several pages, so deletes cross page boundaries
    env->write([&](store::WriteTxn& w) {
        for (int i = 0; i < kN; ++i) {
            char k[16];
            std::snprintf(k, sizeof k, "k%06d", i);
            w.put(db, k, std::string(40, 'v'));
        }
    });
    int visited = 0;
    env->write([&](store::WriteTxn& w) {
        visited = 0;
        store::Cursor c = w.cursor(db);
        for (auto kv = c.first(); kv; kv = c.next()) {
            ++visited;
            if (std::stoi(std::string(kv->key.substr(1))) % 2 == 0)
                c.del();
        }
    });
    BOOST_TEST(visited == kN, "visited " << visited << ", want " << kN);
    auto r = env->read();
    store::Cursor c = r.cursor(db);
    int left = 0;
    for (auto kv = c.first(); kv; kv = c.next()) {
        ++left;
        BOOST_TEST(std::stoi(std::string(kv->key.substr(1))) % 2 == 1, "even key survived: " << kv->key);
    }
    BOOST_TEST(left == kN / 2, "got " << left << " left, want " << kN / 2);
}

BOOST_AUTO_TEST_CASE(map_grows_from_64k) {
    TempDir td;
    auto env = store::Env::open(td.env_dir(), test_opts(64 << 10, 64 << 20));
    store::SuppressionList list(env);
    const size_t start = env->map_size();
    store::Policy p = store_test::default_policy();
    constexpr int kN = 5000;
    for (int i = 0; i < kN; ++i) {
        auto ev = store_test::event("user" + std::to_string(i) + "@grow.example", store::Class::Hard,
                                    "userunknown", 1000 + i);
        ev.diagnostic = std::string(200, 'd');
        list.record(ev, p);
    }
    BOOST_TEST(env->map_size() > start, "map did not grow: " << env->map_size());
    BOOST_TEST(env->resize_count() > 0);
    BOOST_TEST(env->map_size() <= size_t{64} << 20);
    int found = 0;
    for (int i = 0; i < kN; ++i)
        found += list.is_suppressed("user" + std::to_string(i) + "@grow.example", 1000 + kN);
    BOOST_TEST(found == kN, "got " << found << " records, want " << kN);
}

BOOST_AUTO_TEST_CASE(map_full_at_max_commits_nothing) {
    TempDir td;
    auto env = store::Env::open(td.env_dir(), test_opts(64 << 10, 256 << 10));
    store::SuppressionList list(env);
    store::Policy p = store_test::default_policy();
    list.record(store_test::event("first@full.example", store::Class::Hard, "userunknown", 1), p);

    // One unit of work far larger than the maximum: all or nothing.
    std::vector<store::Entry> big;
    for (int i = 0; i < 4000; ++i) {
        store::Entry e{"bulk" + std::to_string(i) + "@full.example", {}};
        e.record.suppressed = true;
        e.record.diagnostic = std::string(200, 'x');
        big.push_back(std::move(e));
    }
    try {
        list.import_batch(big);
        BOOST_FAIL("no MapFull");
    } catch (const store::Error& e) {
        BOOST_TEST((e.kind() == store::Error::Kind::MapFull), e.what());
        BOOST_TEST(std::string(e.what()).find("max_map_size") != std::string::npos, e.what());
    }
    BOOST_TEST(env->map_size() == size_t{256} << 10, "map " << env->map_size() << ", want the max");
    const auto s = list.stats(2);
    BOOST_TEST(s.total == 1u, "got " << s.total << " records after a failed import, want 1");
    BOOST_TEST(!list.check("bulk0@full.example", 2), "part of the failed unit was committed");

    // Single records keep failing cleanly once the map is full of them.
    int stored = 0;
    bool full = false;
    for (int i = 0; i < 100000 && !full; ++i) {
        auto ev = store_test::event("r" + std::to_string(i) + "@full.example", store::Class::Hard,
                                    "userunknown", 10);
        ev.diagnostic = std::string(500, 'y');
        try {
            list.record(ev, p);
            ++stored;
        } catch (const store::Error& e) {
            BOOST_TEST((e.kind() == store::Error::Kind::MapFull), e.what());
            full = true;
            BOOST_TEST(!list.check(ev.address, 11), "failed record is present");
        }
    }
    BOOST_TEST(full, "the map never filled");
    BOOST_TEST(stored > 0);
    BOOST_TEST(list.is_suppressed("r0@full.example", 11));
}

BOOST_AUTO_TEST_SUITE_END()
