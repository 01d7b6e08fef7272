// Node slots: the 12-bit field of a Pid that says which node the PID belongs to.
//
// Internal to myrmex. The slot table is process-wide, on purpose: it is what keeps the PIDs of two nodes in
// one OS process apart (the distribution tests run that way), so it cannot hang off a Node. Each Node takes
// a slot when it starts and gives it back when it is destroyed; its process table issues PIDs under that
// slot and treats a PID of any other slot as not its own. Slot 0 is never handed out: Pid{} is "no process".
//
// Slots are reused least recently released first, so a PID of a destroyed node names no node until every
// other free slot has been taken once (4094 node starts later, with one node running).
//
// Each taken slot has an identity, the name and creation that a PID, reference or port of it carries in
// the External Term Format. A local node is `nonode@nohost` with a creation no other node of the OS
// process has (Erlang's undistributed node is nonode@nohost too); a term from another node takes a slot
// for that node's name and creation (slot_of_node), so it decodes to a remote PID.
#pragma once

#include <cstddef>
#include <cstdint>

#include "vm/pid.h"
#include "vm/term.h"

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

// NodeIdentity is what names a node on the wire.
struct NodeIdentity {
  Term name;  // an atom, name@host
  std::uint32_t creation = 0;
};

// node_identity() is the identity of a taken slot, or nullptr for a free one. It stays valid (and
// unchanged) for the life of the OS process. Takes no lock. Any thread.
const NodeIdentity* node_identity(std::uint32_t slot);
// slot_of_node() is the slot of the node with this name and creation: a local node's, one given to that
// remote node before, or a new one. 0 when every slot is taken. Slots of remote nodes are not given back
// yet (dist/ will, when a connection ends). Any thread.
std::uint32_t slot_of_node(const Term& name, std::uint32_t creation);

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
