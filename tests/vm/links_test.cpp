// Links (vm/links.h), as Erlang/OTP 25 defines them: bidirectional, one per pair however often link() is
// called, link(self()) a no-op, spawn_link() atomic, noproc for a dead or stale PID, unlink() in both
// directions and final once it returns, process_info()'s view of them, and PIDs of another node of the
// same OS process (dead to this one until distribution).
#include <doctest/doctest.h>

#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "scheduler/detail/systematic.h"
#include "scheduler/detail/yield_point.h"
#include "tests/test_node.h"
#include "tests/vm/relations_helpers.h"

using namespace std::chrono_literals;
using myrmex::Exit;
using myrmex::Pid;
using myrmex::Term;
using myrmex::test::config;
using myrmex::test::crash;
using myrmex::test::down_reason;
using myrmex::test::kSchedulerCounts;
using myrmex::test::links_of;
using myrmex::test::next_exit;
using myrmex::test::next_exit_from;
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

std::string pids(std::initializer_list<Pid> l) {
  return to_string(myrmex::test::sorted(std::vector<Pid>(l)));
}

}  // namespace

TEST_CASE("a link is bidirectional: the crash of either side reaches the other") {
  for (unsigned schedulers : kSchedulerCounts) {
    CAPTURE(schedulers);
    myrmex::Node node(config(schedulers));
    node.run([] {
      Pid me = myrmex::self();
      myrmex::set_trap_exit(true);
      // We link it: its crash reaches us.
      Pid callee = myrmex::spawn(waiter(Term::atom("callee_crashed")));
      myrmex::link(callee);
      CHECK(to_string(links_of(me)) == pids({callee}));
      CHECK(to_string(links_of(callee)) == pids({me}));
      myrmex::send(callee, Go{});
      auto e1 = next_exit();
      REQUIRE(e1.has_value());
      CHECK(e1->from == callee);
      CHECK(e1->reason == Term::atom("callee_crashed"));
      // It links us: its crash reaches us too.
      Pid caller = myrmex::spawn([me] {
        myrmex::link(me);
        myrmex::send(me, Go{});
        waiter(Term::atom("caller_crashed"))();
      });
      myrmex::receive([](Go) {});
      CHECK(to_string(links_of(me)) == pids({caller}));
      CHECK(to_string(links_of(caller)) == pids({me}));
      myrmex::send(caller, Go{});
      auto e2 = next_exit();
      REQUIRE(e2.has_value());
      CHECK(e2->from == caller);
      CHECK(e2->reason == Term::atom("caller_crashed"));
      // A link that fired is gone on the survivor's side.
      CHECK(links_of(me).empty());
      // And our crash reaches a trapping process we linked.
      Pid watcher = myrmex::spawn([me] {
        myrmex::set_trap_exit(true);
        myrmex::send(me, Go{});
        auto e = next_exit();
        myrmex::send(me, e ? e->reason : Term::atom("none"));
      });
      myrmex::receive([](Go) {});
      Pid linker = myrmex::spawn([watcher] {
        myrmex::link(watcher);
        myrmex::exit(Term::atom("linker_crashed"));
      });
      CHECK(myrmex::receive([](Term& t) { return t; }, myrmex::after(10s, [] {
                              return Term::atom("timeout");
                            })) == Term::atom("linker_crashed"));
      (void)linker;
    });
  }
}

TEST_CASE("linking a pair many times, from both sides, is one link: one entry each side, one Exit") {
  for (unsigned schedulers : kSchedulerCounts) {
    CAPTURE(schedulers);
    myrmex::Node node(config(schedulers));
    node.run([] {
      Pid me = myrmex::self();
      myrmex::set_trap_exit(true);
      Pid other = myrmex::spawn([me] {
        myrmex::link(me);
        myrmex::link(me);
        myrmex::send(me, Go{});
        waiter(Term::atom("bye"))();
      });
      myrmex::receive([](Go) {});
      myrmex::link(other);
      myrmex::link(other);
      myrmex::link(other);
      CHECK(to_string(links_of(me)) == pids({other}));
      CHECK(to_string(links_of(other)) == pids({me}));
      myrmex::send(other, Go{});
      auto e = next_exit_from(other);
      REQUIRE(e.has_value());
      CHECK(e->reason == Term::atom("bye"));
      REQUIRE(wait_gone(other));
      CHECK_FALSE(next_exit(0ms).has_value());  // one link, one signal
      CHECK(queued() == 0);
      // A spawn_link()ed child linked again is still one link; one unlink() removes it.
      Pid child = myrmex::spawn_link(waiter(Term::atom("normal")));
      myrmex::link(child);
      CHECK(to_string(links_of(me)) == pids({child}));
      CHECK(to_string(links_of(child)) == pids({me}));
      myrmex::unlink(child);
      CHECK(links_of(me).empty());
      CHECK(links_of(child).empty());
      myrmex::send(child, Go{});
      REQUIRE(wait_gone(child));
      CHECK_FALSE(next_exit(0ms).has_value());
    });
  }
}

TEST_CASE("link(self()) does nothing, trapping or not") {
  for (unsigned schedulers : kSchedulerCounts) {
    CAPTURE(schedulers);
    myrmex::Node node(config(schedulers));
    node.run([] {
      myrmex::link(myrmex::self());  // not trapping: no NoProc, no signal
      CHECK(links_of(myrmex::self()).empty());
      myrmex::set_trap_exit(true);
      myrmex::link(myrmex::self());
      CHECK(links_of(myrmex::self()).empty());
      myrmex::unlink(myrmex::self());
      CHECK(queued() == 0);
    });
  }
}

TEST_CASE("spawn_link() is atomic: a child that ends at once still reaches its parent") {
  // The child may run (and end) on the other scheduler before spawn_link() returns: the link must already
  // be in place then, or its signal is lost.
  struct Throws final : myrmex::Behaviour {
    void init() override { throw std::runtime_error("init failed"); }
    void handle(myrmex::Message&) override {}
  };
  const long rounds = scaled(300);
  for (unsigned schedulers : kSchedulerCounts) {
    CAPTURE(schedulers);
    myrmex::Node node(config(schedulers));
    node.run([&] {
      for (long i = 0; i < rounds; ++i) {
        // A parent that does not trap dies of the child's crash, with its reason.
        auto [parent, ref] = myrmex::spawn_monitor([] {
          myrmex::spawn_link([] { throw std::runtime_error("at once"); });
          myrmex::receive([](Go) {});  // only the link can end it
        });
        const std::string reason = down_reason(ref);
        CHECK_MESSAGE(reason == "{exception,<<\"std::runtime_error\">>,<<\"at once\">>}", "round ", i, ": ",
                      reason);
        (void)parent;
      }
      myrmex::set_trap_exit(true);
      for (long i = 0; i < rounds; ++i) {
        // A trapping parent gets the Exit of a child that returned at once, normal reason included.
        Pid quick = myrmex::spawn_link([] {});
        auto e = next_exit_from(quick);
        REQUIRE_MESSAGE(e.has_value(), "round ", i, ": no Exit from a quick child");
        CHECK(e->reason == Term::atom("normal"));
        // A linked behaviour whose init() throws.
        myrmex::SpawnOptions linked;
        linked.link = true;
        Pid b = myrmex::spawn_behaviour(std::make_unique<Throws>(), linked);
        auto eb = next_exit_from(b);
        REQUIRE_MESSAGE(eb.has_value(), "round ", i, ": no Exit from a behaviour whose init() threw");
        CHECK(eb->reason.to_string() == "{exception,<<\"std::runtime_error\">>,<<\"init failed\">>}");
      }
      CHECK(queued() == 0);
    });
  }
}

TEST_CASE("spawn_link(f, args...) passes its arguments, and the child holds the link at its first step") {
  // spawn_link(f...) with arguments, a move-only one among them; the child's first act reads its own links:
  // the parent must be there already (an unlinked start would show none, however briefly).
  const long rounds = scaled(300);
  for (unsigned schedulers : kSchedulerCounts) {
    CAPTURE(schedulers);
    myrmex::Node node(config(schedulers));
    node.run([rounds] {
      const Pid me = myrmex::self();
      myrmex::set_trap_exit(true);
      for (long i = 0; i < rounds; ++i) {
        Pid child = myrmex::spawn_link(
            [](Pid parent, std::string what, std::unique_ptr<long> n) {
              myrmex::send(parent, links_of(myrmex::self()));
              myrmex::exit(crash(what.c_str(), *n));
            },
            me, std::string("args"), std::make_unique<long>(i));
        auto first = myrmex::receive([](std::vector<Pid>& v) { return to_string(v); },
                                     myrmex::after(10s, [] { return std::string("(nothing)"); }));
        CHECK_MESSAGE(first == pids({me}), "round ", i, ": the child's links at its first step: ", first);
        auto e = next_exit_from(child);
        REQUIRE_MESSAGE(e.has_value(), "round ", i, ": no Exit from the child");
        CHECK(e->reason == crash("args", i));
      }
      CHECK(links_of(me).empty());
      CHECK(queued() == 0);
    });
  }
}

TEST_CASE("link() to a dead, stale or never-issued PID: Exit{pid, noproc} when trapping, else NoProc") {
  for (unsigned schedulers : kSchedulerCounts) {
    CAPTURE(schedulers);
    myrmex::Node node(config(schedulers));
    node.run([] {
      Pid dead = myrmex::spawn([] {});
      REQUIRE(wait_gone(dead));
      Pid live = myrmex::spawn(waiter(Term::atom("normal")));
      // The live process's slot under another generation: a stale PID must not reach it.
      Pid stale = Pid::make(live.node(), live.index(), live.generation() + 1);
      for (Pid target : {dead, stale, Pid{}}) {
        // Not trapping: link() throws NoProc naming the PID, and nothing is queued or linked.
        bool threw = false;
        try {
          myrmex::link(target);
        } catch (const myrmex::NoProc& e) {
          threw = true;
          CHECK(e.pid == target);
        }
        CHECK_MESSAGE(threw, "link(", target.to_string(), ") did not throw NoProc");
        CHECK(queued() == 0);
        CHECK(links_of(myrmex::self()).empty());
        // Trapping: the Exit is queued before link() returns.
        myrmex::set_trap_exit(true);
        myrmex::link(target);
        auto e = next_exit(0ms);
        REQUIRE_MESSAGE(e.has_value(), "link(", target.to_string(), ") queued no Exit");
        CHECK(e->from == target);
        CHECK(e->reason == Term::atom("noproc"));
        CHECK(queued() == 0);
        CHECK(links_of(myrmex::self()).empty());
        myrmex::set_trap_exit(false);
      }
      CHECK(links_of(live).empty());
      // An uncaught NoProc ends the caller like any exception (Erlang's reason would be noproc).
      auto [p, ref] = myrmex::spawn_monitor([dead] { myrmex::link(dead); });
      CHECK(down_reason(ref) ==
            "{exception,<<\"myrmex::vm::NoProc\">>,<<\"noproc: " + dead.to_string() + " is not alive\">>}");
      (void)p;
      myrmex::send(live, Go{});
    });
  }
}

TEST_CASE("unlink() removes the link in both directions: the other's crash no longer reaches the caller") {
  for (unsigned schedulers : kSchedulerCounts) {
    CAPTURE(schedulers);
    myrmex::Node node(config(schedulers));
    node.run([] {
      Pid me = myrmex::self();
      // Not trapping: the caller survives the crash of the process it unlinked.
      auto [survivor, ref] = myrmex::spawn_monitor([] {
        Pid other = myrmex::spawn(waiter(Term::atom("crashed")));
        myrmex::link(other);
        myrmex::unlink(other);
        CHECK(links_of(myrmex::self()).empty());
        CHECK(links_of(other).empty());
        myrmex::send(other, Go{});
        REQUIRE(wait_gone(other));
        myrmex::exit(Term::atom("survived"));
      });
      CHECK(down_reason(ref) == "survived");
      (void)survivor;
      // Trapping: no Exit. The other side may unlink too.
      myrmex::set_trap_exit(true);
      Pid a = myrmex::spawn(waiter(Term::atom("crashed")));
      myrmex::link(a);
      myrmex::unlink(a);
      myrmex::send(a, Go{});
      Pid b = myrmex::spawn([me] {
        myrmex::link(me);
        myrmex::unlink(me);
        myrmex::exit(Term::atom("crashed"));
      });
      REQUIRE(wait_gone(a));
      REQUIRE(wait_gone(b));
      CHECK_FALSE(next_exit(0ms).has_value());
      // Unlinking what is not linked, or a dead PID, does nothing.
      Pid c = myrmex::spawn(waiter(Term::atom("normal")));
      myrmex::unlink(c);
      myrmex::unlink(a);
      myrmex::unlink(Pid{});
      CHECK(links_of(me).empty());
      CHECK(links_of(c).empty());
      myrmex::send(c, Go{});
      CHECK(queued() == 0);
    });
  }
}

namespace {

struct Unlinked {};
struct At {
  int scheduler;
};

// UnlinkRace counts the outcomes of unlink() racing the other side's exit.
struct UnlinkRace {
  long exit_first = 0;  // the exit came first: an Exit queued, or the caller killed, before unlink() returned
  long unlink_first = 0;
  long late = 0;  // a signal of the link after unlink() returned: the bug
  long real = 0;  // rounds where the two ran on different schedulers
};

// unlink_race() races unlink() on one scheduler against the linked process's exit on the other. With
// trap_exit, an Exit may be queued only before unlink() returns; without, the caller may die only before
// unlink() returns (a worker that reports when unlink() returned, then lives on).
UnlinkRace unlink_race(unsigned schedulers, long rounds, bool trap) {
  UnlinkRace out;
  const auto target = [](long r, int) {
    for (long k = 0; k < r % 8; ++k) myrmex::yield();
    myrmex::exit(crash("racing", r));
  };
  const auto racer = [&out, trap](long r, const std::vector<Pid>& targets) {
    const Pid other = targets[0];
    const long delay = (r / 8) % (trap ? 96 : 24);
    if (trap) {
      myrmex::set_trap_exit(true);
      myrmex::link(other);
      for (long k = 0; k < delay; ++k) myrmex::yield();
      const int at = myrmex::test::scheduler_index();
      myrmex::unlink(other);
      bool first = false;
      while (next_exit(0ms)) first = true;  // queued before unlink() returned: allowed
      wait_gone(other);
      if (next_exit(0ms)) ++out.late;  // queued after it returned
      ++(first ? out.exit_first : out.unlink_first);
      return at;
    }
    Pid me = myrmex::self();
    auto [worker, ref] = myrmex::spawn_monitor([me, other, delay] {
      myrmex::link(other);  // NoProc if it is gone already: the worker ends with it
      for (long k = 0; k < delay; ++k) myrmex::yield();
      myrmex::send(me, At{myrmex::test::scheduler_index()});
      myrmex::unlink(other);
      myrmex::send(me, Unlinked{});
      wait_gone(other);  // its exit ran to its end: a late signal would have been queued by now
      myrmex::exit(Term::atom("survived"));
    });
    int at = -1;
    bool unlinked = false;
    std::optional<myrmex::Down> down;
    myrmex::test::spin_until([&] {
      while (myrmex::receive([&](At a) { return at = a.scheduler, true; },
                             [&](Unlinked) { return unlinked = true; },
                             myrmex::when([&](const myrmex::Down& d) { return d.ref == ref; },
                                          [&](myrmex::Down& d) {
                                            down = std::move(d);
                                            return true;
                                          }),
                             myrmex::after(0ms, [] { return false; }))) {
      }
      return down.has_value();
    });
    REQUIRE(down.has_value());
    if (unlinked) {
      // Once unlink() returned, the link's signal must not end it.
      if (down->reason == Term::atom("survived")) {
        ++out.unlink_first;
      } else {
        ++out.late;
        MESSAGE("round ", r, ": the caller ended with ", down->reason.to_string(),
                " after unlink() returned");
      }
    } else {
      // Killed while linked (or NoProc from link() itself): the exit came first.
      CHECK_MESSAGE((down->reason == crash("racing", r) ||
                     down->reason.to_string().find("NoProc") != std::string::npos),
                    "round ", r, ": ", down->reason.to_string());
      ++out.exit_first;
    }
    (void)worker;
    return at;
  };
  out.real = myrmex::test::race_apart(schedulers, rounds, 1, target, racer);
  return out;
}

}  // namespace

TEST_CASE(
    "unlink() racing the other side's exit: once unlink() has returned, no signal of that link arrives") {
  const long rounds = scaled(20000);
  for (unsigned schedulers : kSchedulerCounts) {
    for (bool trap : {true, false}) {
      CAPTURE(schedulers);
      CAPTURE(trap);
      myrmex::Node node(config(schedulers));
      UnlinkRace race;
      node.run([&] { race = unlink_race(schedulers, rounds, trap); });
      MESSAGE(schedulers, " scheduler(s), trap_exit ", trap, ": the exit came first in ", race.exit_first,
              " rounds, unlink() in ", race.unlink_first, ", a signal came after unlink() returned in ",
              race.late, "; ", race.real, " of ", rounds, " rounds ran on two schedulers");
      CHECK(race.late == 0);
      CHECK(race.exit_first + race.unlink_first == rounds);
      if (schedulers > 1) CHECK(race.real > 0);
    }
  }
}

TEST_CASE("a link() and an unlink() of one pair, racing from its two sides, leave both sides agreeing") {
  // A links B while B unlinks A (from an unlinked start). Whichever wins, either both sides hold the link
  // or neither does; and when B then links A again and crashes, A gets the Exit. (A half link, held by B
  // only, would make B's second link() a no-op: B's crash would never reach A, and A's never B.)
  const long rounds = scaled(20000);
  for (unsigned schedulers : kSchedulerCounts) {
    CAPTURE(schedulers);
    myrmex::Node node(config(schedulers));
    struct Shared {
      std::atomic<std::uint64_t> a{0};
      std::atomic<long> unlinked{-1}, relink{-1};
    } sh;
    long half = 0, linked = 0, lost = 0, real = 0;
    node.run([&] {
      const auto b_side = [&sh](long r, int) {
        myrmex::test::spin_until([&] { return sh.a.load() != 0; });
        const Pid a{sh.a.load()};
        for (long k = 0; k < r % 4; ++k) myrmex::yield();
        myrmex::unlink(a);
        sh.unlinked = r;
        myrmex::test::spin_until([&] { return sh.relink.load() == r; });
        myrmex::link(a);
        myrmex::exit(crash("b", r));
      };
      const auto a_side = [&](long r, const std::vector<Pid>& targets) {
        const Pid me = myrmex::self(), b = targets[0];
        myrmex::set_trap_exit(true);
        sh.a = me.value;
        for (long k = 0; k < (r / 4) % 4; ++k) myrmex::yield();
        const int at = myrmex::test::scheduler_index();
        myrmex::link(b);
        myrmex::test::spin_until([&] { return sh.unlinked.load() == r; });
        const bool mine = !links_of(me).empty(), theirs = !links_of(b).empty();
        if (mine != theirs && ++half <= 3)
          MESSAGE("round ", r, ": after A's link() and B's unlink(), A's side is ",
                  std::string(mine ? "linked" : "unlinked"), ", B's side ",
                  std::string(theirs ? "linked" : "unlinked"));
        linked += mine && theirs;
        sh.relink = r;  // B links A again and crashes: A must get the Exit
        wait_gone(b);   // B's exit ran to its end: its Exit is queued by now
        if (!next_exit_from(b, 0ms) && ++lost <= 3)
          MESSAGE("round ", r, ": B linked A again and crashed, and A got no Exit");
        while (next_exit(0ms)) {
        }
        return at;
      };
      real = myrmex::test::race_apart(schedulers, rounds, 1, b_side, a_side);
    });
    MESSAGE(schedulers, " scheduler(s): linked at the end in ", linked, " of ", rounds, " rounds; ", half,
            " half links; a crash after a second link() lost its Exit ", lost, " times; ", real,
            " rounds on two schedulers");
    CHECK(half == 0);
    CHECK(lost == 0);
    if (schedulers > 1) CHECK(real > 0);
  }
}

TEST_CASE("process_info() shows links, monitors, monitored_by (one entry per monitor) and trap_exit") {
  for (unsigned schedulers : kSchedulerCounts) {
    CAPTURE(schedulers);
    myrmex::Node node(config(schedulers));
    node.run([] {
      Pid me = myrmex::self();
      Pid a = myrmex::spawn(waiter(Term::atom("normal")));
      Pid b = myrmex::spawn(waiter(Term::atom("normal")));
      auto info = myrmex::process_info(me);
      REQUIRE(info);
      CHECK(info->links.empty());
      CHECK(info->monitors.empty());
      CHECK(info->monitored_by.empty());
      CHECK_FALSE(info->trap_exit);
      myrmex::link(a);
      myrmex::link(b);
      myrmex::MonitorRef m1 = myrmex::monitor(a);
      myrmex::MonitorRef m2 = myrmex::monitor(a);
      myrmex::MonitorRef m3 = myrmex::monitor(b);
      CHECK_FALSE(myrmex::set_trap_exit(true));
      info = myrmex::process_info(me);
      REQUIRE(info);
      CHECK(to_string(myrmex::test::sorted(info->links)) == pids({a, b}));
      CHECK(to_string(myrmex::test::sorted(info->monitors)) == pids({a, a, b}));
      CHECK(info->trap_exit);
      CHECK(to_string(myrmex::test::monitored_by(a)) == pids({me, me}));
      CHECK(to_string(myrmex::test::monitored_by(b)) == pids({me}));
      CHECK(myrmex::test::monitors_of(a).empty());
      CHECK(to_string(links_of(a)) == pids({me}));
      CHECK_FALSE(myrmex::process_info(a)->trap_exit);
      CHECK(myrmex::demonitor(m2));
      CHECK(to_string(myrmex::test::monitored_by(a)) == pids({me}));
      CHECK(to_string(myrmex::test::monitors_of(me)) == pids({a, b}));
      myrmex::unlink(b);
      CHECK(to_string(links_of(me)) == pids({a}));
      CHECK(myrmex::set_trap_exit(false));
      CHECK_FALSE(myrmex::process_info(me)->trap_exit);
      // A watcher that ends takes its monitors and links with it.
      auto [w, wref] = myrmex::spawn_monitor([a] {
        myrmex::link(a);
        myrmex::monitor(a);
        myrmex::exit(Term::atom("normal"));  // `normal` spares `a`
      });
      CHECK(down_reason(wref) == "normal");
      REQUIRE(wait_gone(w));
      CHECK(to_string(links_of(a)) == pids({me}));
      CHECK(to_string(myrmex::test::monitored_by(a)) == pids({me}));
      CHECK(myrmex::demonitor(m1));
      CHECK(myrmex::demonitor(m3));
      myrmex::unlink(a);
      for (Pid p : {a, b}) myrmex::send(p, Go{});
    });
  }
}

TEST_CASE("two nodes in one OS process: a PID of the other node is noproc to link, monitor and call") {
  // No links across nodes before distribution (vm/links.h): the other node's process is dead to this one.
  myrmex::Node a(config(1)), b(config(2));
  Pid remote = b.spawn(waiter(Term::atom("normal")));
  a.run([remote] {
    bool threw = false;
    try {
      myrmex::link(remote);
    } catch (const myrmex::NoProc& e) {
      threw = e.pid == remote;
    }
    CHECK(threw);
    myrmex::set_trap_exit(true);
    myrmex::link(remote);
    auto e = next_exit(0ms);
    REQUIRE(e.has_value());
    CHECK(e->from == remote);
    CHECK(e->reason == Term::atom("noproc"));
    myrmex::MonitorRef ref = myrmex::monitor(remote);
    auto d = myrmex::test::next_down(ref, 0ms);
    REQUIRE(d.has_value());
    CHECK(d->pid == remote);
    CHECK(d->reason == Term::atom("noproc"));
    auto r = myrmex::call<int>(remote, 1, 1s);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error() == myrmex::CallError::noproc);
    CHECK(links_of(myrmex::self()).empty());
    CHECK(myrmex::test::monitors_of(myrmex::self()).empty());
    CHECK(queued() == 0);
  });
  auto info = b.process_info(remote);
  REQUIRE(info);
  CHECK(info->links.empty());
  CHECK(info->monitored_by.empty());
  CHECK(info->message_queue_len == 0);
  b.send(remote, Go{});
}

// ---------------------------------------------------------------------------------------------------------
// Windows widened with the yield points (builds with -Dyield_points=true: the sanitizer builds).

TEST_CASE(
    "seeded: link() and monitor() racing their targets' exits give one outcome each, whatever the "
    "interleaving" *
    doctest::skip(!myrmex::scheduler::detail::kYieldPoints)) {
  // Each seed picks one interleaving of two scheduler threads, switching at the yield points, some of
  // which sit inside a signal lock's critical section (a push to a mailbox). No time-outs: a lost outcome
  // hangs the test (Node::stop() cannot end it either), a doubled one fails the count.
  long seeds = myrmex::test::for_each_seed(40, [](std::uint64_t) {
    const int targets = 16;
    long outcomes = 0, doubled = 0;
    {
      myrmex::Node node(config(2));
      node.run([&] {
        myrmex::set_trap_exit(true);
        std::vector<Pid> pids;
        std::vector<myrmex::MonitorRef> refs;
        for (int k = 0; k < targets; ++k) {
          pids.push_back(myrmex::spawn([k] {
            for (int y = 0; y < k % 4; ++y) myrmex::yield();
            myrmex::exit(crash("seeded", k));
          }));
        }
        for (int k = 0; k < targets; ++k) {
          if (k % 2) {
            myrmex::link(pids[k]);
            refs.push_back(myrmex::monitor(pids[k]));
          } else {
            refs.push_back(myrmex::monitor(pids[k]));
            myrmex::link(pids[k]);
          }
        }
        // Every Down comes (a reason or noproc); a target's Exit is queued before its Down, and a noproc
        // Exit before link() returned.
        for (int k = 0; k < targets; ++k) {
          myrmex::receive(
              myrmex::when([&](const myrmex::Down& d) { return d.ref == refs[k]; }, [](myrmex::Down&) {}));
          ++outcomes;
        }
        std::vector<int> exits(targets, 0);
        while (myrmex::receive(
            [&](Exit& e) {
              for (int k = 0; k < targets; ++k) exits[k] += e.from == pids[k];
              return true;
            },
            myrmex::after(0ms, [] { return false; }))) {
        }
        for (int k = 0; k < targets; ++k) {
          outcomes += exits[k] == 1;
          doubled += exits[k] > 1;
        }
      });
    }
    CHECK(outcomes == 2 * targets);
    CHECK(doubled == 0);
  });
  CHECK(seeds > 0);
}

namespace {

// Holds a process in a named window until a condition holds (exit_safety_test.cpp does the same).
std::atomic<myrmex::Node*> held_node{nullptr};
std::atomic<std::uint64_t> held_until_gone{0};
std::atomic<const char*> held_at{nullptr};
std::atomic<int> held{0};

void hold_until_gone(const char* name) {
  const char* at = held_at.load();
  if (!at || std::string_view(name) != at || !held_node.load()) return;
  held_at = nullptr;  // once
  held = 1;
  const bool gone = myrmex::test::wait_until(
      [] { return !held_node.load()->process_info(Pid{held_until_gone.load()}); }, std::chrono::seconds(10));
  held = gone ? 2 : 3;
}

}  // namespace

TEST_CASE("an exit signal that lands while unlink() runs takes effect before unlink() returns, never after" *
          doctest::skip(!myrmex::scheduler::detail::kYieldPoints)) {
  // unlink() checks for signals as it charges, then erases its side. An exit of the linked process that
  // erases that side first (and so sends its signal) between the two must end the caller inside unlink():
  // once unlink() has returned, the link has no effect on the caller (vm/links.h). The yield point
  // `unlink.charged` holds the window open until the other side has gone.
  held = 0;
  myrmex::Node node(config(2));
  myrmex::test::YieldHookGuard hook(&hold_until_gone);
  std::atomic<bool> returned{false};
  Term reason = node.run([&] {
    // The other side spins on its own scheduler (the held one could not run it) until told to end.
    std::atomic<int> other_at{-1};
    std::atomic<bool> go{false};
    Pid other = myrmex::spawn([&] {
      while (!go.load()) {
        other_at = myrmex::test::scheduler_index();
        myrmex::yield();
      }
      myrmex::exit(Term::atom("crashed"));
    });
    auto [worker, ref] = myrmex::spawn_monitor([&, other] {
      myrmex::link(other);
      myrmex::test::spin_until(
          [&] { return other_at.load() >= 0 && other_at.load() != myrmex::test::scheduler_index(); });
      held_node = &node;
      held_until_gone = other.value;
      held_at = "unlink.charged";
      go = true;
      myrmex::unlink(other);
      returned = true;
      myrmex::yield();  // a charge point: the signal, if it got through, takes effect here
      myrmex::exit(Term::atom("survived"));
    });
    std::string down = down_reason(ref);
    CHECK_MESSAGE(held.load() == 2,
                  "the window `unlink.charged` was never reached, or the other side did not end");
    // Either way round is right, except dying of the link after unlink() returned.
    CHECK_MESSAGE(!(returned.load() && down == "crashed"),
                  "the link's signal ended the caller after unlink() returned");
    CHECK((down == "crashed" || down == "survived"));
    (void)worker;
  });
  held_node = nullptr;
  CHECK(reason == Term::atom("normal"));
}

TEST_CASE("link() and monitor() of a process that has ended but not yet sent its signals get its reason" *
          doctest::skip(!myrmex::scheduler::detail::kYieldPoints)) {
  // Between its end (`exit.done.stored`: alive() is false from there) and its tear-down, a process still
  // takes links and monitors: they get its exit reason like any other, never nothing.
  myrmex::Node node(config(2));
  myrmex::test::YieldHookGuard hook([](const char* name) {
    if (std::string_view(name) == "exit.done.stored" && held_at.load() &&
        std::string_view(held_at.load()) == name) {
      held_at = nullptr;
      held = 1;
      myrmex::test::wait_until([] { return held.load() == 2; }, std::chrono::seconds(10));
    }
  });
  node.run([] {
    myrmex::set_trap_exit(true);
    Pid target = myrmex::spawn([] {
      myrmex::receive([](Go) {});
      myrmex::exit(Term::atom("ending"));
    });
    held = 0;
    held_at = "exit.done.stored";
    myrmex::send(target, Go{});
    while (held.load() == 0) myrmex::yield();  // it is held in the window now
    CHECK_FALSE(myrmex::alive(target));
    myrmex::link(target);
    myrmex::MonitorRef ref = myrmex::monitor(target);
    held = 2;  // let it go on to its tear-down
    auto e = next_exit_from(target);
    REQUIRE(e.has_value());
    auto d = myrmex::test::next_down(ref);
    REQUIRE(d.has_value());
    // Linked and monitored while it was still in the table: its reason, or noproc if it had closed.
    CHECK((e->reason == Term::atom("ending") || e->reason == Term::atom("noproc")));
    CHECK((d->reason == Term::atom("ending") || d->reason == Term::atom("noproc")));
    MESSAGE("in the window: link() got ", e->reason.to_string(), ", monitor() ", d->reason.to_string());
    REQUIRE(wait_gone(target));
    CHECK(queued() == 0);
  });
}
