// SignalLock: the per-process lock under which signals that depend on the receiver's state are taken.
//
// Internal to myrmex. A link, monitor, exit signal or call reply is resolved by its sender against what the
// receiver is at that moment (does it trap exits, does it still hold the link, is the monitor or the call
// still active, is it exiting), and queued in the same critical section. The receiver changes that state
// under the same lock. Sections are a few dozen instructions and never park, so a spin is the right lock;
// a holder preempted by the kernel makes the others yield the thread rather than burn it. A section may
// hold a yield point (a mailbox push has one), where a seeded node's holder hands the turn on: a waiter
// hands it on too (signal_lock.contended), or it would spin for ever at a holder waiting for the turn.
#pragma once

#include <atomic>
#include <thread>

#include "scheduler/detail/yield_point.h"

namespace myrmex::vm::detail {

class SignalLock {
 public:
  void lock() noexcept {
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
