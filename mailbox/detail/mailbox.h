// Mailbox: a process's two queues.
//
// Internal to myrmex. Senders push into lock-free incoming queues (incoming_queue.h, one CAS each): one for
// system signals (never bounded, never dropped), one for user messages (optionally bounded). The owner
// moves what arrived into private lists, where selective receive scans user messages in arrival order
// and unlinks the one it takes; the others keep their order. The user queue's head is also the owner's
// wake-up (scheduler/detail/wake_word.h): a send costs one atomic in all, and claims the owner's wake-up
// when it sleeps waiting for a message. A *marker* remembers the end of that
// list when a call's reference was made, so the reply scan starts there (BEAM's receive marker): a call costs
// O(1) whatever the mailbox holds.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "mailbox/detail/incoming_queue.h"
#include "mailbox/message.h"

namespace myrmex::mailbox::detail {

class Mailbox {
 public:
  Mailbox() = default;
  ~Mailbox();  // destroys every message still queued
  Mailbox(const Mailbox&) = delete;
  Mailbox& operator=(const Mailbox&) = delete;

  // ---- Any thread ----
  // Pushed says what a user push did; `wake`: the owner slept waiting for a message and this push claimed
  // its wake-up, so the sender must queue it (SchedulerGroup::submit). A send to a busy owner needs none.
  enum class Pushed { queued, wake, full };
  // push_user() enqueues `e` unless the mailbox is bounded and full (then `full`, and `e` is still the
  // caller's).
  Pushed push_user(Envelope* e);
  // push_user_unbounded() enqueues `e` past any bound: a message the runtime owes the owner (an Exit, a
  // Down, a call's reply) is never refused or dropped.
  Pushed push_user_unbounded(Envelope* e);
  // push_system() enqueues a system signal. Never refused. The caller always wakes the owner: a signal
  // must reach a process parked for any reason.
  void push_system(Envelope* e) { system_in_.push(e); }
  // has_system() is for the owner, cheap enough for every charge point.
  bool has_system() const { return system_head_ || !system_in_.empty(); }
  std::size_t user_length() const;
  std::size_t system_length() const;

  // Bounded mailboxes. set_bound() is called before the process is published.
  void set_bound(std::size_t bound, Overflow policy);
  std::size_t bound() const { return bounds_ ? bounds_->bound : 0; }
  Overflow policy() const { return bounds_ ? bounds_->policy : Overflow::block; }
  // add_blocked_sender() records a sender (by id) to wake once there is room. False once the owner has
  // exited (take_blocked_senders(true)): nobody would wake it.
  bool add_blocked_sender(std::uint64_t id);

  // ---- Owner only ----
  Envelope* pop_system();
  // wake_word() is the user queue's head, which is also the owner's wake-up (Task::wake).
  scheduler::detail::WakeWord& wake_word() { return user_in_.wake_word(); }
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
  bool has_blocked_senders() const { return bounds_ && bounded_has_blocked_senders(); }
  std::vector<std::uint64_t> take_blocked_senders(bool close = false);

  // The receive marker: mark() remembers the current end of the queue under `key`; marked(key) is the
  // position to scan from, or start() if the marker was made for another key or is gone.
  void mark(std::uint64_t key);
  Position marked(std::uint64_t key) { return key == marker_key_ && marker_ ? marker_ : start(); }
  void clear_mark() { marker_ = nullptr; }

 private:
  // drain() moves every user message that has arrived to the private list; false if there were none.
  // It takes only what is there when it looks, so a steady stream of senders cannot keep it going.
  bool drain();
  static void destroy_list(Envelope* e);
  bool bounded_has_blocked_senders() const;

  // What only a bounded mailbox needs, kept out of line: most mailboxes are unbounded.
  struct Bounds {
    std::size_t bound;
    Overflow policy;
    std::mutex blocked_mutex;
    std::vector<std::uint64_t> blocked;  // GUARDED_BY(blocked_mutex)
    bool closed = false;                 // GUARDED_BY(blocked_mutex): the owner exited
  };

  // Producers' side first, the owner's after. Not padded apart: a node holds millions of mailboxes, and a
  // cache line per side would triple them.
  IncomingQueue user_in_;
  IncomingQueue system_in_;
  // Only a bounded mailbox counts what senders push (a reservation, so concurrent senders cannot overshoot
  // the bound together); pushed_ - taken_ is then its length.
  std::atomic<std::uint64_t> pushed_{0};
  std::atomic<bool> has_blocked_{false};
  // Written by the owner only (plain stores), read by others for the lengths.
  std::atomic<std::uint64_t> taken_{0};           // user messages taken out of the private list
  std::atomic<std::uint64_t> drained_{0};         // user messages moved to the private list
  std::atomic<std::uint32_t> system_private_{0};  // signals in the private system list

  // Owner-only private lists. head_ is a sentinel, tail_ the last element.
  Envelope head_;
  Envelope* tail_ = &head_;
  Envelope* marker_ = nullptr;
  std::uint64_t marker_key_ = 0;
  Envelope* system_head_ = nullptr;  // signals taken from system_in_, oldest first

  std::unique_ptr<Bounds> bounds_;  // null: unbounded
};

}  // namespace myrmex::mailbox::detail
