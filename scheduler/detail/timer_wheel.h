// TimerWheel: a hashed timing wheel (1 ms ticks) for receive time-outs and sleep_for().
//
// Internal to myrmex. Each scheduler owns one, and only its thread touches the wheel's lists: it arms the
// timers of the tasks it runs, fires them from its loop, and cancels them without a lock or a locked
// instruction while their task still runs on it (a call arms and cancels one per call). A task that
// migrated since it armed cancels from the other scheduler's thread: it claims its entry with one CAS
// (armed -> cancelled) and hands it back to the owner through a lock-free stack, which the owner drains at
// its next advance. Each arming takes a fresh entry (from the wheel's free list), so a task that cancelled
// remotely can arm again at once, and exit, without waiting for the owner to give its entry back.
//
// An entry's states, and who owns it in each:
//   armed     -> firing    the owner claims it to fire (CAS); the task may no longer cancel it
//   firing    -> fired     the fire has returned; from now on only the task touches the entry (it frees it)
//   armed     -> cancelled a task on another thread claimed it (CAS); from now on only the owner touches it
// A cancel on the owner's thread unlinks an armed entry directly: the owner cannot be firing it meanwhile.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <optional>

#include "scheduler/detail/yield_point.h"

namespace myrmex::scheduler::detail {

class Task;
class TimerWheel;
struct TimerEntry;

// TimerRef is a task's handle on its one timer (it parks with one deadline at a time). Only the task
// reads or writes it, from whichever thread it runs on.
struct TimerRef {
  explicit TimerRef(Task* owner = nullptr) : task(owner) {}
  Task* task;
  TimerEntry* entry = nullptr;  // the current arming (armed, firing or fired), or null
};

enum class TimerState : std::uint8_t { armed, firing, fired, cancelled };

struct TimerEntry {
  TimerRef* ref = nullptr;               // the arming's handle; the owner reads it only while armed or firing
  TimerWheel* wheel = nullptr;           // the wheel it was armed on
  TimerEntry* prev = nullptr;            // owner only: the slot's list
  TimerEntry* next = nullptr;            // owner only: the slot's list, or the free list
  TimerEntry* next_cancelled = nullptr;  // the cancelled stack (written before the push)
  std::int64_t deadline_ms = 0;
  std::uint32_t slot = 0;  // owner only: the slot it is linked into
  bool linked = false;     // owner only
  std::atomic<TimerState> state{TimerState::armed};
};

// now_ms() is the steady clock in milliseconds, the wheel's time base.
std::int64_t now_ms();
// deadline_after() is the wheel time at which a timer of `ms` may fire without firing early: now_ms()
// truncates, so the true time may already be almost a tick past it. A time-out of kCoarseFromMs or more
// (a call's 5 s) starts from the kernel's coarse clock instead, ~5 ns to read where the precise one costs
// ~23 (9% of a call on our VMs), plus twice its resolution so that it never fires early; it may fire up to
// that much late (8 ms with 4 ms kernel ticks), under 1% of the time-out. Erlang's time-outs may be late
// too, never early.
std::int64_t deadline_after(std::int64_t ms);
constexpr std::int64_t kCoarseFromMs = 1000;

class TimerWheel {
 public:
  static constexpr std::size_t kSlots = 1024;

  TimerWheel();
  ~TimerWheel();
  TimerWheel(const TimerWheel&) = delete;
  TimerWheel& operator=(const TimerWheel&) = delete;

  // arm() links `r` to fire at `deadline_ms` (owner thread only; `r` must not be armed: every arming is
  // ended by cancel(), even one that fired).
  void arm(TimerRef& r, std::int64_t deadline_ms);
  // cancel() ends `r`'s arming, whichever wheel armed it; `this` is the wheel of the scheduler whose thread
  // calls (the task's scheduler now). Returns false if it had already fired (or `r` was not armed). Either
  // way, once it returns no fire of that arming can still land, so the task may reset `timed_out` and arm
  // again (a receive relies on this). Waits only for a fire already under way on another thread.
  bool cancel(TimerRef& r);

  // advance() fires every entry due at `now` (owner only). `fire(ref)` runs with the entry claimed and
  // unlinked; the task cannot finish its cancel(), hence cannot exit, until `fire` has returned.
  template <class Fire>
  void advance(std::int64_t now, Fire&& fire) {
    if (cancelled_.load(std::memory_order_relaxed) != nullptr) reclaim_cancelled();
    if (linked_ == 0) {
      current_ = now;
      return;
    }
    std::int64_t from = current_;
    std::int64_t ticks = now - from;
    if (ticks > static_cast<std::int64_t>(kSlots)) ticks = kSlots;
    for (std::int64_t i = 0; i <= ticks; ++i) {
      TimerEntry* e = slots_[static_cast<std::size_t>(from + i) % kSlots];
      while (e) {
        TimerEntry* next = e->next;
        if (e->deadline_ms <= now) {
          unlink(*e);
          TimerState expected = TimerState::armed;
          // A failed claim means the task cancelled it from another thread: it is on (or about to be
          // pushed on) the cancelled stack, which frees it.
          if (e->state.compare_exchange_strong(expected, TimerState::firing, std::memory_order_acq_rel)) {
            // The window the seeded mode and race tests widen: claimed and unlinked, not yet fired.
            yield_point("timer.fire.unlinked");
            fire(*e->ref);
            // release: a canceller that reads `fired` sees everything `fire` did.
            e->state.store(TimerState::fired, std::memory_order_release);
          }
        }
        e = next;
      }
    }
    current_ = now;
  }

  // armed() tells whether the wheel holds anything to fire or reclaim (owner only).
  bool armed() const { return linked_ != 0 || cancelled_.load(std::memory_order_relaxed) != nullptr; }

  // next_due_ms() is a lower bound of the earliest deadline (owner only), nullopt when nothing is armed.
  // Entries cancelled from other threads make it due at once, so that a sleeping owner wakes to free them.
  std::optional<std::int64_t> next_due_ms() const;

 private:
  static constexpr std::size_t kMaxFree = 256;

  TimerEntry* allocate();
  void recycle(TimerEntry* e);
  // unlink() takes `e` off its slot's list.
  void unlink(TimerEntry& e);
  // reclaim_cancelled() unlinks and frees what other threads cancelled.
  void reclaim_cancelled();

  std::array<TimerEntry*, kSlots> slots_{};
  std::size_t linked_ = 0;
  std::int64_t current_;  // last tick advanced to
  TimerEntry* free_ = nullptr;
  std::size_t free_count_ = 0;
  // Pushed by cancels on other threads, taken whole by the owner. Its own line: those threads write it.
  alignas(64) std::atomic<TimerEntry*> cancelled_{nullptr};
};

}  // namespace myrmex::scheduler::detail
