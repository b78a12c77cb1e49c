// test_net_event_loop.cc - timers (fake clock), descriptor callbacks, stop()
#define BOOST_TEST_NO_MAIN
#include <boost/test/unit_test.hpp>

#include "common/net/event_loop.h"

#include <atomic>
#include <csignal>
#include <fcntl.h>
#include <future>
#include <pthread.h>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

using net::EventLoop;
using namespace std::chrono_literals;

namespace {

struct FakeClock {
    EventLoop::TimePoint t{std::chrono::hours(1)};
    EventLoop::NowFn fn() {
        return [this] { return t; };
    }
};

struct Pipe {
    sys::Fd r, w;
    Pipe() {
        int fds[2];
        if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) throw std::runtime_error("pipe2");
        r.reset(fds[0]);
        w.reset(fds[1]);
    }
};

std::string join(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ",") + x;
    return s;
}

EventLoop* g_signal_loop = nullptr;
extern "C" void stop_from_handler(int) { g_signal_loop->stop(); }

}  // namespace

BOOST_AUTO_TEST_SUITE(net_event_loop)

BOOST_AUTO_TEST_CASE(timers_fire_in_order_with_fake_clock) {
    FakeClock clock;
    EventLoop loop(clock.fn());
    std::vector<std::string> fired;
    loop.add_timer(30ms, [&] { fired.push_back("30"); });
    loop.add_timer(10ms, [&] { fired.push_back("10"); });
    auto cancelled = loop.add_timer(20ms, [&] { fired.push_back("20-cancelled"); });
    loop.add_timer(20ms, [&] { fired.push_back("20"); });
    BOOST_CHECK(loop.cancel_timer(cancelled));
    BOOST_CHECK(!cancelled);
    BOOST_CHECK(!loop.cancel_timer(cancelled));

    struct Step {
        std::chrono::milliseconds advance;
        std::string want;
    };
    const std::vector<Step> steps = {
        {0ms, ""}, {9ms, ""}, {1ms, "10"}, {15ms, "10,20"}, {100ms, "10,20,30"},
    };
    for (const auto& s : steps) {
        clock.t += s.advance;
        loop.run_once(0ms);
        BOOST_CHECK_MESSAGE(join(fired) == s.want,
                            "after +" << s.advance.count() << "ms: got \"" << join(fired)
                                      << "\", want \"" << s.want << "\"");
    }
    BOOST_CHECK_EQUAL(loop.timers(), 0u);
}

// A timer that re-arms itself with zero delay runs once per round, so it
// cannot starve descriptors.
BOOST_AUTO_TEST_CASE(rearming_timer_runs_once_per_round) {
    FakeClock clock;
    EventLoop loop(clock.fn());
    int runs = 0;
    std::function<void()> again = [&] {
        ++runs;
        loop.add_timer(0ms, again);
    };
    loop.add_timer(0ms, again);
    for (int i = 1; i <= 3; ++i) {
        loop.run_once(0ms);
        BOOST_CHECK_MESSAGE(runs == i, "round " << i << ": got " << runs << " runs, want " << i);
    }
}

// Real clock, small values: the wait ends when the timer is due.
BOOST_AUTO_TEST_CASE(timer_wakes_blocking_wait) {
    EventLoop loop;
    bool fired = false;
    loop.add_timer(20ms, [&] { fired = true; });
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 100 && !fired; ++i) loop.run_once(5s);
    const auto took = std::chrono::steady_clock::now() - start;
    BOOST_CHECK(fired);
    BOOST_CHECK_MESSAGE(took >= 20ms && took < 2s,
                        "took " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                                << "ms, want about 20ms");
}

BOOST_AUTO_TEST_CASE(read_callback_and_unwatch_inside) {
    EventLoop loop;
    Pipe p;
    std::vector<uint32_t> events;
    loop.watch(p.r.get(), EventLoop::kRead, [&](uint32_t ev) {
        events.push_back(ev);
        char buf[16];
        (void)!::read(p.r.get(), buf, sizeof buf);
        loop.unwatch(p.r.get());  // destroys nothing while running
    });
    BOOST_CHECK_EQUAL(loop.watched(), 1u);
    loop.run_once(0ms);
    BOOST_CHECK_MESSAGE(events.empty(), "callback before any data: got " << events.size());
    (void)!::write(p.w.get(), "x", 1);
    loop.run_once(1s);
    BOOST_REQUIRE_EQUAL(events.size(), 1u);
    BOOST_CHECK(events[0] & EventLoop::kRead);
    BOOST_CHECK_EQUAL(loop.watched(), 0u);
    (void)!::write(p.w.get(), "y", 1);
    loop.run_once(0ms);
    BOOST_CHECK_MESSAGE(events.size() == 1, "callback after unwatch: got " << events.size());
}

BOOST_AUTO_TEST_CASE(write_interest_and_hangup) {
    EventLoop loop;
    Pipe p;
    uint32_t got = 0;
    loop.watch(p.w.get(), EventLoop::kWrite, [&](uint32_t ev) { got |= ev; });
    loop.run_once(0ms);
    BOOST_CHECK_MESSAGE(got & EventLoop::kWrite, "empty pipe not writable: events " << got);
    loop.set_interest(p.w.get(), 0);
    got = 0;
    p.r.reset();  // reader gone: the writer sees an error
    loop.run_once(1s);
    BOOST_CHECK_MESSAGE(got & EventLoop::kHangup, "no hang-up reported: events " << got);
    loop.unwatch(p.w.get());
}

// Two descriptors are ready in the same round. Whichever callback runs first
// closes the other descriptor and watches a new pipe that reuses its number:
// the closed descriptor's event from that round must not reach the new
// callback.
BOOST_AUTO_TEST_CASE(stale_event_after_fd_reuse_is_dropped) {
    EventLoop loop;
    Pipe pipes[2];
    (void)!::write(pipes[0].w.get(), "x", 1);
    (void)!::write(pipes[1].w.get(), "x", 1);
    int calls[2] = {0, 0};
    int new_calls = 0;
    bool reused = false;
    std::unique_ptr<Pipe> replacement;
    auto make = [&](int me) {
        return [&, me](uint32_t) {
            ++calls[me];
            Pipe& other = pipes[1 - me];
            const int old = other.r.get();
            loop.unwatch(old);
            other.r.reset();
            replacement = std::make_unique<Pipe>();
            reused = replacement->r.get() == old;
            loop.watch(replacement->r.get(), EventLoop::kRead, [&](uint32_t) { ++new_calls; });
            loop.unwatch(pipes[me].r.get());
        };
    };
    loop.watch(pipes[0].r.get(), EventLoop::kRead, make(0));
    loop.watch(pipes[1].r.get(), EventLoop::kRead, make(1));
    loop.run_once(1s);
    BOOST_CHECK_MESSAGE(calls[0] + calls[1] == 1,
                        "exactly one of the pair should run: got " << calls[0] << " and "
                                                                   << calls[1]);
    BOOST_CHECK_MESSAGE(reused, "the new pipe did not reuse the closed descriptor number");
    BOOST_CHECK_MESSAGE(new_calls == 0, "stale event reached the new watcher: " << new_calls);
}

BOOST_AUTO_TEST_CASE(callback_replaces_itself) {
    EventLoop loop;
    Pipe p;
    std::string trace;
    loop.watch(p.r.get(), EventLoop::kRead, [&](uint32_t) {
        trace += "old;";
        loop.watch(p.r.get(), EventLoop::kRead, [&](uint32_t) {
            trace += "new;";
            char c;
            (void)!::read(p.r.get(), &c, 1);
        });
    });
    (void)!::write(p.w.get(), "x", 1);
    loop.run_once(0ms);
    loop.run_once(0ms);
    loop.run_once(0ms);
    BOOST_CHECK_MESSAGE(trace == "old;new;", "got \"" << trace << "\", want \"old;new;\"");
}

BOOST_AUTO_TEST_CASE(stop_before_run_and_reuse) {
    EventLoop loop;
    loop.stop();
    BOOST_CHECK(loop.stop_requested());
    loop.run();  // returns at once
    BOOST_CHECK(!loop.stop_requested());
    BOOST_CHECK(loop.run_once(0ms));
}

BOOST_AUTO_TEST_CASE(stop_from_another_thread) {
    EventLoop loop;
    auto done = std::async(std::launch::async, [&] { loop.run(); });
    BOOST_CHECK(done.wait_for(50ms) == std::future_status::timeout);
    loop.stop();
    BOOST_CHECK_MESSAGE(done.wait_for(5s) == std::future_status::ready,
                        "run() did not return after stop()");
}

// The signal-safe path: a plain signal handler calls stop().
BOOST_AUTO_TEST_CASE(stop_from_signal_handler) {
    EventLoop loop;
    g_signal_loop = &loop;
    struct sigaction sa {}, old{};
    sa.sa_handler = stop_from_handler;
    sigemptyset(&sa.sa_mask);
    BOOST_REQUIRE(::sigaction(SIGUSR1, &sa, &old) == 0);
    loop.add_timer(10ms, [] { ::raise(SIGUSR1); });
    auto done = std::async(std::launch::async, [&] { loop.run(); });
    const bool returned = done.wait_for(5s) == std::future_status::ready;
    if (!returned) loop.stop();
    BOOST_CHECK_MESSAGE(returned, "run() did not return after SIGUSR1 -> stop()");
    done.wait();
    ::sigaction(SIGUSR1, &old, nullptr);
    g_signal_loop = nullptr;
}

// handle_signals(): HUP calls the reload callback, TERM stops the loop.
BOOST_AUTO_TEST_CASE(signalfd_hup_reloads_term_stops) {
    std::promise<void> ready, hup;
    std::atomic<int> reloads{0};
    std::thread t([&] {
        EventLoop loop;
        loop.handle_signals([&] {
            if (++reloads == 1) hup.set_value();
        });
        ready.set_value();
        loop.run();
    });
    ready.get_future().wait();
    const pthread_t th = t.native_handle();
    BOOST_REQUIRE(::pthread_kill(th, SIGHUP) == 0);
    auto hup_seen = hup.get_future();
    BOOST_CHECK_MESSAGE(hup_seen.wait_for(5s) == std::future_status::ready, "SIGHUP not seen");
    BOOST_REQUIRE(::pthread_kill(th, SIGTERM) == 0);
    t.join();  // run() returned
    BOOST_CHECK_EQUAL(reloads.load(), 1);
}

BOOST_AUTO_TEST_SUITE_END()
