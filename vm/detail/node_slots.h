// Node slots: the 12-bit field of a Pid that says which node the PID belongs to.
//
// Internal to myrmex. The slot table is process-wide, on purpose: it is what keeps the PIDs of two nodes in
// one OS process apart (the distribution tests run that way), so it cannot hang off a Node. Each Node takes
// a slot when it starts and gives it back when it is destroyed; its process table issues PIDs under that
// slot and treats a PID of any other slot as not its own. Slot 0 is never handed out: Pid{} is "no process".
//
// Slots are reused least recently released first, so a PID of a destroyed node names no node until every
// other free slot has been taken once (4094 node starts later, with one node running). This table is the
// seed of the node-name table: dist/ will give connected remote nodes slots here too, and a name and
// creation next to each.
#pragma once

#include <cstddef>
#include <cstdint>

#include "vm/pid.h"

namespace myrmex::vm::detail {

// kMaxNodeSlot is the highest slot; slots are 1..kMaxNodeSlot.
inline constexpr std::uint32_t kMaxNodeSlot = (std::uint32_t{1} << Pid::kNodeBits) - 1;

// acquire_node_slot() takes the free slot released longest ago (never used ones first, in order from 1).
// Aborts with a message when all kMaxNodeSlot slots are taken. Any thread.
std::uint32_t acquire_node_slot();
// release_node_slot() gives back a slot from acquire_node_slot(), once nothing issues PIDs under it any
// more. Aborts on a slot that is not taken. Any thread.
void release_node_slot(std::uint32_t slot);
// free_node_slots() is the number of slots not taken now. Any thread.
std::size_t free_node_slots();

// NodeSlot holds one slot for the lifetime of the object (a node's).
class NodeSlot {
 public:
  NodeSlot() : number_(acquire_node_slot()) {}
  ~NodeSlot() { release_node_slot(number_); }
  NodeSlot(const NodeSlot&) = delete;
  NodeSlot& operator=(const NodeSlot&) = delete;

  std::uint32_t number() const { return number_; }

 private:
  const std::uint32_t number_;
};

}  // namespace myrmex::vm::detail
