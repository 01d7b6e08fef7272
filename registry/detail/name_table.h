// NameTable: a node's names, sharded for writers and lock-free for readers.
//
// Internal to myrmex. The table is kShards shards picked by the name's hash; each is an open-addressing
// hash table (linear probing, tombstones) of pointers to immutable entries (registry/detail/entry.h).
//
// Why this shape. Lookups (whereis, send by name, monitor by name) are what every scheduler does at once;
// changes are rare by comparison. A reader-writer lock per shard would still make each lookup write the
// lock's reader count, one cache line bounced between all the cores that look names up in that shard, and
// a single lock would also serialise them. Here a lookup writes nothing: it loads the shard's slot array,
// probes it with plain loads and compares the entry's hash and bytes. That is safe because every caller is
// a process on one of the node's scheduler threads (the API is process only), so entries and replaced
// arrays can be freed the way the process table frees control blocks: after every scheduler has passed a
// quiescent point (scheduler/detail/quiescence.h, RCU's QSBR), when no lookup can still hold them. Writers
// (register, unregister, an exit) take their shard's spin lock; the shards let registrations on different
// schedulers proceed side by side, and keep each array small, so growing one copies 1/kShards of the
// names. bench/registry/whereis.cpp compares the lookup with a shared_mutex-guarded map.
//
// Memory orders: a writer publishes an entry or a new array with a seq_cst store or exchange, and a
// lookup loads them seq_cst. Acquire/release would do for publication; seq_cst is what the quiescence
// scheme needs for removal (an object is made unreachable by a seq_cst RMW before its free is deferred,
// and lookups load seq_cst, so a scheduler that passed a quiescent point since never finds it again). On
// x86 a seq_cst load is a plain load.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "registry/detail/spin_lock.h"
#include "scheduler/detail/scheduler.h"

namespace myrmex::registry::detail {

class Entry;

class NameTable {
 public:
  static constexpr unsigned kShardBits = 6;
  static constexpr unsigned kShards = 1u << kShardBits;

  struct Slots;
  struct alignas(64) Shard {
    // Read by every lookup; written only when the array is replaced. Kept off the writers' line.
    std::atomic<Slots*> slots{nullptr};
    alignas(64) SpinLock lock;
    std::size_t used = 0;  // GUARDED_BY(lock): slots holding an entry or a tombstone
    std::size_t live = 0;  // GUARDED_BY(lock): slots holding an entry
  };

  // NameTable() defers its frees through `group`, the node's schedulers.
  explicit NameTable(scheduler::detail::SchedulerGroup& group);
  // ~NameTable() frees the arrays; the table must hold no entry (every holder has ended).
  ~NameTable();
  NameTable(const NameTable&) = delete;
  NameTable& operator=(const NameTable&) = delete;

  static std::uint64_t hash(std::string_view name);
  Shard& shard(std::uint64_t hash) { return shards_[hash >> (64 - kShardBits)]; }

  // find() is the entry named `name`, or null. Takes no lock: scheduler threads of the node only, and the
  // entry may be used until the caller's next quiescent point (it must not park meanwhile).
  const Entry* find(std::string_view name, std::uint64_t hash) const;
  // names() appends every name in the table (same rules as find()).
  void names(std::vector<std::string>& out) const;

  // ---- Writers, holding shard(hash).lock ----
  Entry* find_locked(Shard& shard, std::string_view name, std::uint64_t hash);
  // insert_locked() adds `e`, whose name is not in the table.
  void insert_locked(Shard& shard, Entry* e);
  // erase_locked() takes `e` out of the table; lookups may still hold it until a grace period has passed.
  void erase_locked(Shard& shard, Entry* e);

 private:
  // grow_locked() replaces the shard's array by one with room for one more entry and no tombstones.
  void grow_locked(Shard& shard);

  scheduler::detail::SchedulerGroup& group_;
  Shard shards_[kShards];
};

}  // namespace myrmex::registry::detail
