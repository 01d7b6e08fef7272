// SignalLock: the per-process lock under which signals that depend on the receiver's state are taken.
//
// Internal to myrmex. A link, monitor, exit signal or call reply is resolved by its sender against what the
// receiver is at that moment (does it trap exits, does it still hold the link, is the monitor or the call
// still active, is it exiting), and queued in the same critical section. The receiver changes that state
// under the same lock. Sections are a few dozen instructions and never park, so a spin is the right lock;
// a holder preempted by the kernel makes the others yield the thread rather than burn it.
//
// In the seeded mode (scheduler/detail/systematic.h) only the thread holding the turn runs, and a section
// may hand the turn on (a mailbox push inside it is a yield point): a waiter there hands the turn on at
// each try instead of spinning, or the holder would never get it back.
#pragma once

#include <atomic>
#include <thread>

#include "scheduler/detail/systematic.h"
#include "scheduler/detail/yield_point.h"

namespace myrmex::vm::detail {

class SignalLock {
 public:
  bool try_lock() noexcept { return !locked_.exchange(true, std::memory_order_acquire); }
  void lock() noexcept {
    if constexpr (scheduler::detail::kYieldPoints) {
      if (scheduler::detail::systematic::controlled()) {
        while (!try_lock()) scheduler::detail::yield_point("signal_lock.contended");
        return;
      }
    }
    int spins = 0;
    while (locked_.exchange(true, std::memory_order_acquire)) {
      while (locked_.load(std::memory_order_relaxed)) {
        scheduler::detail::yield_point("signal_lock.contended");
        if (spins < 128) {
          ++spins;
          __builtin_ia32_pause();
        } else {
          std::this_thread::yield();
        }
      }
    }
  }
  void unlock() noexcept { locked_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> locked_{false};
};

}  // namespace myrmex::vm::detail
