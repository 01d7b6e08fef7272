// The seeded mode: one scheduler thread runs at a time, in turns fixed by the seed, so a race window marked
// by a yield point is hit or missed by the seed alone, and the same seed replays the same interleaving.
#include "scheduler/detail/systematic.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "tests/test_node.h"

using myrmex::Pid;
using myrmex::scheduler::detail::kYieldPoints;
using myrmex::scheduler::detail::yield_point;
using myrmex::test::config;
using myrmex::test::for_each_seed;
using myrmex::test::wait_all_asleep;
namespace systematic = myrmex::scheduler::detail::systematic;

namespace {

struct Stop {};

struct Outcome {
  long counter = -1;
  std::uint64_t trace = 0;
  std::uint64_t decisions = 0;
};

// A deliberately racy toy: two processes each read a shared counter, reach a yield point, and write back
// the value read plus one. The update is lost when both read before either writes, which needs them to
// run on different schedulers and the turn to pass at the yield point. Nothing in it depends on the
// clock, nothing comes from outside the node once it runs, and no process exits before the outcome is
// recorded: so the outcome and the trace are a function of the seed (scheduler/detail/systematic.h).
Outcome racy_toy() {
  myrmex::Node node(config(2));
  wait_all_asleep(node);
  std::atomic<long> counter{0};
  Outcome out;
  node.run([&] {
    Pid me = myrmex::self();
    std::vector<Pid> racers;
    for (int k = 0; k < 2; ++k)
      racers.push_back(myrmex::spawn([&counter, me] {
        long v = counter.load(std::memory_order_relaxed);
        yield_point("toy.read");  // the race window: the other racer may read the counter meanwhile
        counter.store(v + 1, std::memory_order_relaxed);
        myrmex::send(me, 1);
        myrmex::receive([](Stop) {});  // exit only after the outcome is recorded
      }));
    for (int k = 0; k < 2; ++k) myrmex::receive([](int) {});
    out.counter = counter.load(std::memory_order_relaxed);
    out.trace = systematic::trace();
    out.decisions = systematic::decisions();
    for (Pid p : racers) myrmex::send(p, Stop{});
  });
  return out;
}

}  // namespace

TEST_CASE(
    "seeded: the same seed gives the same interleaving, and the seed decides whether a race window is hit" *
    doctest::skip(!kYieldPoints)) {
  long lost = 0;
  long seeds = for_each_seed(50, [&](std::uint64_t) {
    Outcome a = racy_toy();
    Outcome b = racy_toy();
    CHECK(a.counter == b.counter);
    CHECK(a.trace == b.trace);
    CHECK(a.decisions == b.decisions);
    CHECK(a.decisions > 0);
    CHECK((a.counter == 1 || a.counter == 2));
    lost += a.counter == 1;
  });
  MESSAGE("the racy toy lost its update under ", lost, " of ", seeds, " seeds");
  if (seeds >= 20) {
    CHECK(lost > 0);      // some seeds hit the window
    CHECK(lost < seeds);  // and some do not
  }
}

TEST_CASE("seeded: only one scheduler thread of the node runs at a time" * doctest::skip(!kYieldPoints)) {
  // Processes on four schedulers each step through a region with no yield point in it. Unseeded, two
  // schedulers can be inside at once; seeded, never.
  auto overlaps = [](bool seeded) {
    if (seeded) REQUIRE(systematic::enable(7));
    long seen = 0;
    {
      myrmex::Node node(config(4));
      std::atomic<int> inside{0};
      std::atomic<long> overlapped{0};
      node.run([&] {
        Pid me = myrmex::self();
        for (int k = 0; k < 8; ++k)
          myrmex::spawn([&, me] {
            for (int i = 0; i < 300; ++i) {
              if (inside.fetch_add(1) != 0) ++overlapped;
              for (int spin = 0; spin < 2000; ++spin) asm volatile("" ::: "memory");  // work, no yield point
              inside.fetch_sub(1);
              yield_point("toy.step");
              if (i % 10 == 0) myrmex::yield();  // let the schedulers steal and move them around
            }
            myrmex::send(me, 1);
          });
        for (int k = 0; k < 8; ++k) myrmex::receive([](int) {});
      });
      seen = overlapped.load();
    }
    systematic::disable();
    return seen;
  };
  long unseeded = overlaps(false);
  long seeded = overlaps(true);
  MESSAGE("regions entered while another scheduler was inside: ", unseeded, " unseeded, ", seeded, " seeded");
  CHECK(seeded == 0);
}

namespace {
std::atomic<long> fires_seen{0}, cancels_contended{0};
void count_timer_points(const char* name) {
  if (std::strcmp(name, "timer.fire.unlinked") == 0) ++fires_seen;
  if (std::strcmp(name, "timer.cancel.contended") == 0) ++cancels_contended;
}
}  // namespace

TEST_CASE("seeded: time-outs, sends from outside and exits run to the end (without replaying exactly)" *
          doctest::skip(!kYieldPoints)) {
  // The seeded mode must not hang on what it cannot make deterministic: timers and futex sleeps that end
  // by time, a thread outside the node sending, processes exiting with their frees deferred. And a fire
  // hands the turn on with its wheel locked (timer.fire.unlinked): a task woken meanwhile that cancels its
  // time-out on another scheduler must hand the turn back rather than block on that lock.
  myrmex::test::YieldHookGuard hook(&count_timer_points);
  fires_seen = 0;
  cancels_contended = 0;
  for_each_seed(10, [](std::uint64_t) {
    myrmex::Node node(config(3));
    std::atomic<int> got{0};
    Pid echo = node.spawn([&] {
      for (;;) myrmex::receive([&](int) { ++got; }, myrmex::after(std::chrono::milliseconds(1), [] {}));
    });
    node.run([] {
      Pid me = myrmex::self();
      // Pairs whose receiver times out about when its message comes, on schedulers that keep changing.
      for (int k = 0; k < 10; ++k) {
        Pid pong = myrmex::spawn([] {
          for (int i = 0; i < 30; ++i)
            myrmex::receive([](Pid from) { myrmex::send(from, 1); },
                            myrmex::after(std::chrono::milliseconds(1), [] {}));
        });
        myrmex::spawn([pong, me] {
          for (int i = 0; i < 30; ++i) {
            myrmex::send(pong, myrmex::self());
            myrmex::receive([](int) {}, myrmex::after(std::chrono::milliseconds(1), [] {}));
          }
          myrmex::send(me, 1);
        });
      }
      for (int k = 0; k < 10; ++k) myrmex::receive([](int) {});
    });
    for (int i = 0; i < 50; ++i) node.send(echo, i);
    CHECK(myrmex::test::wait_until([&] { return got.load() == 50; }, std::chrono::seconds(30)));
  });
  MESSAGE(fires_seen.load(), " fires, ", cancels_contended.load(),
          " turns handed on by a cancel waiting for one");
}
