// The seeded mode: reproducible interleavings for race tests (ponyc's systematic testing, STYLE.md §10).
//
// Internal to myrmex; test-only. Exists in builds with MYRMEX_YIELD_POINTS (see yield_point.h); in other
// builds enable() refuses and every hook below compiles to nothing.
//
//   systematic::enable(seed);           // nodes constructed from now on run seeded
//   {
//     myrmex::Node node(config);        // its scheduler threads take turns, in an order fixed by `seed`
//     ...                               // a race window marked by yield_point() is hit or not by the seed
//   }
//   systematic::disable();
//
// While a node runs seeded, exactly one of its scheduler threads runs at a time: the one holding the
// *turn*. At each yield point and at the points where a scheduler loops, spins or is about to sleep, the
// holder hands the turn to a scheduler thread chosen by a PRNG seeded with `seed` (possibly itself). A
// thread about to block (its futex sleep) gives the turn away and takes it back once woken. Threads that
// are not the node's schedulers (the caller of Node's functions, the blocking pool, the watchdog) are not
// controlled.
//
// How deterministic: the sequence of turns, and so everything the node's processes do, is a function of
// the seed as long as everything the node does comes from inside it and nothing depends on the clock:
// the test must start its work only once every scheduler is asleep (tests/test_node.h wait_all_asleep()),
// send nothing from outside meanwhile, and use no time-outs, sleep_for() or blocking(). Exits are fine
// until a scheduler goes to sleep with frees still deferred: it then sleeps one tick at most (see
// Scheduler::sleep()), so when it comes back depends on the clock. A time-out, a send from outside, a
// process exit before a sleep or a futex wake-up that the OS delays can each change the interleaving from
// that point on: the seed then still makes hitting a window likely or not, but does not replay it exactly.
// A seed replays on the same build only (the turns follow the code's yield points).
//
// Under ThreadSanitizer the turn hand-off is a happens-before edge, so TSan does not see races between
// the scheduler threads of a seeded node; the unseeded tests are there for that.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "scheduler/detail/yield_point.h"

namespace myrmex::scheduler::detail {

// YieldHook runs at every yield point reached, on the thread that reached it, with the point's name.
using YieldHook = void (*)(const char* name);
// set_yield_hook() installs `hook` (null removes it). Test-only; not while yield points are being reached.
void set_yield_hook(YieldHook hook) noexcept;

namespace systematic {

// enable() makes every SchedulerGroup (node) constructed from now on run seeded with `seed`, until
// disable(). Test-only; call it while no node is being constructed. Returns false, doing nothing, in
// builds without yield points.
bool enable(std::uint64_t seed) noexcept;
// disable() ends the seeded mode for nodes constructed from now on (running ones keep it).
void disable() noexcept;
// trace() is a hash of every turn decision the calling scheduler thread's node made so far (which thread
// got the turn, at which point), and decisions() their number; both 0 off a seeded node's scheduler
// threads. Read by a process, they are part of the interleaving: the same seed gives the same values.
std::uint64_t trace() noexcept;
std::uint64_t decisions() noexcept;
// controlled() tells whether the calling thread is a scheduler thread of a seeded node.
bool controlled() noexcept;

}  // namespace systematic

// Systematic is one seeded node's turn: SchedulerGroup owns one while seeded (null otherwise). Each
// function takes the calling scheduler thread's index and is called by that thread, except woken().
class Systematic {
 public:
  // make() returns a controller for `threads` scheduler threads if the seeded mode is enabled, else null.
  static std::unique_ptr<Systematic> make(unsigned threads);
  Systematic(std::uint64_t seed, unsigned threads);
  Systematic(const Systematic&) = delete;
  Systematic& operator=(const Systematic&) = delete;

  // attach(): the scheduler thread starts; returns once all have started and it holds the turn.
  void attach(unsigned index);
  // detach(): the thread ends (it holds the turn): gives the turn away for good.
  void detach(unsigned index);
  // yield(): the holder hands the turn to a thread chosen by the PRNG (maybe itself) and returns once it
  // holds it again. `point` names where (a yield point's name).
  void yield(unsigned index, const char* point);
  // block(): the holder is about to block until woken: it gives the turn away and is passed over until
  // woken() or unblock().
  void block(unsigned index);
  // unblock(): the thread woke up (woken, timed out, or stopping): returns once it holds the turn again.
  void unblock(unsigned index);
  // woken(): thread `index` was told to wake (any thread, Scheduler::wake()): it may get the turn again.
  void woken(unsigned index);

  std::uint64_t trace();
  std::uint64_t decisions();

 private:
  static constexpr std::uint32_t kNobody = ~std::uint32_t{0};

  // give() picks the next holder among the eligible threads and hands it the turn (kNobody if none).
  // REQUIRES(mutex_)
  std::uint32_t give(const char* point);
  void wait_turn(unsigned index);  // not under mutex_

  std::mutex mutex_;
  std::uint64_t rng_;           // GUARDED_BY(mutex_): splitmix64 state
  std::vector<char> eligible_;  // GUARDED_BY(mutex_): may be given the turn (started, not blocked, not ended)
  unsigned started_ = 0;        // GUARDED_BY(mutex_)
  std::uint64_t trace_;         // GUARDED_BY(mutex_)
  std::uint64_t decisions_ = 0;  // GUARDED_BY(mutex_)
  // The holder's index, or kNobody. Written under mutex_; waiters spin, then futex-wait on it.
  alignas(64) std::atomic<std::uint32_t> turn_{kNobody};
};

// lock_taking_turns() locks `m`. On a seeded node's scheduler thread it does not block while another
// thread holds `m`, since that thread may be waiting for the turn (inside a yield point): it hands the turn
// on at yield point `point` until the lock is free.
template <class Mutex>
void lock_taking_turns(Mutex& m, const char* point) {
  if constexpr (kYieldPoints) {
    if (systematic::controlled()) {
      while (!m.try_lock()) yield_point(point);
      return;
    }
  }
  m.lock();
}

}  // namespace myrmex::scheduler::detail
