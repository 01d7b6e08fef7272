#include "mailbox/detail/mailbox.h"

#include "scheduler/detail/yield_point.h"

namespace myrmex::mailbox::detail {

void Mailbox::destroy_list(Envelope* e) {
  while (e) {
    Envelope* next = e->next.load(std::memory_order_relaxed);
    destroy(e);
    e = next;
  }
}

Mailbox::~Mailbox() {
  destroy_list(system_head_);
  destroy_list(system_in_.take().first);
  destroy_list(head_.next.load(std::memory_order_relaxed));
  destroy_list(user_in_.take().first);
}

void Mailbox::set_bound(std::size_t bound, Overflow policy) {
  if (bound == 0) return;
  bounds_ = std::make_unique<Bounds>();
  bounds_->bound = bound;
  bounds_->policy = policy;
}

Mailbox::Pushed Mailbox::push_user(Envelope* e) {
  if (bounds_) {
    // Reserve a place first, so concurrent senders cannot overshoot the bound together.
    // seq_cst: the load of taken_ must not pass the sender's store of has_blocked_ (see
    // add_blocked_sender()).
    std::uint64_t n = pushed_.fetch_add(1, std::memory_order_seq_cst) + 1;
    if (n - taken_.load(std::memory_order_seq_cst) > bounds_->bound) {
      pushed_.fetch_sub(1, std::memory_order_acq_rel);
      return Pushed::full;
    }
  }
  return user_in_.push(e) ? Pushed::wake : Pushed::queued;
}

Mailbox::Pushed Mailbox::push_user_unbounded(Envelope* e) {
  if (bounds_) pushed_.fetch_add(1, std::memory_order_relaxed);
  return user_in_.push(e) ? Pushed::wake : Pushed::queued;
}

std::size_t Mailbox::user_length() const {
  std::uint64_t taken = taken_.load(std::memory_order_acquire);
  if (bounds_) {
    std::uint64_t pushed = pushed_.load(std::memory_order_acquire);
    return pushed > taken ? static_cast<std::size_t>(pushed - taken) : 0;
  }
  std::uint64_t held = drained_.load(std::memory_order_acquire) - taken;  // in the private list
  return static_cast<std::size_t>(held + user_in_.length());
}

std::size_t Mailbox::system_length() const {
  return system_private_.load(std::memory_order_relaxed) + system_in_.length();
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

bool Mailbox::bounded_has_blocked_senders() const {
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
  std::uint32_t held = system_private_.load(std::memory_order_relaxed);
  if (!system_head_) {
    IncomingQueue::Batch batch = system_in_.take();
    if (!batch.first) return nullptr;
    system_head_ = batch.first;
    held = static_cast<std::uint32_t>(batch.count);
  }
  Envelope* e = system_head_;
  system_head_ = e->next.load(std::memory_order_relaxed);
  system_private_.store(held - 1, std::memory_order_relaxed);
  return e;
}

bool Mailbox::drain() {
  IncomingQueue::Batch batch = user_in_.take();
  scheduler::detail::yield_point("mailbox.drain.taken");
  if (!batch.first) return false;
  tail_->next.store(batch.first, std::memory_order_relaxed);
  tail_ = batch.last;
  drained_.store(drained_.load(std::memory_order_relaxed) + batch.count, std::memory_order_release);
  return true;
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
  // Everything that arrived before the reference was made must lie before the marker: one drain takes
  // exactly that (what keeps arriving stays behind it).
  drain();
  marker_ = tail_;
  marker_key_ = key;
}

}  // namespace myrmex::mailbox::detail
