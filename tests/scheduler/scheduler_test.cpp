// Scheduler properties under stress: ordering under migration, no lost wake-ups, stealing, timers.
// These form the "stress" suite, which also runs under ThreadSanitizer.
#include <doctest/doctest.h>

#include <random>
#include <thread>
#include <vector>

#include "tests/test_node.h"

using namespace std::chrono_literals;
using myrmex::Pid;
using myrmex::test::config;
using myrmex::test::scaled;
using myrmex::test::wait_until;

namespace {
struct Seq {
  int sender;
  long n;
};
}  // namespace

TEST_SUITE("stress") {
  TEST_CASE("per-pair FIFO holds while senders migrate between schedulers") {
    // More schedulers than cores, and senders that yield often, so they are stolen and resume elsewhere.
    myrmex::Node node(config(4));
    const int senders = 8;
    const long per_sender = scaled(250000);
    std::atomic<std::uint64_t> migrations{0};
    long out_of_order = -1, received = 0;
    node.run([&] {
      Pid me = myrmex::self();
      for (int s = 0; s < senders; ++s)
        myrmex::spawn([=, &migrations] {
          for (long i = 0; i < per_sender; ++i) {
            myrmex::send(me, Seq{s, i});
            if (i % 64 == 0) myrmex::yield();
          }
          migrations += myrmex::process_info(myrmex::self())->migrations;
        });
      std::vector<long> next(senders, 0);
      out_of_order = 0;
      for (long k = 0; k < senders * per_sender; ++k)
        myrmex::receive([&](const Seq& m) {
          if (m.n != next[m.sender]) ++out_of_order;
          next[m.sender] = m.n + 1;
          ++received;
        });
    });
    CHECK(received == senders * per_sender);
    CHECK(out_of_order == 0);
    CHECK(migrations > 0);  // otherwise the test proved nothing about migration
  }

  TEST_CASE("no lost wake-up: a thread outside the node wakes a sleeping scheduler many times") {
    myrmex::Node node(config(2));
    std::atomic<long> echoed{0};
    Pid echo = node.spawn([&] {
      for (;;) myrmex::receive([&](long n) { echoed = n; });
    });
    const long rounds = scaled(20000);
    long completed = 0;
    for (long i = 1; i <= rounds; ++i) {
      node.send(echo, i);
      if (!wait_until([&] { return echoed.load() == i; }, 30s)) break;
      completed = i;
      // Every so often, let the schedulers run out of spinning and go to sleep.
      if (i % 1000 == 0) std::this_thread::sleep_for(2ms);
    }
    CHECK(completed == rounds);
  }

  TEST_CASE(
      "no lost wake-up: processes on different schedulers wake each other through sleeps and time-outs") {
    myrmex::Node node(config(3));
    const int pairs = 50;
    const int rounds = static_cast<int>(scaled(2000));
    std::atomic<int> finished{0};
    node.run([&] {
      for (int k = 0; k < pairs; ++k) {
        Pid pong = myrmex::spawn([&, rounds] {
          for (int i = 0; i < rounds; ++i) myrmex::receive([](Pid from) { myrmex::send(from, 1); });
        });
        myrmex::spawn([&, pong, k, rounds] {
          std::minstd_rand rng(static_cast<unsigned>(k));
          for (int i = 0; i < rounds; ++i) {
            if (rng() % 97 == 0) myrmex::sleep_for(1ms);
            myrmex::send(pong, myrmex::self());
            // A time-out that should never fire; it exercises arm/cancel racing with wake-ups.
            bool ok = myrmex::receive([](int) { return true; }, myrmex::after(60s, [] { return false; }));
            if (!ok) return;
          }
          ++finished;
        });
      }
      while (finished < pairs) myrmex::sleep_for(5ms);
    });
    CHECK(finished == pairs);
  }

  TEST_CASE("work spawned on one scheduler spreads to the others and all of it runs") {
    myrmex::Node node(config(4));
    const long n = scaled(200000);
    std::atomic<long> ran{0};
    node.run([&] {
      for (long i = 0; i < n; ++i)
        myrmex::spawn([&] {
          myrmex::consume(100);
          ++ran;
        });
    });
    CHECK(wait_until([&] { return ran.load() == n; }));
    std::uint64_t steals = 0;
    for (auto& s : node.scheduler_stats()) steals += s.steals;
    CHECK(steals > 0);
  }

  TEST_CASE("many receive time-outs fire, each once") {
    myrmex::Node node(config(2));
    const int n = static_cast<int>(scaled(20000));
    std::atomic<int> timeouts{0}, refired{0};
    node.run([&] {
      for (int i = 0; i < n; ++i)
        myrmex::spawn([&, i] {
          myrmex::receive([](int) {},
                          myrmex::after(std::chrono::milliseconds(1 + i % 50), [&] { ++timeouts; }));
          // A second fire of that time-out (its entry left linked, or firing late) would end this sleep
          // early: the sleep's own timer cannot fire before 300 ms have passed.
          auto start = std::chrono::steady_clock::now();
          myrmex::sleep_for(300ms);
          if (std::chrono::steady_clock::now() - start < 300ms) ++refired;
        });
    });
    CHECK(wait_until([&] { return timeouts.load() == n && node.process_count() == 0; }));
    CHECK(timeouts == n);
    CHECK(refired == 0);
  }

  TEST_CASE("sends race with exits: a process is freed only after no sender can still reach it") {
    // Local sends look targets up without a reference (quiescence.h). Targets exit on their first message
    // while four senders on other schedulers keep sending to them; under ASan a free that came too early
    // is a use-after-free report.
    myrmex::Node node(config(4));
    const long n = scaled(20000);
    std::atomic<long> exited{0};
    std::atomic<int> senders_done{0};
    node.run([&] {
      std::vector<Pid> targets;
      for (long i = 0; i < n; ++i)
        targets.push_back(myrmex::spawn([&] {
          struct Count {
            std::atomic<long>& c;
            ~Count() { ++c; }
          } on_exit{exited};
          myrmex::receive([](int) {});
        }));
      for (int s = 0; s < 4; ++s)
        myrmex::spawn([&, s] {
          for (int round = 0; round < 3; ++round)
            for (long i = 0; i < n; ++i)
              myrmex::send(targets[static_cast<std::size_t>((i + s * n / 4) % n)], round);
          ++senders_done;
        });
      while (senders_done < 4) myrmex::sleep_for(1ms);
    });
    CHECK(senders_done == 4);
    CHECK(wait_until([&] { return exited.load() == n && node.process_count() == 0; }));
  }

  TEST_CASE("an idle node's schedulers go to sleep") {
    myrmex::Node node(config(2));
    std::vector<Pid> pids;
    for (int i = 0; i < 1000; ++i) pids.push_back(node.spawn([] { myrmex::receive([](int) {}); }));
    // Idle means: every process has parked.
    REQUIRE(wait_until([&] {
      for (Pid p : pids)
        if (node.process_info(p)->status != myrmex::ProcessStatus::waiting) return false;
      return true;
    }));
    std::this_thread::sleep_for(50ms);
    auto before = node.scheduler_stats();
    std::this_thread::sleep_for(200ms);
    auto after = node.scheduler_stats();
    for (std::size_t i = 0; i < before.size(); ++i) {
      CHECK(after[i].sleeps >= 1);
      CHECK(after[i].switches == before[i].switches);  // nothing ran while idle
    }
  }
}
