// Behaviour-style processes: stop() from handle() and init(), and memory from the small-object pool.
#include <doctest/doctest.h>

#include <atomic>
#include <memory>

#include "tests/test_node.h"

using myrmex::Pid;
using myrmex::Term;
using myrmex::test::config;
using myrmex::test::wait_until;

namespace {

struct Quit {
  Term reason;
};

// Stopper counts the messages it handles and stops on Quit; the flag records its destruction.
class Stopper final : public myrmex::Behaviour {
 public:
  Stopper(std::atomic<int>& handled, std::atomic<bool>& destroyed)
      : handled_(handled), destroyed_(destroyed) {}
  ~Stopper() override { destroyed_ = true; }
  void handle(myrmex::Message& m) override {
    ++handled_;
    if (auto* q = m.get<Quit>()) stop(q->reason);
  }

 private:
  std::atomic<int>& handled_;
  std::atomic<bool>& destroyed_;
};

class StopsInInit final : public myrmex::Behaviour {
 public:
  explicit StopsInInit(std::atomic<int>& handled) : handled_(handled) {}
  void init() override { stop(Term::atom("no_thanks")); }
  void handle(myrmex::Message&) override { ++handled_; }

 private:
  std::atomic<int>& handled_;
};

// An over-aligned behaviour must still get memory aligned for it.
class alignas(64) Aligned final : public myrmex::Behaviour {
 public:
  explicit Aligned(std::atomic<bool>& ok) : ok_(ok) {}
  void init() override { ok_ = reinterpret_cast<std::uintptr_t>(this) % 64 == 0; }
  void handle(myrmex::Message&) override {}

 private:
  std::atomic<bool>& ok_;
};

}  // namespace

TEST_CASE("stop() ends a behaviour with its reason after handle() returns; later messages are not handled") {
  myrmex::Node node(config(2));
  std::atomic<int> handled{0};
  std::atomic<bool> destroyed{false};
  Pid p = node.spawn_behaviour(std::make_unique<Stopper>(handled, destroyed));
  node.send(p, 1);
  node.send(p, Quit{Term::atom("done")});
  node.send(p, 2);  // queued behind Quit: must never be handled
  CHECK(wait_until([&] { return !node.alive(p); }));
  CHECK(wait_until([&] { return destroyed.load(); }));
  CHECK(handled == 2);
}

TEST_CASE("stop() in init() ends the behaviour before any message") {
  myrmex::Node node(config(1));
  std::atomic<int> handled{0};
  Pid p = node.spawn_behaviour(std::make_unique<StopsInInit>(handled));
  node.send(p, 1);
  CHECK(wait_until([&] { return !node.alive(p); }));
  CHECK(handled == 0);
}

TEST_CASE("an over-aligned behaviour gets aligned memory") {
  myrmex::Node node(config(1));
  std::atomic<bool> ok{false};
  Pid p = node.spawn_behaviour(std::make_unique<Aligned>(ok));
  CHECK(wait_until([&] { return ok.load(); }));
  node.exit(p, Term::atom("kill"));
}
