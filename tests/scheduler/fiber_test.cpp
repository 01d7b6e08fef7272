// Fiber switching keeps the C++ runtime's exception state per process (scheduler/detail/fiber.cpp).
//
// libstdc++ keeps the caught-exceptions stack and std::uncaught_exceptions() per thread. Processes share
// their scheduler's thread, so without a save and restore at every switch a process that parks inside a
// catch block sees (and rethrows) another process's exception, and one parked in a destructor during
// unwinding makes every other process on its thread look as if it were unwinding too (the runtime then
// holds back the exit signals that would kill it).
#include <doctest/doctest.h>

#include <atomic>
#include <exception>
#include <stdexcept>
#include <string>
#include <thread>
#include <typeinfo>
#include <vector>

#include "tests/test_node.h"

using namespace std::chrono_literals;
using myrmex::Pid;
using myrmex::Term;
using myrmex::test::config;
using myrmex::test::wait_until;

namespace {

struct Go {};

// Rethrown is what a process saw after parking inside its catch block.
struct Rethrown {
  std::string type;              // typeid name of what `throw;` rethrew
  std::string what;              // its what()
  bool current_was_own = false;  // std::current_exception() after the park was the one it caught
  int uncaught_in_catch = -1;    // std::uncaught_exceptions() after the park
};

template <class E>
void catch_park_rethrow(const char* what, Rethrown& out) {
  try {
    throw E(what);
  } catch (...) {
    std::exception_ptr mine = std::current_exception();
    myrmex::receive([](Go&) {});  // parks inside the catch block; the other process throws meanwhile
    out.current_was_own = std::current_exception() == mine;
    out.uncaught_in_catch = std::uncaught_exceptions();
    try {
      throw;
    } catch (std::exception& e) {
      out.type = typeid(e).name();
      out.what = e.what();
    }
  }
}

bool parked(Pid pid) {
  auto info = myrmex::process_info(pid);
  return info && info->status == myrmex::ProcessStatus::waiting;
}

// kill_and_wait() kills `victims` with exit(pid, kill) and returns how many are dead within `limit`.
int kill_and_wait(const std::vector<Pid>& victims, std::chrono::milliseconds limit) {
  for (Pid v : victims) myrmex::exit(v, Term::atom("kill"));
  auto end = std::chrono::steady_clock::now() + limit;
  int dead = 0;
  for (;;) {
    dead = 0;
    for (Pid v : victims) dead += myrmex::alive(v) ? 0 : 1;
    if (dead == static_cast<int>(victims.size()) || std::chrono::steady_clock::now() > end) return dead;
    myrmex::sleep_for(1ms);
  }
}

// ParksWhenDestroyed's destructor parks (receive) while the exception that destroys it propagates.
struct ParksWhenDestroyed {
  std::atomic<bool>& parked;
  std::atomic<int>& uncaught_after_park;
  std::atomic<std::thread::id>* parked_on = nullptr;
  std::atomic<std::thread::id>* resumed_on = nullptr;
  ~ParksWhenDestroyed() {
    if (parked_on) *parked_on = std::this_thread::get_id();
    parked = true;
    myrmex::receive([](Go&) {});
    if (resumed_on) *resumed_on = std::this_thread::get_id();
    uncaught_after_park = std::uncaught_exceptions();
  }
};

// Hog spins without a charge point, so it holds its scheduler thread until released: the tests use it to
// steer the next runnable process to the other scheduler.
struct Hog {
  std::atomic<bool> running{false};
  std::atomic<bool> release{false};
  std::atomic<std::thread::id> on;
  Pid pid;
  void start(myrmex::Node& node) {
    pid = node.spawn([this] {
      on = std::this_thread::get_id();
      running = true;
      while (!release.load(std::memory_order_relaxed)) {
      }
    });
    REQUIRE(wait_until([&] { return running.load(); }));
  }
  void stop(myrmex::Node& node) {
    release = true;
    REQUIRE(wait_until([&] { return !node.alive(pid); }));
  }
};

// hog_on() returns a hog holding the scheduler that runs on thread `target` (two schedulers).
std::unique_ptr<Hog> hog_on(myrmex::Node& node, std::thread::id target) {
  auto first = std::make_unique<Hog>();
  first->start(node);
  if (first->on.load() == target) return first;
  auto second = std::make_unique<Hog>();
  second->start(node);  // the other scheduler is held by `first`: this one lands on `target`
  first->stop(node);
  return second;
}

}  // namespace

TEST_CASE("a process parked inside a catch block rethrows its own exception with throw;") {
  for (unsigned schedulers : {1u, 2u}) {
    CAPTURE(schedulers);
    myrmex::Node node(config(schedulers));
    Rethrown a, b;
    node.run([&] {
      Pid pa = myrmex::spawn([&] { catch_park_rethrow<std::runtime_error>("from a", a); });
      Pid pb = myrmex::spawn([&] { catch_park_rethrow<std::logic_error>("from b", b); });
      while (!parked(pa) || !parked(pb)) myrmex::yield();
      // Both are parked inside their catch blocks: the caller (no exception of its own) sees none.
      CHECK(std::current_exception() == nullptr);
      CHECK(std::uncaught_exceptions() == 0);
      myrmex::send(pa, Go{});
      while (myrmex::alive(pa)) myrmex::sleep_for(1ms);
      myrmex::send(pb, Go{});
      while (myrmex::alive(pb)) myrmex::sleep_for(1ms);
    });
    CHECK(a.type == std::string(typeid(std::runtime_error).name()));
    CHECK(a.what == "from a");
    CHECK(a.current_was_own);
    CHECK(a.uncaught_in_catch == 0);
    CHECK(b.type == std::string(typeid(std::logic_error).name()));
    CHECK(b.what == "from b");
    CHECK(b.current_was_own);
    CHECK(b.uncaught_in_catch == 0);
  }
}

TEST_CASE("a process parked in a destructor during unwinding leaves others on its scheduler killable") {
  // One scheduler: the unwinding process and the victims share its thread.
  myrmex::Node node(config(1));
  std::atomic<bool> in_destructor{false};
  std::atomic<int> uncaught_after_park{-1};
  int victims_dead = -1;
  int uncaught_beside = -1;
  Term unwinding_reason = node.run([&] {
    Pid unwinding = myrmex::spawn([&] {
      ParksWhenDestroyed p{in_destructor, uncaught_after_park};
      throw std::runtime_error("unwinding");
    });
    while (!in_destructor || !parked(unwinding)) myrmex::yield();
    uncaught_beside = std::uncaught_exceptions();  // another process: not unwinding
    std::vector<Pid> victims;
    for (int i = 0; i < 10; ++i) victims.push_back(myrmex::spawn([] { myrmex::receive([](Go&) {}); }));
    for (Pid v : victims)
      while (!parked(v)) myrmex::yield();
    victims_dead = kill_and_wait(victims, 2000ms);
    myrmex::send(unwinding, Go{});
    while (myrmex::alive(unwinding)) myrmex::sleep_for(1ms);
  });
  CHECK(uncaught_beside == 0);
  CHECK(victims_dead == 10);
  CHECK(uncaught_after_park.load() == 1);  // the unwinding process still knows it is unwinding
}

TEST_CASE("an unwinding process that resumes on another scheduler leaves both schedulers' kills working") {
  auto c = config(2);
  c.log_long_schedules = false;  // the hogs below are long schedules on purpose
  myrmex::Node node(c);
  std::atomic<bool> in_destructor{false};
  std::atomic<int> uncaught_after_park{-1};
  std::atomic<std::thread::id> parked_on, resumed_on;
  Pid unwinding = node.spawn([&] {
    ParksWhenDestroyed p{in_destructor, uncaught_after_park, &parked_on, &resumed_on};
    throw std::runtime_error("unwinding");
  });
  REQUIRE(wait_until([&] {
    return in_destructor && node.process_info(unwinding)->status == myrmex::ProcessStatus::waiting;
  }));
  // Hold the scheduler it parked on, so it resumes (and ends its unwinding) on the other one.
  {
    auto hog = hog_on(node, parked_on);
    REQUIRE(hog->on.load() == parked_on.load());
    node.send(unwinding, Go{});
    REQUIRE(wait_until([&] { return !node.alive(unwinding); }));
    hog->stop(node);
  }
  REQUIRE(resumed_on.load() != parked_on.load());
  CHECK(uncaught_after_park.load() == 1);
  // Ten kills issued from each scheduler thread (the victims handle the signal where their killer runs).
  int dead = 0;
  const std::thread::id threads[2] = {parked_on.load(), resumed_on.load()};
  for (int i = 0; i < 2; ++i) {
    const std::thread::id on = threads[i];
    auto hog = hog_on(node, threads[1 - i]);
    std::thread::id ran_on;
    int uncaught = -1;
    node.run([&] {
      ran_on = std::this_thread::get_id();
      uncaught = std::uncaught_exceptions();
      std::vector<Pid> victims;
      for (int i = 0; i < 10; ++i) victims.push_back(myrmex::spawn([] { myrmex::receive([](Go&) {}); }));
      for (Pid v : victims)
        while (!parked(v)) myrmex::yield();
      dead += kill_and_wait(victims, 2000ms);
    });
    hog->stop(node);
    CHECK(ran_on == on);
    CHECK(uncaught == 0);
  }
  CHECK(dead == 20);
}
