// Bounded mailboxes: each overflow policy, and system signals through a full mailbox.
#include <doctest/doctest.h>

#include <string_view>
#include <vector>

#include "mailbox/detail/mailbox.h"
#include "scheduler/detail/systematic.h"
#include "scheduler/detail/yield_point.h"
#include "tests/test_node.h"

using namespace std::chrono_literals;
using myrmex::Pid;
using myrmex::SendResult;
using myrmex::Term;
using myrmex::test::bounded;
using myrmex::test::config;
using myrmex::test::wait_until;

namespace {
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
  // Parked in its blocking job, where signals wait: before it first runs, it would take the kill at once.
  REQUIRE(wait_until([&] { return node.process_info(p)->status == myrmex::ProcessStatus::waiting; }));
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

TEST_CASE("a bound of one under two schedulers never deadlocks sender and receiver (stress)" *
          doctest::test_suite("stress")) {
  // The receiver stores its count of taken messages then looks for blocked senders; a sender registers
  // then looks at the count again. Without a full fence on both sides both can read stale values (store
  // buffering) and each wait for the other. Many hand-overs through a bound of one hit that window often.
  myrmex::Node node(config(2));
  const long n = myrmex::test::scaled(200000);
  std::atomic<long> received{0};
  Pid receiver = node.spawn_opt(bounded(1, myrmex::Overflow::block), [&] {
    for (long i = 0; i < n; ++i)
      myrmex::receive([&](long v) {
        CHECK(v == i);
        ++received;
      });
  });
  node.spawn([&] {
    for (long i = 0; i < n; ++i) REQUIRE(myrmex::send(receiver, i) == SendResult::ok);
  });
  CHECK(wait_until([&] { return received.load() == n; }, std::chrono::seconds(120)));
}

namespace {
// Feeds a mailbox while its owner drains it: right after each take, 300 more arrive.
myrmex::mailbox::detail::Mailbox* fed = nullptr;
long feeds = 0;
void feed_while_draining(const char* name) {
  if (!fed || std::string_view(name) != "mailbox.drain.taken" || feeds >= 100000) return;
  for (int i = 0; i < 300; ++i, ++feeds) (void)fed->push_user(myrmex::mailbox::box(i));
}
}  // namespace

TEST_CASE("make_ref()'s mark drains only what arrived before it, however fast messages keep arriving") {
  if (!myrmex::scheduler::detail::kYieldPoints) return;  // the feed needs the yield points
  myrmex::mailbox::detail::Mailbox mailbox;
  for (int i = 0; i < 1000; ++i) (void)mailbox.push_user(myrmex::mailbox::box(i));
  fed = &mailbox;
  feeds = 0;
  myrmex::scheduler::detail::set_yield_hook(&feed_while_draining);
  mailbox.mark(1);
  myrmex::scheduler::detail::set_yield_hook(nullptr);
  fed = nullptr;
  // One take of the 1000, after which 300 more arrive; a drain until empty would have chased the feed
  // to its end (100000 messages).
  CHECK(feeds < 2000);
  // The marker lies right after the 1000 that were there: the next message after it is the first fed.
  auto* first_fed = mailbox.next_after(mailbox.marked(1));
  REQUIRE(first_fed);
  CHECK(*myrmex::mailbox::unbox<int>(first_fed) == 0);
}
