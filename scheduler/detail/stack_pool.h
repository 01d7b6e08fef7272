// Pooled fiber stacks carved from large mappings.
//
// Internal to myrmex. A stack is handed to a process while it runs (or while it is parked inside a handler)
// and returned afterwards, so an idle behaviour-style process holds none. Stacks are carved from arenas of
// many stacks (one mmap each), never one mmap per stack, laid out [guard][stack][guard][stack]...: a stack
// grows down into its own guard, and the stack below lies under that guard.
//
// The guard is kGuardSize (64 KiB) wide, not one page: a function whose frame is larger than the guard
// and that is built without -fstack-clash-protection (the library is built with it, users' code and
// other libraries may not be) moves the stack pointer past a narrow guard without touching it, and its
// writes land in the neighbour's stack. 64 KiB covers any plausible frame; wider frames need the probes.
// Guards, best first:
//  - MADV_GUARD_INSTALL (Linux >= 6.13): costs no VMA at all, whatever its width;
//  - mprotect(PROT_NONE): costs two VMAs per stack (the width costs only address space, so it is as wide),
//    so it is used only while the stacks so guarded stay under half of vm.max_map_count; the process count
//    must never hinge on that sysctl;
//  - past that, no guard but a canary word at the stack's low end, checked at every switch back to the
//    scheduler: an overflow is then detected after the fact and the node aborts with a report. (The gap
//    stays, so a large frame that overflows writes into it before it reaches the neighbour.)
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

namespace myrmex::scheduler::detail {

struct Stack {
  char* bottom = nullptr;      // lowest usable byte (just above the guard)
  std::size_t size = 0;        // usable bytes
  char* guard_page = nullptr;  // lowest byte of the guard: [guard_page, bottom) lies right below `bottom`
  bool guarded = false;        // the guard faults on access
  Stack* next_free = nullptr;

  char* top() const { return bottom + size; }
  // in_guard() tells whether a faulting address hit this stack's guard, anywhere in [guard_page, bottom).
  // Async-signal-safe.
  bool in_guard(const void* addr) const;
  // canary_intact() is false once an unguarded stack has been overrun.
  bool canary_intact() const;
};

// StackCache is a scheduler's private stash of free stacks (owner thread only).
struct StackCache {
  Stack* head = nullptr;
  std::size_t count = 0;
};

class StackPool {
 public:
  static constexpr std::size_t kStacksPerArena = 64;
  static constexpr std::size_t kCacheLimit = 32;
  // Free stacks beyond this many are given back to the kernel (MADV_DONTNEED) so a spike of
  // stack-holding processes does not pin their RSS forever.
  static constexpr std::size_t kWarmLimit = 1024;
  // ...kTrimBatch at a time: each madvise is a TLB shootdown on every core (a VM exit per IPI on a VM),
  // and one madvise covers a run of adjacent stacks.
  static constexpr std::size_t kTrimBatch = 64;
  // Bytes of guard below each stack (see the top of this file), a whole number of pages.
  static constexpr std::size_t kGuardSize = 64 * 1024;

  explicit StackPool(std::size_t stack_size);
  ~StackPool();
  StackPool(const StackPool&) = delete;
  StackPool& operator=(const StackPool&) = delete;

  // acquire() returns a free stack, from `cache` when it has one (any scheduler thread; cache owner only).
  Stack* acquire(StackCache& cache);
  // release() returns a stack the caller no longer runs on.
  void release(StackCache& cache, Stack* stack);

  // drain() gives every stack in `cache` back to the shared list (the cache's scheduler is stopping).
  void drain(StackCache& cache);

  std::size_t stack_size() const { return stack_size_; }

 private:
  void add_arena();              // REQUIRES(mutex_)
  void guard(Stack& stack);      // REQUIRES(mutex_)
  void push_free(Stack* stack);  // REQUIRES(mutex_)
  // trim() gives the pages of the kTrimBatch stacks in `batch` back to the kernel (no lock needed: the
  // stacks are the caller's).
  void trim(const std::array<Stack*, kTrimBatch>& batch) const;

  const std::size_t stack_size_;
  const std::size_t page_;
  const std::size_t guard_size_;  // kGuardSize, rounded up to whole pages
  std::size_t vma_budget_;        // stacks we may still guard with mprotect

  std::mutex mutex_;
  std::vector<std::pair<void*, std::size_t>> arenas_;  // GUARDED_BY(mutex_)
  std::vector<Stack*> stack_blocks_;                   // GUARDED_BY(mutex_): arrays of Stack
  Stack* free_ = nullptr;                              // GUARDED_BY(mutex_)
  std::size_t free_count_ = 0;                         // GUARDED_BY(mutex_)
  // Released beyond kWarmLimit, not trimmed yet (still warm, so acquire() takes them first).
  Stack* untrimmed_ = nullptr;       // GUARDED_BY(mutex_)
  std::size_t untrimmed_count_ = 0;  // GUARDED_BY(mutex_)
  bool lightweight_guards_ = true;   // GUARDED_BY(mutex_): MADV_GUARD_INSTALL works
};

}  // namespace myrmex::scheduler::detail
