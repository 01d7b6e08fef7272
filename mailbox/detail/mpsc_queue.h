// MpscQueue: Dmitry Vyukov's intrusive multi-producer single-consumer queue.
//
// Internal to myrmex. FIFO per producer even when a producing fiber migrates between threads: a push is
// complete when it returns, and program order carries over a migration. (moodycamel's queue is FIFO only
// per producer token/thread, which is why it is not the mailbox.) Push is one exchange plus one store; it
// never blocks. Pop may briefly see "empty" while a push is half done; the pusher then notifies the
// consumer, which looks again, so nothing is lost.
#pragma once

#include <atomic>

#include "mailbox/message.h"
#include "scheduler/detail/yield_point.h"

namespace myrmex::mailbox::detail {

class MpscQueue {
 public:
  MpscQueue() : head_(&stub_), tail_(&stub_) {}
  MpscQueue(const MpscQueue&) = delete;
  MpscQueue& operator=(const MpscQueue&) = delete;

  // push() appends `e` (any thread).
  void push(Envelope* e) {
    e->next.store(nullptr, std::memory_order_relaxed);
    // acq_rel: release publishes *e to the consumer; acquire orders us after the previous pusher.
    Envelope* prev = head_.exchange(e, std::memory_order_acq_rel);
    // Half done: `e` is the head, but pop() cannot reach it (nor `prev`) until the link below is stored.
    scheduler::detail::yield_point("mailbox.push.exchanged");
    prev->next.store(e, std::memory_order_release);
  }

  // pop() removes the oldest envelope, or nullptr (consumer only).
  Envelope* pop() {
    Envelope* tail = tail_;
    Envelope* next = tail->next.load(std::memory_order_acquire);
    if (tail == &stub_) {
      if (!next) return nullptr;
      tail_ = next;
      tail = next;
      next = next->next.load(std::memory_order_acquire);
    }
    if (next) {
      tail_ = next;
      return tail;
    }
    if (tail != head_.load(std::memory_order_acquire)) return nullptr;  // a push is half done
    push(&stub_);
    next = tail->next.load(std::memory_order_acquire);
    if (next) {
      tail_ = next;
      return tail;
    }
    return nullptr;
  }

 private:
  // Not padded apart: a node holds millions of mailboxes, and a cache line per side would triple them.
  std::atomic<Envelope*> head_;  // producers
  Envelope* tail_;               // consumer only
  Envelope stub_;
};

}  // namespace myrmex::mailbox::detail
