// test_store_concurrency.cc - several processes and threads on one store:
// MDB_MAP_RESIZED from another process, concurrent writers, readers during a
// resize, and the check() lookup rate.
#include <boost/test/unit_test.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <exception>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "tests/unit/test_store_support.h"

using store::Class;
using store_test::TempDir;
using store_test::event;
using store_test::test_opts;

namespace {

constexpr int64_t kT0 = 1'700'000'000;

// Runs fn() in a forked child, which exits 0 when fn returns true. The child
// never returns into Boost.Test and leaves with _exit() (see lmdb.h on fork).
template <class Fn>
pid_t spawn(Fn&& fn) {
    std::cout.flush();  // or the child's exit could repeat buffered output
    std::fflush(nullptr);
    const pid_t pid = ::fork();
    if (pid != 0)
        return pid;
    int rc = 1;
    try {
        rc = fn() ? 0 : 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "child %d: %s\n", int(::getpid()), e.what());
        rc = 3;
    } catch (...) {
        rc = 4;
    }
    ::_exit(rc);
}

int wait_exit(pid_t pid) {
    int status = 0;
    if (pid < 0 || ::waitpid(pid, &status, 0) != pid)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string addr(const char* fmt, int a, int b = 0) {
    char buf[64];
    std::snprintf(buf, sizeof buf, fmt, a, b);
    return buf;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(store_concurrency)

BOOST_AUTO_TEST_CASE(map_resized_by_another_process) {
    TempDir td;
    const auto opts = test_opts(64 << 10, 64 << 20);
    auto env = store::Env::open(td.env_dir(), opts);
    store::SuppressionList list(env);
    store::Policy p = store_test::default_policy();
    list.record(event("parent0@resize.example", Class::Hard, "userunknown", kT0), p);
    const size_t before = env->map_size();
    const uint64_t resizes = env->resize_count();

    constexpr int kChild = 3000;
    const pid_t pid = spawn([&] {
        auto mine = store::Env::open(td.env_dir(), opts);
        if (mine.get() == env.get())
            return false;  // must not reuse the parent's Env
        store::SuppressionList l(mine);
        for (int i = 0; i < kChild; ++i) {
            auto ev = event(addr("child%d@resize.example", i), Class::Hard, "userunknown", kT0);
            ev.diagnostic = std::string(300, 'c');
            l.record(ev, p);
        }
        return mine->map_size() >= 16 * (size_t{64} << 10);
    });
    BOOST_REQUIRE_MESSAGE(wait_exit(pid) == 0, "child failed");
    BOOST_TEST(env->map_size() == before, "parent map changed before it looked");

    int found = 0;
    for (int i = 0; i < kChild; ++i)
        found += list.is_suppressed(addr("child%d@resize.example", i), kT0 + 1);
    BOOST_TEST(found == kChild, "parent sees " << found << " child records, want " << kChild);
    BOOST_TEST(env->map_size() > before, "parent did not adopt the larger map");
    BOOST_TEST(env->resize_count() > resizes);

    for (int i = 1; i <= 1000; ++i)
        list.record(event(addr("parent%d@resize.example", i), Class::Hard, "userunknown", kT0), p);
    const auto s = list.stats(kT0 + 1);
    BOOST_TEST(s.total == uint64_t(kChild + 1001), "got " << s.total << ", want " << kChild + 1001);
}

BOOST_AUTO_TEST_CASE(concurrent_writer_processes) {
    TempDir td;
    const auto opts = test_opts(64 << 10, 64 << 20);
    auto env = store::Env::open(td.env_dir(), opts);
    store::SuppressionList list(env);
    constexpr int kProcs = 4, kEach = 500;

    int gate[2];
    BOOST_REQUIRE(::pipe(gate) == 0);
    std::vector<pid_t> kids;
    for (int c = 0; c < kProcs; ++c) {
        kids.push_back(spawn([&, c] {
            ::close(gate[1]);
            char b;
            (void)::read(gate[0], &b, 1);  // EOF once the parent opens the gate
            store::SuppressionList l(store::Env::open(td.env_dir(), opts));
            store::Policy p = store_test::default_policy();
            for (int i = 0; i < kEach; ++i) {
                auto ev = event(addr("w%d-%04d@conc.example", c, i), Class::Hard, "userunknown",
                                kT0 + i, addr("Q%d-%d", c, i));
                ev.diagnostic = std::string(100, 'd');
                if (!l.record(ev, p).newly_suppressed)
                    return false;
            }
            return true;
        }));
    }
    ::close(gate[0]);
    ::close(gate[1]);
    for (pid_t k : kids)
        BOOST_TEST(wait_exit(k) == 0, "writer " << k << " failed");

    int n = 0;
    bool evidence_ok = true;
    list.for_each([&](std::string_view key, const store::Record& r) {
        int c = -1, i = -1;
        evidence_ok &= std::sscanf(std::string(key).c_str(), "w%d-%d@", &c, &i) == 2 &&
                       r.evidence == addr("Q%d-%d", c, i);
        ++n;
        return true;
    });
    BOOST_TEST(n == kProcs * kEach, "got " << n << " records, want " << kProcs * kEach);
    BOOST_TEST(evidence_ok, "a record carries another event's evidence");
}

BOOST_AUTO_TEST_CASE(readers_keep_working_while_the_map_grows) {
    TempDir td;
    auto env = store::Env::open(td.env_dir(), test_opts(64 << 10, 64 << 20));
    store::SuppressionList list(env);
    store::Policy p = store_test::default_policy();
    list.record(event("known@threads.example", Class::Hard, "userunknown", kT0), p);

    std::atomic<bool> done{false};
    std::atomic<long> lookups{0}, wrong{0}, errors{0};
    std::vector<std::thread> readers;
    for (int t = 0; t < 3; ++t) {
        readers.emplace_back([&] {
            while (!done.load()) {
                try {
                    wrong += !list.is_suppressed("known@threads.example", kT0 + 1);
                    wrong += list.check("unknown@threads.example", kT0 + 1).has_value();
                    lookups += 2;
                } catch (const std::exception&) {
                    ++errors;
                }
            }
        });
    }
    for (int i = 0; i < 3000; ++i) {
        auto ev = event(addr("g%d@threads.example", i), Class::Hard, "userunknown", kT0);
        ev.diagnostic = std::string(300, 'g');
        list.record(ev, p);
    }
    done = true;
    for (auto& t : readers)
        t.join();
    BOOST_TEST(env->resize_count() > 0);
    BOOST_TEST(errors.load() == 0, errors.load() << " lookups threw");
    BOOST_TEST(wrong.load() == 0, wrong.load() << " lookups answered wrongly");
    BOOST_TEST_MESSAGE("lookups during growth: " << lookups.load() << ", resizes: "
                                                 << env->resize_count());
}

BOOST_AUTO_TEST_CASE(check_rate_one_core) {
    TempDir td;
    auto opts = test_opts();
    opts.durable = true;  // the production path
    auto env = store::Env::open(td.env_dir(), opts);
    store::SuppressionList list(env);
    std::vector<store::Entry> entries;
    for (int i = 0; i < 20000; ++i) {
        store::Entry e{addr("user%d@rate%d.example", i, i % 50), {}};
        e.record.suppressed = true;
        e.record.reason = "userunknown";
        entries.push_back(std::move(e));
    }
    list.import_batch(entries);
    std::vector<std::string> probes;
    for (int i = 0; i < 1000; ++i)
        probes.push_back(i % 2 ? addr("user%d@rate%d.example", i * 7, (i * 7) % 50)
                               : addr("nobody%d@rate%d.example", i, i % 50));

    constexpr int kLookups = 400'000;
    int hits = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < kLookups; ++i)
        hits += list.is_suppressed(probes[i % probes.size()], kT0);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double rate = kLookups / secs;
    BOOST_TEST(hits == kLookups / 2, "got " << hits << " hits, want " << kLookups / 2);
    BOOST_TEST_MESSAGE("is_suppressed: " << static_cast<long>(rate) << " lookups/s");

    int full = 0;
    const auto t1 = std::chrono::steady_clock::now();
    for (int i = 0; i < kLookups; ++i)
        full += list.check(probes[i % probes.size()], kT0).has_value();
    const double rate_full =
        kLookups / std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
    BOOST_TEST(full == kLookups / 2);
    BOOST_TEST_MESSAGE("check: " << static_cast<long>(rate_full) << " lookups/s");
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
    BOOST_TEST(rate >= 100'000.0, "is_suppressed: " << rate << " lookups/s, want >= 100000");
    BOOST_TEST(rate_full >= 100'000.0, "check: " << rate_full << " lookups/s, want >= 100000");
#endif
}

BOOST_AUTO_TEST_SUITE_END()
