// Helpers shared by the tests: a node with a chosen scheduler count and quiet crash logs.
#pragma once

#include <myrmex/myrmex.h>

#include <array>
#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "scheduler/detail/fiber.h"
#include "scheduler/detail/live_counts.h"

namespace myrmex::test {

inline NodeConfig config(unsigned schedulers) {
  NodeConfig c;
  c.scheduler.schedulers = schedulers;
  c.scheduler.pin = false;  // tests oversubscribe the machine; pinning would only add contention
  c.log_crashes = false;
  return c;
}

// bounded() is spawn options for a mailbox of at most `n` user messages.
inline SpawnOptions bounded(std::size_t n, Overflow policy = Overflow::block) {
  SpawnOptions o;
  o.mailbox_bound = n;
  o.overflow = policy;
  return o;
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

// LiveCounts snapshots the live envelopes, control blocks, behaviours and stacks; grown() describes what
// is alive now that was not at the snapshot ("" when nothing). Take it before a node is made and look
// after it is destroyed.
class LiveCounts {
 public:
  LiveCounts() {
    for (unsigned k = 0; k < kKinds; ++k) at_[k] = scheduler::detail::live(static_cast<Kind>(k));
  }
  std::string grown() const {
    std::string out;
    for (unsigned k = 0; k < kKinds; ++k) {
      auto kind = static_cast<Kind>(k);
      std::int64_t d = scheduler::detail::live(kind) - at_[k];
      if (d != 0) out += std::to_string(d) + " " + scheduler::detail::counted_name(kind) + "; ";
    }
    return out;
  }

 private:
  using Kind = scheduler::detail::Counted;
  static constexpr unsigned kKinds = static_cast<unsigned>(Kind::kinds);
  std::array<std::int64_t, kKinds> at_{};
};

}  // namespace myrmex::test
