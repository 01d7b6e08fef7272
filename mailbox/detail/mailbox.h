// Mailbox: a process's two queues.
//
// Internal to myrmex. Senders push into lock-free MPSC queues: one for system signals (never bounded,
// never dropped), one for user messages (optionally bounded). The owner moves user messages into a
// private list where selective receive scans them in arrival order and unlinks the one it takes; the
// others keep their order. A *marker* remembers the end of that list when a call's reference was made, so
// the reply scan starts there (BEAM's receive marker): a call costs O(1) whatever the mailbox holds.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "mailbox/detail/mpsc_queue.h"
#include "mailbox/message.h"

namespace myrmex::mailbox::detail {

class Mailbox {
 public:
  Mailbox() = default;
  ~Mailbox();  // destroys every message still queued
  Mailbox(const Mailbox&) = delete;
  Mailbox& operator=(const Mailbox&) = delete;

  // ---- Any thread ----
  // push_user() enqueues `e` unless the mailbox is bounded and full (then it returns false and `e` is
  // still the caller's).
  bool push_user(Envelope* e);
  // push_user_unbounded() enqueues `e` past any bound: a message the runtime owes the owner (an Exit, a
  // Down, a call's reply) is never refused or dropped.
  void push_user_unbounded(Envelope* e);
  // push_system() enqueues a system signal. Never refused.
  void push_system(Envelope* e);
  // has_system() is cheap enough for every charge point.
  bool has_system() const { return system_pending_.load(std::memory_order_acquire) != 0; }
  std::size_t user_length() const;
  std::size_t system_length() const { return system_pending_.load(std::memory_order_relaxed); }

  // Bounded mailboxes. set_bound() is called before the process is published.
  void set_bound(std::size_t bound, Overflow policy);
  std::size_t bound() const { return bounds_ ? bounds_->bound : 0; }
  Overflow policy() const { return bounds_ ? bounds_->policy : Overflow::block; }
  // add_blocked_sender() records a sender (by id) to wake once there is room. False once the owner has
  // exited (take_blocked_senders(true)): nobody would wake it.
  bool add_blocked_sender(std::uint64_t id);

  // ---- Owner only ----
  Envelope* pop_system();
  // Position in the private list: the envelope *before* the next one to look at.
  using Position = Envelope*;
  Position start() { return &head_; }
  // next_after() is the message after `pos` (moving newly arrived ones in first), or nullptr.
  Envelope* next_after(Position pos);
  // take_after() unlinks and returns the message right after `pos`.
  Envelope* take_after(Position pos);
  // has_blocked_senders() tells, after the owner took a message, whether senders wait for room; then
  // take_blocked_senders() hands them back to wake. With `close` (the owner exits) every later
  // add_blocked_sender() is refused.
  bool has_blocked_senders() const;
  std::vector<std::uint64_t> take_blocked_senders(bool close = false);

  // The receive marker: mark() remembers the current end of the queue under `key`; marked(key) is the
  // position to scan from, or start() if the marker was made for another key or is gone.
  void mark(std::uint64_t key);
  Position marked(std::uint64_t key) { return key == marker_key_ && marker_ ? marker_ : start(); }
  void clear_mark() { marker_ = nullptr; }

 private:
  static constexpr int kDrainBatch = 256;
  // drain() moves up to `limit` arrived messages to the private list; false if there were none.
  bool drain(std::uint64_t limit = kDrainBatch);
  // drain_all() moves everything that has arrived (the destructor: nothing arrives any more).
  void drain_all();

  // What only a bounded mailbox needs, kept out of line: most mailboxes are unbounded.
  struct Bounds {
    std::size_t bound;
    Overflow policy;
    std::mutex blocked_mutex;
    std::vector<std::uint64_t> blocked;  // GUARDED_BY(blocked_mutex)
    bool closed = false;                 // GUARDED_BY(blocked_mutex): the owner exited
  };

  // Producers' side first, the owner's after; not padded apart (see MpscQueue).
  MpscQueue user_;
  MpscQueue system_;
  // Producers count what they push (one RMW on the line they already own); the owner counts what it
  // takes. The difference is the length, which a bounded mailbox checks before pushing.
  std::atomic<std::uint64_t> pushed_{0};
  std::atomic<std::uint32_t> system_pending_{0};
  std::atomic<bool> has_blocked_{false};
  std::atomic<std::uint64_t> taken_{0};  // written by the owner only

  // Owner-only private list: head_ is a sentinel, tail_ the last element.
  Envelope head_;
  Envelope* tail_ = &head_;
  Envelope* marker_ = nullptr;
  std::uint64_t marker_key_ = 0;
  std::uint64_t drained_ = 0;  // messages moved to the private list so far

  std::unique_ptr<Bounds> bounds_;  // null: unbounded
};

}  // namespace myrmex::mailbox::detail
