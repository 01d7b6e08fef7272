// The narrow interface through which the libraries above vm/ (registry/, later dist/) keep per-node and
// per-process state without vm/ knowing what it is.
//
// Internal to myrmex.
#pragma once

#include <string>

#include "vm/pid.h"

namespace myrmex::vm::detail {

class NodeImpl;

// NodeExtension is one library's state for one node, made on first use and destroyed with the node
// (after every process has ended).
struct NodeExtension {
  virtual ~NodeExtension() = default;
};

// extension() is the node's extension number `id` (0 <= id < kMaxExtensions), made by make() the first
// time (any thread; exactly one make() wins).
inline constexpr int kMaxExtensions = 4;
NodeExtension& extension(NodeImpl& node, int id, NodeExtension* (*make)(NodeImpl&));

// ProcessAttachment is what such a library hangs on one process (at most one per process): the registry's
// name entry. It is told when the process ends, before anything shows the process dead (alive(), a blocked
// sender's noproc, an Exit or a Down, a new monitor's or link's noproc), so a name is gone before anyone
// can see its holder dead.
class ProcessAttachment {
 public:
  // process_exiting() runs once on the ending process's scheduler (no process context; must not park).
  virtual void process_exiting(Pid pid) noexcept = 0;
  // describe() is the attachment in process_info() (the registered name). Runs under the process's signal
  // lock: no locks, no API calls.
  virtual std::string describe() const = 0;

 protected:
  ~ProcessAttachment() = default;
};

enum class AttachResult { attached, noproc, taken };
// attach() hangs `a` on `pid`: noproc if the process is dead or its attachment was released (it is
// ending), taken if it already has one.
AttachResult attach(NodeImpl& node, Pid pid, ProcessAttachment* a);
// detach() takes `a` off `pid`; false if it is not there (the process ended: process_exiting() runs or ran).
bool detach(NodeImpl& node, Pid pid, ProcessAttachment* a);

}  // namespace myrmex::vm::detail
