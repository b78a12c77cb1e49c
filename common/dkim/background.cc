// background.cc - see background.h
#include "common/dkim/background.h"

#include "common/log/log.h"

namespace dkim {

BackgroundCheck::BackgroundCheck(std::shared_ptr<const Signing> signing)
    : signing_(std::move(signing)), thread_([this] { run(); }) {}

BackgroundCheck::~BackgroundCheck() {
    {
        std::lock_guard lock(mu_);
        stop_ = true;
    }
    cv_.notify_one();
    thread_.join();
}

void BackgroundCheck::run() noexcept {
    try {
        std::unique_lock lock(mu_);
        while (!stop_) {
            lock.unlock();
            // Key by key, so a stop waits for one query at most.
            for (const auto& k : signing_->all_keys()) {
                {
                    std::lock_guard g(mu_);
                    if (stop_) return;
                }
                signing_->status->refresh_due(*signing_->dns, {k}, signing_->dns_budget);
            }
            lock.lock();
            cv_.wait_for(lock, kBackgroundWake, [this] { return stop_; });
        }
    } catch (const std::exception& e) {
        logging::warning(logging::Line("dkim").kv("background_check", "stopped").kv("error", e.what()).str());
    }
}

}  // namespace dkim
