// TimerWheel: a hashed timing wheel (1 ms ticks) for receive time-outs and sleep_for().
//
// Internal to myrmex. Each scheduler owns one and advances it from its loop; a timer is armed by the
// process running on that scheduler and may be cancelled from any thread (the process may have migrated),
// hence the mutex. A task has at most one armed timer (it parks with one deadline at a time), so the
// entry lives inside the task and arming allocates nothing.
//
// Lock order: the wheel's mutex, then whatever `fire` takes (notify() may push to the global queue and
// wake a sleeper: SchedulerGroup's global and idle mutexes). Nothing takes a wheel's mutex under those.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>

#include "scheduler/detail/yield_point.h"

namespace myrmex::scheduler::detail {

class Task;
class TimerWheel;

struct TimerEntry {
  Task* task = nullptr;        // the task it belongs to (set once)
  TimerEntry* prev = nullptr;  // GUARDED_BY(wheel->mutex_)
  TimerEntry* next = nullptr;  // GUARDED_BY(wheel->mutex_)
  std::int64_t deadline_ms = 0;
  std::size_t slot = 0;  // GUARDED_BY(wheel->mutex_): the slot it is linked into
  // The wheel holding the entry: set by arm(); reset to null (under that wheel's mutex) by cancel(), or by
  // advance() once the fire has *returned*. Null means: not armed, and no fire of the last arming can
  // still land.
  std::atomic<TimerWheel*> wheel{nullptr};
};

// now_ms() is the steady clock in milliseconds, the wheel's time base.
std::int64_t now_ms();
// deadline_after() is the wheel time at which a timer of `ms` may fire without firing early: now_ms()
// truncates, so the true time may already be almost a tick past it.
inline std::int64_t deadline_after(std::int64_t ms) {
  return now_ms() + ms + 1;
}

class TimerWheel {
 public:
  static constexpr std::size_t kSlots = 1024;

  TimerWheel();

  // arm() links `e` to fire at `deadline_ms` (owner scheduler only; `e` must not be armed).
  void arm(TimerEntry& e, std::int64_t deadline_ms);
  // cancel() unlinks `e` if still armed (any thread). Returns false if it had already fired. Either way,
  // once it returns no fire of that arming can still land: a fire under way holds the wheel's mutex and
  // leaves `e.wheel` set until `fire` has returned, so cancel() blocks on the mutex until it is done. (A
  // receive that cancels its time-out and then resets `timed_out` for the next one relies on this.) May
  // block for as long as one advance() takes.
  static bool cancel(TimerEntry& e);

  // advance() fires every entry due at `now` (owner only). `fire(e)` runs under the wheel lock with the
  // entry unlinked but still marked as this wheel's (see cancel()), which is also what keeps the entry's
  // task alive while it is notified: the task cancels its timer before it can exit.
  template <class Fire>
  void advance(std::int64_t now, Fire&& fire) {
    if (count_.load(std::memory_order_relaxed) == 0) {
      current_ = now;
      return;
    }
    std::lock_guard lock(mutex_);
    std::int64_t from = current_;
    std::int64_t ticks = now - from;
    if (ticks > static_cast<std::int64_t>(kSlots)) ticks = kSlots;
    for (std::int64_t i = 0; i <= ticks; ++i) {
      TimerEntry* e = slots_[static_cast<std::size_t>(from + i) % kSlots];
      while (e) {
        TimerEntry* next = e->next;
        if (e->deadline_ms <= now) {
          unlink(*e);
          // The window the seeded mode and race tests widen: unlinked, not yet fired.
          yield_point("timer.fire.unlinked");
          fire(*e);
          // release: a cancel() that reads null without the lock sees everything `fire` did.
          e->wheel.store(nullptr, std::memory_order_release);
        }
        e = next;
      }
    }
    current_ = now;
  }

  // armed() tells whether any timer is pending (cheap; any thread).
  bool armed() const { return count_.load(std::memory_order_relaxed) != 0; }

  // next_due_ms() is a lower bound of the earliest deadline (owner only), nullopt when nothing is armed.
  std::optional<std::int64_t> next_due_ms();

 private:
  // unlink() takes `e` off its slot's list; `e.wheel` is left for the caller to reset. REQUIRES(mutex_)
  void unlink(TimerEntry& e);

  std::mutex mutex_;
  std::array<TimerEntry*, kSlots> slots_{};  // GUARDED_BY(mutex_)
  std::atomic<std::size_t> count_{0};        // written under mutex_, read anywhere
  std::int64_t current_;                     // owner only: last tick advanced to
};

}  // namespace myrmex::scheduler::detail
