// The run queue on its own: FIFO, full, take_half, steal_into, and thieves racing the owner.
#include "scheduler/detail/run_queue.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "tests/test_node.h"

using myrmex::scheduler::detail::RunQueue;
using myrmex::scheduler::detail::Task;
using myrmex::test::scaled;

namespace {

// The queue only stores pointers: stand-ins numbered from 0, never dereferenced.
constexpr std::uintptr_t kStep = alignof(std::max_align_t);
Task* task(long i) {
  return reinterpret_cast<Task*>((static_cast<std::uintptr_t>(i) + 1) * kStep);
}
long number(Task* t) {
  return static_cast<long>(reinterpret_cast<std::uintptr_t>(t) / kStep) - 1;
}

constexpr auto kCap = static_cast<long>(RunQueue::kCapacity);

}  // namespace

TEST_CASE("push then pop is FIFO; pop on an empty queue returns null") {
  RunQueue q;
  CHECK(q.empty());
  CHECK(q.pop() == nullptr);
  // Many rounds, so head and tail pass the ring's end many times.
  long in = 0, out = 0;
  for (int round = 0; round < 100; ++round) {
    for (int i = 0; i < round % 37; ++i) REQUIRE(q.push(task(in++)));
    CHECK(q.size() == static_cast<std::uint32_t>(in - out));
    while (Task* t = q.pop()) CHECK(number(t) == out++);
    CHECK(out == in);
    CHECK(q.empty());
  }
}

TEST_CASE("push fails when the ring is full and succeeds again after a pop") {
  RunQueue q;
  for (long i = 0; i < kCap; ++i) REQUIRE(q.push(task(i)));
  CHECK(q.size() == RunQueue::kCapacity);
  CHECK_FALSE(q.push(task(kCap)));
  CHECK(q.size() == RunQueue::kCapacity);  // the refused push changed nothing
  CHECK(number(q.pop()) == 0);
  CHECK(q.push(task(kCap)));
  CHECK_FALSE(q.push(task(kCap + 1)));
  for (long i = 1; i <= kCap; ++i) CHECK(number(q.pop()) == i);
  CHECK(q.pop() == nullptr);
}

TEST_CASE("take_half() moves the older half out, in order, and leaves the newer half") {
  for (long n : {0L, 1L, 2L, 5L, kCap}) {
    CAPTURE(n);
    RunQueue q;
    for (long i = 0; i < n; ++i) REQUIRE(q.push(task(i)));
    std::array<Task*, RunQueue::kCapacity> out{};
    std::uint32_t taken = q.take_half(out);
    CHECK(taken == static_cast<std::uint32_t>(n - n / 2));
    for (std::uint32_t i = 0; i < taken; ++i) CHECK(number(out[i]) == static_cast<long>(i));
    for (long i = taken; i < n; ++i) CHECK(number(q.pop()) == i);
    CHECK(q.empty());
  }
}

TEST_CASE("steal_into() moves about half, oldest first, capped at half a ring") {
  for (long n : {0L, 1L, 3L, 200L, kCap}) {
    CAPTURE(n);
    RunQueue victim, thief;
    for (long i = 0; i < n; ++i) REQUIRE(victim.push(task(i)));
    std::uint32_t moved = victim.steal_into(thief);
    long expected = std::min(n - n / 2, kCap / 2);
    CHECK(moved == static_cast<std::uint32_t>(expected));
    CHECK(thief.size() == moved);
    for (long i = 0; i < expected; ++i) CHECK(number(thief.pop()) == i);
    for (long i = expected; i < n; ++i) CHECK(number(victim.pop()) == i);
    CHECK(victim.empty());
    CHECK(thief.empty());
  }
}

TEST_SUITE("stress") {
  TEST_CASE("thieves steal while the owner pushes, pops and overflows: every task is taken exactly once") {
    const long n = scaled(2000000);
    const int thieves = 2;
    RunQueue q;
    std::unique_ptr<std::atomic<int>[]> taken(new std::atomic<int>[static_cast<std::size_t>(n)]);
    for (long i = 0; i < n; ++i) taken[static_cast<std::size_t>(i)] = 0;
    std::atomic<bool> owner_done{false};
    std::atomic<long> out_of_order{0}, steals{0};
    // Each taker must see tasks in push order: thieves and the owner both take from the head.
    auto take = [&](Task* t, long& last) {
      long i = number(t);
      if (i <= last) ++out_of_order;
      last = i;
      ++taken[static_cast<std::size_t>(i)];
    };
    std::vector<std::thread> threads;
    for (int k = 0; k < thieves; ++k)
      threads.emplace_back([&] {
        RunQueue mine;  // a thief steals into its own, empty queue, as a scheduler does
        long last = -1;
        for (;;) {
          bool done = owner_done.load();
          if (q.steal_into(mine) > 0) ++steals;
          while (Task* t = mine.pop()) take(t, last);
          if (done && q.empty()) return;
        }
      });
    long last_popped = -1;
    std::vector<Task*> overflow;  // what the owner moved out on a full queue (Scheduler::push_local)
    std::array<Task*, RunQueue::kCapacity> batch;
    for (long i = 0; i < n; ++i) {
      if (!q.push(task(i))) {
        std::uint32_t k = q.take_half(batch);
        overflow.insert(overflow.end(), batch.begin(), batch.begin() + k);
        REQUIRE(q.push(task(i)));
      }
      if (i % 3 == 0)
        if (Task* t = q.pop()) take(t, last_popped);
    }
    owner_done = true;
    while (Task* t = q.pop()) take(t, last_popped);
    for (auto& t : threads) t.join();
    long last_overflow = -1;
    for (Task* t : overflow) take(t, last_overflow);
    long wrong = 0;
    for (long i = 0; i < n; ++i) wrong += taken[static_cast<std::size_t>(i)] != 1;
    CAPTURE(steals.load());
    CAPTURE(overflow.size());
    CHECK(wrong == 0);
    CHECK(out_of_order == 0);
    CHECK(steals > 0);  // otherwise nothing raced
  }
}
