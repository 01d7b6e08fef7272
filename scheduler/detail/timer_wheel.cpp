#include "scheduler/detail/timer_wheel.h"

#include <chrono>

#include "scheduler/detail/systematic.h"

namespace myrmex::scheduler::detail {

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

TimerWheel::TimerWheel() : current_(now_ms()) {}

void TimerWheel::arm(TimerEntry& e, std::int64_t deadline_ms) {
  std::lock_guard lock(mutex_);
  // A deadline already past lands in the current slot and fires at the next advance().
  std::int64_t tick = deadline_ms < current_ ? current_ : deadline_ms;
  e.slot = static_cast<std::size_t>(tick) % kSlots;
  TimerEntry*& head = slots_[e.slot];
  e.deadline_ms = deadline_ms;
  e.prev = nullptr;
  e.next = head;
  if (head) head->prev = &e;
  head = &e;
  count_.fetch_add(1, std::memory_order_relaxed);
  e.wheel.store(this, std::memory_order_release);
}

bool TimerWheel::cancel(TimerEntry& e) {
  TimerWheel* w = e.wheel.load(std::memory_order_acquire);
  if (!w) return false;
  // The owner may hold the lock in advance(), waiting for the seeded mode's turn inside a fire.
  lock_taking_turns(w->mutex_, "timer.cancel.contended");
  std::lock_guard lock(w->mutex_, std::adopt_lock);
  if (e.wheel.load(std::memory_order_relaxed) != w) return false;  // fired meanwhile
  w->unlink(e);
  e.wheel.store(nullptr, std::memory_order_release);
  return true;
}

void TimerWheel::unlink(TimerEntry& e) {
  if (e.prev) {
    e.prev->next = e.next;
  } else {
    slots_[e.slot] = e.next;
  }
  if (e.next) e.next->prev = e.prev;
  e.prev = e.next = nullptr;
  count_.fetch_sub(1, std::memory_order_relaxed);
}

std::optional<std::int64_t> TimerWheel::next_due_ms() {
  if (count_.load(std::memory_order_relaxed) == 0) return std::nullopt;
  std::lock_guard lock(mutex_);
  for (std::size_t i = 0; i < kSlots; ++i) {
    TimerEntry* e = slots_[static_cast<std::size_t>(current_ + static_cast<std::int64_t>(i)) % kSlots];
    if (e) return current_ + static_cast<std::int64_t>(i);
  }
  return current_ + static_cast<std::int64_t>(kSlots);
}

}  // namespace myrmex::scheduler::detail
