// The timer wheel on its own: arm / cancel / advance, laps, cancels on the owner's thread and from another
// thread (a task that migrated), and those racing with a fire.
#include "scheduler/detail/timer_wheel.h"

#include <doctest/doctest.h>

#include <cstring>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "tests/test_node.h"

using namespace std::chrono_literals;
using myrmex::scheduler::detail::deadline_after;
using myrmex::scheduler::detail::kCoarseFromMs;
using myrmex::scheduler::detail::kYieldPoints;
using myrmex::scheduler::detail::now_ms;
using myrmex::scheduler::detail::TimerRef;
using myrmex::scheduler::detail::TimerWheel;
using myrmex::test::scaled;

namespace {

// Wheel records which timers fired, and at which advance(now). Its thread is the owner's.
struct Wheel {
  explicit Wheel(int n) : refs(new TimerRef[static_cast<std::size_t>(n)]), fired_at(n, -1), fires(n, 0) {
    // advance() with nothing armed sets the wheel's time: the tests count ticks from `base`.
    wheel.advance(base, [](TimerRef&) {});
  }
  // Every arming ends with a cancel, even one that fired: that frees its entry.
  ~Wheel() {
    for (std::size_t i = 0; i < fires.size(); ++i) wheel.cancel(refs[i]);
  }
  int index(TimerRef& r) const { return static_cast<int>(&r - refs.get()); }
  TimerRef& operator[](int i) { return refs[static_cast<std::size_t>(i)]; }
  void arm(int i, std::int64_t at) { wheel.arm((*this)[i], base + at); }
  bool cancel(int i) { return wheel.cancel((*this)[i]); }
  void advance(std::int64_t to) {
    wheel.advance(base + to, [&](TimerRef& r) {
      fired_at[static_cast<std::size_t>(index(r))] = to;
      ++fires[static_cast<std::size_t>(index(r))];
    });
  }

  const std::int64_t base = now_ms();
  TimerWheel wheel;
  std::unique_ptr<TimerRef[]> refs;
  std::vector<std::int64_t> fired_at;
  std::vector<int> fires;
};

}  // namespace

TEST_CASE("an armed timer fires once, at the first advance that reaches its deadline") {
  Wheel w(1);
  w.arm(0, 10);
  CHECK(w.wheel.armed());
  w.advance(5);
  CHECK(w.fires[0] == 0);
  w.advance(9);
  CHECK(w.fires[0] == 0);
  w.advance(10);
  CHECK(w.fires[0] == 1);
  CHECK(w.fired_at[0] == 10);
  CHECK_FALSE(w.wheel.armed());
  w.advance(2000);  // past the next laps over its slot
  CHECK(w.fires[0] == 1);
  CHECK_FALSE(w.cancel(0));  // ends the arming that fired
  CHECK(w[0].entry == nullptr);
}

TEST_CASE("a deadline already past fires at the next advance") {
  Wheel w(1);
  w.advance(100);
  w.arm(0, 50);
  w.advance(100);  // the same tick again: still due
  CHECK(w.fires[0] == 1);
}

TEST_CASE("cancel() unlinks an armed timer, which then never fires; cancel() after the fire returns false") {
  Wheel w(3);
  w.arm(0, 10);
  w.arm(1, 10);  // same slot as 0
  w.arm(2, 20);
  CHECK(w.cancel(1));
  CHECK_FALSE(w.cancel(1));  // not armed any more
  w.advance(30);
  CHECK(w.fires == std::vector<int>{1, 0, 1});
  CHECK_FALSE(w.cancel(0));  // fired
  CHECK_FALSE(w.cancel(2));
  TimerRef never_armed;
  CHECK_FALSE(w.wheel.cancel(never_armed));
  // An entry can be armed again after a cancel or a fire.
  w.arm(1, 40);
  w.arm(0, 45);
  w.advance(50);
  CHECK(w.fires == std::vector<int>{2, 1, 1});
}

TEST_CASE(
    "a deadline beyond one lap of the wheel fires on its own lap, not on an earlier pass over its slot") {
  constexpr auto lap = static_cast<std::int64_t>(TimerWheel::kSlots);
  Wheel w(3);
  w.arm(0, lap + 476);  // shares slot 476 with the next entry
  w.arm(1, 476);
  w.arm(2, 3 * lap + 7);                                          // three laps out
  for (std::int64_t t = 1; t <= 3 * lap + 10; ++t) w.advance(t);  // tick by tick
  CHECK(w.fired_at == std::vector<std::int64_t>{lap + 476, 476, 3 * lap + 7});
  CHECK(w.fires == std::vector<int>{1, 1, 1});
}

TEST_CASE("one advance over more than a lap fires everything due, once") {
  constexpr auto lap = static_cast<std::int64_t>(TimerWheel::kSlots);
  Wheel w(4);
  w.arm(0, 1);
  w.arm(1, lap - 1);
  w.arm(2, lap + 300);
  w.arm(3, 2 * lap + 600);  // beyond this jump
  w.advance(lap + 500);
  CHECK(w.fires == std::vector<int>{1, 1, 1, 0});
  w.advance(2 * lap + 600);
  CHECK(w.fires == std::vector<int>{1, 1, 1, 1});
}

TEST_CASE("next_due_ms() is a lower bound of the earliest deadline, nullopt when nothing is armed") {
  Wheel w(2);
  CHECK_FALSE(w.wheel.next_due_ms().has_value());
  w.arm(0, 300);
  w.arm(1, 1500);  // later lap, earlier slot (476)
  auto due = w.wheel.next_due_ms();
  REQUIRE(due.has_value());
  CHECK(*due <= w.base + 300);
  CHECK(*due >= w.base);
  w.cancel(0);
  due = w.wheel.next_due_ms();
  REQUIRE(due.has_value());
  CHECK(*due <= w.base + 1500);
  w.cancel(1);
  CHECK_FALSE(w.wheel.next_due_ms().has_value());
}

TEST_CASE(
    "each of many timers with random deadlines fires exactly once, at the first advance that reaches it") {
  const int n = 5000;
  Wheel w(n);
  std::mt19937 rng(7);
  std::vector<std::int64_t> deadline(n);
  for (int i = 0; i < n; ++i) {
    deadline[static_cast<std::size_t>(i)] = static_cast<std::int64_t>(rng() % 4000);  // up to ~4 laps
    w.arm(i, deadline[static_cast<std::size_t>(i)]);
  }
  std::vector<std::int64_t> advances;
  for (std::int64_t t = 0; t < 4100; t += static_cast<std::int64_t>(rng() % 40)) {  // steps of 0..39 ticks
    w.advance(t);
    advances.push_back(t);
  }
  int wrong = 0;
  for (int i = 0; i < n; ++i) {
    auto k = static_cast<std::size_t>(i);
    // The first advance at or past the deadline.
    std::int64_t expected = *std::lower_bound(advances.begin(), advances.end(), deadline[k]);
    if (w.fires[k] != 1 || w.fired_at[k] != expected) {
      if (++wrong <= 5) {
        INFO("timer ", i, " deadline ", deadline[k], " fired ", w.fires[k], " times, last at ", w.fired_at[k],
             ", expected once at ", expected);
        CHECK(false);
      }
    }
  }
  CHECK(wrong == 0);
  CHECK_FALSE(w.wheel.armed());
}

TEST_CASE("a cancel from another thread hands the entry back: the owner frees it at its next advance") {
  Wheel w(2);
  TimerWheel elsewhere;  // the wheel of the scheduler the task migrated to
  w.arm(0, 10);
  w.arm(1, 10);
  std::thread([&] {
    CHECK(elsewhere.cancel(w[0]));
    CHECK(w[0].entry == nullptr);
    elsewhere.arm(w[0], 0);  // armed again at once, on the other wheel
  }).join();
  CHECK(w.wheel.armed());
  auto due = w.wheel.next_due_ms();
  REQUIRE(due.has_value());
  CHECK(*due <= w.base + 1);  // due now: the owner wakes to free it
  w.advance(20);
  CHECK(w.fires == std::vector<int>{0, 1});  // 0 was cancelled, 1 fired
  CHECK_FALSE(w.wheel.armed());
  CHECK_FALSE(w.cancel(1));
  CHECK(elsewhere.cancel(w[0]));  // the new arming, on the wheel it was armed on
}

namespace {
std::atomic<bool> in_fire_window{false};
// Widens the window between claiming an entry and firing it.
void slow_fire(const char* name) {
  if (std::strcmp(name, "timer.fire.unlinked") != 0) return;
  in_fire_window.store(true);
  std::this_thread::sleep_for(20ms);
}
}  // namespace

// A receive cancels its time-out and then resets `timed_out` for the next receive; if a fire already
// under way could still land after cancel() returned, it would end that next receive early.
TEST_CASE("cancel() from another thread returns only after a fire already under way has landed" *
          doctest::skip(!kYieldPoints)) {
  Wheel w(1);
  TimerWheel elsewhere;
  w.arm(0, 1);
  in_fire_window = false;
  myrmex::test::YieldHookGuard hook(&slow_fire);
  std::atomic<bool> landed{false};
  std::thread owner([&] { w.wheel.advance(w.base + 5, [&](TimerRef&) { landed.store(true); }); });
  while (!in_fire_window.load()) std::this_thread::yield();
  bool cancelled = elsewhere.cancel(w[0]);
  bool landed_before_cancel_returned = landed.load();
  owner.join();
  CHECK_FALSE(cancelled);  // it was firing: too late to cancel
  CHECK(landed_before_cancel_returned);
  CHECK(w[0].entry == nullptr);
}

TEST_SUITE("stress") {
  // Each timer belongs to a "task" that moves between the owner's thread and another one, as a process
  // migrates: the owner arms it and sometimes cancels it itself, the other thread cancels what it is handed,
  // while the owner keeps firing. Every arming must end either fired or cancelled, never both, and a cancel
  // that returns false must find its fire already landed.
  TEST_CASE("cancels on both threads racing with fires: each arming fires once or is cancelled, never both") {
    const int n = 64;
    const long rounds = scaled(30000);
    Wheel w(n);
    TimerWheel elsewhere;
    // Where each task runs now: 0 the owner's thread, 1 the other one. Handing it over publishes the ref.
    std::unique_ptr<std::atomic<int>[]> on_other(new std::atomic<int>[n]);
    std::unique_ptr<std::atomic<bool>[]> fired(new std::atomic<bool>[n]);
    for (int i = 0; i < n; ++i)
      on_other[static_cast<std::size_t>(i)] = 0, fired[static_cast<std::size_t>(i)] = false;
    std::vector<long> arms(n, 0), owner_cancels(n, 0), other_cancels(n, 0);
    std::atomic<long> wrong_other{0}, other_any{0};
    std::atomic<bool> done{false};
    std::thread other([&] {
      while (!done.load(std::memory_order_acquire)) {
        for (int i = 0; i < n; ++i) {
          auto k = static_cast<std::size_t>(i);
          if (on_other[k].load(std::memory_order_acquire) == 0) continue;
          bool cancelled = elsewhere.cancel(w[i]);
          // The fire's flag must be set exactly when the cancel came too late.
          if (cancelled == fired[k].load(std::memory_order_relaxed)) ++wrong_other;
          if (cancelled) ++other_cancels[k], ++other_any;
          on_other[k].store(0, std::memory_order_release);
        }
      }
    });
    std::minstd_rand rng(5);
    std::int64_t t = 0;
    auto fire = [&](TimerRef& r) {
      auto k = static_cast<std::size_t>(w.index(r));
      fired[k].store(true, std::memory_order_relaxed);
      ++w.fires[k];
    };
    // On a loaded machine the other thread may not get a core during the rounds, or get it only while this
    // one is off its core and every handed-over timer fires first: go on until it cancelled once, yielding
    // each round so it can.
    for (long r = 0; r < rounds || (other_any.load() == 0 && r < 100 * rounds); ++r) {
      if (r >= rounds) std::this_thread::yield();
      for (int i = 0; i < n; ++i) {
        auto k = static_cast<std::size_t>(i);
        if (on_other[k].load(std::memory_order_acquire) != 0) continue;
        if (w.cancel(i)) ++owner_cancels[k];  // ends the last arming (false if it fired)
        fired[k].store(false, std::memory_order_relaxed);
        w.arm(i, t + static_cast<std::int64_t>(rng() % 30));
        ++arms[k];
        if (rng() % 4 == 0) on_other[k].store(1, std::memory_order_release);
      }
      w.wheel.advance(w.base + ++t, fire);
    }
    done = true;
    other.join();
    for (int i = 0; i < n; ++i) {
      if (w.cancel(i)) ++owner_cancels[static_cast<std::size_t>(i)];
    }
    w.wheel.advance(w.base + t + 100, fire);
    CHECK_FALSE(w.wheel.armed());
    int wrong = 0;
    long total_fires = 0, total_owner = 0;
    for (int i = 0; i < n; ++i) {
      auto k = static_cast<std::size_t>(i);
      total_fires += w.fires[k];
      total_owner += owner_cancels[k];
      if (arms[k] != w.fires[k] + owner_cancels[k] + other_cancels[k]) ++wrong;
    }
    long total_arms = 0;
    for (long a : arms) total_arms += a;
    CAPTURE(total_arms);
    CAPTURE(total_fires);
    CAPTURE(total_owner);
    CAPTURE(other_any.load());
    CHECK(wrong == 0);
    CHECK(wrong_other.load() == 0);
    CHECK(other_any.load() > 0);  // otherwise nothing raced
    CHECK(total_owner > 0);
    CHECK(total_fires > 0);
  }
}

TEST_CASE("deadline_after() never lies before now + ms + 1, from the precise clock or the coarse one") {
  // Long time-outs start from the coarse clock, which lags the precise one by up to a kernel tick: without
  // the slack added to it, most of these deadlines would fall a few milliseconds early.
  for (std::int64_t ms : {std::int64_t{1}, std::int64_t{999}, kCoarseFromMs, std::int64_t{5000}})
    for (int i = 0; i < 200; ++i) {
      const std::int64_t before = now_ms();
      const std::int64_t deadline = deadline_after(ms);
      CHECK(deadline >= before + ms + 1);
      if (i % 20 == 0) std::this_thread::sleep_for(700us);
    }
}
