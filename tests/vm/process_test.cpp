// Processes: lifecycle, exit reasons, PIDs, process_info, signals, fairness, blocking pool, watchdog.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/test_node.h"

using namespace std::chrono_literals;
using myrmex::Pid;
using myrmex::Term;
using myrmex::test::config;
using myrmex::test::exception_term;
using myrmex::test::wait_until;

namespace {
struct Go {};
// spawn_spinner() starts a process that charges consume(10) per lap, counting laps, until `stop`.
void spawn_spinner(myrmex::Node& node, std::atomic<bool>& stop, std::atomic<long>& spins) {
  node.spawn([&] {
    while (!stop) {
      myrmex::consume(10);
      ++spins;
    }
  });
}
// ping_pong() makes `rounds` round trips with a new echo process, through runnext on one scheduler.
void ping_pong(int rounds) {
  Pid echo = myrmex::spawn([] {
    for (;;) myrmex::receive([](Pid from) { myrmex::send(from, 0); });
  });
  for (int i = 0; i < rounds; ++i) {
    myrmex::send(echo, myrmex::self());
    myrmex::receive([](int) {});
  }
}
}  // namespace

TEST_CASE("a process that returns exits with reason normal, and its PID dies") {
  myrmex::Node node(config(2));
  Pid child;
  Term reason = node.run([&] { child = myrmex::spawn([] {}); });
  CHECK(reason == Term::atom("normal"));
  CHECK(wait_until([&] { return !node.alive(child); }));
  CHECK(node.send(child, 1) == myrmex::SendResult::noproc);
}

TEST_CASE("an uncaught exception becomes an exit reason naming its type and what()") {
  myrmex::Node node(config(1));
  CHECK(node.run([] { throw std::runtime_error("boom"); }) == exception_term("std::runtime_error", "boom"));
  CHECK(node.run([] { throw 42; }) == exception_term("int", ""));
}

TEST_CASE("exit(reason) ends the process with that reason and runs destructors") {
  myrmex::Node node(config(1));
  bool destroyed = false;
  struct Flag {
    bool& f;
    ~Flag() { f = true; }
  };
  Term reason = node.run([&] {
    Flag flag{destroyed};
    myrmex::exit(Term::atom("shutdown"));
  });
  CHECK(reason == Term::atom("shutdown"));
  CHECK(destroyed);
}

TEST_CASE("exit signals: kill becomes killed, normal is ignored, other reasons end the target") {
  myrmex::Node node(config(2));
  std::atomic<int> got{0};
  Term killed;
  node.run([&] {
    auto waiter = [&got] { myrmex::receive([&](int n) { got = n; }); };
    Pid a = myrmex::spawn(waiter);
    myrmex::exit(a, Term::atom("normal"));  // ignored: a still gets the message below
    myrmex::send(a, 7);
    while (myrmex::alive(a)) myrmex::sleep_for(1ms);
    Pid b = myrmex::spawn(waiter);
    myrmex::exit(b, Term::atom("kill"));
    Pid c = myrmex::spawn(waiter);
    myrmex::exit(c, Term::atom("stop_now"));
    while (myrmex::alive(b) || myrmex::alive(c)) myrmex::sleep_for(1ms);
  });
  CHECK(got == 7);
  // Reasons as seen by Node::run of a killed process.
  std::atomic<bool> ready{false};
  Pid victim;
  std::thread t([&] {
    killed = node.run([&] {
      victim = myrmex::self();
      ready = true;
      myrmex::receive([](Go&) {});
    });
  });
  REQUIRE(wait_until([&] { return ready.load(); }));
  node.exit(victim, Term::atom("kill"));
  t.join();
  CHECK(killed == Term::atom("killed"));
}

TEST_CASE("a stale PID never reaches the process that reuses its slot") {
  myrmex::Node node(config(1));
  node.run([] {
    Pid old = myrmex::spawn([] {});
    while (myrmex::alive(old)) myrmex::yield();
    Pid fresh;
    // The slot comes back only after the quarantine of other free slots (ProcessTable::kQuarantine, some
    // 60k): spawn processes, ending each one that did not get it, until one does.
    for (long i = 0; i < (1L << 18) && fresh.index() != old.index(); ++i) {
      fresh = myrmex::spawn([] { myrmex::receive([](Go&) {}); });
      if (fresh.index() != old.index()) myrmex::send(fresh, Go{});
    }
    REQUIRE(fresh.index() == old.index());
    CHECK(fresh.generation() != old.generation());
    CHECK(fresh != old);
    CHECK_FALSE(myrmex::alive(old));
    CHECK(myrmex::send(old, 1) == myrmex::SendResult::noproc);
    CHECK(myrmex::process_info(fresh)->message_queue_len == 0);
    CHECK_FALSE(myrmex::process_info(old).has_value());
    myrmex::send(fresh, Go{});
  });
}

TEST_CASE("process_info reports status, queue lengths, reductions and whether a stack is held") {
  myrmex::Node node(config(1));
  node.run([] {
    Pid f = myrmex::spawn([] { myrmex::receive([](Go&) {}); });
    struct Idle : myrmex::Behaviour {
      void handle(myrmex::Message&) override {}
    };
    Pid b = myrmex::spawn_behaviour(std::make_unique<Idle>());
    myrmex::yield();  // let both reach their wait
    for (int i = 0; i < 3; ++i) myrmex::send(f, i);
    auto fi = myrmex::process_info(f);
    REQUIRE(fi);
    CHECK(fi->pid == f);
    CHECK(fi->message_queue_len == 3);
    CHECK(fi->holds_stack);  // parked inside receive: on its stack
    CHECK(fi->reductions > 0);
    auto bi = myrmex::process_info(b);
    REQUIRE(bi);
    CHECK(bi->status == myrmex::ProcessStatus::waiting);
    CHECK_FALSE(bi->holds_stack);  // idle at top level: no stack
    CHECK(bi->memory < fi->memory);
    auto me = myrmex::process_info(myrmex::self());
    CHECK(me->status == myrmex::ProcessStatus::running);
    myrmex::send(f, Go{});
  });
}

TEST_CASE("a system signal overtakes a million queued user messages") {
  myrmex::Node node(config(2));
  const long n = myrmex::test::scaled(1000000);
  std::atomic<bool> go{false};
  std::atomic<long> handled{-1};
  Pid target = node.spawn([&] {
    struct Count {
      std::atomic<long>& out;
      long n = 0;
      ~Count() { out = n; }
    } count{handled};
    // Park in the blocking pool until the mailbox is full; signals wait until blocking() returns.
    myrmex::blocking([&] { wait_until([&] { return go.load(); }); });
    for (;;) myrmex::receive([&](long) { ++count.n; });
  });
  for (long i = 0; i < n; ++i) node.send(target, i);
  CHECK(node.process_info(target)->message_queue_len == static_cast<std::size_t>(n));
  node.exit(target, Term::atom("stop_now"));
  go = true;
  REQUIRE(wait_until([&] { return !node.alive(target); }));
  CHECK(handled == 0);
}

TEST_CASE("fairness: a process spinning on consume() does not starve two that exchange messages") {
  myrmex::Node node(config(1));
  std::atomic<bool> stop{false};
  std::atomic<long> spins{0};
  long exchanged = 0;
  spawn_spinner(node, stop, spins);
  node.run([&] {
    Pid echo = myrmex::spawn([] {
      for (;;) myrmex::receive([](std::pair<Pid, int>& m) { myrmex::send(m.first, m.second); });
    });
    for (int i = 0; i < 10000; ++i) {
      myrmex::send(echo, std::pair{myrmex::self(), i});
      bool ok = myrmex::receive([&](int v) { return v == i; }, myrmex::after(30s, [] { return false; }));
      if (!ok) break;
      ++exchanged;
    }
    stop = true;
  });
  CHECK(exchanged == 10000);
  CHECK(spins > 0);
}

TEST_CASE("fairness: a pair handing its slice to each other through runnext and a spinner share the core") {
  // One scheduler: interleaving follows reductions, not time, so the counts below are deterministic. The
  // pair does ~22 reductions a round trip, 44,000 in all. While the spinner waits, the pair's inherited
  // slice is capped at an eighth (500 reductions); the spinner's turn after it must be capped alike, or it
  // takes a whole slice (400 consume(10) calls) per ~23 round trips: ~35,000 laps, 8× the pair's share.
  // Inheriting the slice must never renew it either: then the spinner would get no turn at all.
  myrmex::Node node(config(1));
  std::atomic<bool> stop{false};
  std::atomic<long> spins{0};
  long spins_during = -1;
  spawn_spinner(node, stop, spins);
  node.run([&] {
    long before = spins;
    ping_pong(2000);
    spins_during = spins - before;
    stop = true;
  });
  MESSAGE("the spinner did ", spins_during, " laps of 10 reductions during 2000 round trips");
  CHECK(spins_during >= 800);    // at least a slice's worth per 1000 round trips
  CHECK(spins_during <= 8'800);  // at most twice the pair's reductions
}

TEST_CASE("fairness: a process queued behind a pair that hands runnext back and forth gets frequent turns") {
  // One scheduler, so the counts follow reductions. The pair does ~22 reductions a round trip; a queued
  // process gets a turn each time the slice the pair inherits is spent. That slice is capped at an eighth
  // (500 reductions) while others wait in the local queue: ~90 turns in 2000 round trips, where a whole
  // slice each time would give ~11.
  myrmex::Node node(config(1));
  std::atomic<bool> stop{false};
  std::atomic<long> turns{0};
  long turns_during = -1;
  node.spawn([&] {
    while (!stop) {
      myrmex::yield();
      ++turns;
    }
  });
  node.run([&] {
    long before = turns;
    ping_pong(2000);
    turns_during = turns - before;
    stop = true;
  });
  MESSAGE("the queued process had ", turns_during, " turns in 2000 round trips");
  CHECK(turns_during >= 40);
}

namespace {
// runs_elsewhere() is whether `start(ran)`, which makes a process that sets `ran` runnable, lets it run
// while the caller computes without a charge point (so never yields its scheduler) for up to 30 s.
template <class Start>
bool runs_elsewhere(Start start) {
  myrmex::Node node(config(2));
  std::atomic<bool> ran{false};
  bool seen = false;
  node.run([&] {
    start(ran);
    auto end = std::chrono::steady_clock::now() + 30s;
    while (!ran.load() && std::chrono::steady_clock::now() < end) {
    }
    seen = ran.load();
  });
  return seen;
}
}  // namespace

TEST_CASE(
    "a process spawned or woken by one that computes on without a charge point runs on an idle scheduler") {
  // Erlang's idle schedulers steal a runnable process from a busy one. Ours steal from runnext too, where a
  // spawned or woken process waits to run next on its parent's or waker's scheduler.
  auto spawned = [](std::atomic<bool>& ran) { myrmex::spawn([&ran] { ran = true; }); };
  auto woken = [](std::atomic<bool>& ran) {
    Pid p = myrmex::spawn([&ran] { myrmex::receive([&](Go) { ran = true; }); });
    // Parked in its receive before the Go, so that the send wakes it.
    REQUIRE(myrmex::test::eventually(
        [p] { return myrmex::process_info(p)->status == myrmex::ProcessStatus::waiting; }));
    myrmex::send(p, Go{});
  };
  CHECK(runs_elsewhere(spawned));
  CHECK(runs_elsewhere(woken));
}

TEST_CASE("a yielding process waits behind everything queued, the global queue included") {
  // 2000 new processes overflow the local run queue (256) into the global one; a yielder alone in its
  // local queue must not be picked again and again before them.
  myrmex::Node node(config(1));
  const long n = 2000;
  std::atomic<long> started{0};
  long yields = 0;
  node.run([&] {
    for (long i = 0; i < n; ++i) myrmex::spawn([&] { ++started; });
    while (started < n) {
      myrmex::yield();
      ++yields;
    }
  });
  CHECK(started == n);
  CHECK(yields <= 4);
}

TEST_CASE("the blocking pool keeps the scheduler free") {
  myrmex::Node node(config(1));
  std::atomic<bool> pingpong_done{false};
  std::atomic<bool> saw_done_while_blocked{false};
  Pid blocker = node.spawn([&] {
    // With one scheduler, this would deadlock if blocking() ran on it.
    myrmex::blocking([&] { saw_done_while_blocked = wait_until([&] { return pingpong_done.load(); }); });
  });
  node.run([&] {
    Pid echo = myrmex::spawn([] {
      for (;;) myrmex::receive([](Pid from) { myrmex::send(from, 0); });
    });
    for (int i = 0; i < 1000; ++i) {
      myrmex::send(echo, myrmex::self());
      myrmex::receive([](int) {});
    }
    pingpong_done = true;
  });
  REQUIRE(wait_until([&] { return !node.alive(blocker); }));
  CHECK(saw_done_while_blocked);
}

TEST_CASE("blocking() returns the function's value and rethrows its exception") {
  myrmex::Node node(config(1));
  node.run([] {
    CHECK(myrmex::blocking([] { return 41 + 1; }) == 42);
    CHECK_THROWS_AS(myrmex::blocking([]() -> int { throw std::logic_error("x"); }), std::logic_error);
  });
}

TEST_CASE("sleep_for parks the process and leaves its messages queued") {
  myrmex::Node node(config(1));
  node.run([] {
    myrmex::send(myrmex::self(), 5);
    auto t0 = std::chrono::steady_clock::now();
    myrmex::sleep_for(20ms);
    CHECK(std::chrono::steady_clock::now() - t0 >= 20ms);  // a lower bound, never an upper one
    CHECK(myrmex::receive([](int n) { return n; }) == 5);
  });
}

TEST_CASE("the watchdog reports a process that runs without reaching a charge point") {
  auto c = config(1);
  c.scheduler.long_schedule = 20ms;
  c.log_long_schedules = false;
  myrmex::Node node(c);
  node.run([] {
    auto end = std::chrono::steady_clock::now() + 200ms;
    while (std::chrono::steady_clock::now() < end) {
    }
  });
  CHECK(node.long_schedules() >= 1);
  std::uint64_t sum = 0;
  for (auto& s : node.scheduler_stats()) sum += s.long_schedules;
  CHECK(sum == node.long_schedules());
}

TEST_CASE("behaviour-style processes hold no stack while idle and keep their state") {
  myrmex::Node node(config(2));
  struct Adder : myrmex::Behaviour {
    long total = 0;
    bool initialized = false;
    void init() override { initialized = true; }
    void handle(myrmex::Message& m) override {
      if (auto* n = m.get<long>()) total += *n;
      if (auto* p = m.get<Pid>()) myrmex::send(*p, initialized ? total : -1L);
    }
  };
  node.run([] {
    const int n = 1000;
    std::vector<Pid> pids;
    for (int i = 0; i < n; ++i) pids.push_back(myrmex::spawn_behaviour(std::make_unique<Adder>()));
    for (Pid p : pids)
      for (long k = 1; k <= 10; ++k) myrmex::send(p, k);
    for (Pid p : pids) myrmex::send(p, myrmex::self());
    long sum = 0;
    for (int i = 0; i < n; ++i) sum += myrmex::receive([](long t) { return t; });
    CHECK(sum == 55L * n);
    // A behaviour that has just replied may still be finishing its activation: wait until each parked.
    for (Pid p : pids)
      while (myrmex::process_info(p)->status != myrmex::ProcessStatus::waiting) myrmex::yield();
    int holding = 0;
    for (Pid p : pids) holding += myrmex::process_info(p)->holds_stack ? 1 : 0;
    CHECK(holding == 0);
  });
}

TEST_CASE("stop() ends processes parked in receive, sleeping, or idle") {
  myrmex::Node node(config(2));
  for (int i = 0; i < 100; ++i) node.spawn([] { myrmex::receive([](Go&) {}); });
  for (int i = 0; i < 100; ++i) node.spawn([] { myrmex::sleep_for(1h); });
  CHECK(node.process_count() == 200);
  node.stop();
  CHECK(node.process_count() == 0);
}

TEST_CASE("node_info() gives a process the node's figures: its process count and every scheduler's stats") {
  for (unsigned n : {1u, 2u}) {
    myrmex::Node node(config(n));
    node.run([n] {
      std::vector<Pid> idle;
      for (int i = 0; i < 10; ++i) idle.push_back(myrmex::spawn([] { myrmex::receive([](int) {}); }));
      myrmex::NodeInfo info = myrmex::node_info();
      CHECK(info.process_count == 11);  // the ten and the caller
      CHECK(info.schedulers == n);
      REQUIRE(info.scheduler_stats.size() == n);
      std::uint64_t switches = 0;
      for (const auto& s : info.scheduler_stats) switches += s.switches;
      CHECK(switches >= 1);  // the caller itself was switched in
      for (Pid p : idle) myrmex::send(p, 0);
    });
  }
}

TEST_CASE("references never repeat: make_ref() and monitor() on every scheduler, as processes migrate") {
  constexpr int kProcesses = 8;
  constexpr std::size_t kMostEach = 20000;
  myrmex::Node node(config(2));
  std::vector<std::uint64_t> refs;
  bool spread = false;
  node.run([&] {
    std::atomic<bool> stop{false};
    const Pid home = myrmex::self();
    const Pid target = myrmex::spawn([] { myrmex::receive([](int) {}); });
    const auto before = myrmex::node_info().scheduler_stats;
    for (int p = 0; p < kProcesses; ++p)
      myrmex::spawn([&stop, home, target] {
        std::vector<std::uint64_t> mine;
        while (!stop.load(std::memory_order_relaxed)) {
          if (mine.size() < kMostEach) {
            mine.push_back(myrmex::make_ref().value);
            const myrmex::MonitorRef m = myrmex::monitor(target);
            mine.push_back(m.value);
            myrmex::demonitor(m);
          }
          myrmex::consume(50);  // spend slices, so that idle schedulers steal and processes move
        }
        myrmex::send(home, std::move(mine));
      });
    // Go on until both schedulers have run the makers a while (a loaded machine may starve one for long).
    for (int i = 0; i < 3000 && !spread; ++i) {
      myrmex::sleep_for(10ms);
      const auto now = myrmex::node_info().scheduler_stats;
      spread = now[0].switches >= before[0].switches + 100 && now[1].switches >= before[1].switches + 100;
    }
    stop = true;
    for (int p = 0; p < kProcesses; ++p)
      myrmex::receive(
          [&](std::vector<std::uint64_t>& mine) { refs.insert(refs.end(), mine.begin(), mine.end()); });
    myrmex::send(target, 0);
  });
  CHECK(spread);
  CHECK(refs.size() > std::size_t{1000});
  CHECK(std::count(refs.begin(), refs.end(), 0) == 0);
  std::sort(refs.begin(), refs.end());
  CHECK(std::adjacent_find(refs.begin(), refs.end()) == refs.end());
}

TEST_CASE(
    "scheduler stats: idle_ns grows while a scheduler has nothing to run, not while it runs a process") {
  myrmex::Node node(config(1));
  node.run([] {
    const auto idle_ns = [] { return myrmex::node_info().scheduler_stats.at(0).idle_ns; };
    const std::uint64_t at_start = idle_ns();
    myrmex::sleep_for(100ms);  // the only process sleeps: the scheduler is idle all that time
    const std::uint64_t after_sleep = idle_ns();
    CHECK(after_sleep - at_start >= 90'000'000);  // the timer may fire up to a tick early of the 100 ms
    const auto until = std::chrono::steady_clock::now() + 100ms;
    while (std::chrono::steady_clock::now() < until) myrmex::consume(100);  // yields, always runnable
    CHECK(idle_ns() - after_sleep < 50'000'000);
  });
}

TEST_CASE("process_info after a process's Down shows it exiting or gone, never running") {
  // Why: its Downs go out while its fiber still runs down; the registry answers "noproc" rather than
  // "taken" for such a PID only if process_info agrees that it is dead (seen under TSan).
  myrmex::Node node(config(2));
  node.run([] {
    int running = 0;
    for (int i = 0; i < 5000; ++i) {
      const Pid p = myrmex::spawn([] { std::vector<int> work(64, 1); });
      const myrmex::MonitorRef m = myrmex::monitor(p);
      myrmex::receive([&](myrmex::Down& d) { CHECK(d.ref == m); });
      if (auto info = myrmex::process_info(p); info && info->status != myrmex::ProcessStatus::exiting)
        ++running;
    }
    CHECK(running == 0);
  });
}
