// cleanup.cc - see cleanup.h
#include "tests/support/cleanup.h"

#include <algorithm>
#include <boost/test/framework.hpp>
#include <boost/test/results_collector.hpp>
#include <boost/test/tree/test_unit.hpp>
#include <exception>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <strings.h>
#include <utility>
#include <vector>

namespace harness {
namespace {

struct Entry {
    uint64_t id;
    std::string what;
    std::function<void()> action;
};

struct Registry {
    std::mutex mu;
    std::vector<Entry> entries;
    uint64_t next_id = 1;
    bool hooked = false;
};

// The atexit handler is registered after this object is constructed, so it
// runs before the object's destructor ([basic.start.term]).
Registry& registry() {
    static Registry r;
    return r;
}

std::optional<Entry> take(uint64_t id) {
    Registry& r = registry();
    std::lock_guard lock(r.mu);
    auto it = std::find_if(r.entries.begin(), r.entries.end(),
                           [id](const Entry& e) { return e.id == id; });
    if (it == r.entries.end()) return std::nullopt;
    Entry e = std::move(*it);
    r.entries.erase(it);
    return e;
}

void run_entry(Entry& e) noexcept {
    try {
        e.action();
    } catch (const std::exception& ex) {
        std::fprintf(stderr, "harness: cleanup of %s failed: %s\n", e.what.c_str(), ex.what());
    } catch (...) {
        std::fprintf(stderr, "harness: cleanup of %s failed\n", e.what.c_str());
    }
}

void run_all_at_exit() {
    for (;;) {
        std::optional<Entry> e;
        {
            Registry& r = registry();
            std::lock_guard lock(r.mu);
            if (r.entries.empty()) return;
            e = std::move(r.entries.back());
            r.entries.pop_back();
        }
        std::fprintf(stderr, "harness: exit-time cleanup: %s\n", e->what.c_str());
        run_entry(*e);
    }
}

}  // namespace

CleanupGuard& CleanupGuard::operator=(CleanupGuard&& o) noexcept {
    if (this != &o) {
        release();
        id_ = std::exchange(o.id_, 0);
    }
    return *this;
}

void CleanupGuard::release() noexcept {
    if (id_ != 0) (void)take(std::exchange(id_, 0));
}

void CleanupGuard::run() noexcept {
    if (id_ == 0) return;
    if (auto e = take(std::exchange(id_, 0))) run_entry(*e);
}

CleanupGuard register_cleanup(std::string what, std::function<void()> action) {
    Registry& r = registry();
    std::lock_guard lock(r.mu);
    if (!r.hooked) {
        std::atexit(run_all_at_exit);
        r.hooked = true;
    }
    uint64_t id = r.next_id++;
    r.entries.push_back(Entry{id, std::move(what), std::move(action)});
    return CleanupGuard(id);
}

bool in_ci() {
    const char* v = std::getenv("CI");
    if (!v) return false;
    return strcasecmp(v, "true") == 0 || strcasecmp(v, "1") == 0 || strcasecmp(v, "yes") == 0;
}

void skip_test(const std::string& reason) {
    if (in_ci())
        throw std::runtime_error("prerequisite missing under CI=true (not skipped): " + reason);
    std::fprintf(stdout, "SKIP: %s\n", reason.c_str());
    std::fflush(stdout);
    std::exit(77);
}

void skip_if(const std::optional<std::string>& reason) {
    if (reason) skip_test(*reason);
}

bool current_test_failed() noexcept {
    if (std::uncaught_exceptions() > 0) return true;
    try {
        namespace ut = boost::unit_test;
        if (!ut::framework::test_in_progress()) return false;
        const ut::test_results& r =
            ut::results_collector.results(ut::framework::current_test_case().p_id);
        return r.p_assertions_failed > 0;
    } catch (...) {
        return false;
    }
}

}  // namespace harness
