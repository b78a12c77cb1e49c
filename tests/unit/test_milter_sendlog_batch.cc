// test_milter_sendlog_batch.cc - milter::SendLogBatch: a lone entry is
// committed at once; entries queued during a commit share the next one; a
// group whose commit fails is committed one entry at a time, so only the
// bad entry's put() fails.
#include <boost/test/unit_test.hpp>

#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "milter/sendlog_batch.h"

using milter::SendLogBatch;

namespace {

std::string keys(const SendLogBatch::Entries& e) {
    std::string s;
    for (const auto& [k, v] : e) s += (s.empty() ? "" : ",") + k;
    return s;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(milter_sendlog_batch)

BOOST_AUTO_TEST_CASE(a_lone_entry_is_committed_at_once) {
    std::vector<std::string> commits;
    SendLogBatch b([&](const SendLogBatch::Entries& e) { commits.push_back(keys(e)); });
    b.put("t1", {.expiry = 1});
    b.put("t2", {.expiry = 2});
    BOOST_TEST(commits == (std::vector<std::string>{"t1", "t2"}));
    BOOST_TEST(b.queued() == 0u);
}

BOOST_AUTO_TEST_CASE(entries_queued_during_a_commit_share_the_next) {
    std::mutex mu;
    std::condition_variable cv;
    bool in_first = false, release = false;
    std::vector<std::string> commits;
    SendLogBatch b([&](const SendLogBatch::Entries& e) {
        std::unique_lock l(mu);
        commits.push_back(keys(e));
        if (commits.size() == 1) {
            in_first = true;
            cv.notify_all();
            cv.wait(l, [&] { return release; });
        }
    });
    std::thread first([&] { b.put("a", {}); });
    {
        std::unique_lock l(mu);
        cv.wait(l, [&] { return in_first; });
    }
    std::thread second([&] { b.put("b", {}); });
    std::thread third([&] { b.put("c", {}); });
    while (b.queued() < 2) std::this_thread::yield();  // both wait behind "a"
    {
        std::lock_guard l(mu);
        release = true;
    }
    cv.notify_all();
    first.join();
    second.join();
    third.join();
    BOOST_TEST(commits.size() == 2u);
    BOOST_TEST(commits[0] == "a");
    BOOST_TEST((commits[1] == "b,c" || commits[1] == "c,b"), "got " << commits[1] << ", want b and c in one commit");
}

BOOST_AUTO_TEST_CASE(a_failed_group_is_committed_entry_by_entry) {
    std::mutex mu;
    std::condition_variable cv;
    bool in_first = false, release = false;
    std::vector<std::string> commits;
    SendLogBatch b([&](const SendLogBatch::Entries& e) {
        std::unique_lock l(mu);
        for (const auto& [k, v] : e)
            if (k == "bad") throw std::runtime_error("entry over the size limits");
        commits.push_back(keys(e));
        if (commits.size() == 1) {
            in_first = true;
            cv.notify_all();
            cv.wait(l, [&] { return release; });
        }
    });
    std::thread first([&] { b.put("a", {}); });
    {
        std::unique_lock l(mu);
        cv.wait(l, [&] { return in_first; });
    }
    bool bad_threw = false, good_threw = false;
    std::thread bad([&] {
        try {
            b.put("bad", {});
        } catch (const std::runtime_error&) {
            bad_threw = true;
        }
    });
    std::thread good([&] {
        try {
            b.put("good", {});
        } catch (...) {
            good_threw = true;
        }
    });
    while (b.queued() < 2) std::this_thread::yield();  // one group: bad and good
    {
        std::lock_guard l(mu);
        release = true;
    }
    cv.notify_all();
    first.join();
    bad.join();
    good.join();
    BOOST_TEST(bad_threw, "the bad entry's put() throws");
    BOOST_TEST(!good_threw, "the good entry's put() does not");
    BOOST_TEST(commits == (std::vector<std::string>{"a", "good"}));
}

BOOST_AUTO_TEST_SUITE_END()
