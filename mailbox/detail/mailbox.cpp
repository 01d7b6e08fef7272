#include "mailbox/detail/mailbox.h"

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
    std::uint64_t n = pushed_.fetch_add(1, std::memory_order_acq_rel) + 1;
    if (n - taken_.load(std::memory_order_acquire) > bounds_->bound) {
      pushed_.fetch_sub(1, std::memory_order_acq_rel);
      return false;
    }
  }
  user_.push(e);
  return true;
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

void Mailbox::add_blocked_sender(std::uint64_t id) {
  std::lock_guard lock(bounds_->blocked_mutex);
  bounds_->blocked.push_back(id);
  has_blocked_.store(true, std::memory_order_release);
}

std::vector<std::uint64_t> Mailbox::take_blocked_senders() {
  if (!bounds_) return {};
  std::lock_guard lock(bounds_->blocked_mutex);
  has_blocked_.store(false, std::memory_order_relaxed);
  return std::exchange(bounds_->blocked, {});
}

Envelope* Mailbox::pop_system() {
  if (!has_system()) return nullptr;
  Envelope* e = system_.pop();
  if (e) system_pending_.fetch_sub(1, std::memory_order_relaxed);
  return e;
}

bool Mailbox::drain() {
  // A batch at a time: under a steady stream, draining until empty would never end, and the owner would
  // never reach a charge point.
  for (int i = 0; i < kDrainBatch; ++i) {
    Envelope* e = user_.pop();
    if (!e) return i > 0;
    e->next.store(nullptr, std::memory_order_relaxed);
    tail_->next.store(e, std::memory_order_relaxed);
    tail_ = e;
  }
  return true;
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
  // Everything that arrived before the reference was made lies before the marker.
  drain_all();
  marker_ = tail_;
  marker_key_ = key;
}

}  // namespace myrmex::mailbox::detail
