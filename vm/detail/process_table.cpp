#include "vm/detail/process_table.h"

#include <cstdio>
#include <cstdlib>

#include "vm/detail/process.h"

namespace myrmex::vm::detail {

ProcessTable::ProcessTable(std::uint32_t node_slot)
    : node_slot_(node_slot), chunks_(new std::atomic<Slot*>[kMaxChunks]) {
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
    if (!free_.empty()) {
      index = free_.back();
      free_.pop_back();
    } else {
      std::size_t next = high_water_.load(std::memory_order_relaxed);
      if (next >= (std::size_t{1} << Pid::kIndexBits)) {
        std::fprintf(stderr, "myrmex: process table full (%zu processes)\n", next);
        std::abort();
      }
      index = static_cast<std::uint32_t>(next);
      if ((index & (kChunkSize - 1)) == 0 && !chunks_[index >> kChunkBits].load(std::memory_order_relaxed))
        chunks_[index >> kChunkBits].store(new Slot[kChunkSize], std::memory_order_release);
      high_water_.store(next + 1, std::memory_order_release);
    }
  }
  std::uint32_t generation = generation_of(slot(index)->word.load(std::memory_order_acquire));
  if (generation == 0) generation = 1;  // generation 0 is never issued
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
  std::uint32_t next_generation = (generation_of(last_word) + 1) & ((1u << Pid::kGenerationBits) - 1);
  if (next_generation == 0) next_generation = 1;
  s.word.store(make_word(next_generation, false, 0), std::memory_order_release);
  std::lock_guard lock(free_mutex_);
  free_.push_back(index);
}

}  // namespace myrmex::vm::detail
