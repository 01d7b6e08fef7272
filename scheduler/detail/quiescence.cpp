#include "scheduler/detail/quiescence.h"

#include <algorithm>

namespace myrmex::scheduler::detail {

Quiescence::Quiescence(unsigned threads) : threads_(threads), per_thread_(new PerThread[threads]) {}

Quiescence::~Quiescence() {
  for (unsigned i = 0; i < threads_; ++i)
    for (Item& item : per_thread_[i].retired) item.fn(item.context, item.a, item.b);
  for (Item& item : shared_) item.fn(item.context, item.a, item.b);
}

void Quiescence::defer(int thread, Callback fn, void* context, std::uint64_t a, std::uint64_t b) {
  Item item{fn, context, a, b, epoch_.load(std::memory_order_seq_cst)};
  if (thread >= 0) {
    per_thread_[thread].retired.push_back(item);
    return;
  }
  std::lock_guard lock(shared_mutex_);
  shared_.push_back(item);
  shared_pending_.store(true, std::memory_order_seq_cst);
}

void Quiescence::passed(unsigned thread) {
  PerThread& self = per_thread_[thread];
  std::uint64_t now = epoch_.load(std::memory_order_seq_cst);
  self.seen.store(now, std::memory_order_seq_cst);
  if (!self.retired.empty()) {
    // Start a new epoch if our newest retirement is in the current one, so it can become safe.
    if (self.retired.back().epoch >= now) epoch_.fetch_add(1, std::memory_order_seq_cst);
    free_safe(self);
  }
  if (shared_pending_.load(std::memory_order_seq_cst)) reclaim_shared();
}

void Quiescence::offline(unsigned thread) {
  PerThread& self = per_thread_[thread];
  self.seen.store(kOffline, std::memory_order_seq_cst);
  if (!self.retired.empty()) {
    // Asleep we free nothing: hand what is not yet safe to the schedulers still awake.
    epoch_.fetch_add(1, std::memory_order_seq_cst);
    free_safe(self);
    if (!self.retired.empty()) {
      std::lock_guard lock(shared_mutex_);
      shared_.insert(shared_.end(), self.retired.begin(), self.retired.end());
      shared_pending_.store(true, std::memory_order_seq_cst);
      self.retired.clear();
    }
  }
  if (shared_pending_.load(std::memory_order_seq_cst)) reclaim_shared();
}

void Quiescence::online(unsigned thread) {
  per_thread_[thread].seen.store(epoch_.load(std::memory_order_seq_cst), std::memory_order_seq_cst);
}

bool Quiescence::safe(std::uint64_t epoch) const {
  for (unsigned i = 0; i < threads_; ++i) {
    std::uint64_t seen = per_thread_[i].seen.load(std::memory_order_seq_cst);
    if (seen != kOffline && seen <= epoch) return false;
  }
  return true;
}

void Quiescence::free_safe(PerThread& self) {
  while (!self.retired.empty() && safe(self.retired.front().epoch)) {
    self.ready.push_back(self.retired.front());
    self.retired.pop_front();
  }
  // Run after unlinking: a callback may retire more.
  for (Item& item : self.ready) item.fn(item.context, item.a, item.b);
  self.ready.clear();
}

void Quiescence::reclaim_shared() {
  std::vector<Item> ready;
  {
    std::unique_lock lock(shared_mutex_, std::try_to_lock);
    if (!lock) return;                               // another scheduler is at it
    epoch_.fetch_add(1, std::memory_order_seq_cst);  // so that what is here now can become safe
    auto unsafe_end =
        std::partition(shared_.begin(), shared_.end(), [this](const Item& i) { return !safe(i.epoch); });
    ready.assign(unsafe_end, shared_.end());
    shared_.erase(unsafe_end, shared_.end());
    shared_pending_.store(!shared_.empty(), std::memory_order_seq_cst);
  }
  for (Item& item : ready) item.fn(item.context, item.a, item.b);
}

}  // namespace myrmex::scheduler::detail
