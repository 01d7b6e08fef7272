// Live object counts: how many envelopes, control blocks, behaviours, stacks and registered names exist right
// now.
//
// Internal to myrmex. The tests check at every test case's end that each count is back to zero (STYLE.md
// §9), so an API call that leaks when its caller is killed inside it fails a test. Counting must cost next
// to nothing on the hot paths: each thread counts in its own cache line with plain relaxed loads and
// stores (no RMW, no shared line); live() sums every thread's counter. Threads that end fold their counts
// into a shared total.
#pragma once

#include <atomic>
#include <cstdint>

namespace myrmex::memory::detail {

enum class Counted : unsigned { envelope, process, behaviour, stack, name, kinds };

namespace live_counts {
// One thread's counts. Written only by the owner (relaxed load + store: no lock prefix), read by live().
struct alignas(64) ThreadCounts {
  std::atomic<std::int64_t> n[static_cast<unsigned>(Counted::kinds)]{};
  bool enrolled = false;  // registered for live() and for the fold at thread exit
};
// Plain zero-initialised TLS (constinit, initial-exec): counting needs no lazy-init guard and no call.
extern constinit thread_local ThreadCounts mine __attribute__((tls_model("initial-exec")));
void enroll() noexcept;  // the first count of a thread
}  // namespace live_counts

// counted_add() adds `delta` (+1 made, -1 destroyed) to this thread's count of `kind` (any thread).
inline void counted_add(Counted kind, std::int64_t delta) noexcept {
  live_counts::ThreadCounts& t = live_counts::mine;
  if (!t.enrolled) [[unlikely]]
    live_counts::enroll();
  std::atomic<std::int64_t>& c = t.n[static_cast<unsigned>(kind)];
  c.store(c.load(std::memory_order_relaxed) + delta, std::memory_order_relaxed);
}
// live() is the number of `kind` objects alive in the OS process, all nodes together (any thread; exact
// only while no thread is making or destroying one).
std::int64_t live(Counted kind) noexcept;
// counted_name() names a kind for reports ("envelope", ...).
const char* counted_name(Counted kind) noexcept;

}  // namespace myrmex::memory::detail
