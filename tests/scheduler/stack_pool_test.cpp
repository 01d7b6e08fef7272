// The stack pool on its own (scheduler/detail/stack_pool.h): stacks are distinct, guarded over the whole
// guard width, and recycled through a per-scheduler cache that stays bounded.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

#include "scheduler/detail/fiber.h"
#include "scheduler/detail/stack_pool.h"

using myrmex::scheduler::detail::Stack;
using myrmex::scheduler::detail::StackCache;
using myrmex::scheduler::detail::StackPool;

namespace {

constexpr std::size_t kStackSize = 64 * 1024;

// faults() tells whether writing the byte at `p` kills a forked child with SIGSEGV.
bool faults(char* p) {
  pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    signal(SIGSEGV, SIG_DFL);  // not the node's handler, if an earlier test installed it
    *reinterpret_cast<volatile char*>(p) = 1;
    _exit(0);
  }
  int status = 0;
  waitpid(child, &status, 0);
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV;
}

}  // namespace

TEST_CASE("stack pool: acquired stacks are distinct, of the asked size, and never overlap") {
  StackPool pool(kStackSize - 100);  // rounded up to whole pages
  StackCache cache;
  std::vector<Stack*> stacks;
  for (std::size_t i = 0; i < 3 * StackPool::kStacksPerArena + 5; ++i) stacks.push_back(pool.acquire(cache));
  std::sort(stacks.begin(), stacks.end(), [](Stack* a, Stack* b) { return a->guard_page < b->guard_page; });
  for (std::size_t i = 0; i < stacks.size(); ++i) {
    Stack* s = stacks[i];
    CHECK(s->size == kStackSize);
    CHECK(s->top() == s->bottom + s->size);
    CHECK(s->guard_page < s->bottom);
    if (i > 0) CHECK(stacks[i - 1]->top() <= s->guard_page);  // guard and stack clear of the one below
  }
  // Every byte of every stack is usable.
  for (Stack* s : stacks) {
    s->bottom[0] = 1;
    s->top()[-1] = 1;
  }
  for (Stack* s : stacks) pool.release(cache, s);
  pool.drain(cache);
}

TEST_CASE(
    "stack pool: the guard is at least 64 KiB wide and in_guard() covers exactly [guard_page, bottom)") {
  // Why: a frame larger than the guard jumps it (code built without -fstack-clash-protection), and a
  // fault anywhere in the guard must be recognised as this stack's overflow.
  StackPool pool(kStackSize);
  StackCache cache;
  Stack* s = pool.acquire(cache);
  REQUIRE(s->guarded);
  CHECK(static_cast<std::size_t>(s->bottom - s->guard_page) >= 64 * 1024);
  CHECK(s->in_guard(s->guard_page));
  CHECK(s->in_guard(s->bottom - 1));
  CHECK(s->in_guard(s->bottom - 40 * 1024));
  CHECK_FALSE(s->in_guard(s->bottom));
  CHECK_FALSE(s->in_guard(s->guard_page - 1));
  if (!myrmex::scheduler::detail::under_sanitizer()) {  // the sanitizers own SIGSEGV
    CHECK(faults(s->bottom - 1));
    CHECK(faults(s->bottom - 40 * 1024));  // where a 40 KiB frame lands
    CHECK(faults(s->guard_page));
    CHECK_FALSE(faults(s->bottom));
  }
  pool.release(cache, s);
  pool.drain(cache);
}

TEST_CASE("stack pool: a scheduler's cache gives back its last stack first and holds at most kCacheLimit") {
  StackPool pool(kStackSize);
  StackCache cache, other;
  std::vector<Stack*> stacks;
  for (std::size_t i = 0; i < StackPool::kCacheLimit + 10; ++i) stacks.push_back(pool.acquire(cache));
  for (Stack* s : stacks) pool.release(cache, s);
  CHECK(cache.count == StackPool::kCacheLimit);
  // The cache holds the first kCacheLimit released, newest on top; the rest went to the shared list.
  CHECK(pool.acquire(cache) == stacks[StackPool::kCacheLimit - 1]);
  CHECK(cache.count == StackPool::kCacheLimit - 1);
  // Another scheduler's cache is empty: it takes from the shared list, the last stack released there.
  CHECK(pool.acquire(other) == stacks.back());
  pool.release(cache, stacks[StackPool::kCacheLimit - 1]);
  pool.release(other, stacks.back());
  pool.drain(cache);
  CHECK(cache.count == 0);
  CHECK(cache.head == nullptr);
  pool.drain(other);
}

TEST_CASE("stack pool: free stacks beyond kWarmLimit go back to the kernel in batches, guards kept") {
  // Why: a spike of processes parked inside handlers must not pin its stacks' RSS forever, and an exit
  // storm must not pay a TLB shootdown per stack.
  constexpr std::size_t kCache = StackPool::kCacheLimit, kWarm = StackPool::kWarmLimit,
                        kBatch = StackPool::kTrimBatch;
  constexpr std::size_t n = kWarm + 4 * kBatch;
  static_assert(n % StackPool::kStacksPerArena == 0 && kCache < kBatch);  // no free stack left over
  StackPool pool(kStackSize);
  StackCache cache, other;
  std::vector<Stack*> stacks;
  for (std::size_t i = 0; i < n; ++i) {
    stacks.push_back(pool.acquire(cache));
    stacks.back()->top()[-1] = 42;
  }
  for (Stack* s : stacks) pool.release(cache, s);
  // Released in order: kCache to the cache, kWarm kept warm, then three whole batches trimmed (their
  // pages read as zero again), and the rest of the fourth waiting, warm.
  for (std::size_t i = 0; i < n; ++i) {
    const bool trimmed = i >= kCache + kWarm && i < kCache + kWarm + 3 * kBatch;
    CAPTURE(i);
    CHECK(stacks[i]->top()[-1] == (trimmed ? 0 : 42));
  }
  // A batch's adjacent stacks went in one madvise that spanned the guards between them: they still fault.
  if (!myrmex::scheduler::detail::under_sanitizer()) {  // the sanitizers own SIGSEGV
    for (std::size_t i : {kCache + kWarm + 1, kCache + kWarm + kBatch / 2, kCache + kWarm + 3 * kBatch - 1}) {
      CAPTURE(i);
      if (stacks[i]->guarded) CHECK(faults(stacks[i]->bottom - 1));
    }
  }
  // The waiting ones, still warm, are handed out first.
  Stack* warm = pool.acquire(other);
  CHECK(warm == stacks.back());
  CHECK(warm->top()[-1] == 42);
  pool.release(other, warm);
  pool.drain(cache);
  pool.drain(other);
}

TEST_CASE("stack pool: two threads acquiring and releasing past kWarmLimit never share a stack") {
  // Why: batches are taken out and trimmed outside the lock while the other thread acquires and releases;
  // a stack handed out twice, or trimmed while in use, would show as a tag overwritten or zeroed.
  StackPool pool(kStackSize);
  std::atomic<long> clobbered{0};
  auto churn = [&](std::uint64_t id) {
    StackCache cache;
    std::vector<Stack*> held;
    for (std::uint64_t round = 0; round < 200; ++round) {
      const std::size_t n = StackPool::kWarmLimit / 2 + (round % 4) * StackPool::kTrimBatch;
      for (std::size_t i = 0; i < n; ++i) {
        Stack* s = pool.acquire(cache);
        const std::uint64_t tag = (id << 48) | (round << 24) | i;
        std::memcpy(s->top() - sizeof tag, &tag, sizeof tag);
        std::memcpy(s->bottom + 8, &tag, sizeof tag);  // above an unguarded stack's canary
        held.push_back(s);
      }
      for (std::size_t i = 0; i < held.size(); ++i) {
        const std::uint64_t tag = (id << 48) | (round << 24) | i;
        std::uint64_t top = 0, bottom = 0;
        std::memcpy(&top, held[i]->top() - sizeof top, sizeof top);
        std::memcpy(&bottom, held[i]->bottom + 8, sizeof bottom);
        if (top != tag || bottom != tag) clobbered.fetch_add(1);
        pool.release(cache, held[i]);
      }
      held.clear();
    }
    pool.drain(cache);
  };
  std::thread a(churn, 1), b(churn, 2);
  a.join();
  b.join();
  CHECK(clobbered.load() == 0);
}
