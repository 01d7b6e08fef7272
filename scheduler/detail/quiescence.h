// Quiescence: deferred reclamation in the style of RCU's quiescent-state scheme (QSBR).
//
// Internal to myrmex. A scheduler thread that looks something up without a reference count (a process it
// sends to) may use the pointer until it next passes a *quiescent point*: between two task runs, or while
// asleep. Whoever retires such an object defers its freeing with defer(); the callback runs once every
// scheduler has passed a quiescent point since, so no scheduler can still hold the pointer. This spares
// each local send two atomic read-modify-writes on the target's table slot (a quarter of a ping-pong).
//
// Epochs: a global counter G. A scheduler publishes the G it saw at each quiescent point. An object retired
// while G was e is safe to free once every online scheduler published a value > e; the retiring scheduler
// bumps G once per batch of retirements. Ordering: the object is made unreachable by a seq_cst RMW before
// it is deferred; quiescent points and lock-free lookups use seq_cst too, so a scheduler that published a
// value > e (or went offline after the retirement) never finds the object again.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

namespace myrmex::scheduler::detail {

class Quiescence {
 public:
  using Callback = void (*)(void* context, std::uint64_t a, std::uint64_t b);

  explicit Quiescence(unsigned threads);
  // ~Quiescence() runs every callback still deferred: the threads are gone.
  ~Quiescence();
  Quiescence(const Quiescence&) = delete;
  Quiescence& operator=(const Quiescence&) = delete;

  // defer() runs fn(context, a, b) once every scheduler has passed a quiescent point after this call. The
  // object must already be unreachable for new lookups. `thread` is the calling scheduler's index, or -1
  // for any other thread.
  void defer(int thread, Callback fn, void* context, std::uint64_t a, std::uint64_t b);

  // Scheduler `thread` only. passed(): it holds no pointer from a lock-free lookup; frees what became
  // safe. offline()/online(): around a sleep (an offline scheduler holds nothing and frees nothing).
  void passed(unsigned thread);
  void offline(unsigned thread);
  void online(unsigned thread);
  // pending() tells whether frees handed over by sleeping schedulers or other threads are still waiting.
  // A scheduler that sees it must not sleep for long.
  bool pending() const { return shared_pending_.load(std::memory_order_seq_cst); }

 private:
  static constexpr std::uint64_t kOffline = ~std::uint64_t{0};
  struct Item {
    Callback fn;
    void* context;
    std::uint64_t a, b;
    std::uint64_t epoch;
  };
  struct alignas(64) PerThread {
    std::atomic<std::uint64_t> seen{kOffline};
    std::deque<Item> retired;  // owner thread only, in epoch order
    std::vector<Item> ready;   // owner thread only: what free_safe() is about to run
  };

  bool safe(std::uint64_t epoch) const;
  // free_safe() runs and removes the safe prefix of `self`'s retired items.
  void free_safe(PerThread& self);
  void reclaim_shared();

  const unsigned threads_;
  std::unique_ptr<PerThread[]> per_thread_;
  alignas(64) std::atomic<std::uint64_t> epoch_{1};
  std::atomic<bool> shared_pending_{false};
  std::mutex shared_mutex_;
  // From other threads and from schedulers gone to sleep; unordered.
  std::vector<Item> shared_;  // GUARDED_BY(shared_mutex_)
};

}  // namespace myrmex::scheduler::detail
