// background.h - the published-key checks of a Signing, off the mail path
//
// BackgroundCheck runs a thread that checks every key of the key table
// once at start (so start-up does not wait on DNS for thousands of keys,
// and the first messages mostly find a result) and then, every
// kBackgroundWake, re-checks the keys whose result has gone stale
// (KeyStatus::refresh_due), each within the Signing's dns_budget. The
// destructor stops it (after the query in flight, at most dns_budget).
//
// Errors: none escape the thread (std::bad_alloc ends it with a warning).
// Thread safety: construct and destroy from one thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "common/dkim/signing.h"

namespace dkim {

inline constexpr std::chrono::seconds kBackgroundWake{30};

class BackgroundCheck {
public:
    explicit BackgroundCheck(std::shared_ptr<const Signing> signing);
    ~BackgroundCheck();
    BackgroundCheck(const BackgroundCheck&) = delete;
    BackgroundCheck& operator=(const BackgroundCheck&) = delete;

private:
    void run() noexcept;
    std::shared_ptr<const Signing> signing_;
    std::mutex mu_;
    std::condition_variable cv_;
    bool stop_ = false;
    std::thread thread_;
};

}  // namespace dkim
