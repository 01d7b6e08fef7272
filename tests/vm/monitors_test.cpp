// Monitors (vm/monitors.h), as Erlang/OTP 25 defines them: one-way, a Down with the exit reason, stacked
// monitors, noproc for a dead or stale PID, demonitor() and its flush, spawn_monitor() atomic, and a
// demonitor() that returned true is never followed by a Down, however it races with the target's exit.
#include <doctest/doctest.h>

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "tests/test_node.h"
#include "tests/vm/relations_helpers.h"

using namespace std::chrono_literals;
using myrmex::Down;
using myrmex::MonitorRef;
using myrmex::Pid;
using myrmex::Term;
using myrmex::test::config;
using myrmex::test::down_reason;
using myrmex::test::kSchedulerCounts;
using myrmex::test::monitored_by;
using myrmex::test::monitors_of;
using myrmex::test::next_down;
using myrmex::test::queued;
using myrmex::test::scaled;
using myrmex::test::to_string;
using myrmex::test::wait_gone;

namespace {

struct Go {};

// waiter() waits for a Go, then ends with `reason`.
auto waiter(Term reason) {
  return [reason] {
    myrmex::receive([](Go) {});
    myrmex::exit(reason);
  };
}

// down_count() takes every queued Down of `ref` without waiting.
int down_count(MonitorRef ref) {
  int n = 0;
  while (next_down(ref, 0ms)) ++n;
  return n;
}

}  // namespace

TEST_CASE("a Down carries the monitor's reference, the PID and the exit reason") {
  const std::vector<std::pair<std::function<void()>, std::string>> endings = {
      {[] {}, "normal"},
      {[] { myrmex::exit(Term::atom("shutdown")); }, "shutdown"},
      {[] { throw std::runtime_error("boom"); }, "{exception,<<\"std::runtime_error\">>,<<\"boom\">>}"},
      {[] { myrmex::exit(myrmex::self(), Term::atom("kill")); }, "killed"},
      {[] { myrmex::exit(Term::atom("kill")); }, "kill"},  // exit(kill) on itself ends it with `kill`
      {[] { myrmex::exit(myrmex::test::crash("tuple", 7)); }, "{tuple,7}"},
  };
  for (unsigned schedulers : kSchedulerCounts) {
    CAPTURE(schedulers);
    myrmex::Node node(config(schedulers));
    node.run([&] {
      for (const auto& [end, expected] : endings) {
        Pid target = myrmex::spawn([end] {
          myrmex::receive([](Go) {});
          end();
        });
        MonitorRef ref = myrmex::monitor(target);
        myrmex::send(target, Go{});
        auto d = next_down(ref);
        REQUIRE_MESSAGE(d.has_value(), "no Down for an exit with ", expected);
        CHECK(d->ref == ref);
        CHECK(d->pid == target);
        CHECK_MESSAGE(d->reason.to_string() == expected, "got ", d->reason.to_string());
        CHECK(d->name.empty());
        CHECK(monitors_of(myrmex::self()).empty());  // a monitor that fired is gone
      }
      CHECK(queued() == 0);
    });
  }
}

TEST_CASE("a monitor is one-way: neither side's exit ends the other") {
  for (unsigned schedulers : kSchedulerCounts) {
    CAPTURE(schedulers);
    myrmex::Node node(config(schedulers));
    node.run([] {
      // The target crashes: the watcher gets a Down and goes on.
      Pid target = myrmex::spawn(waiter(Term::atom("crashed")));
      auto [watcher, wref] = myrmex::spawn_monitor([target] {
        MonitorRef ref = myrmex::monitor(target);
        myrmex::send(target, Go{});
        CHECK(down_reason(ref) == "crashed");
        myrmex::exit(Term::atom("survived"));
      });
      CHECK(down_reason(wref) == "survived");
      // The watcher crashes: the target keeps running, and no longer counts it as a watcher.
      Pid target2 = myrmex::spawn(waiter(Term::atom("survived")));
      MonitorRef ref2 = myrmex::monitor(target2);
      auto [watcher2, wref2] = myrmex::spawn_monitor([target2] {
        myrmex::monitor(target2);
        throw std::runtime_error("watcher crashed");
      });
      down_reason(wref2);
      REQUIRE(wait_gone(watcher2));
      CHECK(to_string(monitored_by(target2)) == to_string({myrmex::self()}));
      myrmex::send(target2, Go{});
      CHECK(down_reason(ref2) == "survived");
      (void)watcher;
    });
  }
}

TEST_CASE("monitors stack: two monitors on one process are two references and two Downs") {
  for (unsigned schedulers : kSchedulerCounts) {
    CAPTURE(schedulers);
    myrmex::Node node(config(schedulers));
    node.run([] {
      Pid me = myrmex::self();
      Pid target = myrmex::spawn(waiter(Term::atom("bye")));
      MonitorRef a = myrmex::monitor(target), b = myrmex::monitor(target);
      CHECK(a != b);
      CHECK(to_string(monitors_of(me)) == to_string({target, target}));
      CHECK(to_string(monitored_by(target)) == to_string({me, me}));
      myrmex::send(target, Go{});
      CHECK(down_reason(b) == "bye");
      CHECK(down_reason(a) == "bye");
      REQUIRE(wait_gone(target));
      CHECK(down_count(a) + down_count(b) == 0);
      // Removing one of two leaves the other.
      Pid t2 = myrmex::spawn(waiter(Term::atom("bye")));
      MonitorRef c = myrmex::monitor(t2), d = myrmex::monitor(t2);
      CHECK(myrmex::demonitor(c));
      CHECK(to_string(monitored_by(t2)) == to_string({me}));
      myrmex::send(t2, Go{});
      CHECK(down_reason(d) == "bye");
      REQUIRE(wait_gone(t2));
      CHECK(down_count(c) == 0);
      CHECK(queued() == 0);
    });
  }
}

TEST_CASE("monitoring a dead, stale or never-issued PID queues a Down with noproc before monitor() returns") {
  for (unsigned schedulers : kSchedulerCounts) {
    CAPTURE(schedulers);
    myrmex::Node node(config(schedulers));
    node.run([] {
      Pid dead = myrmex::spawn([] {});
      REQUIRE(wait_gone(dead));
      Pid live = myrmex::spawn(waiter(Term::atom("normal")));
      Pid stale = Pid::make(live.node(), live.index(), live.generation() + 1);
      for (Pid target : {dead, stale, Pid{}}) {
        MonitorRef ref = myrmex::monitor(target);
        auto d = next_down(ref, 0ms);
        REQUIRE_MESSAGE(d.has_value(), "monitor(", target.to_string(), ") queued no Down");
        CHECK(d->pid == target);
        CHECK(d->reason == Term::atom("noproc"));
        CHECK_FALSE(myrmex::demonitor(ref));  // it fired
        CHECK(monitors_of(myrmex::self()).empty());
      }
      CHECK(monitored_by(live).empty());  // the stale PID did not reach it
      CHECK(queued() == 0);
      myrmex::send(live, Go{});
    });
  }
}

TEST_CASE("demonitor() is true while the monitor is active and false once its Down is queued, which stays") {
  for (unsigned schedulers : kSchedulerCounts) {
    CAPTURE(schedulers);
    myrmex::Node node(config(schedulers));
    node.run([] {
      Pid target = myrmex::spawn(waiter(Term::atom("bye")));
      MonitorRef active = myrmex::monitor(target);
      CHECK(myrmex::demonitor(active));
      CHECK_FALSE(myrmex::demonitor(active));  // twice: no longer a monitor of ours
      CHECK(monitored_by(target).empty());
      MonitorRef fired = myrmex::monitor(target);
      myrmex::send(target, Go{});
      REQUIRE(wait_gone(target));  // its Down is queued
      CHECK(queued() == 1);
      CHECK_FALSE(myrmex::demonitor(fired));
      CHECK(queued() == 1);  // the Down stays
      CHECK(down_reason(fired, 0ms) == "bye");
      CHECK(down_count(active) == 0);
      CHECK_FALSE(myrmex::demonitor(MonitorRef{}));  // no monitor
      CHECK_FALSE(myrmex::demonitor(MonitorRef{123456789}));
    });
  }
}

TEST_CASE("demonitor(ref, flush) also removes a Down already queued, and only that one") {
  for (unsigned schedulers : kSchedulerCounts) {
    CAPTURE(schedulers);
    myrmex::Node node(config(schedulers));
    node.run([] {
      Pid target = myrmex::spawn(waiter(Term::atom("bye")));
      MonitorRef active = myrmex::monitor(target);
      CHECK(myrmex::demonitor(active, myrmex::flush));
      MonitorRef fired = myrmex::monitor(target), other = myrmex::monitor(target);
      myrmex::send(myrmex::self(), 1);
      myrmex::send(target, Go{});
      REQUIRE(wait_gone(target));
      myrmex::send(myrmex::self(), 2);
      CHECK(queued() == 4);  // 1, two Downs, 2
      CHECK_FALSE(myrmex::demonitor(fired, myrmex::flush));
      CHECK(queued() == 3);
      CHECK(down_count(fired) == 0);
      CHECK(down_reason(other, 0ms) == "bye");
      // The other messages stay, in order.
      CHECK(myrmex::receive([](int n) { return n; }, myrmex::after(0ms, [] { return 0; })) == 1);
      CHECK(myrmex::receive([](int n) { return n; }, myrmex::after(0ms, [] { return 0; })) == 2);
      CHECK(queued() == 0);
    });
  }
}

TEST_CASE("spawn_monitor() is atomic: a child that ends at once still gives its Down, with its reason") {
  const long rounds = scaled(300);
  for (unsigned schedulers : kSchedulerCounts) {
    CAPTURE(schedulers);
    myrmex::Node node(config(schedulers));
    node.run([&] {
      for (long i = 0; i < rounds; ++i) {
        auto [p1, r1] = myrmex::spawn_monitor([] {});
        auto [p2, r2] = myrmex::spawn_monitor([] { throw std::runtime_error("at once"); });
        auto [p3, r3] = myrmex::spawn_monitor([i] { myrmex::exit(myrmex::test::crash("at_once", i)); });
        auto d1 = next_down(r1);
        REQUIRE_MESSAGE(d1.has_value(), "round ", i, ": no Down");
        CHECK(d1->pid == p1);
        CHECK(d1->reason == Term::atom("normal"));
        CHECK(down_reason(r2) == "{exception,<<\"std::runtime_error\">>,<<\"at once\">>}");
        CHECK(down_reason(r3) == myrmex::test::crash("at_once", i).to_string());
        CHECK(r1 != r2);
        (void)p2;
        (void)p3;
      }
      CHECK(queued() == 0);
      // spawn_monitor() does not link: the child's crash does not reach the caller.
      CHECK(myrmex::test::links_of(myrmex::self()).empty());
    });
  }
}

TEST_CASE("spawn_monitor(f, args...) passes its arguments, and the child is monitored at its first step") {
  // spawn_monitor(f...) with arguments, a move-only one among them; the child's first act reads who
  // monitors it: the caller must be there already. spawn_monitor() links nothing.
  const long rounds = scaled(300);
  for (unsigned schedulers : kSchedulerCounts) {
    CAPTURE(schedulers);
    myrmex::Node node(config(schedulers));
    node.run([rounds] {
      const Pid me = myrmex::self();
      for (long i = 0; i < rounds; ++i) {
        auto [child, ref] = myrmex::spawn_monitor(
            [](Pid parent, std::string what, std::unique_ptr<long> n) {
              myrmex::send(parent, std::make_pair(monitored_by(myrmex::self()),
                                                  myrmex::test::links_of(myrmex::self())));
              myrmex::exit(myrmex::test::crash(what.c_str(), *n));
            },
            me, std::string("args"), std::make_unique<long>(i));
        using Seen = std::pair<std::vector<Pid>, std::vector<Pid>>;
        auto first = myrmex::receive([](Seen& s) { return to_string(s.first) + " " + to_string(s.second); },
                                     myrmex::after(10s, [] { return std::string("(nothing)"); }));
        CHECK_MESSAGE(first == to_string({me}) + " []", "round ", i,
                      ": the child's watchers and links at its first step: ", first);
        auto d = next_down(ref);
        REQUIRE_MESSAGE(d.has_value(), "round ", i, ": no Down");
        CHECK(d->pid == child);
        CHECK(d->reason == myrmex::test::crash("args", i));
      }
      CHECK(monitors_of(me).empty());
      CHECK(queued() == 0);
    });
  }
}

TEST_CASE("a demonitor() racing the target's exit: true means no Down ever, false means one Down queued") {
  const long rounds = scaled(20000);
  for (unsigned schedulers : kSchedulerCounts) {
    CAPTURE(schedulers);
    myrmex::Node node(config(schedulers));
    long removed = 0, fired = 0, late = 0, wrong = 0, real = 0;
    node.run([&] {
      const auto target = [](long r, int) {
        for (long k = 0; k < r % 8; ++k) myrmex::yield();
        myrmex::exit(myrmex::test::crash("racing", r));
      };
      const auto racer = [&](long r, const std::vector<Pid>& targets) {
        MonitorRef ref = myrmex::monitor(targets[0]);
        for (long k = 0; k < (r / 8) % 96; ++k) myrmex::yield();
        const int at = myrmex::test::scheduler_index();
        const bool active = myrmex::demonitor(ref);
        const int before = down_count(ref);  // what was queued when demonitor() returned
        wait_gone(targets[0]);
        const int after = down_count(ref);
        if (after != 0 && ++late <= 3)
          MESSAGE("round ", r, ": a Down came after demonitor() returned ", active);
        // True: no Down was queued. False: the monitor had fired, and its Down was queued.
        if (before != (active ? 0 : 1) && ++wrong <= 3)
          MESSAGE("round ", r, ": demonitor() was ", active, " with ", before, " Downs queued");
        ++(active ? removed : fired);
        return at;
      };
      real = myrmex::test::race_apart(schedulers, rounds, 1, target, racer);
      CHECK(queued() == 0);
    });
    MESSAGE(schedulers, " scheduler(s): demonitor() won ", removed, " and the exit ", fired, " of ", rounds,
            " rounds; ", real, " on two schedulers");
    CHECK(late == 0);
    CHECK(wrong == 0);
    CHECK(removed + fired == rounds);
    if (schedulers > 1) CHECK(real > 0);
  }
}

TEST_CASE("a behaviour gets Exit and Down as messages in handle()") {
  // It traps exits, links the first PID and monitors the second of a pair it is sent, and reports what
  // handle() gets.
  struct Watcher final : myrmex::Behaviour {
    explicit Watcher(Pid r) : report(r) {}
    void init() override { myrmex::set_trap_exit(true); }
    void handle(myrmex::Message& m) override {
      if (auto* p = m.get<std::pair<Pid, Pid>>()) {
        relations = *p;
        myrmex::link(p->first);
        myrmex::monitor(p->second);
        myrmex::send(report, Go{});
      } else if (auto* e = m.get<myrmex::Exit>()) {
        myrmex::send(report,
                     "Exit " + e->reason.to_string() + (e->from == relations.first ? "" : " (from?)"));
      } else if (auto* d = m.get<Down>()) {
        myrmex::send(report, "Down " + d->reason.to_string() + (d->pid == relations.second ? "" : " (pid?)"));
      }
    }
    Pid report;
    std::pair<Pid, Pid> relations;
  };
  for (unsigned schedulers : kSchedulerCounts) {
    CAPTURE(schedulers);
    myrmex::Node node(config(schedulers));
    node.run([] {
      Pid w = myrmex::spawn_behaviour(std::make_unique<Watcher>(myrmex::self()));
      Pid a = myrmex::spawn(waiter(Term::atom("a_crashed")));
      Pid b = myrmex::spawn(waiter(Term::atom("b_ended")));
      myrmex::send(w, std::pair<Pid, Pid>{a, b});
      myrmex::receive([](Go) {});
      myrmex::send(a, Go{});
      auto note = [] {
        return myrmex::receive([](std::string& s) { return s; },
                               myrmex::after(10s, [] { return std::string("(nothing)"); }));
      };
      CHECK(note() == "Exit a_crashed");
      myrmex::send(b, Go{});
      CHECK(note() == "Down b_ended");
      CHECK(myrmex::process_info(w).has_value());  // it trapped the crash
      myrmex::exit(w, Term::atom("kill"));
    });
  }
}
