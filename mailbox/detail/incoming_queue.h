// IncomingQueue: where senders leave envelopes for one owner, who takes them all at once.
//
// Internal to myrmex. A push is one compare-and-swap onto a stack (Treiber's), and touches no other
// sender's envelope and no stub: nothing else on another core's cache lines. The owner takes everything
// with one exchange and reverses it, so a batch comes out in push order. That order is FIFO per producer
// even when a producing fiber migrates between threads: a push is complete when its CAS succeeds, and
// program order carries over a migration. Batches come out in the order they were taken.
//
// The same word carries the owner's wake-up: before parking for a message, the owner swaps "empty" for
// "asleep" (sleep()). The one push that replaces "asleep" learns it from its CAS and must wake the owner;
// every other push costs the owner nothing. Whatever order the CASes take, no message is left behind a
// sleeping owner: its sleep() fails if a push came first, and the push sees "asleep" if sleep() did.
//
// The head word also counts what it holds, in its top 16 bits (user-space pointers on x86-64 and AArch64
// fit in 48), so length() needs no second atomic on the push path; past 65,535 envelopes between two
// takes a push adds to `overflow_` instead.
#pragma once

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cstdint>

#include "mailbox/message.h"

namespace myrmex::mailbox::detail {

class IncomingQueue {
 public:
  IncomingQueue() = default;
  IncomingQueue(const IncomingQueue&) = delete;
  IncomingQueue& operator=(const IncomingQueue&) = delete;

  // A Batch is what take() took, oldest first, linked through `next` (last->next is null).
  struct Batch {
    Envelope* first = nullptr;
    Envelope* last = nullptr;
    std::uint64_t count = 0;
  };

  // push() adds `e` (any thread). True when the owner had gone to sleep: the caller must wake it.
  bool push(Envelope* e) {
    assert((reinterpret_cast<Word>(e) & ~kPointerMask) == 0 && "a pointer wider than 48 bits");
    Word old = head_.load(std::memory_order_relaxed);
    Word count;
    for (;;) {
      e->next.store(old == kAsleep ? nullptr : pointer(old), std::memory_order_relaxed);
      count = std::min<Word>(count_of(old) + 1, kMaxCount);
      // release: publishes *e to the owner's take(); relaxed on failure: we only retry.
      if (head_.compare_exchange_weak(old, word(e, count), std::memory_order_release,
                                      std::memory_order_relaxed))
        break;
    }
    if (count_of(old) == kMaxCount) overflow_.fetch_add(1, std::memory_order_relaxed);
    return old == kAsleep;
  }

  // take() removes everything pushed so far (owner only).
  Batch take() {
    Word w = head_.load(std::memory_order_relaxed);
    if (w == kEmpty || w == kAsleep) return {};  // a push not yet visible: the owner's sleep() sees it
    // acquire: pairs with the pushes' release, so their envelopes are complete.
    w = head_.exchange(kEmpty, std::memory_order_acquire);
    Batch batch;
    for (Envelope* e = w == kAsleep ? nullptr : pointer(w); e;) {  // newest first: reverse
      Envelope* older = e->next.load(std::memory_order_relaxed);
      e->next.store(batch.first, std::memory_order_relaxed);
      if (!batch.first) batch.last = e;
      batch.first = e;
      ++batch.count;
      e = older;
    }
    if (count_of(w) == kMaxCount)
      overflow_.fetch_sub(static_cast<std::int64_t>(batch.count - kMaxCount), std::memory_order_relaxed);
    return batch;
  }

  // sleep() tells the next push to wake the owner (owner only). False when something arrived since the
  // last take(): look again instead of parking.
  bool sleep() {
    Word expected = kEmpty;
    // acq_rel: on failure we take the pushes we saw; on success later pushers read our "asleep".
    return head_.compare_exchange_strong(expected, kAsleep, std::memory_order_acq_rel) || expected == kAsleep;
  }

  // empty() is a hint (any thread): what the caller last saw, not necessarily what has been pushed.
  bool empty() const {
    Word w = head_.load(std::memory_order_relaxed);
    return w == kEmpty || w == kAsleep;
  }

  // length() is how many envelopes wait (any thread; exact when no push or take is under way).
  std::uint64_t length() const {
    Word w = head_.load(std::memory_order_acquire);
    std::int64_t extra = overflow_.load(std::memory_order_relaxed);
    return count_of(w) + static_cast<std::uint64_t>(std::max<std::int64_t>(extra, 0));
  }

 private:
  using Word = std::uint64_t;
  static constexpr int kCountShift = 48;
  static constexpr Word kMaxCount = 0xffff;
  static constexpr Word kPointerMask = (Word{1} << kCountShift) - 1;
  static constexpr Word kEmpty = 0;
  static constexpr Word kAsleep = 1;  // no envelope lives at address 1

  static Envelope* pointer(Word w) { return reinterpret_cast<Envelope*>(w & kPointerMask); }
  static Word count_of(Word w) { return w >> kCountShift; }
  static Word word(Envelope* e, Word count) { return reinterpret_cast<Word>(e) | count << kCountShift; }

  std::atomic<Word> head_{kEmpty};
  // Pushes beyond kMaxCount since the last take(), less what take() found beyond it. Briefly negative
  // when a take() comes between a saturated push's CAS and its add.
  std::atomic<std::int64_t> overflow_{0};
};

}  // namespace myrmex::mailbox::detail
