// RunQueue: a scheduler's local run queue, a fixed ring in the style of Go's runq.
//
// Internal to myrmex. The owner pushes at the tail and pops at the head; other schedulers steal half of
// it from the head. Only the owner writes `tail_`; the owner and thieves race on `head_` with a CAS, so a
// task is taken exactly once.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

namespace myrmex::scheduler::detail {

class Task;

class RunQueue {
 public:
  static constexpr std::uint32_t kCapacity = 256;

  // push() appends `t` (owner only). False when full: the caller moves work to the global queue.
  bool push(Task* t) {
    std::uint32_t h = head_.load(std::memory_order_acquire);
    std::uint32_t t_ = tail_.load(std::memory_order_relaxed);
    if (t_ - h >= kCapacity) return false;
    slots_[t_ % kCapacity].store(t, std::memory_order_relaxed);
    // release: a thief that reads the new tail also sees the slot written above.
    tail_.store(t_ + 1, std::memory_order_release);
    return true;
  }

  // pop() takes the oldest task (owner only), or nullptr.
  Task* pop() {
    std::uint32_t h = head_.load(std::memory_order_acquire);
    for (;;) {
      std::uint32_t t = tail_.load(std::memory_order_relaxed);
      if (t == h) return nullptr;
      Task* task = slots_[h % kCapacity].load(std::memory_order_relaxed);
      // acq_rel: release orders our slot read before thieves may reuse it; acquire pairs with them.
      if (head_.compare_exchange_weak(h, h + 1, std::memory_order_acq_rel, std::memory_order_acquire))
        return task;
    }
  }

  // take_half() moves the older half of the queue into `out` (owner only, used on overflow).
  std::uint32_t take_half(std::array<Task*, kCapacity>& out) { return grab(out, kCapacity); }

  // steal_into() moves about half of this queue to `dst` (any thread; `dst` must be the caller's own
  // queue and empty). Returns how many were moved.
  std::uint32_t steal_into(RunQueue& dst) {
    std::array<Task*, kCapacity> batch;
    std::uint32_t n = grab(batch, kCapacity / 2);
    for (std::uint32_t i = 0; i < n; ++i) dst.push(batch[i]);
    return n;
  }

  std::uint32_t size() const {
    std::uint32_t h = head_.load(std::memory_order_acquire);
    std::uint32_t t = tail_.load(std::memory_order_acquire);
    return t - h;
  }
  bool empty() const { return size() == 0; }

 private:
  std::uint32_t grab(std::array<Task*, kCapacity>& out, std::uint32_t limit) {
    for (;;) {
      std::uint32_t h = head_.load(std::memory_order_acquire);
      // acquire: pairs with push()'s release so the slots below are the ones written.
      std::uint32_t t = tail_.load(std::memory_order_acquire);
      std::uint32_t n = t - h;
      n -= n / 2;
      if (n > limit) n = limit;
      if (n == 0 || n > kCapacity) {
        if (n == 0) return 0;
        continue;  // read head and tail at different times; retry
      }
      for (std::uint32_t i = 0; i < n; ++i)
        out[i] = slots_[(h + i) % kCapacity].load(std::memory_order_relaxed);
      if (head_.compare_exchange_weak(h, h + n, std::memory_order_acq_rel, std::memory_order_acquire))
        return n;
    }
  }

  alignas(64) std::atomic<std::uint32_t> head_{0};
  alignas(64) std::atomic<std::uint32_t> tail_{0};
  std::array<std::atomic<Task*>, kCapacity> slots_{};
};

}  // namespace myrmex::scheduler::detail
