// WakeWord: the one word that says whether a task sleeps, and that its wakers race on.
//
// Internal to myrmex. The word is also the head of the task's mailbox (mailbox/detail/incoming_queue.h):
// its high bits are the newest envelope and a count, its three low bits (envelopes are 8-aligned) the
// flags below. So one compare-and-swap both delivers a message and, when the owner sleeps waiting for
// one, claims its wake-up: the sender that clears `kAsleep` is the only one that queues the task.
//
// The protocol, as Go's park commit: a task decides to park on its own fiber, but only its scheduler,
// once the fiber is switched off, marks it asleep (commit_park()). Until then nobody can run it twice,
// so a notifier needs no state of "running" or "runnable" to tell apart:
//   - notify() (a signal, a timer, a blocking job, room in a mailbox): asleep -> claim and queue it;
//     otherwise set `kNotified`, which makes the next commit fail once, so the task looks again;
//   - a push: asleep waiting for a message -> claim; otherwise leave the flags as they are;
//   - commit_park(): fails (the task runs again) if `kNotified` is set, or if it waits for a message and
//     one is there; otherwise sets `kAsleep`.
// Every step is a read-modify-write of this word (or an acquire load that finds a reason not to sleep), so
// whatever a waker did before its step is visible to the task's next look: one of the two steps comes
// first in the word's modification order, and the later one reads the earlier.
// A task that waits for something else (a timer in sleep(), room in another mailbox, a blocking job)
// parks with `wake_on_payload` false: messages arriving then queue up without waking it, as before.
#pragma once

#include <atomic>
#include <cstdint>

#include "scheduler/detail/yield_point.h"

namespace myrmex::scheduler::detail {

class WakeWord {
 public:
  using Bits = std::uint64_t;
  static constexpr Bits kAsleep = 1;         // parked, its fiber switched off: the claimant queues it
  static constexpr Bits kWakeOnPayload = 2;  // with kAsleep: the next push claims it too
  static constexpr Bits kNotified = 4;       // a notification came while it was not asleep
  static constexpr Bits kFlags = 7;

  // notify() is any thread's. True: the task was asleep, and the caller now owns its wake-up (it must
  // queue it, once). False: it was not asleep; it will look again before it parks.
  bool notify() {
    Bits old = bits.load(std::memory_order_relaxed);
    for (;;) {
      // Still an RMW when kNotified is set already: what we did before (a plain release store of a
      // timer's `timed_out`, say) must be ordered before the commit that reads it (see above).
      Bits next = (old & kAsleep) ? old & ~(kAsleep | kWakeOnPayload) : old | kNotified;
      if (bits.compare_exchange_weak(old, next, std::memory_order_acq_rel, std::memory_order_relaxed))
        return (old & kAsleep) != 0;
    }
  }

  // commit_park() runs on the scheduler's stack once the task's fiber is switched off. True: it is asleep
  // until claimed. False: something came since it last looked; the caller queues it to look again.
  bool commit_park(bool wake_on_payload) {
    yield_point("wake.commit");
    Bits old = bits.load(std::memory_order_acquire);
    for (;;) {
      Bits next;
      if (old & kNotified) {
        next = old & ~kNotified;
      } else if (wake_on_payload && (old & ~kFlags)) {
        return false;  // a message came: the acquire load made it visible
      } else {
        next = old | kAsleep | (wake_on_payload ? kWakeOnPayload : 0);
      }
      // acq_rel: release publishes what the task did before parking to its claimant; acquire makes a
      // notifier's work visible to the look that follows a failed commit.
      if (bits.compare_exchange_weak(old, next, std::memory_order_acq_rel, std::memory_order_acquire))
        return (next & kAsleep) != 0;
    }
  }

  // asleep() is a hint for reports (any thread).
  bool asleep() const { return (bits.load(std::memory_order_relaxed) & kAsleep) != 0; }

  std::atomic<Bits> bits{0};
};

}  // namespace myrmex::scheduler::detail
