// Helpers shared by the tests: a node with a chosen scheduler count and quiet crash logs.
#pragma once

#include <myrmex/myrmex.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "scheduler/detail/fiber.h"
#include "scheduler/detail/systematic.h"
#include "scheduler/detail/yield_point.h"

namespace myrmex::test {

inline NodeConfig config(unsigned schedulers) {
  NodeConfig c;
  c.scheduler.schedulers = schedulers;
  c.scheduler.pin = false;  // tests oversubscribe the machine; pinning would only add contention
  c.log_crashes = false;
  return c;
}

// Sanitizer builds run the same properties with smaller counts.
inline long scaled(long n) {
  return scheduler::detail::under_sanitizer() ? n / 10 : n;
}

// wait_until() polls `pred` for up to `limit` (a safety net against hangs, not a timing assertion).
template <class Pred>
bool wait_until(Pred pred, std::chrono::seconds limit = std::chrono::seconds(60)) {
  auto end = std::chrono::steady_clock::now() + limit;
  for (long polls = 0; !pred(); ++polls) {
    if (std::chrono::steady_clock::now() > end) return false;
    // Poll hot for a while (most waits are short), then back off.
    if (polls < 2000) {
      std::this_thread::yield();
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  return true;
}

// YieldHookGuard installs a yield hook (scheduler/detail/systematic.h) for one test and removes it at the
// end, however the test ends. Tests that use one exist only where scheduler::detail::kYieldPoints is true.
struct YieldHookGuard {
  explicit YieldHookGuard(scheduler::detail::YieldHook hook) { scheduler::detail::set_yield_hook(hook); }
  ~YieldHookGuard() { scheduler::detail::set_yield_hook(nullptr); }
  YieldHookGuard(const YieldHookGuard&) = delete;
  YieldHookGuard& operator=(const YieldHookGuard&) = delete;
};

}  // namespace myrmex::test
