// Node slots: every node of an OS process issues PIDs under its own slot, so a PID never reaches another
// node's process. The distribution tests run two nodes in one OS process; before node slots, both issued
// <0.0.1> and a send meant for one node's process landed in the other's.
#include <doctest/doctest.h>

#include <memory>
#include <vector>

#include "tests/test_node.h"
#include "vm/detail/node_slots.h"

using namespace std::chrono_literals;
using myrmex::Pid;
using myrmex::SendResult;
using myrmex::Term;
using myrmex::test::config;
using myrmex::test::wait_until;
namespace vd = myrmex::vm::detail;

namespace {
struct Go {};
struct Ping {
  Pid from;
};
struct Pong {};

// waiter() runs until it gets Go; it answers Ping with Pong and adds every int it gets to `sum`.
auto waiter(std::atomic<int>& sum) {
  return [&sum] {
    bool done = false;
    while (!done)
      myrmex::receive([&](Go&) { done = true; }, [&](Ping& p) { myrmex::send(p.from, Pong{}); },
                      [&](int n) { sum += n; });
  };
}

// answers() is whether `pid` answers a Ping sent from a process of `node`.
bool answers(myrmex::Node& node, Pid pid) {
  bool answered = false;
  node.run([&] {
    myrmex::send(pid, Ping{myrmex::self()});
    myrmex::receive([&](Pong&) { answered = true; }, myrmex::after(10s, [] {}));
  });
  return answered;
}
}  // namespace

TEST_CASE("node slots are taken from 1 up and reused least recently released first") {
  std::uint32_t a = vd::acquire_node_slot();
  CHECK(a >= 1);
  CHECK(a <= vd::kMaxNodeSlot);
  vd::release_node_slot(a);
  // Every other free slot is handed out once before `a` comes back.
  const std::size_t free = vd::free_node_slots();
  std::size_t until_back = 0;
  for (std::uint32_t s = 0; s != a; ++until_back) {
    s = vd::acquire_node_slot();
    REQUIRE(s != 0);
    vd::release_node_slot(s);
  }
  CHECK(until_back == free);
}

TEST_CASE("two nodes in one OS process issue different PIDs") {
  myrmex::Node a(config(1)), b(config(1));
  std::atomic<int> sum_a{0}, sum_b{0};
  Pid pa = a.spawn(waiter(sum_a));
  Pid pb = b.spawn(waiter(sum_b));
  INFO("A's first PID ", pa.to_string(), ", B's ", pb.to_string());
  CHECK(pa != pb);
  CHECK(pa.node() != pb.node());
  CHECK(pa.node() != 0);
  CHECK(pb.node() != 0);
  a.send(pa, Go{});
  b.send(pb, Go{});
}

TEST_CASE("a send to another node's PID is noproc and never reaches this node's processes") {
  myrmex::Node a(config(1)), b(config(1));
  std::atomic<int> sum_a{0}, sum_b{0};
  // Each node's first process: the pair that had the same PID before node slots.
  Pid pa = a.spawn(waiter(sum_a));
  Pid pb = b.spawn(waiter(sum_b));
  INFO("A's process ", pa.to_string(), ", B's ", pb.to_string());
  CHECK(a.send(pb, 1) == SendResult::noproc);  // from a thread outside A
  CHECK(b.send(pa, 2) == SendResult::noproc);
  SendResult from_a = SendResult::ok, from_b = SendResult::ok;
  a.run([&] { from_a = myrmex::send(pb, 4); });  // from a process of A
  b.run([&] { from_b = myrmex::send(pa, 8); });
  CHECK(from_a == SendResult::noproc);
  CHECK(from_b == SendResult::noproc);
  // Their own node still reaches them; a misdelivered message would have arrived before these.
  CHECK(a.send(pa, 16) == SendResult::ok);
  CHECK(b.send(pb, 32) == SendResult::ok);
  CHECK(answers(a, pa));
  CHECK(answers(b, pb));
  CHECK(sum_a.load() == 16);
  CHECK(sum_b.load() == 32);
  a.send(pa, Go{});
  b.send(pb, Go{});
}

TEST_CASE("exit, alive and process_info with another node's PID do not touch this node's processes") {
  myrmex::Node a(config(1)), b(config(1));
  std::atomic<int> sum_a{0}, sum_b{0};
  Pid pa = a.spawn(waiter(sum_a));
  Pid pb = b.spawn(waiter(sum_b));
  INFO("A's process ", pa.to_string(), ", B's ", pb.to_string());
  CHECK_FALSE(a.alive(pb));
  CHECK_FALSE(a.process_info(pb).has_value());
  CHECK(b.alive(pb));
  CHECK(b.process_info(pb).has_value());
  bool alive_inside = true, info_inside = true;
  a.run([&] {
    alive_inside = myrmex::alive(pb);
    info_inside = myrmex::process_info(pb).has_value();
    myrmex::exit(pb, Term::atom("kill"));  // from a process of A
  });
  CHECK_FALSE(alive_inside);
  CHECK_FALSE(info_inside);
  a.exit(pb, Term::atom("kill"));  // from outside A
  b.exit(pa, Term::atom("kill"));
  // A kill would sit in the system queue and end the process before it could answer.
  CHECK(answers(a, pa));
  CHECK(answers(b, pb));
  CHECK(a.alive(pa));
  CHECK(b.alive(pb));
  a.send(pa, Go{});
  b.send(pb, Go{});
}

TEST_CASE("two nodes run and stop independently") {
  auto a = std::make_unique<myrmex::Node>(config(1));
  myrmex::Node b(config(2));
  std::atomic<int> sum_a{0}, sum_b{0};
  Pid pa = a->spawn(waiter(sum_a));
  Pid pb = b.spawn(waiter(sum_b));
  a->stop();
  CHECK_FALSE(a->alive(pa));
  CHECK(a->process_count() == 0);
  CHECK(b.alive(pb));
  CHECK(answers(b, pb));
  a.reset();  // destroyed while B runs
  CHECK(b.run([] { myrmex::spawn([] {}); }) == Term::atom("normal"));
  CHECK(answers(b, pb));
  b.send(pb, Go{});
  CHECK(wait_until([&] { return b.process_count() == 0; }));
}

TEST_CASE("a destroyed node's slot is not given to the next node") {
  Pid stale;
  {
    myrmex::Node a(config(1));
    std::atomic<int> sum{0};
    stale = a.spawn(waiter(sum));
    a.send(stale, Go{});
    CHECK(wait_until([&] { return !a.alive(stale); }));
  }
  myrmex::Node b(config(1));
  std::atomic<int> sum_b{0};
  Pid fresh = b.spawn(waiter(sum_b));
  INFO("the old node's process ", stale.to_string(), ", the new node's ", fresh.to_string());
  CHECK(fresh.node() != stale.node());
  CHECK(fresh != stale);
  CHECK_FALSE(b.alive(stale));
  CHECK(b.send(stale, 1) == SendResult::noproc);
  CHECK(answers(b, fresh));
  CHECK(sum_b.load() == 0);
  b.send(fresh, Go{});
}
