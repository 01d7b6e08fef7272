// Bounded mailboxes: each overflow policy, and system signals through a full mailbox.
#include <doctest/doctest.h>

#include <vector>

#include "tests/test_node.h"

using namespace std::chrono_literals;
using myrmex::Pid;
using myrmex::SendResult;
using myrmex::Term;
using myrmex::test::config;
using myrmex::test::wait_until;

namespace {
myrmex::SpawnOptions bounded(std::size_t n, myrmex::Overflow policy) {
  myrmex::SpawnOptions o;
  o.mailbox_bound = n;
  o.overflow = policy;
  return o;
}
// A target parked outside its mailbox until `go`.
auto parked_until(std::atomic<bool>& go) {
  return [&go] {
    myrmex::blocking([&] { wait_until([&] { return go.load(); }); });
    for (;;) myrmex::receive([](int) {});
  };
}
}  // namespace

TEST_CASE("a bounded mailbox with policy reject refuses what does not fit") {
  myrmex::Node node(config(2));
  std::atomic<bool> go{false};
  Pid p = node.spawn_opt(bounded(10, myrmex::Overflow::reject), parked_until(go));
  int ok = 0, full = 0;
  for (int i = 0; i < 15; ++i) (node.send(p, i) == SendResult::ok ? ok : full)++;
  CHECK(ok == 10);
  CHECK(full == 5);
  CHECK(node.process_info(p)->message_queue_len == 10);
  go = true;
}

TEST_CASE("a bounded mailbox with policy drop discards what does not fit") {
  myrmex::Node node(config(2));
  std::atomic<bool> go{false};
  Pid p = node.spawn_opt(bounded(4, myrmex::Overflow::drop), parked_until(go));
  int ok = 0, dropped = 0;
  for (int i = 0; i < 6; ++i) (node.send(p, i) == SendResult::dropped ? dropped : ok)++;
  CHECK(ok == 4);
  CHECK(dropped == 2);
  go = true;
}

TEST_CASE("a bounded mailbox with policy block parks the sender until there is room, losing nothing") {
  myrmex::Node node(config(2));
  const int n = 2000;
  std::vector<int> got;
  node.run([&] {
    Pid me = myrmex::self();
    Pid slow = myrmex::spawn_opt(bounded(8, myrmex::Overflow::block), [me, n] {
      std::vector<int> seen;
      while (static_cast<int>(seen.size()) < n) {
        myrmex::receive([&](int v) { seen.push_back(v); });
        if (seen.size() % 100 == 0) myrmex::sleep_for(1ms);  // make the sender wait
      }
      myrmex::send(me, std::move(seen));
    });
    for (int i = 0; i < n; ++i) {
      REQUIRE(myrmex::send(slow, i) == SendResult::ok);
      CHECK(myrmex::process_info(slow)->message_queue_len <= 8);
    }
    myrmex::receive([&](std::vector<int>& v) { got = std::move(v); });
  });
  REQUIRE(got.size() == static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) CHECK(got[i] == i);
}

TEST_CASE("system signals get through a full bounded mailbox") {
  myrmex::Node node(config(2));
  std::atomic<bool> go{false};
  Pid p = node.spawn_opt(bounded(3, myrmex::Overflow::reject), parked_until(go));
  for (int i = 0; i < 10; ++i) (void)node.send(p, i);
  CHECK(node.process_info(p)->message_queue_len == 3);
  node.exit(p, Term::atom("kill"));
  CHECK(node.process_info(p)->system_queue_len == 1);
  go = true;
  CHECK(wait_until([&] { return !node.alive(p); }));
}

TEST_CASE("a sender blocked on a full mailbox is released when the receiver dies") {
  myrmex::Node node(config(2));
  std::atomic<bool> go{false};
  Pid p = node.spawn_opt(bounded(1, myrmex::Overflow::block), parked_until(go));
  CHECK(node.send(p, 0) == SendResult::ok);
  SendResult second = SendResult::ok;
  Pid sender = node.spawn([&] { second = myrmex::send(p, 1); });
  myrmex::test::wait_until([&] {
    return node.process_info(sender) && node.process_info(sender)->status == myrmex::ProcessStatus::waiting;
  });
  node.exit(p, Term::atom("kill"));
  go = true;
  REQUIRE(wait_until([&] { return !node.alive(sender); }));
  CHECK(second == SendResult::noproc);
}
