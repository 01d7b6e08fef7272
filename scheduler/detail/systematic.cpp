#include "scheduler/detail/systematic.h"

#include <atomic>

#include "scheduler/detail/yield_point.h"

namespace myrmex::scheduler::detail {

namespace {
std::atomic<YieldHook> hook{nullptr};
}  // namespace

void set_yield_hook(YieldHook h) noexcept {
  hook.store(h, std::memory_order_release);
}

#ifdef MYRMEX_YIELD_POINTS
void yield_point_reached(const char* name) noexcept {
  if (YieldHook h = hook.load(std::memory_order_acquire)) h(name);
}
#endif

}  // namespace myrmex::scheduler::detail
