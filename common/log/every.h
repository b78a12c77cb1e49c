// every.h - one warning per interval, with the count of the ones held back
//
//   logging::Every gate(60);                 // the interval, in the caller's unit
//   uint64_t held = 0;
//   if (gate.due(now_s, &held)) logging::warning(... .kv("suppressed", held));
//
// due() is true at the first call and then once the interval has passed
// since the last true one (or the clock went back); *held is the number of
// calls since then that were not due. The unit is the caller's: seconds of
// a wall clock, microseconds of a steady clock, as long as now and the
// interval share it. Thread safety: none; guard a gate that threads share.
#pragma once

#include <cstdint>
#include <utility>

namespace logging {

class Every {
public:
    explicit constexpr Every(int64_t interval) noexcept : interval_(interval) {}

    bool due(int64_t now, uint64_t* held) noexcept {
        if (fired_ && now >= last_ && now - last_ < interval_) {
            ++held_;
            return false;
        }
        fired_ = true;
        last_ = now;
        *held = std::exchange(held_, 0);
        return true;
    }

private:
    int64_t interval_;
    int64_t last_ = 0;
    uint64_t held_ = 0;
    bool fired_ = false;
};

}  // namespace logging
