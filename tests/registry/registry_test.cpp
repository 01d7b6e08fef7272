// Local names (registry/registry.h): Erlang's register/2, unregister/1, whereis/1, registered/0,
// Name ! Msg and monitor(process, Name), row by row, and the races of a registration against its holder's
// exit, against another registration, and of unregister against the holder's exit. Cases run at 1 and 2
// schedulers; those whose yield hook blocks a scheduler thread while the holder exits need two.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "scheduler/detail/yield_point.h"
#include "tests/test_node.h"

using namespace std::chrono_literals;
using myrmex::Down;
using myrmex::Expected;
using myrmex::MonitorRef;
using myrmex::NameError;
using myrmex::Pid;
using myrmex::SendResult;
using myrmex::Term;
using myrmex::scheduler::detail::kYieldPoints;
using myrmex::test::config;
using myrmex::test::LiveCounts;
using myrmex::test::scaled;
using myrmex::test::wait_until;

namespace {

constexpr unsigned kSchedulerCounts[] = {1, 2};

struct Stop {};
struct Ready {};
using Result = Expected<void, NameError>;

void idle() {
  myrmex::receive([](Stop) {});
}

// spin() keeps running (yielding) until killed.
void spin() {
  for (;;) myrmex::yield();
}

// outcome() names a result: "ok", or its error. (Expected<void, E>::error() of a success is E{}, which
// is `taken`, so tests compare outcomes, never error() alone.)
std::string outcome(const Result& r) {
  if (r) return "ok";
  switch (r.error()) {
    case NameError::taken:
      return "taken";
    case NameError::already_named:
      return "already_named";
    case NameError::noproc:
      return "noproc";
    case NameError::unknown_name:
      return "unknown_name";
    case NameError::bad_name:
      return "bad_name";
  }
  return "?";
}

std::string outcome(const Expected<SendResult, NameError>& r) {
  if (!r) return outcome(Result(myrmex::unexpected(r.error())));
  switch (r.value()) {
    case SendResult::ok:
      return "sent";
    case SendResult::noproc:
      return "send noproc";
    case SendResult::mailbox_full:
      return "mailbox_full";
    case SendResult::dropped:
      return "dropped";
  }
  return "?";
}

Down down_of(MonitorRef ref) {
  return myrmex::receive(
      myrmex::when([ref](const Down& d) { return d.ref == ref; }, [](Down& d) { return std::move(d); }));
}

// await_exit() returns once `pid` has ended and its links and monitors have fired (as a process).
void await_exit(Pid pid) {
  down_of(myrmex::monitor(pid));
}

// numbered() is prefix + n (written so that g++ 12 does not warn: -Wrestrict on "literal" + string).
std::string numbered(const char* prefix, long n) {
  std::string s(prefix);
  s += std::to_string(n);
  return s;
}

std::vector<std::string> sorted(std::vector<std::string> names) {
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------
// The rows of register/2, unregister/1, whereis/1, registered/0.

TEST_CASE(
    "a registered name names its holder until it is unregistered; the holder goes on, and may be named "
    "again") {
  for (unsigned n : kSchedulerCounts) {
    CAPTURE(n);
    myrmex::Node node(config(n));
    node.run([] {
      Pid p = myrmex::spawn(idle);
      CHECK(myrmex::whereis("svc") == Pid{});
      CHECK(outcome(myrmex::register_name("svc", p)) == "ok");
      CHECK(myrmex::whereis("svc") == p);
      CHECK(myrmex::registered() == std::vector<std::string>{"svc"});
      CHECK(outcome(myrmex::register_name("me", myrmex::self())) == "ok");
      CHECK(sorted(myrmex::registered()) == std::vector<std::string>{"me", "svc"});
      CHECK(outcome(myrmex::unregister_name("svc")) == "ok");
      CHECK(myrmex::whereis("svc") == Pid{});
      CHECK(myrmex::registered() == std::vector<std::string>{"me"});
      CHECK(myrmex::alive(p));
      CHECK(outcome(myrmex::register_name("other", p)) == "ok");  // unnamed again: it may take a name
      CHECK(myrmex::whereis("other") == p);
      // As Erlang's unregister/1: any process may free any name.
      Pid stranger =
          myrmex::spawn([me = myrmex::self()] { myrmex::send(me, myrmex::unregister_name("me")); });
      CHECK(myrmex::receive([](Result& r) { return outcome(r); }) == "ok");
      await_exit(stranger);
      CHECK(myrmex::whereis("me") == Pid{});
      myrmex::send(p, Stop{});
    });
  }
}

TEST_CASE(
    "register_name refuses, as erl does: a taken name, a second name, the same name twice, a dead, stale "
    "or foreign PID, a bad name; and changes nothing then") {
  for (unsigned n : kSchedulerCounts) {
    CAPTURE(n);
    myrmex::Node other(config(1));
    const Pid foreign = other.spawn(idle);
    myrmex::Node node(config(n));
    node.run([foreign] {
      Pid a = myrmex::spawn(idle), b = myrmex::spawn(idle), c = myrmex::spawn(idle);
      Pid dead = myrmex::spawn([] {});
      await_exit(dead);
      const Pid stale = Pid::make(a.node(), a.index(), a.generation() + 1);
      CHECK(outcome(myrmex::register_name("a", a)) == "ok");
      CHECK(outcome(myrmex::register_name("b", b)) == "ok");
      // erl: register(a, B) -> "name is in use"
      CHECK(outcome(myrmex::register_name("a", c)) == "taken");
      // erl: register(a, A) and register(a2, A) -> "this process or port already has a name"
      CHECK(outcome(myrmex::register_name("a", a)) == "already_named");
      CHECK(outcome(myrmex::register_name("a2", a)) == "already_named");
      // erl: register(a, B) with B named b and a taken -> "already has a name" (the process is checked first)
      CHECK(outcome(myrmex::register_name("a", b)) == "already_named");
      // erl: a dead PID -> "the pid does not refer to an existing process", whether or not the name is free
      CHECK(outcome(myrmex::register_name("d", dead)) == "noproc");
      CHECK(outcome(myrmex::register_name("a", dead)) == "noproc");
      CHECK(outcome(myrmex::register_name("s", stale)) == "noproc");
      CHECK(outcome(myrmex::register_name("f", foreign)) == "noproc");
      CHECK(outcome(myrmex::register_name("z", Pid{})) == "noproc");
      // Bad names, checked before anything else.
      CHECK(outcome(myrmex::register_name("", c)) == "bad_name");
      CHECK(outcome(myrmex::register_name(std::string(256, 'x'), c)) == "bad_name");
      CHECK(outcome(myrmex::register_name("", Pid{})) == "bad_name");
      CHECK(outcome(myrmex::register_name(std::string(255, 'x'), c)) == "ok");
      CHECK(myrmex::whereis(std::string(255, 'x')) == c);
      // Nothing changed by the refusals.
      CHECK(sorted(myrmex::registered()) == std::vector<std::string>{"a", "b", std::string(255, 'x')});
      CHECK(myrmex::whereis("a") == a);
      CHECK(myrmex::whereis("b") == b);
      for (Pid p : {a, b, c}) myrmex::send(p, Stop{});
    });
    other.send(foreign, Stop{});
  }
}

TEST_CASE(
    "an unknown or bad name: whereis gives Pid{}, unregister_name and send give an error, the message "
    "stays") {
  for (unsigned n : kSchedulerCounts) {
    CAPTURE(n);
    myrmex::Node node(config(n));
    node.run([] {
      CHECK(myrmex::whereis("nobody") == Pid{});
      CHECK(myrmex::whereis("") == Pid{});
      CHECK(outcome(myrmex::unregister_name("nobody")) == "unknown_name");
      CHECK(outcome(myrmex::unregister_name("")) == "bad_name");
      CHECK(outcome(myrmex::unregister_name(std::string(256, 'x'))) == "bad_name");
      std::string text(100, 'm');
      CHECK(outcome(myrmex::send("nobody", std::move(text))) == "unknown_name");
      CHECK(outcome(myrmex::send(std::string(300, 'x'), 1)) == "bad_name");
      // A forwarded Message that went nowhere is still the caller's.
      myrmex::send(myrmex::self(), 42);
      myrmex::receive([](myrmex::Message& m) {
        CHECK(outcome(myrmex::send("nobody", std::move(m))) == "unknown_name");
        CHECK(m.is<int>());
      });
      // A name that was freed is unknown again.
      CHECK(outcome(myrmex::register_name("gone", myrmex::self())) == "ok");
      CHECK(outcome(myrmex::unregister_name("gone")) == "ok");
      CHECK(outcome(myrmex::unregister_name("gone")) == "unknown_name");
      CHECK(outcome(myrmex::send("gone", 1)) == "unknown_name");
    });
  }
}

// ---------------------------------------------------------------------------------------------------------
// Name ! Msg and monitor(process, Name).

TEST_CASE(
    "send by name delivers as send(pid) does, in order with it, forwards a Message as it is, and "
    "returns what send(pid) returns") {
  for (unsigned n : kSchedulerCounts) {
    CAPTURE(n);
    myrmex::Node node(config(n));
    node.run([] {
      Pid me = myrmex::self();
      Pid sink = myrmex::spawn([me] {
        std::vector<int> got;
        while (got.size() < 100) myrmex::receive([&](int i) { got.push_back(i); });
        bool in_order = true;
        for (int i = 0; i < 100; ++i) in_order = in_order && got[static_cast<std::size_t>(i)] == i;
        myrmex::send(me, in_order);
        myrmex::receive([&](std::string& s) { myrmex::send(me, s); });
        idle();
      });
      CHECK(outcome(myrmex::register_name("sink", sink)) == "ok");
      // One sender, alternating the name and the PID: per-pair order holds across both.
      for (int i = 0; i < 100; ++i) {
        if (i % 2) {
          CHECK(outcome(myrmex::send("sink", i)) == "sent");
        } else {
          myrmex::send(sink, i);
        }
      }
      CHECK(myrmex::receive([](bool b) { return b; }));
      myrmex::send(me, std::string("forwarded"));
      myrmex::receive(
          [](myrmex::Message& m) { CHECK(outcome(myrmex::send("sink", std::move(m))) == "sent"); });
      CHECK(myrmex::receive([](std::string& s) { return s; }) == "forwarded");
      // A full bounded mailbox rejects by name as by PID.
      Pid full = myrmex::spawn_opt(myrmex::test::bounded(1, myrmex::Overflow::reject), idle);
      CHECK(outcome(myrmex::register_name("full", full)) == "ok");
      CHECK(outcome(myrmex::send("full", 1)) == "sent");
      CHECK(outcome(myrmex::send("full", 2)) == "mailbox_full");
      myrmex::exit(full, Term::atom("kill"));
      myrmex::send(sink, Stop{});
    });
  }
}

namespace {
std::atomic<myrmex::Node*> send_node{nullptr};
std::atomic<std::uint64_t> send_target{0};
std::atomic<long> send_windows{0};

// kill_after_resolve() kills the holder between send's lookup and its delivery, and waits until it is gone
// (no process_info: retired, so send(pid) gives noproc; a send to a process still ending is queued).
void kill_after_resolve(const char* point) {
  if (std::strcmp(point, "registry.send.resolved") != 0 || !send_node.load()) return;
  Pid t{send_target.exchange(0)};
  if (!t) return;
  send_node.load()->exit(t, Term::atom("kill"));
  if (wait_until([&] { return !send_node.load()->process_info(t); }, std::chrono::seconds(5))) ++send_windows;
}
}  // namespace

TEST_CASE("send by name to a holder that dies after the lookup returns send(pid)'s noproc" *
          doctest::skip(!kYieldPoints)) {
  myrmex::test::YieldHookGuard hook(&kill_after_resolve);
  myrmex::Node node(config(2));
  send_node = &node;
  send_windows = 0;
  std::vector<std::string> outcomes;
  node.run([&] {
    for (int i = 0; i < 5; ++i) {
      Pid p = myrmex::spawn(spin);  // running, so it can end on the other scheduler while the hook waits
      CHECK(outcome(myrmex::register_name("short-lived", p)) == "ok");
      send_target = p.value;
      outcomes.push_back(outcome(myrmex::send("short-lived", 1)));
      await_exit(p);
    }
  });
  send_node = nullptr;
  CHECK(send_windows.load() == 5);
  CHECK(outcomes == std::vector<std::string>(5, "send noproc"));
}

TEST_CASE(
    "monitor(name): the Down names the name and the holder; an unknown name gives noproc at once, pid "
    "Pid{}; the monitor stays on the holder when the name moves") {
  for (unsigned n : kSchedulerCounts) {
    CAPTURE(n);
    myrmex::Node node(config(n));
    node.run([] {
      Pid p = myrmex::spawn([] { myrmex::receive([](Stop) { myrmex::exit(Term::atom("boom")); }); });
      CHECK(outcome(myrmex::register_name("svc", p)) == "ok");
      MonitorRef ref = myrmex::monitor("svc");
      myrmex::send(p, Stop{});
      Down d = down_of(ref);
      CHECK(d.pid == p);
      CHECK(d.name == "svc");
      CHECK(d.reason == Term::atom("boom"));
      CHECK(myrmex::whereis("svc") == Pid{});

      // Unknown: the Down is queued before monitor() returns.
      MonitorRef none = myrmex::monitor("nobody");
      bool queued = myrmex::receive(myrmex::when([none](const Down& d) { return d.ref == none; },
                                                 [](Down& d) {
                                                   CHECK(d.pid == Pid{});
                                                   CHECK(d.name == "nobody");
                                                   CHECK(d.reason == Term::atom("noproc"));
                                                   return true;
                                                 }),
                                    myrmex::after(0ms, [] { return false; }));
      CHECK(queued);

      // The name moves to q; the monitor stays on p1.
      Pid p1 = myrmex::spawn(idle), q = myrmex::spawn(idle);
      CHECK(outcome(myrmex::register_name("moving", p1)) == "ok");
      MonitorRef on_p1 = myrmex::monitor("moving");
      CHECK(outcome(myrmex::unregister_name("moving")) == "ok");
      CHECK(outcome(myrmex::register_name("moving", q)) == "ok");
      myrmex::exit(p1, Term::atom("kill"));
      Down d1 = down_of(on_p1);
      CHECK(d1.pid == p1);
      CHECK(d1.name == "moving");
      CHECK(d1.reason == Term::atom("killed"));
      CHECK(myrmex::whereis("moving") == q);

      // demonitor works on a monitor set by name.
      MonitorRef on_q = myrmex::monitor("moving");
      CHECK(myrmex::demonitor(on_q));
      myrmex::send(q, Stop{});
      await_exit(q);
      CHECK(myrmex::receive([](Down&) { return true; }, myrmex::after(0ms, [] { return false; })) == false);
    });
  }
}

// ---------------------------------------------------------------------------------------------------------
// The name is freed before anyone sees its holder dead.

TEST_CASE("a holder's name is free before its Down or Exit arrives: whereis right after either is Pid{}") {
  for (unsigned n : kSchedulerCounts) {
    CAPTURE(n);
    const long rounds = scaled(2000);
    long named_after_down = 0, named_after_exit = 0, named_before = 0;
    myrmex::Node node(config(n));
    node.run([&] {
      myrmex::set_trap_exit(true);
      Pid me = myrmex::self();
      for (long i = 0; i < rounds; ++i) {
        const std::string name = numbered("holder", i % 7);
        // The holder names itself, then ends when told, wherever it runs, with an Exit and a Down due.
        Pid holder = myrmex::spawn_link([name, me] {
          if (!myrmex::register_name(name, myrmex::self())) return;
          myrmex::send(me, Ready{});
          myrmex::receive([](Stop) {});
          myrmex::exit(Term::atom("done"));
        });
        MonitorRef ref = myrmex::monitor(holder);
        myrmex::receive([](Ready) {});
        named_before += myrmex::whereis(name) == holder;
        myrmex::send(holder, Stop{});
        myrmex::receive(myrmex::when([ref](const Down& d) { return d.ref == ref; },
                                     [&](Down&) { named_after_down += myrmex::whereis(name) != Pid{}; }));
        myrmex::receive([&](myrmex::Exit&) { named_after_exit += myrmex::whereis(name) != Pid{}; });
      }
    });
    CHECK(named_before == rounds);
    CHECK(named_after_down == 0);
    CHECK(named_after_exit == 0);
  }
}

TEST_CASE("process_info shows the registered name, and no name once it is freed") {
  for (unsigned n : kSchedulerCounts) {
    CAPTURE(n);
    myrmex::Node node(config(n));
    Pid p;
    node.run([&] {
      p = myrmex::spawn(idle);
      CHECK(myrmex::process_info(p)->registered_name == "");
      CHECK(outcome(myrmex::register_name("shown", p)) == "ok");
      CHECK(myrmex::process_info(p)->registered_name == "shown");
      CHECK(outcome(myrmex::unregister_name("shown")) == "ok");
      CHECK(myrmex::process_info(p)->registered_name == "");
      CHECK(outcome(myrmex::register_name("again", p)) == "ok");
      CHECK(myrmex::process_info(p)->registered_name == "again");
    });
    CHECK(node.process_info(p)->registered_name == "again");  // from outside the node too
    node.send(p, Stop{});
  }
}

TEST_CASE("a behaviour-style process is named, reached by name and freed of its name like any process") {
  struct Echo final : myrmex::Behaviour {
    void init() override { named = myrmex::register_name("echo", myrmex::self()).has_value(); }
    void handle(myrmex::Message& m) override {
      if (auto* q = m.get<std::pair<Pid, int>>()) myrmex::send(q->first, std::make_pair(named, q->second));
      if (m.is<Stop>()) stop();
    }
    bool named = false;
  };
  for (unsigned n : kSchedulerCounts) {
    CAPTURE(n);
    myrmex::Node node(config(n));
    node.run([] {
      Pid b = myrmex::spawn_behaviour(std::make_unique<Echo>());
      myrmex::send(b, std::make_pair(myrmex::self(), 0));  // answered once init() has run
      CHECK(myrmex::receive([](std::pair<bool, int>& r) { return r.first; }));
      CHECK(myrmex::whereis("echo") == b);
      CHECK(outcome(myrmex::send("echo", std::make_pair(myrmex::self(), 7))) == "sent");
      CHECK(myrmex::receive([](std::pair<bool, int>& r) { return r.second; }) == 7);
      auto info = myrmex::process_info(b);
      CHECK(info->registered_name == "echo");
      CHECK_FALSE(info->holds_stack);  // idle at its top level, name and all
      MonitorRef ref = myrmex::monitor("echo");
      CHECK(outcome(myrmex::send("echo", Stop{})) == "sent");
      Down d = down_of(ref);
      CHECK(d.pid == b);
      CHECK(d.name == "echo");
      CHECK(d.reason == Term::atom("normal"));
      CHECK(myrmex::whereis("echo") == Pid{});
    });
  }
}

TEST_CASE("two nodes in one OS process have separate registries") {
  myrmex::Node a(config(1)), b(config(2));
  Pid pa = a.spawn(idle), pb = b.spawn(idle);
  a.run([&] {
    CHECK(outcome(myrmex::register_name("svc", pa)) == "ok");
    CHECK(outcome(myrmex::register_name("b's", pb)) == "noproc");  // another node's PID
  });
  b.run([&] {
    CHECK(myrmex::whereis("svc") == Pid{});
    CHECK(myrmex::registered().empty());
    CHECK(outcome(myrmex::send("svc", 1)) == "unknown_name");
    CHECK(outcome(myrmex::register_name("svc", pb)) == "ok");  // the same name, this node's own
    CHECK(myrmex::whereis("svc") == pb);
  });
  a.run([&] {
    CHECK(myrmex::whereis("svc") == pa);
    CHECK(myrmex::registered() == std::vector<std::string>{"svc"});
  });
  a.send(pa, Stop{});
  a.stop();  // one node's end frees its names only
  b.run([&] { CHECK(myrmex::whereis("svc") == pb); });
  b.send(pb, Stop{});
}

TEST_CASE("many names: each found, listed, freed and taken again, across every shard") {
  struct Holder final : myrmex::Behaviour {
    void handle(myrmex::Message& m) override {
      if (m.is<Stop>()) stop();
    }
  };
  for (unsigned n : kSchedulerCounts) {
    CAPTURE(n);
    const long count = scaled(20000);
    myrmex::Node node(config(n));
    node.run([count] {
      std::vector<Pid> holders;
      std::vector<std::string> names;
      for (long i = 0; i < count; ++i) {
        holders.push_back(myrmex::spawn_behaviour(std::make_unique<Holder>()));
        names.push_back(numbered("n", i));
      }
      long wrong = 0;
      for (long i = 0; i < count; ++i) wrong += !myrmex::register_name(names[i], holders[i]);
      CHECK(wrong == 0);
      for (long i = 0; i < count; ++i) wrong += myrmex::whereis(names[i]) != holders[i];
      CHECK(wrong == 0);
      CHECK(myrmex::registered().size() == static_cast<std::size_t>(count));
      // Free every other name (tombstones), take them again crosswise, then check all.
      for (long i = 0; i < count; i += 2) wrong += !myrmex::unregister_name(names[i]);
      for (long i = 0; i < count; i += 2) wrong += myrmex::whereis(names[i]) != Pid{};
      for (long i = 1; i < count; i += 2) wrong += myrmex::whereis(names[i]) != holders[i];
      CHECK(wrong == 0);
      CHECK(myrmex::registered().size() == static_cast<std::size_t>(count / 2));
      for (long i = 0; i + 1 < count; i += 2) wrong += !myrmex::register_name(names[i], holders[i]);
      CHECK(wrong == 0);
      CHECK(myrmex::registered().size() == static_cast<std::size_t>(count));
      for (long i = 0; i < count; ++i) wrong += myrmex::whereis(names[i]) != holders[i];
      CHECK(wrong == 0);
      // Stopping the holders frees every name.
      std::vector<MonitorRef> refs;
      for (Pid p : holders) refs.push_back(myrmex::monitor(p));
      for (Pid p : holders) myrmex::send(p, Stop{});
      for (MonitorRef r : refs) down_of(r);
      CHECK(myrmex::registered().empty());
    });
  }
}

// ---------------------------------------------------------------------------------------------------------
// Exits inside the API calls, and races.

TEST_CASE(
    "a kill in the middle of a name call ends the caller with killed, leaks nothing, and leaves no name "
    "behind") {
  using Body = void (*)(Pid other);
  const std::pair<const char*, Body> calls[] = {
      {"register_name(self) / unregister_name",
       [](Pid) {
         (void)myrmex::register_name("caller", myrmex::self());
         (void)myrmex::unregister_name("caller");
       }},
      {"register_name(self), kept", [](Pid) { (void)myrmex::register_name("caller", myrmex::self()); }},
      {"register_name(other) / unregister_name",
       [](Pid other) {
         (void)myrmex::register_name("other", other);
         (void)myrmex::unregister_name("other");
       }},
      {"whereis, registered", [](Pid) { (void)myrmex::whereis("other"), (void)myrmex::registered(); }},
      {"send by name", [](Pid) { (void)myrmex::send("sink", std::string(200, 'x')); }},
      {"monitor by name", [](Pid) { (void)myrmex::monitor("sink"); }},
  };
  for (unsigned n : kSchedulerCounts) {
    for (const auto& [name, body] : calls) {
      const std::string api = name;
      CAPTURE(n);
      CAPTURE(api);
      LiveCounts before;
      {
        myrmex::Node node(config(n));
        node.run([body = body] {
          Pid other = myrmex::spawn(idle);
          Pid sink = myrmex::spawn([] {
            for (;;) myrmex::receive([](std::string&) {});
          });
          CHECK(outcome(myrmex::register_name("sink", sink)) == "ok");
          auto [caller, ref] = myrmex::spawn_monitor([body, other] {
            for (;;) body(other);
          });
          myrmex::sleep_for(5ms);
          myrmex::exit(caller, Term::atom("kill"));
          Down d = down_of(ref);
          CHECK(d.reason == Term::atom("killed"));
          CHECK(myrmex::whereis("caller") == Pid{});
          // `other` keeps a name only if the kill fell between its register and unregister, and then it
          // is its to keep; free it so the check below sees exactly the names that must be left.
          (void)myrmex::unregister_name("other");
          CHECK(myrmex::registered() == std::vector<std::string>{"sink"});
          myrmex::exit(sink, Term::atom("kill"));
          myrmex::send(other, Stop{});
        });
      }
      CHECK(before.grown() == "");
    }
  }
}

namespace {
// The hooks below run at a registry yield point, on the scheduler thread of the process inside the call
// (a seeded run is not involved). `hook_target` is who they act on; each acts once per arming.
std::atomic<myrmex::Node*> hook_node{nullptr};
std::atomic<std::uint64_t> hook_target{0};
std::atomic<long> windows{0};

// kill_inside() queues a kill for the caller while it is inside register_name() or unregister_name().
void kill_inside(const char* point) {
  if (std::strcmp(point, "registry.register.attached") != 0 &&
      std::strcmp(point, "registry.unregister.found") != 0)
    return;
  if (Pid t{hook_target.exchange(0)}; t && hook_node.load()) {
    hook_node.load()->exit(t, Term::atom("kill"));
    ++windows;
  }
}

// holder_dies_in_register() kills the holder once register_name() has attached the entry and before the
// entry is in the table, and waits until the holder's exit is freeing its name (registry.exit.freeing,
// which then waits for the lock this call holds).
std::atomic<bool> exit_freeing{false};
void holder_dies_in_register(const char* point) {
  myrmex::Node* node = hook_node.load();
  if (!node) return;
  if (std::strcmp(point, "registry.exit.freeing") == 0) {
    exit_freeing = true;
    return;
  }
  if (std::strcmp(point, "registry.register.attached") != 0) return;
  Pid t{hook_target.exchange(0)};
  if (!t) return;
  exit_freeing = false;
  node->exit(t, Term::atom("kill"));
  if (wait_until([] { return exit_freeing.load(); }, std::chrono::seconds(5))) ++windows;
}

// holder_dies_in_unregister() kills the holder once unregister_name() has found its entry, and waits
// until its exit has taken the entry off it (process_info shows no name): detach() then fails.
void holder_dies_in_unregister(const char* point) {
  if (std::strcmp(point, "registry.unregister.found") != 0) return;
  myrmex::Node* node = hook_node.load();
  Pid t{hook_target.exchange(0)};
  if (!node || !t) return;
  node->exit(t, Term::atom("kill"));
  if (wait_until(
          [&] {
            auto info = node->process_info(t);
            return !info || info->registered_name.empty();
          },
          std::chrono::seconds(5)))
    ++windows;
}

struct HookScope {
  explicit HookScope(myrmex::Node& node, myrmex::scheduler::detail::YieldHook hook) : guard(hook) {
    hook_node = &node;
    windows = 0;
  }
  ~HookScope() {
    hook_node = nullptr;
    hook_target = 0;
  }
  myrmex::test::YieldHookGuard guard;
};
}  // namespace

TEST_CASE(
    "an exit signal arriving inside register_name or unregister_name takes effect after it, and frees the "
    "name" *
    doctest::skip(!kYieldPoints)) {
  for (unsigned n : kSchedulerCounts) {
    CAPTURE(n);
    LiveCounts before;
    {
      myrmex::Node node(config(n));
      HookScope scope(node, &kill_inside);
      node.run([] {
        Pid me = myrmex::self();
        // Killed inside register_name(): the call completes, the kill ends the caller, and the name goes.
        auto [a, ra] = myrmex::spawn_monitor([me] {
          myrmex::receive([](Ready) {});
          hook_target = myrmex::self().value;
          Result r = myrmex::register_name("doomed", myrmex::self());
          myrmex::send(me, r);
          idle();
        });
        myrmex::send(a, Ready{});
        CHECK(down_of(ra).reason == Term::atom("killed"));
        CHECK(myrmex::receive([](Result& r) { return outcome(r); }, myrmex::after(0ms, [] {
                                return std::string("no result");
                              })) == "no result");  // the kill took effect at the send's charge point
        CHECK(myrmex::whereis("doomed") == Pid{});
        // Killed inside unregister_name(): the name is freed by the call, and nothing else is left.
        auto [b, rb] = myrmex::spawn_monitor([] {
          if (!myrmex::register_name("doomed2", myrmex::self())) return;
          hook_target = myrmex::self().value;
          (void)myrmex::unregister_name("doomed2");
          idle();
        });
        CHECK(down_of(rb).reason == Term::atom("killed"));
        CHECK(myrmex::whereis("doomed2") == Pid{});
        CHECK(myrmex::registered().empty());
        (void)b;
      });
      CHECK(windows.load() == 2);
    }
    CHECK(before.grown() == "");
  }
}

namespace {
std::atomic<bool> freeing_entered{false}, watcher_done{false};

// hold_while_freeing() stops the holder's exit where it is about to free the name, until the watcher has
// looked (or a moment has passed: a watcher whose Down waits for the exit cannot look before it goes on).
void hold_while_freeing(const char* point) {
  if (std::strcmp(point, "registry.exit.freeing") != 0 || !hook_node.load() || !hook_target.exchange(0))
    return;
  freeing_entered = true;
  if (!wait_until([] { return watcher_done.load(); }, std::chrono::seconds(1)))
    ++windows;  // the watcher's Down waited for this exit: the expected case
}
}  // namespace

TEST_CASE(
    "a monitor set while its holder's exit is about to free the name gets its Down only after the name "
    "is free" *
    doctest::skip(!kYieldPoints)) {
  // The holder's exit stops right before it frees the name; a watcher monitors it then. Its Down (the
  // exit's own, or noproc if the holder counted as gone already) must not come before the name is free.
  myrmex::Node node(config(2));
  HookScope scope(node, &hold_while_freeing);
  freeing_entered = false;
  watcher_done = false;
  Pid seen;
  node.run([&] {
    Pid me = myrmex::self();
    Pid holder = myrmex::spawn(idle);
    CHECK(outcome(myrmex::register_name("ending", holder)) == "ok");
    myrmex::spawn([me, holder] {
      while (!freeing_entered.load()) myrmex::yield();
      Down d = down_of(myrmex::monitor(holder));
      myrmex::send(me, myrmex::whereis("ending"));
      watcher_done = true;
    });
    hook_target = holder.value;
    myrmex::exit(holder, Term::atom("kill"));
    seen = myrmex::receive([](Pid p) { return p; });
  });
  CHECK(freeing_entered.load());
  CHECK(seen == Pid{});
}

TEST_CASE("a holder that dies inside register_name, between attach and insert, leaves no name behind" *
          doctest::skip(!kYieldPoints)) {
  LiveCounts before;
  std::vector<std::string> outcomes;
  {
    myrmex::Node node(config(2));
    HookScope scope(node, &holder_dies_in_register);
    node.run([&] {
      for (int i = 0; i < 10; ++i) {
        Pid target = myrmex::spawn(spin);  // running, so it can end on the other scheduler while we wait
        hook_target = target.value;
        outcomes.push_back(outcome(myrmex::register_name("racing", target)));
        myrmex::exit(target, Term::atom("kill"));  // in case the hook did not run
        await_exit(target);
        CHECK(myrmex::whereis("racing") == Pid{});
        CHECK(myrmex::registered().empty());
      }
    });
    CHECK(windows.load() == 10);
  }
  CHECK(outcomes ==
        std::vector<std::string>(10, "ok"));  // attached before it died: linearized before the exit
  CHECK(before.grown() == "");
}

TEST_CASE(
    "unregister_name racing the holder's exit, after the exit took the name off the holder, frees it "
    "exactly once" *
    doctest::skip(!kYieldPoints)) {
  LiveCounts before;
  std::vector<std::string> outcomes;
  {
    myrmex::Node node(config(2));
    HookScope scope(node, &holder_dies_in_unregister);
    node.run([&] {
      for (int i = 0; i < 10; ++i) {
        Pid holder = myrmex::spawn(spin);
        CHECK(outcome(myrmex::register_name("leaving", holder)) == "ok");
        hook_target = holder.value;
        outcomes.push_back(outcome(myrmex::unregister_name("leaving")));
        CHECK(myrmex::whereis("leaving") == Pid{});
        myrmex::exit(holder, Term::atom("kill"));
        await_exit(holder);
        CHECK(myrmex::whereis("leaving") == Pid{});
        CHECK(outcome(myrmex::register_name("leaving", myrmex::self())) == "ok");  // free for the next one
        CHECK(outcome(myrmex::unregister_name("leaving")) == "ok");
      }
    });
    CHECK(windows.load() == 10);
  }
  CHECK(outcomes == std::vector<std::string>(10, "ok"));
  CHECK(before.grown() == "");
}

namespace {

// register_vs_exit() registers a target that is being killed meanwhile, `rounds` times; returns how often
// the registration won ("ok") and lost ("noproc"). Counts names still held after the target's Down.
struct RaceCounts {
  long ok = 0, noproc = 0, other = 0, left_named = 0;
};
RaceCounts register_vs_exit(myrmex::Node& node, long rounds) {
  RaceCounts c;
  node.run([&] {
    Pid me = myrmex::self();
    for (long i = 0; i < rounds; ++i) {
      Pid target = myrmex::spawn(idle);
      // The killer may run on the other scheduler while this process registers.
      myrmex::spawn([target] { myrmex::exit(target, Term::atom("kill")); });
      if (i % 2) myrmex::yield();
      std::string r = outcome(myrmex::register_name("target", target));
      (r == "ok" ? c.ok : r == "noproc" ? c.noproc : c.other)++;
      await_exit(target);
      c.left_named += myrmex::whereis("target") != Pid{};
      if (myrmex::whereis("target") != Pid{}) (void)myrmex::unregister_name("target");
    }
    (void)me;
  });
  return c;
}

// same_name_race() has two processes register one name for themselves at once; counts rounds where not
// exactly one won, and where the name did not name the winner.
struct SameNameCounts {
  long not_one_winner = 0, wrong_holder = 0, left_named = 0;
};
SameNameCounts same_name_race(myrmex::Node& node, long rounds) {
  SameNameCounts c;
  node.run([&] {
    Pid me = myrmex::self();
    for (long i = 0; i < rounds; ++i) {
      auto racer = [me] {
        myrmex::send(
            me, std::make_pair(myrmex::self(), outcome(myrmex::register_name("contested", myrmex::self()))));
        idle();
      };
      Pid a = myrmex::spawn(racer), b = myrmex::spawn(racer);
      int wins = 0, taken = 0;
      Pid winner;
      for (int k = 0; k < 2; ++k)
        myrmex::receive([&](std::pair<Pid, std::string>& r) {
          if (r.second == "ok") ++wins, winner = r.first;
          if (r.second == "taken") ++taken;
        });
      c.not_one_winner += !(wins == 1 && taken == 1);
      c.wrong_holder += myrmex::whereis("contested") != winner;
      MonitorRef ra = myrmex::monitor(a), rb = myrmex::monitor(b);
      myrmex::send(a, Stop{});
      myrmex::send(b, Stop{});
      down_of(ra);
      down_of(rb);
      c.left_named += myrmex::whereis("contested") != Pid{};
    }
  });
  return c;
}

// two_names_race() has two processes give one target two names at once: exactly one may win, the other
// gets already_named, and the target shows the winner's name.
struct TwoNamesCounts {
  long not_one_winner = 0, wrong_name = 0;
};
TwoNamesCounts two_names_race(myrmex::Node& node, long rounds) {
  TwoNamesCounts c;
  node.run([&] {
    Pid me = myrmex::self();
    for (long i = 0; i < rounds; ++i) {
      Pid target = myrmex::spawn(idle);
      for (const char* name : {"first", "second"})
        myrmex::spawn([me, target, name = std::string(name)] {
          myrmex::send(me, std::make_pair(name, outcome(myrmex::register_name(name, target))));
        });
      int wins = 0, named = 0;
      std::string winner;
      for (int k = 0; k < 2; ++k)
        myrmex::receive([&](std::pair<std::string, std::string>& r) {
          if (r.second == "ok") ++wins, winner = r.first;
          if (r.second == "already_named") ++named;
        });
      c.not_one_winner += !(wins == 1 && named == 1);
      c.wrong_name += myrmex::process_info(target)->registered_name != winner ||
                      myrmex::registered() != std::vector<std::string>{winner};
      myrmex::send(target, Stop{});
      await_exit(target);
    }
  });
  return c;
}

// unregister_vs_exit() unregisters a name whose holder is being killed meanwhile.
struct UnregisterCounts {
  long ok = 0, unknown = 0, other = 0, left_named = 0;
};
UnregisterCounts unregister_vs_exit(myrmex::Node& node, long rounds) {
  UnregisterCounts c;
  node.run([&] {
    for (long i = 0; i < rounds; ++i) {
      Pid holder = myrmex::spawn(idle);
      if (!myrmex::register_name("holder", holder)) {
        ++c.other;
        continue;
      }
      myrmex::spawn([holder] { myrmex::exit(holder, Term::atom("kill")); });
      if (i % 2) myrmex::yield();
      std::string r = outcome(myrmex::unregister_name("holder"));
      (r == "ok" ? c.ok : r == "unknown_name" ? c.unknown : c.other)++;
      await_exit(holder);
      c.left_named += myrmex::whereis("holder") != Pid{};
    }
  });
  return c;
}

}  // namespace

TEST_CASE(
    "races, briefly: register vs the target's exit, two registrations of one name, two names for one "
    "process, unregister vs the holder's exit") {
  for (unsigned n : kSchedulerCounts) {
    CAPTURE(n);
    const long rounds = scaled(500);
    myrmex::Node node(config(n));
    RaceCounts r = register_vs_exit(node, rounds);
    CHECK(r.left_named == 0);
    CHECK(r.other == 0);
    SameNameCounts s = same_name_race(node, rounds);
    CHECK(s.not_one_winner == 0);
    CHECK(s.wrong_holder == 0);
    CHECK(s.left_named == 0);
    TwoNamesCounts t = two_names_race(node, rounds);
    CHECK(t.not_one_winner == 0);
    CHECK(t.wrong_name == 0);
    UnregisterCounts u = unregister_vs_exit(node, rounds);
    CHECK(u.left_named == 0);
    CHECK(u.other == 0);
  }
}

TEST_CASE(
    "seeded: no interleaving of a registration, another registration, an unregistration and the "
    "holder's exit breaks the table" *
    doctest::skip(!kYieldPoints)) {
  // The turn may pass at every registry yield point (registry.register.checked / .attached,
  // registry.unregister.found, registry.shard.contended) and at the exit's own (exit.done.stored).
  RaceCounts r;
  UnregisterCounts u;
  long seeds = myrmex::test::for_each_seed(40, [&](std::uint64_t) {
    myrmex::Node node(config(2));
    myrmex::test::wait_all_asleep(node);
    RaceCounts r1 = register_vs_exit(node, 3);
    CHECK(r1.left_named == 0);
    CHECK(r1.other == 0);
    r.ok += r1.ok;
    r.noproc += r1.noproc;
    SameNameCounts s = same_name_race(node, 3);
    CHECK(s.not_one_winner == 0);
    CHECK(s.wrong_holder == 0);
    CHECK(s.left_named == 0);
    TwoNamesCounts t = two_names_race(node, 3);
    CHECK(t.not_one_winner == 0);
    CHECK(t.wrong_name == 0);
    UnregisterCounts u1 = unregister_vs_exit(node, 3);
    CHECK(u1.left_named == 0);
    CHECK(u1.other == 0);
    u.ok += u1.ok;
    u.unknown += u1.unknown;
  });
  MESSAGE(seeds, " seeds: register won ", r.ok, " and lost ", r.noproc, "; unregister won ", u.ok,
          " and found the name gone ", u.unknown);
  CHECK(seeds > 0);
}

TEST_CASE(
    "lookups from every scheduler while names come and go: a name gives its own holder or Pid{}, never "
    "another") {
  for (unsigned n : kSchedulerCounts) {
    CAPTURE(n);
    const long changes = scaled(20000);
    long wrong = 0, found = 0;
    myrmex::Node node(config(n));
    node.run([&] {
      constexpr int kNames = 8;
      Pid me = myrmex::self();
      std::vector<Pid> holders;
      for (int k = 0; k < kNames; ++k)
        holders.push_back(myrmex::spawn([] {
          for (bool done = false; !done;) myrmex::receive([](int) {}, [&](Stop) { done = true; });
        }));
      std::atomic<bool> stop{false};
      std::atomic<long> wrong_seen{0}, found_seen{0};
      auto reader = [&, me] {
        long w = 0, f = 0;
        for (long i = 0; !stop.load(std::memory_order_relaxed); ++i) {
          const int k = static_cast<int>(i % kNames);
          const std::string name = numbered("churn", k);
          Pid p = myrmex::whereis(name);
          w += p && p != holders[static_cast<std::size_t>(k)];
          f += p == holders[static_cast<std::size_t>(k)];
          auto s = myrmex::send(name, 1);
          w += !(outcome(s) == "sent" || outcome(s) == "unknown_name");
        }
        wrong_seen += w;
        found_seen += f;
        myrmex::send(me, Ready{});
      };
      for (unsigned r = 0; r < n; ++r) myrmex::spawn(reader);
      for (long i = 0; i < changes; ++i) {
        const int k = static_cast<int>(i % kNames);
        const std::string name = numbered("churn", k);
        if ((i / kNames) % 2 == 0) {
          wrong += !myrmex::register_name(name, holders[static_cast<std::size_t>(k)]);
        } else {
          wrong += !myrmex::unregister_name(name);
        }
      }
      stop = true;
      for (unsigned r = 0; r < n; ++r) myrmex::receive([](Ready) {});
      wrong += wrong_seen.load();
      found = found_seen.load();
      for (Pid h : holders) myrmex::send(h, Stop{});
    });
    MESSAGE(n, " scheduler(s): readers found a holder ", found, " times");
    CHECK(wrong == 0);
  }
}

TEST_SUITE("stress") {
  TEST_CASE("stress: 100k registrations racing the target's exit never leave a name to a dead process") {
    for (unsigned n : kSchedulerCounts) {
      CAPTURE(n);
      const long rounds = scaled(100000);
      myrmex::Node node(config(n));
      RaceCounts r = register_vs_exit(node, rounds);
      MESSAGE(n, " scheduler(s): registration won ", r.ok, ", lost ", r.noproc, " of ", rounds);
      CHECK(r.left_named == 0);
      CHECK(r.other == 0);
    }
  }

  TEST_CASE("stress: 100k pairs registering one name at once: exactly one wins each time") {
    for (unsigned n : kSchedulerCounts) {
      CAPTURE(n);
      myrmex::Node node(config(n));
      SameNameCounts s = same_name_race(node, scaled(100000));
      CHECK(s.not_one_winner == 0);
      CHECK(s.wrong_holder == 0);
      CHECK(s.left_named == 0);
    }
  }

  TEST_CASE("stress: 100k pairs naming one process twice at once: exactly one name wins") {
    for (unsigned n : kSchedulerCounts) {
      CAPTURE(n);
      myrmex::Node node(config(n));
      TwoNamesCounts t = two_names_race(node, scaled(100000));
      CHECK(t.not_one_winner == 0);
      CHECK(t.wrong_name == 0);
    }
  }

  TEST_CASE("stress: 100k unregistrations racing the holder's exit free each name once") {
    for (unsigned n : kSchedulerCounts) {
      CAPTURE(n);
      const long rounds = scaled(100000);
      myrmex::Node node(config(n));
      UnregisterCounts u = unregister_vs_exit(node, rounds);
      MESSAGE(n, " scheduler(s): unregister won ", u.ok, ", found the name gone ", u.unknown, " of ", rounds);
      CHECK(u.left_named == 0);
      CHECK(u.other == 0);
    }
  }

  TEST_CASE("stress: a name is free before its holder's Down, 100k times") {
    const long rounds = scaled(100000);
    long named_after_down = 0;
    myrmex::Node node(config(2));
    node.run([&] {
      for (long i = 0; i < rounds; ++i) {
        auto [holder, ref] = myrmex::spawn_monitor([] {
          if (myrmex::register_name("brief", myrmex::self())) myrmex::yield();
        });
        down_of(ref);
        named_after_down += myrmex::whereis("brief") != Pid{};
      }
    });
    CHECK(named_after_down == 0);
  }
}
