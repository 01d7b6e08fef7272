#include "vm/detail/process_table.h"

#include <cstdio>
#include <cstdlib>

#include "vm/detail/process.h"

namespace myrmex::vm::detail {

ProcessTable::ProcessTable(std::uint32_t node_slot) : ProcessTable(node_slot, Tuning{}) {}

ProcessTable::ProcessTable(std::uint32_t node_slot, Tuning tuning)
    : node_slot_(node_slot), tuning_(tuning), chunks_(new std::atomic<Slot*>[kMaxChunks]) {
  if (tuning_.first_generation == 0 || tuning_.first_generation > kMaxGeneration) {
    std::fprintf(stderr, "myrmex: first generation %u out of range\n", tuning_.first_generation);
    std::abort();
  }
  for (std::size_t i = 0; i < kMaxChunks; ++i) chunks_[i].store(nullptr, std::memory_order_relaxed);
}

ProcessTable::~ProcessTable() {
  for (std::size_t i = 0; i < kMaxChunks; ++i) delete[] chunks_[i].load(std::memory_order_relaxed);
}

Process* ProcessTable::lookup_local(Pid pid) {
  if (!owns(pid) || pid.index() >= high_water_.load(std::memory_order_acquire)) return nullptr;
  Slot* s = slot(pid.index());
  if (!s) return nullptr;
  // seq_cst: see Quiescence; a process retired before our last quiescent point is seen dead here.
  std::uint64_t w = s->word.load(std::memory_order_seq_cst);
  if (!(w & kAlive) || generation_of(w) != pid.generation()) return nullptr;
  return s->process.load(std::memory_order_acquire);
}

ProcessTable::Slot* ProcessTable::slot(std::uint32_t index) const {
  Slot* chunk = chunks_[index >> kChunkBits].load(std::memory_order_acquire);
  return chunk ? &chunk[index & (kChunkSize - 1)] : nullptr;
}

Pid ProcessTable::reserve() {
  std::uint32_t index;
  {
    std::lock_guard lock(free_mutex_);
    std::size_t next = high_water_.load(std::memory_order_relaxed);
    // Past the last index the quarantine is spent too, rather than failing while slots are free.
    if (free_.size() > tuning_.quarantine || (next >= kMaxSlots && free_.size() > 0)) {
      index = free_.pop();
    } else {
      if (next >= kMaxSlots) {
        std::fprintf(stderr, "myrmex: process table full (%zu slots, %zu of them retired)\n", next,
                     retired());
        std::abort();
      }
      index = static_cast<std::uint32_t>(next);
      if ((index & (kChunkSize - 1)) == 0 && !chunks_[index >> kChunkBits].load(std::memory_order_relaxed))
        chunks_[index >> kChunkBits].store(new Slot[kChunkSize], std::memory_order_release);
      high_water_.store(next + 1, std::memory_order_release);
    }
  }
  std::uint32_t generation = generation_of(slot(index)->word.load(std::memory_order_acquire));
  if (generation == 0) generation = tuning_.first_generation;  // a fresh slot; generation 0 is never issued
  return Pid::make(node_slot_, index, generation);
}

void ProcessTable::publish(Pid pid, Process* p) {
  Slot& s = *slot(pid.index());
  s.process.store(p, std::memory_order_relaxed);
  live_.fetch_add(1, std::memory_order_relaxed);
  // release: an acquirer that sees "alive" also sees `process` and the constructed process.
  s.word.store(make_word(pid.generation(), true, 1), std::memory_order_release);
}

Process* ProcessTable::acquire(Pid pid) {
  if (!owns(pid) || pid.index() >= high_water_.load(std::memory_order_acquire)) return nullptr;
  Slot* s = slot(pid.index());
  if (!s) return nullptr;
  std::uint64_t w = s->word.load(std::memory_order_acquire);
  for (;;) {
    if (!(w & kAlive) || generation_of(w) != pid.generation()) return nullptr;
    if (s->word.compare_exchange_weak(w, w + 1, std::memory_order_acquire, std::memory_order_acquire))
      return s->process.load(std::memory_order_relaxed);
  }
}

Process* ProcessTable::acquire_index(std::uint32_t index) {
  Slot* s = slot(index);
  if (!s) return nullptr;
  std::uint64_t w = s->word.load(std::memory_order_acquire);
  return (w & kAlive) ? acquire(Pid::make(node_slot_, index, generation_of(w))) : nullptr;
}

void ProcessTable::release(Process* p) {
  Slot& s = *slot(p->pid.index());
  // acq_rel: the last releaser must see every other holder's writes before it frees.
  std::uint64_t before = s.word.fetch_sub(1, std::memory_order_acq_rel);
  if ((before & kRefMask) == 1 && !(before & kAlive)) last_reference_gone(p->pid.index(), before - 1);
}

void ProcessTable::retire(Process* p) {
  Slot& s = *slot(p->pid.index());
  live_.fetch_sub(1, std::memory_order_acq_rel);
  // seq_cst: makes the process unreachable for lookup_local() before its grace period starts.
  std::uint64_t before = s.word.fetch_sub(kAlive + 1, std::memory_order_seq_cst);
  if ((before & kRefMask) == 1) last_reference_gone(p->pid.index(), before - kAlive - 1);
}

void ProcessTable::last_reference_gone(std::uint32_t index, std::uint64_t last_word) {
  if (!group_) return free_slot(index, last_word);
  group_->defer(
      [](void* table, std::uint64_t i, std::uint64_t w) {
        static_cast<ProcessTable*>(table)->free_slot(static_cast<std::uint32_t>(i), w);
      },
      this, index, last_word);
}

void ProcessTable::free_slot(std::uint32_t index, std::uint64_t last_word) {
  Slot& s = *slot(index);
  delete s.process.exchange(nullptr, std::memory_order_relaxed);
  std::uint32_t generation = generation_of(last_word);
  if (generation == kMaxGeneration) {
    // Retired: the word stays dead at the last generation, so every PID of the slot stays stale, and the
    // slot never goes back to the queue.
    retired_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  s.word.store(make_word(generation + 1, false, 0), std::memory_order_release);
  std::lock_guard lock(free_mutex_);
  free_.push(index);
}

void ProcessTable::FreeQueue::grow() {
  std::vector<std::uint32_t> bigger(ring_.empty() ? 1024 : 2 * ring_.size());
  for (std::size_t i = 0; i < size_; ++i) bigger[i] = ring_[(head_ + i) & (ring_.size() - 1)];
  ring_ = std::move(bigger);
  head_ = 0;
}

}  // namespace myrmex::vm::detail
