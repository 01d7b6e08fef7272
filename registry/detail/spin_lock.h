// SpinLock: the writers' lock of one shard of the name table (registry/detail/name_table.h).
//
// Internal to myrmex. Its holders are processes inside register_name() or unregister_name(), and the
// scheduler of a process whose exit frees its name (vm's process_exiting(), which must not park). Sections
// are a few hundred instructions and never park, and a scheduler thread must not sleep in the kernel on a
// lock (DESIGN.md §2), so a waiter spins, then yields its thread to a preempted holder. ShardGuard takes it
// the seeded mode's way: on a seeded node's scheduler a waiter hands the turn on instead of spinning at a
// holder that waits for the turn (scheduler/detail/systematic.h, lock_taking_turns()).
#pragma once

#include <atomic>
#include <thread>

#include "scheduler/detail/systematic.h"

namespace myrmex::registry::detail {

class SpinLock {
 public:
  void lock() noexcept {
    int spins = 0;
    while (!try_lock()) {
      while (locked_.load(std::memory_order_relaxed)) {
        if (spins < 128) {
          ++spins;
          __builtin_ia32_pause();
        } else {
          std::this_thread::yield();
        }
      }
    }
  }
  // try_lock(): acquire on success: the holder sees what the previous holder wrote before unlock().
  bool try_lock() noexcept {
    return !locked_.load(std::memory_order_relaxed) && !locked_.exchange(true, std::memory_order_acquire);
  }
  // unlock(): release: publishes the section's writes to the next holder.
  void unlock() noexcept { locked_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> locked_{false};
};

// ShardGuard holds a shard's lock for a scope.
class ShardGuard {
 public:
  explicit ShardGuard(SpinLock& lock) : lock_(lock) {
    scheduler::detail::lock_taking_turns(lock_, "registry.shard.contended");
  }
  ~ShardGuard() { lock_.unlock(); }
  ShardGuard(const ShardGuard&) = delete;
  ShardGuard& operator=(const ShardGuard&) = delete;

 private:
  SpinLock& lock_;
};

}  // namespace myrmex::registry::detail
