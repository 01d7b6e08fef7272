// Exit signals (vm/links.h's table, row by row, as Erlang/OTP 25 defines them), crashes travelling down
// chains of links, trap_exit, the order of messages against exit signals, fan-out and fan-in of 100k
// links, and a kill in the middle of each new call (link, unlink, monitor, demonitor, spawn_link,
// spawn_monitor, call) leaving nothing behind.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "tests/test_node.h"
#include "tests/vm/relations_helpers.h"

using namespace std::chrono_literals;
using myrmex::Exit;
using myrmex::MonitorRef;
using myrmex::Pid;
using myrmex::Term;
using myrmex::test::config;
using myrmex::test::crash;
using myrmex::test::down_reason;
using myrmex::test::kSchedulerCounts;
using myrmex::test::LiveCounts;
using myrmex::test::next_exit;
using myrmex::test::queued;
using myrmex::test::scaled;
using myrmex::test::wait_gone;

namespace {

struct Go {};
struct Ready {};
struct Seen {
  Pid from;
  Term reason;
};

// Fate is what became of a victim process: its exit reason ("survived" if it lived through the signal)
// and the Exits it received, each as "<who> <reason>" (who: the sender's role).
struct Fate {
  std::string end;
  std::vector<std::string> seen;
};

// Signal sends the signal of one row to `victim` and returns the PID it comes from; `me` is the test's
// process. It returns once the signal has been sent (for a link, once its sender's exit ran to its end).
using Signal = std::function<Pid(Pid victim, Pid me)>;

// fate() runs one row: a victim that traps exits or not gets the signal, then a Go that makes it end with
// `survived` unless the signal ended it first. Exits it receives are reported in order.
Fate fate(bool trap, const Signal& signal) {
  Pid me = myrmex::self();
  auto [victim, ref] = myrmex::spawn_monitor([me, trap] {
    myrmex::set_trap_exit(trap);
    myrmex::send(me, Ready{});
    for (;;)
      myrmex::receive(
          [&](Exit& e) {
            myrmex::send(me, Seen{e.from, e.reason});
          },
          [](Go) { myrmex::exit(Term::atom("survived")); });
  });
  myrmex::receive([](Ready) {});
  Pid from = signal(victim, me);
  myrmex::send(victim, Go{});
  Fate f;
  for (bool down = false; !down;) {
    myrmex::receive(
        [&](Seen& s) {
          const std::string who = s.from == from     ? "from"
                                  : s.from == victim ? "self"
                                  : s.from == Pid{}  ? "outside"
                                                     : s.from.to_string();
          f.seen.push_back(who + " " + s.reason.to_string());
        },
        myrmex::when([&](const myrmex::Down& d) { return d.ref == ref; },
                     [&](myrmex::Down& d) {
                       f.end = d.reason.to_string();
                       down = true;
                     }),
        myrmex::after(10s, [&] {
          f.end = "(hung)";
          down = true;
        }));
  }
  return f;
}

// linked_exit() is the signal of a link: a process links the victim, then ends as `end` makes it.
Signal linked_exit(std::function<void()> end) {
  return [end](Pid victim, Pid) {
    Pid p = myrmex::spawn([victim, end] {
      myrmex::link(victim);
      end();
    });
    wait_gone(p);
    return p;
  };
}
Signal linked_exit(Term reason) {
  return linked_exit([reason] { myrmex::exit(reason); });
}

// exit_from_me() is exit(victim, reason) from the test's process.
Signal exit_from_me(Term reason) {
  return [reason](Pid victim, Pid me) {
    myrmex::exit(victim, reason);
    return me;
  };
}

struct Row {
  const char* row;
  bool trap;
  Signal signal;
  Fate expected;
};

using V = std::vector<std::string>;

const std::vector<Row>& table() {
  const Term kill = Term::atom("kill"), normal = Term::atom("normal"), boom = Term::atom("boom");
  // A linked process killed by exit(pid, kill): its links see `killed`.
  const auto killed_linked = [](Pid victim, Pid) {
    Pid p = myrmex::spawn([victim] {
      myrmex::link(victim);
      myrmex::receive([](Go) {});
    });
    while (myrmex::test::links_of(p).empty()) myrmex::yield();
    myrmex::exit(p, Term::atom("kill"));
    wait_gone(p);
    return p;
  };
  const auto throws = [] { throw std::runtime_error("boom"); };
  const std::string exception = "{exception,<<\"std::runtime_error\">>,<<\"boom\">>}";
  static const std::vector<Row> rows = {
      // Not trapping.
      {"link, normal: ignored", false, linked_exit(normal), {"survived", {}}},
      {"link, a returned function: ignored", false, linked_exit([] {}), {"survived", {}}},
      {"link, other reason: ends with it", false, linked_exit(boom), {"boom", {}}},
      {"link, an exception: ends with its reason", false, linked_exit(throws), {exception, {}}},
      {"link, a process that ended itself with exit(kill): ends with `kill`",
       false,
       linked_exit(kill),
       {"kill", {}}},
      {"link, a process killed by exit(pid, kill): ends with `killed`", false, killed_linked, {"killed", {}}},
      {"exit(pid, normal) from another: ignored", false, exit_from_me(normal), {"survived", {}}},
      {"exit(pid, R): ends with R", false, exit_from_me(boom), {"boom", {}}},
      {"exit(pid, kill): ends with killed", false, exit_from_me(kill), {"killed", {}}},
      // Trapping.
      {"trapping, link, normal: Exit", true, linked_exit(normal), {"survived", V{"from normal"}}},
      {"trapping, link, other reason: Exit", true, linked_exit(boom), {"survived", V{"from boom"}}},
      {"trapping, link, an exception: Exit with its reason",
       true,
       linked_exit(throws),
       {"survived", V{"from " + exception}}},
      {"trapping, link, a process that ended itself with exit(kill): Exit{from, kill}",
       true,
       linked_exit(kill),
       {"survived", V{"from kill"}}},
      {"trapping, link, a process killed by exit(pid, kill): Exit{from, killed}",
       true,
       killed_linked,
       {"survived", V{"from killed"}}},
      {"trapping, exit(pid, normal): Exit", true, exit_from_me(normal), {"survived", V{"from normal"}}},
      {"trapping, exit(pid, R): Exit", true, exit_from_me(boom), {"survived", V{"from boom"}}},
      {"trapping, exit(pid, kill): untrappable, ends with killed", true, exit_from_me(kill), {"killed", {}}},
  };
  return rows;
}

}  // namespace

TEST_CASE("the exit-signal table, row by row (vm/links.h)") {
  for (unsigned schedulers : kSchedulerCounts) {
    CAPTURE(schedulers);
    myrmex::Node node(config(schedulers));
    std::vector<Fate> fates;
    std::size_t left = 1;
    node.run([&] {
      for (const Row& row : table()) fates.push_back(fate(row.trap, row.signal));
      left = queued();
    });
    REQUIRE(fates.size() == table().size());
    for (std::size_t i = 0; i < fates.size(); ++i) {
      const Row& row = table()[i];
      std::string name = row.row;
      CAPTURE(name);
      CHECK(fates[i].end == row.expected.end);
      CHECK(fates[i].seen == row.expected.seen);
    }
    CHECK(left == 0);
  }
}

TEST_CASE("exit(self(), normal) ends a process that does not trap; a trapping one gets Exit{self, normal}") {
  for (unsigned schedulers : kSchedulerCounts) {
    CAPTURE(schedulers);
    myrmex::Node node(config(schedulers));
    node.run([] {
      auto [p, ref] = myrmex::spawn_monitor([] {
        myrmex::exit(myrmex::self(), Term::atom("normal"));
        myrmex::exit(Term::atom("survived"));
      });
      CHECK(down_reason(ref) == "normal");
      auto [q, qref] = myrmex::spawn_monitor([] {
        myrmex::set_trap_exit(true);
        myrmex::exit(myrmex::self(), Term::atom("normal"));
        auto e = next_exit(0ms);
        myrmex::exit(e && e->from == myrmex::self() ? e->reason : Term::atom("no_exit"));
      });
      CHECK(down_reason(qref) == "normal");
      // exit(self(), kill) is untrappable, as from anyone else.
      auto [r, rref] = myrmex::spawn_monitor([] {
        myrmex::set_trap_exit(true);
        myrmex::exit(myrmex::self(), Term::atom("kill"));
        myrmex::exit(Term::atom("survived"));
      });
      CHECK(down_reason(rref) == "killed");
      (void)p, (void)q, (void)r;
    });
  }
}

TEST_CASE("Node::exit() from outside the node follows the table (its Exit comes from Pid{})") {
  for (unsigned schedulers : kSchedulerCounts) {
    CAPTURE(schedulers);
    myrmex::Node node(config(schedulers));
    std::atomic<int> stage{0};
    std::vector<std::string> seen;
    Pid trapping = node.spawn([&] {
      myrmex::set_trap_exit(true);
      stage = 1;
      for (int i = 0; i < 2; ++i) {
        auto e = next_exit();
        seen.push_back(e ? (e->from == Pid{} ? "outside " : "? ") + e->reason.to_string() : "none");
      }
      stage = 2;
      myrmex::receive([](Go) {});
    });
    Pid plain = node.spawn([] { myrmex::receive([](Go) {}); });
    REQUIRE(myrmex::test::wait_until([&] { return stage.load() == 1; }));
    node.exit(trapping, Term::atom("normal"));
    node.exit(trapping, Term::atom("boom"));
    REQUIRE(myrmex::test::wait_until([&] { return stage.load() == 2; }));
    CHECK(seen == std::vector<std::string>{"outside normal", "outside boom"});
    node.exit(plain, Term::atom("normal"));  // ignored
    CHECK(node.alive(plain));
    node.exit(plain, Term::atom("boom"));
    CHECK(myrmex::test::wait_until([&] { return !node.alive(plain); }));
    node.exit(trapping, Term::atom("kill"));
    CHECK(myrmex::test::wait_until([&] { return !node.alive(trapping); }));
  }
}

TEST_CASE("set_trap_exit() returns the previous setting") {
  myrmex::Node node(config(1));
  node.run([] {
    CHECK_FALSE(myrmex::set_trap_exit(false));
    CHECK_FALSE(myrmex::set_trap_exit(true));
    CHECK(myrmex::set_trap_exit(true));
    CHECK(myrmex::set_trap_exit(false));
    CHECK_FALSE(myrmex::set_trap_exit(false));
  });
}

TEST_CASE("an Exit queued while trapping stays a message after trap_exit is turned off") {
  myrmex::Node node(config(2));
  node.run([] {
    myrmex::set_trap_exit(true);
    Pid p = myrmex::spawn_link([] { myrmex::exit(Term::atom("boom")); });
    REQUIRE(wait_gone(p));
    myrmex::set_trap_exit(false);
    auto e = next_exit(0ms);
    REQUIRE(e.has_value());
    CHECK(e->reason == Term::atom("boom"));
  });
}

namespace {

// chain() spawns `n` processes, each linked to the one before (the first to none), and returns them in
// order. Each waits for a Go, then crashes with `reason`; `body` runs in each after it is linked.
std::vector<Pid> chain(long n, bool trap, std::function<void(Pid previous)> body) {
  std::vector<Pid> pids;
  Pid previous;
  for (long i = 0; i < n; ++i) {
    Pid p = myrmex::spawn([previous, trap, body] {
      myrmex::set_trap_exit(trap);
      if (previous) myrmex::link(previous);
      body(previous);
    });
    pids.push_back(p);
    previous = p;
  }
  return pids;
}

// linked() says whether `a` lists `b` among its links.
bool linked(Pid a, Pid b) {
  auto links = myrmex::test::links_of(a);
  return std::find(links.begin(), links.end(), b) != links.end();
}

// wait_linked() returns once every process of a chain and the one before it hold their link on both sides.
// One side is not enough: link() returns before the other side has taken the link signal, and a process that
// dies before taking it answers with a noproc exit signal (as Erlang's), which would carry on down the chain.
void wait_linked(const std::vector<Pid>& pids) {
  for (std::size_t i = 1; i < pids.size(); ++i)
    while (!linked(pids[i], pids[i - 1]) || !linked(pids[i - 1], pids[i])) myrmex::yield();
}

// link_both() links the caller to `pid` and waits until `pid` holds the link too.
void link_both(Pid pid) {
  myrmex::link(pid);
  while (!linked(pid, myrmex::self())) myrmex::yield();
}

}  // namespace

TEST_CASE("a crash travels down a chain of 1,000 linked processes, with the crash's reason") {
  const Term reason = crash("chain", 42);
  for (unsigned schedulers : kSchedulerCounts) {
    CAPTURE(schedulers);
    myrmex::Node node(config(schedulers));
    node.run([&] {
      std::vector<Pid> pids = chain(1000, false, [](Pid) { myrmex::receive([](Go) {}); });
      std::vector<MonitorRef> refs;
      for (Pid p : pids) refs.push_back(myrmex::monitor(p));
      wait_linked(pids);  // each links the one before as it first runs
      myrmex::exit(pids.front(), reason);
      long wrong = 0;
      for (std::size_t i = 0; i < refs.size(); ++i) {
        std::string got = down_reason(refs[i]);
        if (got != reason.to_string() && ++wrong < 5) MESSAGE("process ", i, " ended with ", got);
      }
      CHECK(wrong == 0);
      CHECK(queued() == 0);
    });
  }
}

TEST_CASE("a trapping chain turns each exit into an Exit: each passes the reason on as its own") {
  const Term reason = crash("chain", 7);
  for (unsigned schedulers : kSchedulerCounts) {
    CAPTURE(schedulers);
    myrmex::Node node(config(schedulers));
    node.run([&] {
      Pid me = myrmex::self();
      myrmex::set_trap_exit(true);
      std::vector<Pid> pids = chain(1000, true, [me](Pid previous) {
        // Trapping: the crash before us arrives as an Exit from it, which we report and pass on.
        auto e = next_exit(30s);
        myrmex::send(me, Seen{e ? e->from : Pid{}, e ? e->reason : Term::atom("none")});
        if (e && previous && e->from != previous) myrmex::exit(Term::atom("wrong_sender"));
        myrmex::exit(e ? e->reason : Term::atom("none"));
      });
      // The observer links the last one: its Exit closes the chain.
      wait_linked(pids);
      link_both(pids.back());
      // The first one's Exit comes from a process that ends with the reason.
      Pid first = myrmex::spawn([&] {
        myrmex::link(pids.front());
        myrmex::exit(reason);
      });
      long ok = 0;
      for (std::size_t i = 0; i < pids.size(); ++i) {
        myrmex::receive([&](Seen& s) { ok += s.reason == reason; }, myrmex::after(30s, [] {}));
      }
      CHECK(ok == 1000);
      auto last = myrmex::test::next_exit_from(pids.back());
      REQUIRE(last.has_value());
      CHECK(last->reason == reason);
      (void)first;
    });
  }
}

TEST_CASE(
    "a trapping process linked to a killed one sees killed, and a chain of non-trapping ones spreads it") {
  for (unsigned schedulers : kSchedulerCounts) {
    CAPTURE(schedulers);
    myrmex::Node node(config(schedulers));
    node.run([] {
      myrmex::set_trap_exit(true);
      std::vector<Pid> pids = chain(10, false, [](Pid) { myrmex::receive([](Go) {}); });
      wait_linked(pids);
      link_both(pids.back());
      myrmex::exit(pids.front(), Term::atom("kill"));
      auto e = myrmex::test::next_exit_from(pids.back());
      REQUIRE(e.has_value());
      CHECK_MESSAGE(e->reason == Term::atom("killed"), e->reason.to_string());
    });
  }
}

// ---------------------------------------------------------------------------------------------------------
// Order: a process's messages, then its exit signals.

namespace {
struct Numbered {
  long round;
  long n;
};
struct Migrations {
  std::uint32_t n;
};
}  // namespace

TEST_CASE("what a process sent before it died is received before its Exit and its Down, as it migrates") {
  // Exits and Downs go to the user queue behind everything the dead process sent (the Exit and Down are
  // queued by it, after its last send). Several senders at once so that the schedulers steal from each
  // other and senders migrate between two sends.
  const long rounds = scaled(200), messages = 200;
  const int pairs = 4;
  for (unsigned schedulers : kSchedulerCounts) {
    CAPTURE(schedulers);
    myrmex::Node node(config(schedulers));
    std::atomic<std::uint64_t> migrations{0};
    long late = 0;
    node.run([&] {
      for (long r = 0; r < rounds; ++r) {
        Pid main = myrmex::self();
        std::vector<Pid> receivers;
        for (int k = 0; k < pairs; ++k) {
          receivers.push_back(myrmex::spawn([&, main, r, k] {
            myrmex::set_trap_exit(true);
            Pid a = myrmex::spawn_link([me = myrmex::self(), r, k, &migrations] {
              for (long i = 0; i < messages; ++i) {
                myrmex::send(me, Numbered{r, i});
                if (i % 3 == k % 3) myrmex::yield();
              }
              migrations += myrmex::process_info(myrmex::self())->migrations;
              myrmex::exit(crash("sender", r));
            });
            MonitorRef ref = myrmex::monitor(a);
            long next = 0, bad = 0;
            bool exit_seen = false, down_seen = false;
            while (!(exit_seen && down_seen)) {
              myrmex::receive(
                  [&](Numbered& m) { bad += m.n != next || exit_seen || down_seen, next = m.n + 1; },
                  [&](Exit& e) { exit_seen = e.from == a; },
                  myrmex::when([&](const myrmex::Down& d) { return d.ref == ref; },
                               [&](myrmex::Down&) { down_seen = true; }),
                  myrmex::after(10s, [&] { exit_seen = down_seen = true, ++bad; }));
            }
            bad += next != messages;
            myrmex::send(main, Numbered{-1, bad});
          }));
        }
        for (int k = 0; k < pairs; ++k)
          myrmex::receive([&](Numbered& m) { late += m.round == -1 ? m.n : 1; });
      }
    });
    MESSAGE(schedulers, " scheduler(s): senders migrated ", migrations.load(), " times in all");
    CHECK(late == 0);
    if (schedulers == 2) CHECK(migrations.load() > 0);
  }
}

TEST_CASE("messages, then exit(B, reason), then messages, from one sender to a trapping B, arrive in order") {
  const long rounds = scaled(500);
  for (unsigned schedulers : kSchedulerCounts) {
    CAPTURE(schedulers);
    myrmex::Node node(config(schedulers));
    node.run([&] {
      Pid me = myrmex::self();
      Pid b = myrmex::spawn([me, rounds] {
        myrmex::set_trap_exit(true);
        myrmex::send(me, Ready{});
        // Expected per round: 0..9, then Exit{me, {signal, round}}, then 10..19.
        long bad = 0;
        for (long r = 0; r < rounds; ++r) {
          for (int step = 0; step < 21; ++step) {
            myrmex::receive(
                [&](Numbered& m) {
                  bad += step == 10 || m.round != r || m.n != (step < 10 ? step : step - 1);
                },
                [&](Exit& e) { bad += step != 10 || e.from != me || !(e.reason == crash("signal", r)); },
                myrmex::after(10s, [&] { ++bad; }));
          }
        }
        myrmex::send(me, Numbered{-1, bad});
      });
      myrmex::receive([](Ready) {});
      for (long r = 0; r < rounds; ++r) {
        for (int i = 0; i < 10; ++i) myrmex::send(b, Numbered{r, i});
        if (r % 2) myrmex::yield();
        myrmex::exit(b, crash("signal", r));
        for (int i = 10; i < 20; ++i) myrmex::send(b, Numbered{r, i});
      }
      CHECK(myrmex::receive([](Numbered& m) { return m.n; }) == 0);
    });
  }
}

// ---------------------------------------------------------------------------------------------------------
// Fan-out and fan-in.

namespace {

// Listener traps exits, counts the Exits it gets, and answers a Count with the count.
struct Count {};
struct Listener final : myrmex::Behaviour {
  explicit Listener(Pid report) : report(report) {}
  void init() override { myrmex::set_trap_exit(true); }
  void handle(myrmex::Message& m) override {
    if (auto* e = m.get<Exit>()) {
      exits += 1;
      right += e->reason == crash("hub", 0);
    } else if (m.is<Count>()) {
      myrmex::send(report, Numbered{exits, right});
    } else if (auto* p = m.get<Pid>()) {
      myrmex::link(*p);
      myrmex::send(report, Ready{});
    }
  }
  Pid report;
  long exits = 0, right = 0;
};

}  // namespace

TEST_CASE("fan-out: a process linked to 100k others ends, and each gets exactly one signal") {
  const long n = scaled(100000);
  for (unsigned schedulers : kSchedulerCounts) {
    CAPTURE(schedulers);
    myrmex::Node node(config(schedulers));
    node.run([&] {
      Pid me = myrmex::self();
      Pid hub = myrmex::spawn([] {
        myrmex::receive([](Go) {});
        myrmex::exit(crash("hub", 0));
      });
      // Trapping listeners (behaviours: no stack while idle), linked to the hub.
      std::vector<Pid> listeners;
      for (long i = 0; i < n; ++i) {
        listeners.push_back(myrmex::spawn_behaviour(std::make_unique<Listener>(me)));
        myrmex::send(listeners.back(), hub);
      }
      for (long i = 0; i < n; ++i) myrmex::receive([](Ready) {});
      CHECK(myrmex::process_info(hub)->links.size() == static_cast<std::size_t>(n));
      // Non-trapping ones, linked the other way round, watched by monitors.
      std::vector<Pid> plain;
      std::vector<MonitorRef> refs;
      const long m = n / 10;
      for (long i = 0; i < m; ++i) {
        plain.push_back(myrmex::spawn([hub, me] {
          myrmex::link(hub);
          myrmex::send(me, Ready{});
          myrmex::receive([](Go) {});
        }));
        refs.push_back(myrmex::monitor(plain.back()));
      }
      for (long i = 0; i < m; ++i) myrmex::receive([](Ready) {});
      myrmex::send(hub, Go{});
      REQUIRE(wait_gone(hub));  // every signal it sends is queued now
      // The Downs first: the counts' receive would scan past them.
      std::unordered_set<std::uint64_t> watched;
      for (MonitorRef ref : refs) watched.insert(ref.value);
      long killed = 0;
      for (long i = 0; i < m; ++i)
        myrmex::receive(
            [&](myrmex::Down& d) { killed += watched.erase(d.ref.value) && d.reason == crash("hub", 0); },
            myrmex::after(10s, [] {}));
      CHECK(killed == m);
      long one_each = 0, right = 0;
      for (Pid l : listeners) myrmex::send(l, Count{});
      for (long i = 0; i < n; ++i)
        myrmex::receive([&](Numbered& c) { one_each += c.round == 1, right += c.n == 1; });
      CHECK(one_each == n);
      CHECK(right == n);
      for (Pid l : listeners) myrmex::exit(l, Term::atom("kill"));
    });
  }
}

TEST_CASE("fan-in: 100k processes linked to one trapping process die, and it gets exactly 100k Exits") {
  const long n = scaled(100000);
  for (unsigned schedulers : kSchedulerCounts) {
    CAPTURE(schedulers);
    myrmex::Node node(config(schedulers));
    node.run([&] {
      myrmex::set_trap_exit(true);
      std::unordered_map<Pid, long> children;
      for (long i = 0; i < n; ++i) {
        children.emplace(myrmex::spawn_link([i] { myrmex::exit(crash("child", i)); }), i);
        if (i % 64 == 0) myrmex::yield();  // some die while others are spawned
      }
      REQUIRE(children.size() == static_cast<std::size_t>(n));
      std::unordered_set<Pid> from;
      long foreign = 0, wrong = 0;
      for (long i = 0; i < n; ++i) {
        auto e = next_exit();
        if (!e) break;
        auto child = children.find(e->from);
        foreign += child == children.end();
        from.insert(e->from);
        wrong += child != children.end() && !(e->reason == crash("child", child->second));
      }
      CHECK(from.size() == static_cast<std::size_t>(n));  // one from each: no duplicates, none missing
      CHECK(foreign == 0);
      CHECK(wrong == 0);
      for (const auto& [c, i] : children) wait_gone(c);
      CHECK_FALSE(next_exit(0ms).has_value());
      CHECK(queued() == 0);
      CHECK(myrmex::test::links_of(myrmex::self()).empty());
    });
  }
}

// ---------------------------------------------------------------------------------------------------------
// A kill in the middle of each new call.

namespace {

// An API call of the relations family, repeated until the caller is killed. `peer` waits forever.
struct Loop {
  const char* api;
  std::function<void(Pid peer)> body;
};

struct Hold {};  // never sent: a receive that waits for it parks for good

// park_child() is a spawned child's body: it parks for good (its caller's kill must end it through the
// link), unless 1,000 such children are parked already, then it returns: a caller looping on spawn_link
// would otherwise pile up children without bound (and ThreadSanitizer dies past 8,128 live fibers).
void park_child() {
  static std::atomic<int> parked{0};
  struct Count {
    Count() { ++parked; }
    ~Count() { --parked; }  // the kill unwinds the child's stack
  } count;
  if (parked.load() <= 1000) myrmex::receive([](Hold) {});
}

const std::vector<Loop>& loops() {
  static const std::vector<Loop> all = {
      {"link, unlink",
       [](Pid peer) {
         myrmex::link(peer);
         myrmex::unlink(peer);
       }},
      {"link (kept)", [](Pid peer) { myrmex::link(peer); }},
      {"link to a dead PID, trapping",
       [](Pid) {
         myrmex::set_trap_exit(true);
         myrmex::link(Pid{});
       }},
      {"monitor, demonitor", [](Pid peer) { myrmex::demonitor(myrmex::monitor(peer)); }},
      {"monitor (kept)", [](Pid peer) { myrmex::monitor(peer); }},
      {"monitor, demonitor with flush",
       [](Pid peer) { myrmex::demonitor(myrmex::monitor(peer), myrmex::flush); }},
      {"monitor a dead PID", [](Pid) { myrmex::monitor(Pid{}); }},
      {"spawn_link", [](Pid) { myrmex::spawn_link(park_child); }},
      {"spawn_link, trapping",
       [](Pid) {
         myrmex::set_trap_exit(true);
         myrmex::spawn_link([] {});
       }},
      {"spawn_monitor", [](Pid) { myrmex::spawn_monitor(park_child); }},
      {"spawn_monitor of a quick child", [](Pid) { myrmex::spawn_monitor([] {}); }},
      {"call (the server never answers)", [](Pid peer) { (void)myrmex::call<int>(peer, 1, 1h); }},
      {"call (the server answers)",
       [](Pid peer) { (void)myrmex::call<int>(peer, std::string("answer"), 1h); }},
      {"set_trap_exit", [](Pid) { myrmex::set_trap_exit(!myrmex::set_trap_exit(true)); }},
  };
  return all;
}

}  // namespace

TEST_CASE(
    "a kill in the middle of link, unlink, monitor, demonitor, spawn_link, spawn_monitor or call leaks "
    "nothing and leaves no relation behind") {
  for (unsigned schedulers : kSchedulerCounts) {
    for (const Loop& loop : loops()) {
      std::string api = loop.api;
      CAPTURE(schedulers);
      CAPTURE(api);
      LiveCounts before;
      {
        myrmex::Node node(config(schedulers));
        node.run([&] {
          // The peer traps exits (the caller's `killed` must not end it), answers requests for a string
          // with 1, and drops the rest.
          Pid peer = myrmex::spawn([] {
            myrmex::set_trap_exit(true);
            for (;;)
              myrmex::receive([](myrmex::Request<std::string, int>& r) { myrmex::reply(r, 1); },
                              [](myrmex::Message&) {});
          });
          while (!myrmex::process_info(peer)->trap_exit) myrmex::yield();
          for (int round = 0; round < 5; ++round) {
            auto [caller, ref] = myrmex::spawn_monitor([&loop, peer] {
              for (;;) loop.body(peer);
            });
            // Kill it from another scheduler, at some point inside its loop.
            myrmex::spawn([caller, round] {
              for (int k = 0; k < 10 * round; ++k) myrmex::yield();
              myrmex::sleep_for(std::chrono::milliseconds(1 + round));
              myrmex::exit(caller, Term::atom("kill"));
            });
            std::string reason = down_reason(ref, 30s);
            CHECK_MESSAGE(reason == "killed", api, ", round ", round, ": the caller ended with ", reason);
            REQUIRE(wait_gone(caller));
            // Nothing of the caller's is left on the peer's side.
            auto info = myrmex::process_info(peer);
            REQUIRE(info);
            CHECK_MESSAGE(info->links.empty(), api, ", round ", round, ": the peer is still linked");
            CHECK_MESSAGE(info->monitored_by.empty(), api, ", round ", round,
                          ": the peer is still monitored");
          }
          myrmex::exit(peer, Term::atom("kill"));
        });
      }
      CHECK(before.grown() == "");
    }
  }
}
