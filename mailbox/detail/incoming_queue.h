// IncomingQueue: where senders leave envelopes for one owner, who takes them all at once.
//
// Internal to myrmex. A push is one compare-and-swap onto a stack (Treiber's), and touches no other
// sender's envelope and no stub: nothing else on another core's cache lines. The owner takes everything
// with one exchange and reverses it, so a batch comes out in push order. That order is FIFO per producer
// even when a producing fiber migrates between threads: a push is complete when its CAS succeeds, and
// program order carries over a migration. Batches come out in the order they were taken.
//
// The head is the owner's WakeWord (scheduler/detail/wake_word.h): the same CAS that pushes learns
// whether the owner sleeps waiting for a message, and if so claims its wake-up. Every other push costs
// the owner nothing. The word's low three bits are the wake flags, which a push and a take keep.
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
#include "scheduler/detail/wake_word.h"

namespace myrmex::mailbox::detail {

class IncomingQueue {
 public:
  using WakeWord = scheduler::detail::WakeWord;
  IncomingQueue() = default;
  IncomingQueue(const IncomingQueue&) = delete;
  IncomingQueue& operator=(const IncomingQueue&) = delete;

  // A Batch is what take() took, oldest first, linked through `next` (last->next is null).
  struct Batch {
    Envelope* first = nullptr;
    Envelope* last = nullptr;
    std::uint64_t count = 0;
  };

  // push() adds `e` (any thread). True when the owner slept waiting for a message: this push claimed its
  // wake-up, and the caller must queue it.
  bool push(Envelope* e) {
    assert((reinterpret_cast<Word>(e) & ~kPointerMask) == 0 && "a pointer wider than 48 bits");
    assert((reinterpret_cast<Word>(e) & kFlags) == 0 && "an envelope not 8-aligned");
    Word old = head().load(std::memory_order_relaxed);
    Word count;
    bool claim;
    for (;;) {
      e->next.store(pointer(old), std::memory_order_relaxed);
      count = std::min<Word>(count_of(old) + 1, kMaxCount);
      claim = (old & (WakeWord::kAsleep | WakeWord::kWakeOnPayload)) ==
              (WakeWord::kAsleep | WakeWord::kWakeOnPayload);
      Word flags = claim ? 0 : old & kFlags;  // (asleep, it cannot be notified too)
      // release: publishes *e to the owner's take(); acquire: a claim must see all the owner did before
      // its park was committed (its saved context first). Relaxed on failure: we only retry.
      if (head().compare_exchange_weak(old, word(e, count) | flags, std::memory_order_acq_rel,
                                       std::memory_order_relaxed))
        break;
    }
    if (count_of(old) == kMaxCount) overflow_.fetch_add(1, std::memory_order_relaxed);
    return claim;
  }

  // take() removes everything pushed so far (owner only, while it runs: never asleep).
  Batch take() {
    Word w = head().load(std::memory_order_relaxed);
    if (!pointer(w)) return {};  // a push not yet visible: the owner's commit_park() sees it
    // acquire: pairs with the pushes' release, so their envelopes are complete.
    w = head().exchange(0, std::memory_order_acquire);
    // A notification that came while the owner ran must still fail its next park (rare: a timer or a
    // signal, not a message).
    if (w & WakeWord::kNotified) head().fetch_or(WakeWord::kNotified, std::memory_order_relaxed);
    Batch batch;
    for (Envelope* e = pointer(w); e;) {  // newest first: reverse
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

  // wake_word() is the head, for the owner's task (Task::wake).
  WakeWord& wake_word() { return head_; }

  // empty() is a hint (any thread): what the caller last saw, not necessarily what has been pushed.
  bool empty() const { return !pointer(head_.bits.load(std::memory_order_relaxed)); }

  // length() is how many envelopes wait (any thread; exact when no push or take is under way).
  std::uint64_t length() const {
    Word w = head_.bits.load(std::memory_order_acquire);
    std::int64_t extra = overflow_.load(std::memory_order_relaxed);
    return count_of(w) + static_cast<std::uint64_t>(std::max<std::int64_t>(extra, 0));
  }

 private:
  using Word = WakeWord::Bits;
  static constexpr int kCountShift = 48;
  static constexpr Word kMaxCount = 0xffff;
  static constexpr Word kPointerMask = (Word{1} << kCountShift) - 1;
  static constexpr Word kFlags = WakeWord::kFlags;

  static Envelope* pointer(Word w) { return reinterpret_cast<Envelope*>(w & kPointerMask & ~kFlags); }
  static Word count_of(Word w) { return w >> kCountShift; }
  static Word word(Envelope* e, Word count) { return reinterpret_cast<Word>(e) | count << kCountShift; }

  std::atomic<Word>& head() { return head_.bits; }

  WakeWord head_;
  // Pushes beyond kMaxCount since the last take(), less what take() found beyond it. Briefly negative
  // when a take() comes between a saturated push's CAS and its add.
  std::atomic<std::int64_t> overflow_{0};
};

}  // namespace myrmex::mailbox::detail
