#include "mailbox/detail/mailbox.h"

#include "scheduler/detail/yield_point.h"

namespace myrmex::mailbox::detail {

Mailbox::~Mailbox() {
  while (Envelope* e = pop_system()) destroy(e);
  drain_all();
  Envelope* e = head_.next.load(std::memory_order_relaxed);
  while (e) {
    Envelope* next = e->next.load(std::memory_order_relaxed);
    destroy(e);
    e = next;
  }
}

void Mailbox::set_bound(std::size_t bound, Overflow policy) {
  if (bound == 0) return;
  bounds_ = std::make_unique<Bounds>();
  bounds_->bound = bound;
  bounds_->policy = policy;
}

bool Mailbox::push_user(Envelope* e) {
  if (!bounds_) {
    pushed_.fetch_add(1, std::memory_order_relaxed);
  } else {
    // Reserve a place first, so concurrent senders cannot overshoot the bound together.
    // seq_cst: the load of taken_ must not pass the sender's store of has_blocked_ (see
    // add_blocked_sender()).
    std::uint64_t n = pushed_.fetch_add(1, std::memory_order_seq_cst) + 1;
    if (n - taken_.load(std::memory_order_seq_cst) > bounds_->bound) {
      pushed_.fetch_sub(1, std::memory_order_acq_rel);
      return false;
    }
  }
  user_.push(e);
  return true;
}

void Mailbox::push_user_unbounded(Envelope* e) {
  pushed_.fetch_add(1, std::memory_order_relaxed);
  user_.push(e);
}

void Mailbox::push_system(Envelope* e) {
  system_.push(e);
  // release: a reader that sees the count also sees the pushed signal.
  system_pending_.fetch_add(1, std::memory_order_release);
}

std::size_t Mailbox::user_length() const {
  std::uint64_t taken = taken_.load(std::memory_order_acquire);
  std::uint64_t pushed = pushed_.load(std::memory_order_acquire);
  return pushed > taken ? static_cast<std::size_t>(pushed - taken) : 0;
}

bool Mailbox::add_blocked_sender(std::uint64_t id) {
  std::lock_guard lock(bounds_->blocked_mutex);
  if (bounds_->closed) return false;
  bounds_->blocked.push_back(id);
  // seq_cst: the sender stores this flag and then loads taken_ (its retry in push_user()); the owner
  // stores taken_ and then loads this flag (has_blocked_senders()). That is Dekker's pattern: with weaker
  // orders (and on x86, whose store buffer lets a load pass an earlier store) both could read the old
  // value, the sender park on a mailbox the owner just made room in, and the owner never wake it.
  has_blocked_.store(true, std::memory_order_seq_cst);
  return true;
}

bool Mailbox::has_blocked_senders() const {
  if (!bounds_) return false;  // unbounded: nobody ever blocks, and the hot path pays nothing
  // seq_cst fence: orders take_after()'s store of taken_ before this load (see add_blocked_sender()).
  std::atomic_thread_fence(std::memory_order_seq_cst);
  return has_blocked_.load(std::memory_order_seq_cst);
}

std::vector<std::uint64_t> Mailbox::take_blocked_senders(bool close) {
  if (!bounds_) return {};
  std::lock_guard lock(bounds_->blocked_mutex);
  bounds_->closed |= close;
  has_blocked_.store(false, std::memory_order_relaxed);
  return std::exchange(bounds_->blocked, {});
}

Envelope* Mailbox::pop_system() {
  if (!has_system()) return nullptr;
  Envelope* e = system_.pop();
  if (e) system_pending_.fetch_sub(1, std::memory_order_relaxed);
  return e;
}

bool Mailbox::drain(std::uint64_t limit) {
  scheduler::detail::yield_point("mailbox.drain.batch");
  // A batch at a time: under a steady stream, draining until empty would never end, and the owner would
  // never reach a charge point.
  for (std::uint64_t i = 0; i < limit; ++i) {
    Envelope* e = user_.pop();
    if (!e) return i > 0;
    e->next.store(nullptr, std::memory_order_relaxed);
    tail_->next.store(e, std::memory_order_relaxed);
    tail_ = e;
    ++drained_;
  }
  return limit > 0;
}

void Mailbox::drain_all() {
  while (drain()) {
  }
}

Envelope* Mailbox::next_after(Position pos) {
  Envelope* e = pos->next.load(std::memory_order_relaxed);
  if (e) return e;
  drain();
  return pos->next.load(std::memory_order_relaxed);
}

Envelope* Mailbox::take_after(Position pos) {
  Envelope* e = pos->next.load(std::memory_order_relaxed);
  Envelope* next = e->next.load(std::memory_order_relaxed);
  pos->next.store(next, std::memory_order_relaxed);
  if (tail_ == e) tail_ = pos;
  if (marker_ == e) marker_ = pos;
  // release: a sender that reads the new count (bounded check) sees the room it leaves.
  taken_.store(taken_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
  return e;
}

void Mailbox::mark(std::uint64_t key) {
  // Everything that arrived before the reference was made must lie before the marker, so drain it; but
  // only that much: what was pushed before now (pushed_ counts a message before it is linked), never
  // what keeps arriving, or a steady stream of senders would keep us here forever. A push still half
  // done stays behind the marker, which costs the reply scan one extra message.
  const std::uint64_t arrived = pushed_.load(std::memory_order_acquire);
  while (drained_ < arrived && drain(arrived - drained_)) {
  }
  marker_ = tail_;
  marker_key_ = key;
}

}  // namespace myrmex::mailbox::detail
