// event_loop.cc - see event_loop.h
#include "common/net/event_loop.h"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <stdexcept>
#include <system_error>
#include <unistd.h>

namespace net {
namespace {

[[noreturn]] void fail(const char* what) {
    throw std::system_error(errno, std::generic_category(), what);
}

uint32_t to_epoll(uint32_t interest) noexcept {
    uint32_t ev = 0;
    if (interest & EventLoop::kRead) ev |= EPOLLIN | EPOLLRDHUP;
    if (interest & EventLoop::kWrite) ev |= EPOLLOUT;
    return ev;
}

uint32_t from_epoll(uint32_t ev) noexcept {
    uint32_t out = 0;
    if (ev & EPOLLIN) out |= EventLoop::kRead;
    if (ev & EPOLLOUT) out |= EventLoop::kWrite;
    if (ev & (EPOLLERR | EPOLLHUP | EPOLLRDHUP)) out |= EventLoop::kHangup;
    return out;
}

// epoll data: descriptor in the low half, watcher generation in the high
// half, so an event for a descriptor that was closed and reused during the
// same round is recognised as stale.
uint64_t tag(int fd, uint32_t generation) noexcept {
    return (static_cast<uint64_t>(generation) << 32) | static_cast<uint32_t>(fd);
}

constexpr uint32_t kInternal = 0;  // generation of the eventfd and signalfd

}  // namespace

EventLoop::EventLoop(NowFn now) : now_fn_(std::move(now)) {
    if (!now_fn_) now_fn_ = [] { return Clock::now(); };
    epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
    if (!epoll_) fail("epoll_create1");
    wake_.reset(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
    if (!wake_) fail("eventfd");
    ctl(EPOLL_CTL_ADD, wake_.get(), kRead, kInternal);
    update_now();
}

EventLoop::~EventLoop() = default;

void EventLoop::update_now() { now_ = now_fn_(); }

void EventLoop::ctl(int op, int fd, uint32_t interest, uint32_t generation) {
    epoll_event ev{};
    ev.events = to_epoll(interest);
    ev.data.u64 = tag(fd, generation);
    if (::epoll_ctl(epoll_.get(), op, fd, &ev) < 0) fail("epoll_ctl");
}

void EventLoop::watch(int fd, uint32_t interest, IoFn fn) {
    if (fd < 0) throw std::system_error(EBADF, std::generic_category(), "watch");
    if (!fn) throw std::invalid_argument("watch: empty callback");
    const auto i = static_cast<size_t>(fd);
    if (i >= watchers_.size()) watchers_.resize(i + 1);
    Watcher& w = watchers_[i];
    if (w.active) {
        w.fn = std::move(fn);
        if (w.interest != interest) {
            ctl(EPOLL_CTL_MOD, fd, interest, w.generation);
            w.interest = interest;
        }
        return;
    }
    if (++next_generation_ == kInternal) ++next_generation_;
    ctl(EPOLL_CTL_ADD, fd, interest, next_generation_);
    w.fn = std::move(fn);
    w.interest = interest;
    w.generation = next_generation_;
    w.active = true;
    ++watch_count_;
}

void EventLoop::set_interest(int fd, uint32_t interest) {
    if (fd < 0 || static_cast<size_t>(fd) >= watchers_.size()) return;
    Watcher& w = watchers_[static_cast<size_t>(fd)];
    if (!w.active || w.interest == interest) return;
    ctl(EPOLL_CTL_MOD, fd, interest, w.generation);
    w.interest = interest;
}

void EventLoop::unwatch(int fd) noexcept {
    if (fd < 0 || static_cast<size_t>(fd) >= watchers_.size()) return;
    Watcher& w = watchers_[static_cast<size_t>(fd)];
    if (!w.active) return;
    epoll_event ev{};
    (void)::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, &ev);
    w.active = false;
    w.interest = 0;
    // Never the running callback: dispatch() holds that one outside the table.
    w.fn = nullptr;
    --watch_count_;
}

EventLoop::TimerId EventLoop::add_timer(Duration after, TimerFn fn) {
    return add_timer_at(now_ + after, std::move(fn));
}

EventLoop::TimerId EventLoop::add_timer_at(TimePoint when, TimerFn fn) {
    TimerId id{when, ++next_timer_};
    timers_.emplace(std::make_pair(id.when, id.seq), std::move(fn));
    return id;
}

bool EventLoop::cancel_timer(TimerId& id) noexcept {
    if (!id) return false;
    const bool found = timers_.erase(std::make_pair(id.when, id.seq)) > 0;
    id = TimerId{};
    return found;
}

void EventLoop::handle_signals(std::function<void()> on_hup, std::function<void()> on_term) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    if (int rc = ::pthread_sigmask(SIG_BLOCK, &set, nullptr); rc != 0)
        throw std::system_error(rc, std::generic_category(), "pthread_sigmask");
    if (!signal_) {
        signal_.reset(::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC));
        if (!signal_) fail("signalfd");
        ctl(EPOLL_CTL_ADD, signal_.get(), kRead, kInternal);
    }
    on_hup_ = std::move(on_hup);
    on_term_ = std::move(on_term);
}

void EventLoop::on_wakeup() noexcept {
    uint64_t n;
    while (::read(wake_.get(), &n, sizeof n) > 0) {
    }
}

void EventLoop::on_signal() {
    signalfd_siginfo si;
    while (::read(signal_.get(), &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
        if (si.ssi_signo == SIGHUP) {
            if (on_hup_) on_hup_();
        } else if (on_term_) {
            on_term_();
        } else {
            stop();
        }
    }
}

void EventLoop::stop() noexcept {
    stop_.store(true);
    const uint64_t one = 1;
    // write(2) is async-signal-safe; a full counter (EAGAIN) is still a wake-up.
    const int saved = errno;
    (void)!::write(wake_.get(), &one, sizeof one);
    errno = saved;
}

int EventLoop::wait_ms(Duration max_wait) const {
    Duration wait = max_wait;
    if (!timers_.empty()) {
        const Duration due = timers_.begin()->first.first - now_;
        if (due < wait) wait = due;
    }
    if (wait == Duration::max()) return -1;
    if (wait <= Duration::zero()) return 0;
    // Round up: waking before the deadline would only spin.
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(wait).count();
    return ms > 3600000 ? 3600000 : static_cast<int>(ms);
}

void EventLoop::run_timers() {
    // Timers added while running (even already due) wait for the next round,
    // so a timer that re-arms itself with zero delay cannot starve I/O.
    const uint64_t last = next_timer_;
    for (auto it = timers_.begin(); it != timers_.end() && it->first.first <= now_;) {
        if (it->first.second > last) {
            ++it;
            continue;
        }
        TimerFn fn = std::move(it->second);
        timers_.erase(it);
        fn();
        it = timers_.begin();
    }
}

void EventLoop::dispatch(int fd, uint32_t generation, uint32_t events) {
    // The callback runs from a local: it may unwatch or replace itself, or
    // make watchers_ grow, while it runs. Afterwards it goes back into the
    // table unless its watcher was removed or given a new callback.
    IoFn fn = std::move(watchers_[static_cast<size_t>(fd)].fn);
    watchers_[static_cast<size_t>(fd)].fn = nullptr;  // "not replaced" marker
    struct Restore {
        EventLoop& loop;
        int fd;
        uint32_t generation;
        IoFn& fn;
        ~Restore() {
            Watcher& w = loop.watchers_[static_cast<size_t>(fd)];
            if (w.active && w.generation == generation && !w.fn) w.fn = std::move(fn);
        }
    } restore{*this, fd, generation, fn};
    fn(events);
}

bool EventLoop::run_once(Duration max_wait) {
    epoll_event events[256];
    update_now();  // callbacks may have taken time: timers are due sooner
    const int n = ::epoll_wait(epoll_.get(), events, 256, wait_ms(max_wait));
    if (n < 0 && errno != EINTR) fail("epoll_wait");
    update_now();
    for (int i = 0; i < n; ++i) {
        const uint64_t data = events[i].data.u64;
        const int fd = static_cast<int>(data & 0xffffffffu);
        const auto generation = static_cast<uint32_t>(data >> 32);
        if (generation == kInternal) {
            if (fd == wake_.get()) on_wakeup();
            else if (signal_ && fd == signal_.get()) on_signal();
            continue;
        }
        if (static_cast<size_t>(fd) >= watchers_.size()) continue;
        Watcher& w = watchers_[static_cast<size_t>(fd)];
        if (!w.active || w.generation != generation) continue;  // stale
        dispatch(fd, generation, from_epoll(events[i].events));
    }
    run_timers();
    return !stop_.load();
}

void EventLoop::run() {
    while (!stop_.load()) run_once(Duration::max());
    stop_.store(false);
}

}  // namespace net
