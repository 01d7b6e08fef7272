// NodeImpl: the state behind myrmex::Node.
//
// Internal to myrmex.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>

#include "scheduler/detail/scheduler.h"
#include "vm/detail/code_server.h"
#include "vm/detail/extension.h"
#include "vm/detail/node_slots.h"
#include "vm/detail/process_table.h"
#include "vm/node.h"

namespace myrmex::vm::detail {

class Process;

class NodeImpl {
 public:
  explicit NodeImpl(const NodeConfig& config);
  ~NodeImpl();

  Pid spawn(std::unique_ptr<Body> body, std::unique_ptr<Behaviour> behaviour, const SpawnOptions& options,
            std::function<void(const Term&)> on_exit = nullptr);
  // create() makes a process that nobody can reach yet (so links and monitors can be set on it first);
  // start() publishes it and makes it runnable.
  Process* create(std::unique_ptr<Body> body, std::unique_ptr<Behaviour> behaviour,
                  const SpawnOptions& options);
  Pid start(Process* p);
  // send() delivers `e` (taking ownership); `sender` is the calling process or null.
  SendResult send(Process* sender, Pid to, mailbox::Envelope* e);
  std::optional<ProcessInfo> info(Pid pid);
  // kill() ends `p` with `killed`, untrappably and without terminate() (stop(), code purges).
  void kill(Process& p);
  bool alive(Pid pid);
  void stop();
  // process_gone() is called by a process's scheduler once it has been retired.
  void process_gone();

  const NodeConfig config;
  NodeSlot slot;  // the node slot of this node's PIDs; given back after the group and the table are gone
  ProcessTable table;
  scheduler::detail::SchedulerGroup group;
  // The kinds and versions of its behaviours (vm/code.h); destroyed after every process has ended.
  CodeServer code;
  // The extensions of the libraries above vm/ (vm/detail/extension.h); destroyed after stop().
  std::atomic<NodeExtension*> extensions[kMaxExtensions] = {};
  std::mutex extensions_mutex;

 private:
  // wait_outside() waits a little for room in a full mailbox, for a sender that is not a process of ours.
  void wait_outside();

  std::mutex stop_mutex_;
  std::condition_variable all_gone_;
  bool stopped_ = false;  // GUARDED_BY(stop_mutex_)
  // Set by stop() before it kills every process: a process published after that kills itself in start(),
  // so each process gets one kill signal.
  std::atomic<bool> stopping_{false};
};

}  // namespace myrmex::vm::detail
