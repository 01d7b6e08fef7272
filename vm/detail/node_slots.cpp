#include "vm/detail/node_slots.h"

#include <bitset>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <mutex>

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
    return s;
  }

  void release(std::uint32_t s) {
    std::lock_guard lock(mutex_);
    if (s == 0 || s > kMaxNodeSlot || !taken_.test(s)) {
      std::fprintf(stderr, "myrmex: node slot %u released but not taken\n", s);
      std::abort();
    }
    taken_.reset(s);
    free_.push_back(static_cast<std::uint16_t>(s));
  }

  std::size_t free() {
    std::lock_guard lock(mutex_);
    return free_.size();
  }

 private:
  std::mutex mutex_;
  std::deque<std::uint16_t> free_;       // GUARDED_BY(mutex_): released longest ago first
  std::bitset<kMaxNodeSlot + 1> taken_;  // GUARDED_BY(mutex_)
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

}  // namespace myrmex::vm::detail
