// ProcessTable: the slab that maps PIDs to live processes.
//
// Internal to myrmex. Lookup is lock-free: each slot has one atomic word holding the slot's generation,
// an "alive" bit and a reference count. acquire(pid) increments the count only if the generation matches
// and the process is alive, so a stale PID never reaches a newer process and a process is never freed
// while a sender holds it. The process itself holds one reference while alive; retire() drops it and
// clears "alive" in one step; when the last reference goes, the slot is freed once every scheduler has
// passed a quiescent point (scheduler/detail/quiescence.h). That grace period is what lets lookup_local(),
// used by processes sending to each other, skip the reference count altogether.
//
// Reuse, so that a PID never names two processes: freed slots queue up first in, first out, and a slot is
// reused only while more than kQuarantine other slots are free. So the table first grows to kQuarantine
// slots plus those in use (the first 1 MiB chunk holds both for up to 4096 live processes), and then a
// freed slot waits behind at least kQuarantine others: each slot is reused at most once per kQuarantine
// spawns. A slot whose generation is spent (kMaxGeneration) is retired for good rather than wrapped; that
// costs one 16-byte slot per 2^24 reuses of it: at a million spawns a second, every 12 days of churn retire
// the quarantine's ~1 MiB of slots, which the table replaces by growing, and the 2^28 indexes last about
// 140 years.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "scheduler/detail/scheduler.h"
#include "vm/pid.h"

namespace myrmex::vm::detail {

class Process;

class ProcessTable {
 public:
  static constexpr int kChunkBits = 16;
  static constexpr std::size_t kChunkSize = std::size_t{1} << kChunkBits;
  static constexpr std::size_t kMaxChunks = std::size_t{1} << (Pid::kIndexBits - kChunkBits);
  static constexpr std::size_t kMaxSlots = std::size_t{1} << Pid::kIndexBits;
  // kMaxGeneration is a slot's last generation; a slot is retired after its process of that generation.
  static constexpr std::uint32_t kMaxGeneration = (std::uint32_t{1} << Pid::kGenerationBits) - 1;
  // kQuarantine is how many other slots must be free before a freed slot is reused.
  static constexpr std::size_t kQuarantine = kChunkSize - 4096;

  // Tuning holds the reuse policy's knobs. The defaults are the design; tests shrink them to see a slot
  // through its generations.
  struct Tuning {
    std::size_t quarantine = kQuarantine;
    std::uint32_t first_generation = 1;  // a fresh slot's first generation (>= 1)
  };

  // ProcessTable() makes an empty table whose PIDs carry `node_slot` (vm/detail/node_slots.h).
  explicit ProcessTable(std::uint32_t node_slot);
  ProcessTable(std::uint32_t node_slot, Tuning tuning);
  ~ProcessTable();

  // owns() is whether `pid` is one of this table's (node's) PIDs. The others never reach a process here:
  // send gives noproc, exit does nothing, alive is false, process_info nothing. (Remote PIDs will go to
  // dist/ from this check.)
  bool owns(Pid pid) const { return pid.node() == node_slot_; }
  std::uint32_t node_slot() const { return node_slot_; }

  // reserve() picks a slot (a free one past the quarantine, else a new one) and returns the PID its next
  // process will have (any thread). Aborts when all kMaxSlots are in use or retired.
  Pid reserve();
  // publish() makes `p` (constructed with the reserved PID) reachable: alive, one reference.
  void publish(Pid pid, Process* p);
  // defer_frees_through() makes every free wait for `group`'s quiescent points (set once, before any
  // process is published; without it slots are freed at once).
  void defer_frees_through(scheduler::detail::SchedulerGroup* group) { group_ = group; }
  // acquire() returns the live process named by `pid` with a reference held, or nullptr (any thread).
  Process* acquire(Pid pid);
  // lookup_local() returns the live process named by `pid` without a reference: the caller, a scheduler
  // thread of this node, may use it until its next quiescent point (so it must not park meanwhile).
  Process* lookup_local(Pid pid);
  // release() drops a reference taken by acquire().
  void release(Process* p);
  // retire() marks `p` dead and drops its own reference (its scheduler, after it exited).
  void retire(Process* p);

  // live() is the number of published, not yet retired processes.
  std::size_t live() const { return live_.load(std::memory_order_acquire); }
  // retired() is the number of slots retired with their generations spent.
  std::size_t retired() const { return retired_.load(std::memory_order_relaxed); }
  // for_each_live() calls f(Process&) for every live process, holding a reference during the call.
  template <class F>
  void for_each_live(F&& f) {
    std::size_t n = high_water_.load(std::memory_order_acquire);
    for (std::size_t i = 0; i < n; ++i) {
      Process* p = acquire_index(static_cast<std::uint32_t>(i));
      if (!p) continue;
      f(*p);
      release(p);
    }
  }

 private:
  // Slot word: [generation: 24][alive: 1][references: 39].
  static constexpr int kRefBits = 39;
  static constexpr std::uint64_t kAlive = std::uint64_t{1} << kRefBits;
  static constexpr std::uint64_t kRefMask = kAlive - 1;
  struct Slot {
    std::atomic<std::uint64_t> word{0};
    std::atomic<Process*> process{nullptr};  // valid while the word has references, and a grace period after
  };
  static std::uint32_t generation_of(std::uint64_t w) {
    return static_cast<std::uint32_t>(w >> (kRefBits + 1));
  }
  static std::uint64_t make_word(std::uint32_t generation, bool alive, std::uint64_t refs) {
    return (std::uint64_t{generation} << (kRefBits + 1)) | (alive ? kAlive : 0) | refs;
  }

  Slot* slot(std::uint32_t index) const;
  Process* acquire_index(std::uint32_t index);
  // last_reference_gone() frees the slot after the grace period (at once without a group).
  void last_reference_gone(std::uint32_t index, std::uint64_t last_word);
  void free_slot(std::uint32_t index, std::uint64_t last_word);

  // FreeQueue is a first-in, first-out queue of slot indexes: a ring that doubles when full.
  class FreeQueue {
   public:
    std::size_t size() const { return size_; }
    void push(std::uint32_t index) {
      if (size_ == ring_.size()) grow();
      ring_[(head_ + size_) & (ring_.size() - 1)] = index;
      ++size_;
    }
    std::uint32_t pop() {
      std::uint32_t index = ring_[head_];
      head_ = (head_ + 1) & (ring_.size() - 1);
      --size_;
      return index;
    }

   private:
    void grow();
    std::vector<std::uint32_t> ring_;  // size 0 or a power of two
    std::size_t head_ = 0;
    std::size_t size_ = 0;
  };

  const std::uint32_t node_slot_;
  const Tuning tuning_;
  std::unique_ptr<std::atomic<Slot*>[]> chunks_;
  std::atomic<std::size_t> live_{0};
  std::atomic<std::size_t> high_water_{0};  // indexes below this may be in use
  std::atomic<std::size_t> retired_{0};

  scheduler::detail::SchedulerGroup* group_ = nullptr;
  std::mutex free_mutex_;
  FreeQueue free_;  // GUARDED_BY(free_mutex_)
};

}  // namespace myrmex::vm::detail
