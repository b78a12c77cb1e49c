// event_loop.h - single-threaded epoll event loop with timers and signals
//
// The core of our long-running daemons (socketmap server, policy daemon):
// one thread, non-blocking descriptors, level-triggered epoll.
//
// API:
//   EventLoop loop;                         // or EventLoop(fake_now) in tests
//   loop.watch(fd, kRead, [](uint32_t ev) { ... });   // add or replace
//   loop.set_interest(fd, kRead | kWrite);  loop.unwatch(fd);
//   TimerId t = loop.add_timer(5s, [] { ... });        // one-shot
//   loop.cancel_timer(t);
//   loop.handle_signals(on_hup);   // SIGTERM/SIGINT stop, SIGHUP calls on_hup
//   loop.handle_signals(on_hup, on_term);  // SIGTERM/SIGINT call on_term
//   loop.run();                    // until stop()
//   loop.stop();                   // async-signal-safe and thread-safe
//   loop.run_once(max_wait);       // one wait + dispatch, for tests
//
// Callbacks get the ready events: kRead, kWrite, and kHangup (error or
// hang-up, always reported whatever the interest). A callback may watch,
// unwatch or close any descriptor, including its own, and add or cancel any
// timer: the running callback is kept alive until it returns, and events for
// a descriptor that was unwatched (and maybe reused) during the round are
// dropped.
//
// Time: now() is the clock read once per wake-up (timers and idle checks use
// it, so a burst of events costs one clock read); add_timer() counts from it. The clock is injectable:
// with a fake clock, advance it and call run_once(0ms) to fire due timers.
//
// Errors: setup failures (epoll_create, eventfd, signalfd, epoll_ctl) throw
// std::system_error naming the call. Exceptions thrown by callbacks propagate
// out of run()/run_once(); callers that must survive them (StreamServer)
// catch per unit of work.
// Thread safety: one thread owns the loop; only stop() may be called from
// another thread or from a signal handler.
#pragma once

#include "common/sys/fd.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <utility>
#include <vector>

namespace net {

class EventLoop {
public:
    using Clock = std::chrono::steady_clock;
    using TimePoint = Clock::time_point;
    using Duration = Clock::duration;
    using NowFn = std::function<TimePoint()>;
    using IoFn = std::function<void(uint32_t events)>;
    using TimerFn = std::function<void()>;

    static constexpr uint32_t kRead = 1;
    static constexpr uint32_t kWrite = 2;
    static constexpr uint32_t kHangup = 4;

    // Identifies a pending timer; a default-constructed id is "no timer".
    struct TimerId {
        TimePoint when{};
        uint64_t seq = 0;
        explicit operator bool() const noexcept { return seq != 0; }
    };

    // now: the clock; empty means steady_clock::now.
    explicit EventLoop(NowFn now = {});
    ~EventLoop();
    EventLoop(const EventLoop&) = delete;
    EventLoop& operator=(const EventLoop&) = delete;

    // Starts watching fd (or replaces its callback and interest).
    void watch(int fd, uint32_t interest, IoFn fn);
    // Changes what fd is watched for; a no-op when unchanged.
    void set_interest(int fd, uint32_t interest);
    // Stops watching fd; safe for a descriptor that is not watched. Call it
    // before closing fd.
    void unwatch(int fd) noexcept;

    TimerId add_timer(Duration after, TimerFn fn);
    TimerId add_timer_at(TimePoint when, TimerFn fn);
    // Cancels a pending timer and clears id; false if it already ran.
    bool cancel_timer(TimerId& id) noexcept;

    // Blocks SIGTERM, SIGINT and SIGHUP in the calling thread and receives
    // them through a signalfd: TERM and INT stop the loop, HUP calls on_hup
    // (reload). With on_term, TERM and INT call it instead of stopping (a
    // graceful stop that ends with stop()). Call it from main() before
    // starting other threads, so they inherit the mask and the signals reach
    // the loop.
    void handle_signals(std::function<void()> on_hup, std::function<void()> on_term = {});

    // Runs until stop(). A stop() that comes before run() makes run() return
    // at once; the request is consumed when run() returns.
    void run();
    // Waits at most max_wait (less if a timer is due), dispatches ready
    // events and due timers once. Returns false when a stop was requested.
    bool run_once(Duration max_wait);
    // Async-signal-safe (an atomic store and a write(2)) and thread-safe.
    void stop() noexcept;
    bool stop_requested() const noexcept { return stop_.load(); }

    TimePoint now() const noexcept { return now_; }
    size_t watched() const noexcept { return watch_count_; }
    size_t timers() const noexcept { return timers_.size(); }

private:
    struct Watcher {
        IoFn fn;
        uint32_t interest = 0;
        uint32_t generation = 0;
        bool active = false;
    };

    void update_now();
    void ctl(int op, int fd, uint32_t interest, uint32_t generation);
    void dispatch(int fd, uint32_t generation, uint32_t events);
    void run_timers();
    int wait_ms(Duration max_wait) const;
    void on_wakeup() noexcept;
    void on_signal();

    NowFn now_fn_;
    TimePoint now_{};
    sys::Fd epoll_;
    sys::Fd wake_;    // eventfd written by stop()
    sys::Fd signal_;  // signalfd, after handle_signals()
    std::function<void()> on_hup_;
    std::function<void()> on_term_;
    std::atomic<bool> stop_{false};
    std::vector<Watcher> watchers_;  // indexed by descriptor
    size_t watch_count_ = 0;
    uint32_t next_generation_ = 0;
    std::map<std::pair<TimePoint, uint64_t>, TimerFn> timers_;
    uint64_t next_timer_ = 0;
};

}  // namespace net
