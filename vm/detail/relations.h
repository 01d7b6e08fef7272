// Relations: a process's links and monitors, and the protocol that keeps both ends consistent.
//
// Internal to myrmex. Every field here is guarded by the owning process's SignalLock
// (vm/detail/signal_lock.h). Only link() and unlink() hold two locks at once, taken in PID order; every
// other path holds one.
//
// Links. A link is an entry on each side, and link() and unlink() change both under both locks, so no
// interleaving leaves half a link. link() fails (noproc) on a process that is ending. A process that ends
// first releases its attachment (vm/detail/extension.h), then closes itself (no new links or monitors)
// and takes its set, then for each PID in it locks that process and erases itself from its set: only the
// one who erases delivers, so an unlink() that got there first means no signal from the old link.
//
// Monitors. One MonitorNode per monitor, shared by both ends. The watcher's index (its map by reference,
// or its call slot) says whether the monitor is active: whoever takes the node out of the index, under the
// watcher's lock, decides, either the target's exit (it queues the Down) or demonitor() (no Down ever).
// The node sits in the target's monitored-by list until whoever takes it out of that list frees it:
// demonitor() while the target is not exiting, else the target's exit, which took the whole list.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "mailbox/message.h"
#include "memory/detail/pool_allocator.h"
#include "vm/pid.h"
#include "vm/term.h"

namespace myrmex::vm::detail {

class NodeImpl;
class Process;
struct CodeVersion;

struct MonitorNode {
  MonitorNode* prev = nullptr;  // in the target's monitored-by list
  MonitorNode* next = nullptr;
  std::uint64_t ref = 0;
  Pid watcher;
  Pid target;
  std::string name;  // set on a registered name: the Down names it

  static void* operator new(std::size_t size);
  static void operator delete(void* p, std::size_t size) noexcept;
};

struct Relations {
  template <class T>
  using Pooled = memory::detail::PoolAllocator<T>;
  using LinkSet = std::unordered_set<Pid, std::hash<Pid>, std::equal_to<Pid>, Pooled<Pid>>;
  using MonitorIndex =
      std::unordered_map<std::uint64_t, MonitorNode*, std::hash<std::uint64_t>, std::equal_to<std::uint64_t>,
                         Pooled<std::pair<const std::uint64_t, MonitorNode*>>>;

  LinkSet links;
  // The monitors this process holds, by reference (call()'s own is in call_monitor instead).
  MonitorIndex monitors;
  // The running call(): its reference (the alias replies must carry, and its monitor's), and the monitor
  // on the server. 0 and null outside a call. The process sets them without its lock as a call begins
  // (nobody holds the reference yet); everything else reads and clears them under it.
  std::atomic<std::uint64_t> call_ref{0};
  std::atomic<MonitorNode*> call_monitor{nullptr};
  MonitorNode* spare_call_monitor = nullptr;  // the last call's node, for the next (the process's own)
  // The monitors on this process.
  // Hot code swap (vm/detail/code_server.h): the version it runs, set before the process is published
  // or by the process itself (read by any thread); and the CodeSwap signals it took but has not applied
  // yet (the process's own).
  std::atomic<CodeVersion*> code{nullptr};
  std::vector<mailbox::Message> pending_swaps;
  MonitorNode* monitored_by = nullptr;
  std::size_t monitored_by_count = 0;

  Relations() = default;
  Relations(const Relations&) = delete;
  Relations& operator=(const Relations&) = delete;
  ~Relations();
  void push_monitored_by(MonitorNode* n);
  // Relations come from the small-object pool: any process that links or monitors has one.
  static void* operator new(std::size_t size);
  static void operator delete(void* p, std::size_t size) noexcept;
  void erase_monitored_by(MonitorNode* n);
};

// ---- Called by the process itself (`self`) ----
// link() returns false when `other` is dead (nothing is left linked).
bool link(Process& self, Pid other);
void unlink(Process& self, Pid other);
// monitor() starts a monitor on `target` (Pid{} means none: a Down with noproc at once, naming `name`).
std::uint64_t monitor(Process& self, Pid target, std::string name);
// demonitor() returns whether the monitor was active.
bool demonitor(Process& self, std::uint64_t ref);
// begin_call()/end_call() bracket call(): `ref` becomes the caller's alias and monitors `server`.
// begin_call() is false (and sets nothing) when the server is dead; end_call() is true when the monitor
// was still active (no Down for it was queued).
bool begin_call(Process& self, std::uint64_t ref, Pid server);
bool end_call(Process& self);

// ---- Spawning: on a child that is not yet published ----
void link_unpublished(Process& self, Process& child);
std::uint64_t monitor_unpublished(Process& self, Process& child);

// ---- Any thread ----
// send_exit_signal() is exit(to, reason) from `from` (Pid{} from outside the node).
void send_exit_signal(NodeImpl& node, Pid from, Pid to, const Term& reason);
// send_reply() queues a call reply if `to` still waits for `ref`, else destroys it. True if queued.
bool send_reply(NodeImpl& node, Pid to, std::uint64_t ref, mailbox::Envelope* reply);

// ---- The ending process, at the end of its fiber (or its scheduler, when the fiber was abandoned) ----
// release_attachment() closes `p` to attachments and tells its attachment that `p` is ending; it runs
// before anything shows `p` dead (closing it in tear_down(), its `done` state). Idempotent.
void release_attachment(Process& p);
// tear_down() releases `p`'s attachment, closes `p` and fires its links and monitors with `reason`.
// pace(p), when given, is called after every kTearDownBatch of them (to charge, and so yield, on the
// fiber).
inline constexpr int kTearDownBatch = 256;
void tear_down(Process& p, const Term& reason, void (*pace)(Process&));

// Introspection: copies of `p`'s relations (takes its lock).
struct RelationsSnapshot {
  std::vector<Pid> links;
  std::vector<Pid> monitors;      // the processes it monitors
  std::vector<Pid> monitored_by;  // the processes monitoring it
  bool trap_exit = false;
  std::string attachment;  // the attachment's description (the registered name)
};
RelationsSnapshot snapshot(Process& p);

}  // namespace myrmex::vm::detail
