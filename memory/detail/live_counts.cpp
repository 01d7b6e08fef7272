#include "memory/detail/live_counts.h"

#include <array>
#include <mutex>
#include <vector>

namespace myrmex::memory::detail {

namespace live_counts {

constinit thread_local ThreadCounts mine __attribute__((tls_model("initial-exec")));

namespace {

constexpr unsigned kKinds = static_cast<unsigned>(Counted::kinds);

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

// Folds a thread's counts into `gone` when it ends; touched from the first count on only.
struct ThreadExit {
  bool armed = false;
  ~ThreadExit() {
    if (!mine.enrolled) return;
    Registry& r = registry();
    std::lock_guard lock(r.mutex);
    for (unsigned k = 0; k < kKinds; ++k)
      r.gone[k].fetch_add(mine.n[k].load(std::memory_order_relaxed), std::memory_order_relaxed);
    std::erase(r.threads, &mine);
  }
};
thread_local ThreadExit thread_exit;

}  // namespace

void enroll() noexcept {
  thread_exit.armed = true;  // constructs it, so its destructor runs at this thread's exit
  mine.enrolled = true;
  std::lock_guard lock(registry().mutex);
  registry().threads.push_back(&mine);
}

}  // namespace live_counts

std::int64_t live(Counted kind) noexcept {
  const unsigned k = static_cast<unsigned>(kind);
  live_counts::Registry& r = live_counts::registry();
  std::lock_guard lock(r.mutex);
  std::int64_t sum = r.gone[k].load(std::memory_order_relaxed);
  for (live_counts::ThreadCounts* t : r.threads) sum += t->n[k].load(std::memory_order_relaxed);
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
    case Counted::name:
      return "registered name";
    case Counted::kinds:
      break;
  }
  return "?";
}

}  // namespace myrmex::memory::detail
