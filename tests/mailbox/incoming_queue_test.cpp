// The incoming queue on its own: batches in push order, FIFO per producer with several producers at once,
// the count in the head word past its 16 bits, and the owner's wake-up that the head word carries
// (scheduler/detail/wake_word.h): exactly one push or notify claims each park.
#include "mailbox/detail/incoming_queue.h"

#include <doctest/doctest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "tests/test_node.h"

using myrmex::mailbox::box;
using myrmex::mailbox::Envelope;
using myrmex::mailbox::unbox;
using myrmex::mailbox::detail::IncomingQueue;
using WakeWord = IncomingQueue::WakeWord;
using myrmex::test::scaled;

namespace {

struct Item {
  int producer;
  long seq;
};

// take_items() takes a batch and returns its Items in order (destroying the envelopes); it checks that the
// batch's count and last agree with its links.
std::vector<Item> take_items(IncomingQueue& q) {
  IncomingQueue::Batch batch = q.take();
  std::vector<Item> items;
  Envelope* last = nullptr;
  for (Envelope* e = batch.first; e;) {
    Envelope* next = e->next.load();
    items.push_back(*unbox<Item>(e));
    last = e;
    myrmex::mailbox::destroy(e);
    e = next;
  }
  CHECK(items.size() == batch.count);
  CHECK(last == batch.last);
  return items;
}

}  // namespace

TEST_CASE("take() returns what was pushed, oldest first, and nothing when empty") {
  IncomingQueue q;
  CHECK(q.take().first == nullptr);
  CHECK(q.empty());
  long next_in = 0, next_out = 0;
  for (int round = 0; round < 50; ++round) {
    for (int i = 0; i < round % 7; ++i) CHECK(!q.push(box(Item{0, next_in++})));
    CHECK(q.length() == static_cast<std::uint64_t>(round % 7));
    for (const Item& it : take_items(q)) CHECK(it.seq == next_out++);
    CHECK(next_out == next_in);
    CHECK(q.length() == 0);
    CHECK(q.empty());
  }
}

TEST_CASE("the length stays exact past the 65,535 the head word counts") {
  IncomingQueue q;
  const long n = 70000;
  for (long i = 0; i < n; ++i) q.push(box(Item{0, i}));
  CHECK(q.length() == static_cast<std::uint64_t>(n));
  std::vector<Item> items = take_items(q);
  REQUIRE(items.size() == static_cast<std::size_t>(n));
  long out_of_order = 0;
  for (long i = 0; i < n; ++i) out_of_order += items[static_cast<std::size_t>(i)].seq != i;
  CHECK(out_of_order == 0);
  CHECK(q.length() == 0);
  q.push(box(Item{0, 0}));  // the overflow is back to zero: counting starts afresh
  CHECK(q.length() == 1);
  CHECK(take_items(q).size() == 1);
}

// park_for_message() is what the owner's scheduler does once the owner's fiber is off its stack.
bool park_for_message(IncomingQueue& q) {
  return q.wake_word().commit_park(/*wake_on_payload=*/true);
}

TEST_CASE(
    "a park for a message: refused while one waits; the first push after it, and only that one, claims") {
  IncomingQueue q;
  q.push(box(Item{0, 0}));
  CHECK(!park_for_message(q));  // a message arrived since the last take: look at it instead
  CHECK(!q.wake_word().asleep());
  CHECK(take_items(q).size() == 1);
  CHECK(park_for_message(q));
  CHECK(q.wake_word().asleep());
  CHECK(q.empty());
  CHECK(q.push(box(Item{0, 1})));   // claims the owner's wake-up
  CHECK(!q.push(box(Item{0, 2})));  // already claimed
  CHECK(!q.wake_word().notify());   // so is a notify after it
  CHECK(!q.wake_word().asleep());
  std::vector<Item> items = take_items(q);
  REQUIRE(items.size() == 2);
  CHECK(items[0].seq == 1);
  CHECK(items[1].seq == 2);
  CHECK(!park_for_message(q));  // the notify above makes one park fail: the owner looks again
  CHECK(park_for_message(q));
  CHECK(q.push(box(Item{0, 3})));  // each park is answered once
  CHECK(take_items(q).size() == 1);
}

TEST_CASE("a park for something else: messages queue up without a claim, a notify claims") {
  IncomingQueue q;
  q.push(box(Item{0, 0}));
  CHECK(q.wake_word().commit_park(/*wake_on_payload=*/false));  // a waiting message does not stop it
  CHECK(!q.push(box(Item{0, 1})));  // nor does a new one wake it (a process in sleep() stays asleep)
  CHECK(q.wake_word().asleep());
  CHECK(q.length() == 2);
  CHECK(q.wake_word().notify());   // the timer, the room, the job: claims
  CHECK(!q.wake_word().notify());  // once
  CHECK(take_items(q).size() == 2);
}

TEST_CASE("a notify while the owner runs fails its next park once, even across a take") {
  IncomingQueue q;
  CHECK(!q.wake_word().notify());  // the owner runs: nothing to claim
  q.push(box(Item{0, 0}));
  CHECK(take_items(q).size() == 1);  // the take empties the head, and keeps the notification
  CHECK(!q.wake_word().commit_park(/*wake_on_payload=*/false));
  CHECK(q.wake_word().commit_park(/*wake_on_payload=*/false));
  CHECK(q.wake_word().notify());
}

TEST_CASE("a producer whose pushes move from one thread to another keeps its order") {
  // A fiber that migrates between schedulers is this: program order carried over a hand-off.
  IncomingQueue q;
  const long per_thread = 1000;
  long seq = 0;
  for (int hop = 0; hop < 8; ++hop) {
    std::thread t([&] {
      for (long i = 0; i < per_thread; ++i) q.push(box(Item{0, seq++}));
    });
    t.join();
  }
  long next = 0, out_of_order = 0;
  for (const Item& it : take_items(q)) out_of_order += it.seq != next++;
  CHECK(next == 8 * per_thread);
  CHECK(out_of_order == 0);
}

TEST_SUITE("stress") {
  TEST_CASE("several producers push at once: FIFO per producer, nothing lost or duplicated") {
    IncomingQueue q;
    const int producers = 4;
    const long per_producer = scaled(500000);
    std::vector<std::thread> threads;
    for (int p = 0; p < producers; ++p)
      threads.emplace_back([&q, p, per_producer] {
        for (long i = 0; i < per_producer; ++i) q.push(box(Item{p, i}));
      });
    // The owner takes while they push.
    std::vector<long> next(producers, 0);
    long received = 0, out_of_order = 0, empty_takes = 0;
    while (received < producers * per_producer) {
      std::vector<Item> items = take_items(q);
      empty_takes += items.empty();
      for (const Item& it : items) {
        if (it.producer < 0 || it.producer >= producers ||
            it.seq != next[static_cast<std::size_t>(it.producer)]) {
          ++out_of_order;
        } else {
          ++next[static_cast<std::size_t>(it.producer)];
        }
        ++received;
      }
    }
    for (auto& t : threads) t.join();
    CAPTURE(empty_takes);
    CHECK(out_of_order == 0);
    for (int p = 0; p < producers; ++p) CHECK(next[static_cast<std::size_t>(p)] == per_producer);
    CHECK(q.take().first == nullptr);
  }

  TEST_CASE("no lost wake-up: an owner that parks while producers push and notify is claimed once") {
    // The owner: take, park, and if the park was committed wait for a push or a notify to report the
    // claim. A push that cleared "asleep" and did not report it, or a park committed over a waiting message
    // or a notification, would leave the owner waiting forever (the test then times out); two claims of
    // one park would run the owner twice.
    IncomingQueue q;
    const int producers = 2;
    const long per_producer = scaled(200000);
    std::atomic<long> claims{0};
    std::atomic<bool> pushing_done{false};
    std::vector<std::thread> threads;
    for (int p = 0; p < producers; ++p)
      threads.emplace_back([&, p] {
        for (long i = 0; i < per_producer; ++i)
          if (q.push(box(Item{p, i}))) claims.fetch_add(1);
      });
    std::thread notifier([&] {
      while (!pushing_done.load())
        if (q.wake_word().notify()) claims.fetch_add(1);
    });
    long received = 0, parks = 0, seen_claims = 0;
    while (received < producers * per_producer) {
      received += static_cast<long>(take_items(q).size());
      if (received < producers * per_producer && park_for_message(q)) {
        ++parks;
        while (claims.load() == seen_claims) std::this_thread::yield();
        ++seen_claims;
        CHECK(claims.load() == seen_claims);  // one claim per park, never two
      }
    }
    for (auto& t : threads) t.join();
    pushing_done = true;
    notifier.join();
    CAPTURE(parks);
    CHECK(claims.load() == parks);
    CHECK(received == producers * per_producer);
  }
}
