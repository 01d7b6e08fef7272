// Exits that land inside an API call: a kill in the middle of each call ends the process with `killed` and
// leaks nothing (every envelope, control block, behaviour and stack it made is gone once the node is), and
// the destructors that run as a process exits run as the process, where the API works.
#include <doctest/doctest.h>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "scheduler/detail/systematic.h"
#include "scheduler/detail/yield_point.h"
#include "tests/test_node.h"

using namespace std::chrono_literals;
using myrmex::Pid;
using myrmex::SendResult;
using myrmex::Term;
using myrmex::test::bounded;
using myrmex::test::config;
using myrmex::test::LiveCounts;
using myrmex::test::wait_until;

namespace {

// An API call repeated until the caller is killed. `sink` never receives; `silent` never answers.
struct Loop {
  const char* api;
  std::function<void(Pid sink, Pid bounded_sink, Pid silent)> body;
};

const std::vector<Loop>& loops() {
  static const std::vector<Loop> all = {
      {"send", [](Pid sink, Pid, Pid) { myrmex::send(sink, std::string(200, 'x')); }},
      {"send to a full mailbox (blocks)",
       [](Pid, Pid bounded_sink, Pid) { myrmex::send(bounded_sink, std::string(200, 'x')); }},
      {"send(Message&&)",
       [](Pid sink, Pid, Pid) {
         myrmex::send(myrmex::self(), 1);
         myrmex::receive([&](myrmex::Message& m) { myrmex::send(sink, std::move(m)); });
       }},
      {"spawn", [](Pid, Pid, Pid) { myrmex::spawn([] {}); }},
      {"receive with after()", [](Pid, Pid, Pid) { myrmex::receive([](int) {}, myrmex::after(1ms, [] {})); }},
      {"receive (parks for good)", [](Pid, Pid, Pid) { myrmex::receive([](int) {}); }},
      {"call", [](Pid, Pid, Pid silent) { (void)myrmex::call<int>(silent, 1, 1h); }},
      {"sleep_for", [](Pid, Pid, Pid) { myrmex::sleep_for(1ms); }},
      {"yield", [](Pid, Pid, Pid) { myrmex::yield(); }},
      {"consume", [](Pid, Pid, Pid) { myrmex::consume(100); }},
      {"make_ref, process_info, alive",
       [](Pid sink, Pid, Pid) {
         (void)myrmex::make_ref();
         (void)myrmex::process_info(sink);
         (void)myrmex::alive(sink);
       }},
      {"exit(pid, normal)", [](Pid sink, Pid, Pid) { myrmex::exit(sink, Term::atom("normal")); }},
      {"blocking", [](Pid, Pid, Pid) { myrmex::blocking([] { std::this_thread::sleep_for(100us); }); }},
  };
  return all;
}

}  // namespace

TEST_CASE("a kill in the middle of any API call ends the caller with killed and leaks nothing") {
  for (const Loop& loop : loops()) {
    std::string api = loop.api;
    CAPTURE(api);
    LiveCounts before;
    {
      myrmex::Node node(config(2));
      Term reason = node.run([&] {
        Pid sink = myrmex::spawn([] { myrmex::sleep_for(1h); });
        Pid bounded_sink = myrmex::spawn_opt(bounded(1), [] { myrmex::sleep_for(1h); });
        Pid silent = myrmex::spawn([] { myrmex::sleep_for(1h); });
        Pid me = myrmex::self();
        myrmex::spawn([me] {
          myrmex::sleep_for(5ms);
          myrmex::exit(me, Term::atom("kill"));
        });
        for (;;) loop.body(sink, bounded_sink, silent);
      });
      CHECK(reason == Term::atom("killed"));
    }
    CHECK(before.grown() == "");
  }
}

TEST_CASE("a behaviour killed while parked inside handle() leaks nothing") {
  struct Nested final : myrmex::Behaviour {
    void handle(myrmex::Message&) override {
      myrmex::receive([](double) {});
    }
  };
  LiveCounts before;
  {
    myrmex::Node node(config(2));
    Pid p = node.spawn_behaviour(std::make_unique<Nested>());
    node.send(p, 1);
    CHECK(wait_until([&] { return node.process_info(p) && node.process_info(p)->holds_stack; }));
    node.exit(p, Term::atom("kill"));
    CHECK(wait_until([&] { return !node.alive(p); }));
  }
  CHECK(before.grown() == "");
}

TEST_CASE("sending to your own full mailbox with Overflow::block returns mailbox_full instead of hanging") {
  myrmex::Node node(config(1));
  std::atomic<int> first{-1}, second{-1};
  Pid p = node.spawn_opt(bounded(1), [&] {
    first = static_cast<int>(myrmex::send(myrmex::self(), 1));
    second = static_cast<int>(myrmex::send(myrmex::self(), 2));  // only we could make room
  });
  CHECK(wait_until([&] { return !node.alive(p); }, std::chrono::seconds(10)));
  CHECK(first == static_cast<int>(SendResult::ok));
  CHECK(second == static_cast<int>(SendResult::mailbox_full));
}

namespace {

// The race of a blocked sender against its target's exit, widened by the yield hook: the sender has seen
// the target alive and stops right before it registers as a waiter until the target has gone.
std::atomic<myrmex::Node*> race_node{nullptr};
std::atomic<std::uint64_t> race_target{0};
std::atomic<bool> sender_in_window{false};

void hold_sender_until_target_gone(const char* name) {
  if (std::string_view(name) != "send.blocked.checked" || !race_node.load()) return;
  sender_in_window = true;
  myrmex::test::wait_until([] { return !race_node.load()->alive(Pid{race_target.load()}); },
                           std::chrono::seconds(5));
}

}  // namespace

TEST_CASE("a sender blocked on a mailbox whose owner exits while the sender registers is released") {
  if (!myrmex::scheduler::detail::kYieldPoints) return;  // needs the yield points (sanitizer builds)
  myrmex::Node node(config(2));
  Pid target = node.spawn_opt(bounded(1), [] { myrmex::receive([](double) {}); });
  node.send(target, 1);  // full from now on
  race_node = &node;
  race_target = target.value;
  myrmex::scheduler::detail::set_yield_hook(&hold_sender_until_target_gone);
  std::atomic<int> result{-1};
  node.spawn([&] { result = static_cast<int>(myrmex::send(target, 2)); });
  CHECK(wait_until([&] { return sender_in_window.load(); }));
  node.exit(target, Term::atom("kill"));
  bool released = wait_until([&] { return result.load() >= 0; }, std::chrono::seconds(10));
  myrmex::scheduler::detail::set_yield_hook(nullptr);
  race_node = nullptr;
  REQUIRE(released);
  CHECK(result == static_cast<int>(SendResult::noproc));
}

// ---------------------------------------------------------------------------------------------------------
// Destructors and terminate() run as the process.

namespace {

struct Note {
  std::string what;
  Pid by;
};

// Reporter tells `watcher` from its terminate() and its destructor, as the process (self() works there).
class Reporter final : public myrmex::Behaviour {
 public:
  // on_message() handles a message; a reason it returns makes the behaviour stop() with it.
  using OnMessage = std::function<std::optional<Term>(myrmex::Message&)>;
  Reporter(Pid watcher, OnMessage on_message) : watcher_(watcher), on_message_(std::move(on_message)) {}
  ~Reporter() override { myrmex::send(watcher_, Note{"destroyed", myrmex::self()}); }
  void handle(myrmex::Message& m) override {
    if (std::optional<Term> reason = on_message_(m)) stop(*reason);
  }
  void terminate(const Term& reason) override {
    myrmex::send(watcher_, Note{"terminate " + reason.to_string(), myrmex::self()});
  }

 private:
  Pid watcher_;
  OnMessage on_message_;
};

// notes_of() runs a Reporter, sends it `poke` (unless `kill`), and returns what it told, in order.
std::vector<std::string> notes_of(Reporter::OnMessage on_message, const char* signal) {
  myrmex::Node node(config(2));
  std::vector<std::string> notes;
  node.run([&] {
    Pid me = myrmex::self();
    Pid r = myrmex::spawn_behaviour(std::make_unique<Reporter>(me, on_message));
    if (signal) {
      myrmex::sleep_for(2ms);  // let init() run: terminate() is owed only after it
      myrmex::exit(r, Term::atom(signal));
    } else {
      myrmex::send(r, 1);
    }
    for (int i = 0; i < 2; ++i) {
      bool got = myrmex::receive(
          [&](Note& n) {
            notes.push_back(n.what + (n.by == r ? "" : " (not as the process)"));
            return true;
          },
          myrmex::after(2s, [] { return false; }));
      if (!got || notes.back() == "destroyed") break;
    }
  });
  return notes;
}

}  // namespace

TEST_CASE("a behaviour's terminate() and destructor run as the process, with the exit reason") {
  using V = std::vector<std::string>;
  using R = std::optional<Term>;
  CHECK(notes_of([](myrmex::Message&) { return R(Term::atom("done")); }, nullptr) ==
        V{"terminate done", "destroyed"});
  CHECK(notes_of([](myrmex::Message&) -> R { throw std::runtime_error("boom"); }, nullptr) ==
        V{"terminate {exception,<<\"std::runtime_error\">>,<<\"boom\">>}", "destroyed"});
  CHECK(notes_of([](myrmex::Message&) { return R(); }, "shutdown") == V{"terminate shutdown", "destroyed"});
  // `kill` is untrappable: no terminate(), but the destructor still runs as the process.
  CHECK(notes_of([](myrmex::Message&) { return R(); }, "kill") == V{"destroyed"});
}

TEST_CASE("what a function-style process captured is destroyed as the process") {
  struct Tells {
    Pid watcher;
    bool armed = true;
    Tells(Pid w) : watcher(w) {}
    Tells(Tells&& o) noexcept : watcher(o.watcher) { o.armed = false; }
    ~Tells() {
      if (armed) myrmex::send(watcher, Note{"destroyed", myrmex::self()});
    }
  };
  myrmex::Node node(config(2));
  node.run([] {
    Pid me = myrmex::self();
    Pid child = myrmex::spawn([t = Tells(me)] { myrmex::sleep_for(1h); });
    myrmex::exit(child, Term::atom("kill"));
    bool seen = myrmex::receive([&](Note& n) { return n.what == "destroyed" && n.by == child; },
                                myrmex::after(5s, [] { return false; }));
    CHECK(seen);
  });
}

TEST_CASE("a destructor that uses the API during an exit's unwinding does not terminate the program") {
  struct SendsOnUnwind {
    Pid to;
    ~SendsOnUnwind() { myrmex::send(to, 7); }  // a kill is being unwound: send must not throw again
  };
  myrmex::Node node(config(1));
  node.run([] {
    Pid me = myrmex::self();
    Pid child = myrmex::spawn([me] {
      SendsOnUnwind s{me};
      myrmex::receive([](double) {});
    });
    myrmex::sleep_for(2ms);
    myrmex::exit(child, Term::atom("kill"));
    CHECK(myrmex::receive([](int n) { return n; }, myrmex::after(5s, [] { return -1; })) == 7);
  });
}

TEST_CASE("an exit that takes effect inside a destructor outside unwinding ends only that process") {
  // A destructor is noexcept, and C++ cannot tell a charge point that it runs in one: the exit's unwind
  // meets the noexcept and std::terminate() runs. That must end the process, not the program.
  struct SendsAtScopeEnd {
    Pid to;
    ~SendsAtScopeEnd() { myrmex::send(to, 7); }
  };
  myrmex::Node node(config(2));
  std::atomic<bool> kill_queued{false};
  node.run([&] {
    Pid me = myrmex::self();
    Pid child = myrmex::spawn([me, &kill_queued] {
      {
        SendsAtScopeEnd s{me};
        while (!kill_queued) {
          // no charge point: the kill waits in the system queue until the destructor's send
        }
      }
      myrmex::send(me, 8);  // never reached
    });
    myrmex::exit(child, Term::atom("kill"));  // queued before the child's first charge point
    kill_queued = true;
    while (myrmex::alive(child)) myrmex::sleep_for(1ms);
    // Neither message arrived; this process and the node go on.
    CHECK(myrmex::receive([](int n) { return n; }, myrmex::after(20ms, [] { return -1; })) == -1);
  });
  CHECK(node.run([] { return; }) == Term::atom("normal"));
}

TEST_CASE("seeded: a blocked sender racing its target's exit is always released, whatever the interleaving" *
          doctest::skip(!myrmex::scheduler::detail::kYieldPoints)) {
  // The yield points between the sender's check and its registration (send.blocked.checked) and between
  // the target's `done` and its taking of the waiters (exit.done.stored) are where the turn may pass: each
  // seed picks one interleaving of the two, and none may leave the sender parked.
  long seeds = myrmex::test::for_each_seed(50, [](std::uint64_t) {
    myrmex::Node node(config(2));
    std::atomic<int> result{-1};
    node.run([&] {
      Pid target = myrmex::spawn_opt(bounded(1), [] { myrmex::receive([](double) {}); });
      myrmex::send(target, 1);  // full from now on
      myrmex::spawn([&result, target] { result = static_cast<int>(myrmex::send(target, 2)); });
      myrmex::yield();
      myrmex::exit(target, Term::atom("kill"));
      for (int ms = 0; result.load() < 0 && ms < 10000; ++ms) myrmex::sleep_for(1ms);
    });
    REQUIRE(result >= 0);  // released (a lost wake-up would leave it parked: Node's stop then kills it)
    CHECK((result == static_cast<int>(SendResult::noproc) || result == static_cast<int>(SendResult::ok)));
  });
  CHECK(seeds > 0);
}
