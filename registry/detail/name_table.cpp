// NameTable (name_table.h): probing, growing, and the deferred frees of replaced arrays.
#include "registry/detail/name_table.h"

#include <bit>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <new>

#include "registry/detail/entry.h"

namespace myrmex::registry::detail {

namespace {

// kTombstone marks a slot whose entry was erased: probes go on past it. Never dereferenced.
Entry* const kTombstone = reinterpret_cast<Entry*>(alignof(Entry));
constexpr std::size_t kMinCapacity = 8;

bool is_entry(const Entry* e) {
  return e != nullptr && e != kTombstone;
}

}  // namespace

// Slots is one shard's array: `capacity` (a power of two) atomic entry pointers after the header, in one
// allocation, so a lookup reaches the mask and the slots in one step.
struct NameTable::Slots {
  std::size_t mask;

  std::atomic<Entry*>* at() { return reinterpret_cast<std::atomic<Entry*>*>(this + 1); }
  const std::atomic<Entry*>* at() const { return reinterpret_cast<const std::atomic<Entry*>*>(this + 1); }
  std::size_t capacity() const { return mask + 1; }

  static Slots* make(std::size_t capacity) {
    void* p = ::operator new(sizeof(Slots) + capacity * sizeof(std::atomic<Entry*>));
    auto* s = new (p) Slots{capacity - 1};
    for (std::size_t i = 0; i < capacity; ++i) new (&s->at()[i]) std::atomic<Entry*>(nullptr);
    return s;
  }
  static void destroy(Slots* s) { ::operator delete(s); }

  // probe() is the entry named `name` in this array, or null.
  const Entry* probe(std::string_view name, std::uint64_t hash) const {
    for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
      const Entry* e = at()[i].load(std::memory_order_seq_cst);
      if (e == nullptr) return nullptr;
      if (e != kTombstone && e->hash == hash && e->name() == name) return e;
    }
  }
};

NameTable::NameTable(scheduler::detail::SchedulerGroup& group) : group_(group) {}

NameTable::~NameTable() {
  for (Shard& s : shards_) {
    if (s.live != 0) {
      std::fprintf(stderr, "myrmex: registry destroyed with %zu names still held\n", s.live);
      std::abort();
    }
    if (Slots* slots = s.slots.load(std::memory_order_relaxed)) Slots::destroy(slots);
  }
}

std::uint64_t NameTable::hash(std::string_view name) {
  return std::hash<std::string_view>{}(name);
}

const Entry* NameTable::find(std::string_view name, std::uint64_t hash) const {
  const Shard& s = shards_[hash >> (64 - kShardBits)];
  const Slots* slots = s.slots.load(std::memory_order_seq_cst);
  return slots ? slots->probe(name, hash) : nullptr;
}

void NameTable::names(std::vector<std::string>& out) const {
  for (const Shard& s : shards_) {
    const Slots* slots = s.slots.load(std::memory_order_seq_cst);
    if (!slots) continue;
    for (std::size_t i = 0; i < slots->capacity(); ++i) {
      const Entry* e = slots->at()[i].load(std::memory_order_seq_cst);
      if (is_entry(e)) out.emplace_back(e->name());
    }
  }
}

Entry* NameTable::find_locked(Shard& shard, std::string_view name, std::uint64_t hash) {
  const Slots* slots =
      shard.slots.load(std::memory_order_relaxed);  // only writers replace it, under the lock
  return slots ? const_cast<Entry*>(slots->probe(name, hash)) : nullptr;
}

void NameTable::insert_locked(Shard& shard, Entry* e) {
  Slots* slots = shard.slots.load(std::memory_order_relaxed);
  // Keep at least a quarter of the slots empty, so that every probe ends soon at an empty slot.
  if (!slots || (shard.used + 1) * 4 > slots->capacity() * 3) {
    grow_locked(shard);
    slots = shard.slots.load(std::memory_order_relaxed);
  }
  for (std::size_t i = e->hash & slots->mask;; i = (i + 1) & slots->mask) {
    Entry* old = slots->at()[i].load(std::memory_order_relaxed);
    if (is_entry(old)) continue;
    if (old == nullptr) ++shard.used;  // a tombstone was counted already
    ++shard.live;
    slots->at()[i].store(e, std::memory_order_seq_cst);  // publishes the constructed entry
    return;
  }
}

void NameTable::erase_locked(Shard& shard, Entry* e) {
  Slots* slots = shard.slots.load(std::memory_order_relaxed);
  for (std::size_t i = e->hash & slots->mask;; i = (i + 1) & slots->mask) {
    if (slots->at()[i].load(std::memory_order_relaxed) != e) continue;
    slots->at()[i].exchange(kTombstone,
                            std::memory_order_seq_cst);  // unreachable before its free is deferred
    --shard.live;
    return;
  }
}

void NameTable::grow_locked(Shard& shard) {
  Slots* old = shard.slots.load(std::memory_order_relaxed);
  // Half full at most after the copy: a shard full of tombstones is rebuilt at the same size.
  const std::size_t capacity = std::max(kMinCapacity, std::bit_ceil((shard.live + 1) * 2));
  Slots* fresh = Slots::make(capacity);
  if (old) {
    for (std::size_t i = 0; i < old->capacity(); ++i) {
      Entry* e = old->at()[i].load(std::memory_order_relaxed);
      if (!is_entry(e)) continue;
      std::size_t j = e->hash & fresh->mask;
      while (fresh->at()[j].load(std::memory_order_relaxed) != nullptr) j = (j + 1) & fresh->mask;
      fresh->at()[j].store(e, std::memory_order_relaxed);
    }
  }
  shard.used = shard.live;
  shard.slots.exchange(fresh, std::memory_order_seq_cst);  // publishes the filled array, retires the old one
  if (old) {
    group_.defer([](void* p, std::uint64_t, std::uint64_t) { Slots::destroy(static_cast<Slots*>(p)); }, old,
                 0, 0);
  }
}

}  // namespace myrmex::registry::detail
