#include "scheduler/detail/live_counts.h"

#include <array>
#include <atomic>
#include <mutex>
#include <vector>

namespace myrmex::scheduler::detail {

namespace {

constexpr unsigned kKinds = static_cast<unsigned>(Counted::kinds);

// One thread's counts. Written only by the owner (relaxed load + store: no lock prefix), read by live().
struct alignas(64) ThreadCounts {
  std::array<std::atomic<std::int64_t>, kKinds> n{};
};

struct Registry {
  std::mutex mutex;
  std::vector<ThreadCounts*> threads;                    // GUARDED_BY(mutex)
  std::array<std::atomic<std::int64_t>, kKinds> gone{};  // counts of threads that ended
};

Registry& registry() {
  // Never destroyed: threads may count while the program exits.
  static Registry* r = new Registry;
  return *r;
}

// A thread's counts: plain zero-initialised TLS, so counting needs no lazy-init guard. The object that
// registers the thread, and folds its counts into `gone` when it ends, is touched on the first count only.
thread_local ThreadCounts counts;

struct ThreadExit {
  bool registered = false;
  void enroll() {
    registered = true;
    std::lock_guard lock(registry().mutex);
    registry().threads.push_back(&counts);
  }
  ~ThreadExit() {
    if (!registered) return;
    Registry& r = registry();
    std::lock_guard lock(r.mutex);
    for (unsigned k = 0; k < kKinds; ++k)
      r.gone[k].fetch_add(counts.n[k].load(std::memory_order_relaxed), std::memory_order_relaxed);
    std::erase(r.threads, &counts);
  }
};
thread_local ThreadExit thread_exit;
thread_local bool enrolled = false;

[[gnu::noinline]] void enroll() {
  enrolled = true;
  thread_exit.enroll();
}

}  // namespace

void counted_add(Counted kind, std::int64_t delta) noexcept {
  if (!enrolled) [[unlikely]]
    enroll();
  auto& c = counts.n[static_cast<unsigned>(kind)];
  c.store(c.load(std::memory_order_relaxed) + delta, std::memory_order_relaxed);
}

std::int64_t live(Counted kind) noexcept {
  const unsigned k = static_cast<unsigned>(kind);
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  std::int64_t sum = r.gone[k].load(std::memory_order_relaxed);
  for (ThreadCounts* t : r.threads) sum += t->n[k].load(std::memory_order_relaxed);
  return sum;
}

const char* counted_name(Counted kind) noexcept {
  switch (kind) {
    case Counted::envelope:
      return "envelope";
    case Counted::process:
      return "process control block";
    case Counted::behaviour:
      return "behaviour";
    case Counted::stack:
      return "fiber stack in use";
    case Counted::kinds:
      break;
  }
  return "?";
}

}  // namespace myrmex::scheduler::detail
