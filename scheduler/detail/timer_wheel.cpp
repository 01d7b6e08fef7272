#include "scheduler/detail/timer_wheel.h"

#include <time.h>

#include <chrono>
#include <thread>
#include <utility>

#include "scheduler/detail/systematic.h"

namespace myrmex::scheduler::detail {

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

namespace {
// The coarse clock is CLOCK_MONOTONIC (steady_clock's) as of the last kernel tick: never ahead of it,
// behind by less than its resolution. Negative when the kernel offers none.
const std::int64_t coarse_slack_ms = [] {
  timespec res{};
  if (clock_getres(CLOCK_MONOTONIC_COARSE, &res) != 0) return std::int64_t{-1};
  return 2 * (res.tv_sec * 1000 + res.tv_nsec / 1'000'000 + 1);
}();
}  // namespace

std::int64_t deadline_after(std::int64_t ms) {
  timespec ts{};
  if (ms >= kCoarseFromMs && coarse_slack_ms >= 0 && clock_gettime(CLOCK_MONOTONIC_COARSE, &ts) == 0)
    return ts.tv_sec * 1000 + ts.tv_nsec / 1'000'000 + coarse_slack_ms + ms + 1;
  return now_ms() + ms + 1;
}

TimerWheel::TimerWheel() : current_(now_ms()) {}

TimerWheel::~TimerWheel() {
  reclaim_cancelled();
  // Nothing should be armed when a node ends (each task cancels its timer before it exits).
  for (TimerEntry* head : slots_) {
    while (head) delete std::exchange(head, head->next);
  }
  while (free_) delete std::exchange(free_, free_->next);
}

TimerEntry* TimerWheel::allocate() {
  if (!free_) return new TimerEntry;
  --free_count_;
  return std::exchange(free_, free_->next);
}

void TimerWheel::recycle(TimerEntry* e) {
  if (free_count_ == kMaxFree) {
    delete e;
    return;
  }
  e->next = free_;
  free_ = e;
  ++free_count_;
}

void TimerWheel::arm(TimerRef& r, std::int64_t deadline_ms) {
  TimerEntry* e = allocate();
  // A deadline already past lands in the current slot and fires at the next advance().
  std::int64_t tick = deadline_ms < current_ ? current_ : deadline_ms;
  e->ref = &r;
  e->wheel = this;
  e->slot = static_cast<std::uint32_t>(static_cast<std::size_t>(tick) % kSlots);
  e->deadline_ms = deadline_ms;
  // relaxed: a cancel on another thread runs after the task migrated there, which synchronizes with us.
  e->state.store(TimerState::armed, std::memory_order_relaxed);
  TimerEntry*& head = slots_[e->slot];
  e->prev = nullptr;
  e->next = head;
  if (head) head->prev = e;
  head = e;
  e->linked = true;
  ++linked_;
  r.entry = e;
}

bool TimerWheel::cancel(TimerRef& r) {
  TimerEntry* e = std::exchange(r.entry, nullptr);
  if (!e) return false;
  if (e->wheel == this) {
    // Our own entry: we fire on this thread, so it is armed or has fired, not firing.
    bool was_armed = e->state.load(std::memory_order_relaxed) == TimerState::armed;
    if (was_armed) unlink(*e);
    recycle(e);
    return was_armed;
  }
  TimerState expected = TimerState::armed;
  if (e->state.compare_exchange_strong(expected, TimerState::cancelled, std::memory_order_acq_rel)) {
    // The entry is its owner's now: hand it back for freeing.
    TimerWheel* owner = e->wheel;
    e->next_cancelled = owner->cancelled_.load(std::memory_order_relaxed);
    while (!owner->cancelled_.compare_exchange_weak(e->next_cancelled, e, std::memory_order_release,
                                                    std::memory_order_relaxed)) {
    }
    return true;
  }
  // Claimed by its owner to fire: wait until the fire has landed. On a seeded node the owner may be waiting
  // for the turn inside the fire, so hand it on rather than spin.
  while (e->state.load(std::memory_order_acquire) != TimerState::fired) {
    if (kYieldPoints && systematic::controlled()) {
      yield_point("timer.cancel.contended");
    } else {
      std::this_thread::yield();
    }
  }
  recycle(e);
  return false;
}

void TimerWheel::unlink(TimerEntry& e) {
  if (e.prev) {
    e.prev->next = e.next;
  } else {
    slots_[e.slot] = e.next;
  }
  if (e.next) e.next->prev = e.prev;
  e.prev = e.next = nullptr;
  e.linked = false;
  --linked_;
}

void TimerWheel::reclaim_cancelled() {
  TimerEntry* e = cancelled_.exchange(nullptr, std::memory_order_acquire);
  while (e) {
    TimerEntry* next = e->next_cancelled;
    if (e->linked) unlink(*e);  // advance() may have met it already
    recycle(e);
    e = next;
  }
}

std::optional<std::int64_t> TimerWheel::next_due_ms() const {
  if (cancelled_.load(std::memory_order_relaxed) != nullptr) return current_ + 1;
  if (linked_ == 0) return std::nullopt;
  for (std::size_t i = 0; i < kSlots; ++i) {
    TimerEntry* e = slots_[static_cast<std::size_t>(current_ + static_cast<std::int64_t>(i)) % kSlots];
    if (e) return current_ + static_cast<std::int64_t>(i);
  }
  return current_ + static_cast<std::int64_t>(kSlots);
}

}  // namespace myrmex::scheduler::detail
