// rate.h - the rate limits of policyd's logic: common/rate/rate.h under the
// names the policyd code uses (policyd::Window, policyd::check, ...)
//
// The grammar, GCRA and the "as of now" functions live in common::rate so
// that `sendguard status` reads stored state with the same code; see
// common/rate/rate.h for what each does.
#pragma once

#include "common/rate/rate.h"

namespace policyd {

using rate::kMaxBurst;
using rate::kMaxCount;
using rate::kMaxPerSecond;
using rate::kMaxPeriodUs;
using rate::kMaxWindows;
using rate::kMinPeriodUs;
using rate::kNever;
using rate::kSecondUs;

using rate::GcraState;
using rate::LimitsParse;
using rate::Verdict;
using rate::Window;

using rate::check;
using rate::consume;
using rate::count_as_of;
using rate::charge;
using rate::emission_interval_us;
using rate::format_limits;
using rate::format_window;
using rate::parse_limits;
using rate::refund;
using rate::remaining;
using rate::used;
using rate::window_start_us;

}  // namespace policyd
