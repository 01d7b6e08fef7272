#include "vm/detail/node_slots.h"

#include <array>
#include <atomic>
#include <bitset>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <map>
#include <mutex>
#include <utility>

namespace myrmex::vm::detail {

namespace {

// Taken and released when nodes start and end: a mutex is plenty.
class SlotTable {
 public:
  SlotTable() {
    for (std::uint32_t s = 1; s <= kMaxNodeSlot; ++s) free_.push_back(static_cast<std::uint16_t>(s));
  }

  std::uint32_t acquire() {
    std::lock_guard lock(mutex_);
    if (free_.empty()) {
      std::fprintf(stderr, "myrmex: all %u node slots are taken (too many nodes in one OS process)\n",
                   kMaxNodeSlot);
      std::abort();
    }
    std::uint32_t s = free_.front();
    free_.pop_front();
    taken_.set(s);
    // A creation no other local node of this OS process had, so a stale PID of a node that was here
    // before does not decode to this one.
    publish(s, Term::atom("nonode@nohost"), ++local_creations_);
    return s;
  }

  std::uint32_t slot_of(const Term& name, std::uint32_t creation) {
    std::lock_guard lock(mutex_);
    auto key = std::pair(name.atom_name(), creation);
    if (auto it = by_identity_.find(key); it != by_identity_.end()) return it->second;
    if (free_.empty()) return 0;
    std::uint32_t s = free_.front();
    free_.pop_front();
    taken_.set(s);
    publish(s, name, creation);
    return s;
  }

  const NodeIdentity* identity(std::uint32_t s) const {
    if (s == 0 || s > kMaxNodeSlot) return nullptr;
    // acquire: pairs with publish(): the identity seen is whole.
    return identities_[s].load(std::memory_order_acquire);
  }

  void release(std::uint32_t s) {
    std::lock_guard lock(mutex_);
    if (s == 0 || s > kMaxNodeSlot || !taken_.test(s)) {
      std::fprintf(stderr, "myrmex: node slot %u released but not taken\n", s);
      std::abort();
    }
    taken_.reset(s);
    const NodeIdentity* id = identities_[s].exchange(nullptr, std::memory_order_relaxed);
    by_identity_.erase(std::pair(id->name.atom_name(), id->creation));
    free_.push_back(static_cast<std::uint16_t>(s));
  }

  std::size_t free() {
    std::lock_guard lock(mutex_);
    return free_.size();
  }

 private:
  void publish(std::uint32_t s, const Term& name, std::uint32_t creation) {  // REQUIRES(mutex_)
    const NodeIdentity& id = all_identities_.emplace_back(NodeIdentity{name, creation});
    by_identity_[std::pair(id.name.atom_name(), creation)] = s;
    // release: a reader that loads the pointer sees the identity's fields.
    identities_[s].store(&id, std::memory_order_release);
  }

  std::mutex mutex_;
  std::deque<std::uint16_t> free_;       // GUARDED_BY(mutex_): released longest ago first
  std::bitset<kMaxNodeSlot + 1> taken_;  // GUARDED_BY(mutex_)
  std::uint32_t local_creations_ = 0;    // GUARDED_BY(mutex_)
  // Identities are never freed (a reader may hold one while its slot is released): one per node start or
  // remote node seen, a few dozen bytes each.
  std::deque<NodeIdentity> all_identities_;                                          // GUARDED_BY(mutex_)
  std::map<std::pair<std::string_view, std::uint32_t>, std::uint32_t> by_identity_;  // GUARDED_BY(mutex_)
  std::array<std::atomic<const NodeIdentity*>, kMaxNodeSlot + 1> identities_{};
};

SlotTable& table() {
  // Never destroyed: a Node with static storage duration may give its slot back during exit.
  static SlotTable* t = new SlotTable;
  return *t;
}

}  // namespace

std::uint32_t acquire_node_slot() {
  return table().acquire();
}

void release_node_slot(std::uint32_t slot) {
  table().release(slot);
}

std::size_t free_node_slots() {
  return table().free();
}

const NodeIdentity* node_identity(std::uint32_t slot) {
  return table().identity(slot);
}

std::uint32_t slot_of_node(const Term& name, std::uint32_t creation) {
  return table().slot_of(name, creation);
}

}  // namespace myrmex::vm::detail
