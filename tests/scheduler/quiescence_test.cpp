// Quiescence: a deferred free runs only after every online scheduler passed a quiescent point, and an
// offline (sleeping) scheduler holds nothing up.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

#include "scheduler/detail/quiescence.h"
#include "scheduler/detail/scheduler.h"

namespace sd = myrmex::scheduler::detail;

namespace {
void count(void* counter, std::uint64_t a, std::uint64_t) {
  *static_cast<int*>(counter) += static_cast<int>(a);
}
void count_atomic(void* counter, std::uint64_t a, std::uint64_t) {
  static_cast<std::atomic<int>*>(counter)->fetch_add(static_cast<int>(a));
}
}  // namespace

TEST_CASE("a deferred callback waits for every online scheduler's next quiescent point") {
  sd::Quiescence q(2);
  int freed = 0;
  q.online(0);
  q.online(1);
  q.defer(0, count, &freed, 1, 0);
  q.passed(0);
  CHECK(freed == 0);  // scheduler 1 may still hold the pointer
  q.passed(1);
  CHECK(freed == 0);  // it is scheduler 0's item: freed at scheduler 0's next quiescent point
  q.passed(0);
  CHECK(freed == 1);
}

TEST_CASE("an offline scheduler does not hold frees up, and a sleeper hands its items over") {
  sd::Quiescence q(2);
  int freed = 0;
  q.online(0);
  q.online(1);
  q.defer(1, count, &freed, 1, 0);
  q.offline(1);  // scheduler 0 has not passed yet: the item moves to the shared list
  CHECK(freed == 0);
  q.passed(0);  // the first pass starts a new epoch
  q.passed(0);
  CHECK(freed == 1);
}

TEST_CASE("callbacks from threads outside the schedulers run, and the rest run at destruction") {
  int freed = 0;
  {
    sd::Quiescence q(1);
    q.online(0);
    q.defer(-1, count, &freed, 1, 0);
    q.passed(0);
    q.passed(0);
    CHECK(freed == 1);
    q.defer(0, count, &freed, 10, 0);
  }
  CHECK(freed == 11);
}

TEST_CASE("a free deferred by a thread outside the schedulers runs while they all sleep") {
  // A thread outside the node that drops a process's last reference (Node::alive(), say, racing with the
  // exit) defers the free. Schedulers that went to sleep before that must not leave it waiting for
  // whatever wakes them next: the process, and what it owns, would linger until then.
  myrmex::scheduler::SchedulerConfig config;
  config.schedulers = 2;
  config.pin = false;
  sd::SchedulerGroup group(config, [](unsigned, std::uint64_t, std::chrono::milliseconds) {});
  group.start();
  auto asleep = [&] {
    for (auto& s : group.stats())
      if (s.sleeps == 0) return false;
    return true;
  };
  while (!asleep()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // past their spin: asleep with no time-out
  std::atomic<int> freed{0};
  group.defer(count_atomic, &freed, 1, 0);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (freed == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  CHECK(freed.load() == 1);
  group.stop();
}
