#include "scheduler/detail/stack_pool.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "memory/detail/live_counts.h"

namespace myrmex::scheduler::detail {

namespace {

constexpr int kMadvGuardInstall = 102;  // Linux 6.13; not yet in Debian 12's headers
constexpr std::uint64_t kCanary = 0x6d79726d65782121ULL;

std::size_t read_max_map_count() {
  std::ifstream in("/proc/sys/vm/max_map_count");
  std::size_t n = 65530;
  in >> n;
  return n;
}

}  // namespace

bool Stack::in_guard(const void* addr) const {
  // Called from the SIGSEGV handler: plain comparisons only. The whole guard, not its top page: a large
  // frame's first touch past the stack can be anywhere in it.
  auto* p = static_cast<const char*>(addr);
  return guarded && p >= guard_page && p < bottom;
}

bool Stack::canary_intact() const {
  return guarded || *reinterpret_cast<const std::uint64_t*>(bottom) == kCanary;
}

StackPool::StackPool(std::size_t stack_size)
    : stack_size_((stack_size + 4095) & ~std::size_t{4095}),
      page_(static_cast<std::size_t>(sysconf(_SC_PAGESIZE))),
      guard_size_((kGuardSize + page_ - 1) / page_ * page_),
      vma_budget_(read_max_map_count() / 4) {}

StackPool::~StackPool() {
  for (auto [addr, len] : arenas_) munmap(addr, len);
  for (Stack* block : stack_blocks_) delete[] block;
}

void StackPool::guard(Stack& stack) {
  stack.guarded = false;
  if (lightweight_guards_) {
    if (madvise(stack.guard_page, guard_size_, kMadvGuardInstall) == 0) {
      stack.guarded = true;
      return;
    }
    lightweight_guards_ = false;  // old kernel: fall back for good
  }
  if (vma_budget_ > 0 && mprotect(stack.guard_page, guard_size_, PROT_NONE) == 0) {
    --vma_budget_;
    stack.guarded = true;
    return;
  }
  *reinterpret_cast<std::uint64_t*>(stack.bottom) = kCanary;
}

void StackPool::add_arena() {
  const std::size_t slot = guard_size_ + stack_size_;
  const std::size_t len = slot * kStacksPerArena;
  void* mem = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (mem == MAP_FAILED) {
    std::fprintf(stderr, "myrmex: cannot map %zu bytes of fiber stacks (errno %d)\n", len, errno);
    std::abort();
  }
  arenas_.emplace_back(mem, len);
  Stack* block = new Stack[kStacksPerArena];
  stack_blocks_.push_back(block);
  for (std::size_t i = 0; i < kStacksPerArena; ++i) {
    char* guard_page = static_cast<char*>(mem) + i * slot;
    Stack& s = block[i];
    s.guard_page = guard_page;
    s.bottom = guard_page + guard_size_;
    s.size = stack_size_;
    guard(s);
    s.next_free = free_;
    free_ = &s;
  }
  free_count_ += kStacksPerArena;
}

Stack* StackPool::acquire(StackCache& cache) {
  memory::detail::counted_add(memory::detail::Counted::stack, 1);
  if (Stack* s = cache.head) {
    cache.head = s->next_free;
    --cache.count;
    return s;
  }
  std::lock_guard lock(mutex_);
  if (Stack* s = untrimmed_) {
    untrimmed_ = s->next_free;
    --untrimmed_count_;
    return s;
  }
  if (!free_) add_arena();
  Stack* s = free_;
  free_ = s->next_free;
  --free_count_;
  return s;
}

void StackPool::push_free(Stack* stack) {
  stack->next_free = free_;
  free_ = stack;
  ++free_count_;
}

void StackPool::trim(const std::array<Stack*, kTrimBatch>& batch) const {
  std::array<Stack*, kTrimBatch> by_address = batch;
  std::sort(by_address.begin(), by_address.end(),
            [](const Stack* a, const Stack* b) { return a->bottom < b->bottom; });
  for (std::size_t i = 0; i < kTrimBatch;) {
    // Keep an unguarded stack's lowest page: its canary must survive.
    char* from = by_address[i]->bottom + (by_address[i]->guarded ? 0 : page_);
    char* to = by_address[i]->top();
    // A run of adjacent stacks goes in one call, the guards between them included: a guard page stays
    // a guard (MADV_DONTNEED keeps a guard marker, and mprotect'ed pages have nothing to drop). A
    // stack with a canary starts a run of its own.
    for (++i; i < kTrimBatch && by_address[i]->guarded && by_address[i]->guard_page == to; ++i)
      to = by_address[i]->top();
    madvise(from, static_cast<std::size_t>(to - from), MADV_DONTNEED);
  }
}

void StackPool::release(StackCache& cache, Stack* stack) {
  memory::detail::counted_add(memory::detail::Counted::stack, -1);
  if (cache.count < kCacheLimit) {
    stack->next_free = cache.head;
    cache.head = stack;
    ++cache.count;
    return;
  }
  std::array<Stack*, kTrimBatch> batch;
  {
    std::lock_guard lock(mutex_);
    if (free_count_ < kWarmLimit) {
      push_free(stack);
      return;
    }
    stack->next_free = untrimmed_;
    untrimmed_ = stack;
    if (++untrimmed_count_ < kTrimBatch) return;
    // Take the batch, last released first, and trim it without the lock: a madvise under it made every
    // other scheduler that needed a stack sleep on it.
    for (Stack*& s : batch) {
      s = untrimmed_;
      untrimmed_ = s->next_free;
    }
    untrimmed_count_ = 0;
  }
  trim(batch);
  std::lock_guard lock(mutex_);
  // The last released goes on top, as without the batch.
  for (auto it = batch.rbegin(); it != batch.rend(); ++it) push_free(*it);
}

void StackPool::drain(StackCache& cache) {
  std::lock_guard lock(mutex_);
  while (Stack* s = cache.head) {
    cache.head = s->next_free;
    push_free(s);
  }
  cache.count = 0;
}

}  // namespace myrmex::scheduler::detail
