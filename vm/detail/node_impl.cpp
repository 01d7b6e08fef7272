#include "vm/detail/node_impl.h"

#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "scheduler/detail/yield_point.h"
#include "vm/detail/code_libraries.h"
#include "vm/detail/process.h"

namespace myrmex::vm::detail {

namespace sd = scheduler::detail;

NodeImpl::NodeImpl(const NodeConfig& c)
    : config(c),
      table(slot.number()),
      group(c.scheduler, [log = c.log_long_schedules](unsigned sched, std::uint64_t task,
                                                      std::chrono::milliseconds ran) {
        if (log)
          std::fprintf(stderr,
                       "myrmex: long_schedule: process %s has run %lld ms on scheduler %u without a charge "
                       "point (call consume() or yield() in long loops)\n",
                       Pid{task}.to_string().c_str(), static_cast<long long>(ran.count()), sched);
      }) {
  table.defer_frees_through(&group);
  // The runtime's atoms are interned on first use, inside a function-local static's initialization:
  // done here, before any scheduler runs, a seeded node's threads never wait for it there (the
  // initializing one may hold back at a yield point inside, waiting for the turn).
  (void)atoms::normal();
  group.start();
}

NodeImpl::~NodeImpl() {
  stop();
  for (auto& e : extensions) delete e.load(std::memory_order_acquire);
}

Process* NodeImpl::create(std::unique_ptr<Body> body, std::unique_ptr<Behaviour> behaviour,
                          const SpawnOptions& options) {
  Pid pid = table.reserve();
  auto* p = new Process(*this, pid, std::move(body), std::move(behaviour));
  p->mailbox.set_bound(options.mailbox_bound, options.overflow);
  return p;
}

Pid NodeImpl::start(Process* p) {
  const Pid pid = p->pid;  // `p` may run, and end, as soon as it is submitted
  table.publish(pid, p);
  // seq_cst, with stop()'s: either stop() sees this process in the table, or we see stopping_ (both may).
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (stopping_.load(std::memory_order_relaxed)) kill(*p);
  group.submit_spawned(*p);
  return pid;
}

Pid NodeImpl::spawn(std::unique_ptr<Body> body, std::unique_ptr<Behaviour> behaviour,
                    const SpawnOptions& options, std::function<void(const Term&)> on_exit) {
  Process* p = create(std::move(body), std::move(behaviour), options);
  if (on_exit) p->on_exit = std::make_unique<std::function<void(const Term&)>>(std::move(on_exit));
  return start(p);
}

NodeExtension& extension(NodeImpl& node, int id, NodeExtension* (*make)(NodeImpl&)) {
  std::atomic<NodeExtension*>& slot = node.extensions[id];
  if (NodeExtension* e = slot.load(std::memory_order_acquire)) return *e;
  std::lock_guard lock(node.extensions_mutex);
  if (NodeExtension* e = slot.load(std::memory_order_relaxed)) return *e;
  NodeExtension* e = make(node);
  slot.store(e, std::memory_order_release);
  return *e;
}

namespace {

// Owned owns an envelope until it is handed to a mailbox, so that no path out of a send (a refused
// message, an exit signal unwinding a blocked sender) leaks it.
class Owned {
 public:
  explicit Owned(mailbox::Envelope* e) : e_(e) {}
  Owned(const Owned&) = delete;
  Owned& operator=(const Owned&) = delete;
  ~Owned() { mailbox::destroy(e_); }
  void handed_over() { e_ = nullptr; }

 private:
  mailbox::Envelope* e_;
};

constexpr std::size_t kStopBatch = 4096;  // processes woken per global-queue lock by stop()

mailbox::Envelope* kill_signal() {
  return mailbox::box(ExitSignal{atoms::killed(), /*untrappable=*/true});
}

}  // namespace

SendResult NodeImpl::send(Process* sender, Pid to, mailbox::Envelope* e) {
  track_envelope(e);  // before anything can destroy it
  Owned message(e);
  // delivered() pushes the message to `target` and wakes it if it sleeps; false when a bounded mailbox is
  // full.
  const auto delivered = [&](Process& target) {
    using Pushed = mailbox::detail::Mailbox::Pushed;
    Pushed pushed = target.mailbox.push_user(e);
    if (pushed == Pushed::full) return false;
    message.handed_over();
    if (pushed == Pushed::wake) group.wake_claimed(target);
    return true;
  };
  if (sender) {
    // A process sending from its scheduler needs no reference until its next quiescent point, unless the
    // target's mailbox is bounded: a blocked sender parks, and a parked process may hold nothing.
    Process* target = table.lookup_local(to);
    if (!target || target->closed.load(std::memory_order_relaxed)) return SendResult::noproc;
    if (target->mailbox.bound() == 0 && delivered(*target)) return SendResult::ok;
  }
  Process* target = table.acquire(to);
  if (!target) return SendResult::noproc;
  if (target->closed.load(std::memory_order_relaxed)) {
    table.release(target);
    return SendResult::noproc;
  }
  struct Reference {
    ProcessTable& table;
    Process* p;
    ~Reference() { table.release(p); }  // also when an exit signal unwinds a blocked sender
  } hold{table, target};
  for (;;) {
    if (delivered(*target)) return SendResult::ok;
    switch (target->mailbox.policy()) {
      case Overflow::drop:
        return SendResult::dropped;
      case Overflow::reject:
        return SendResult::mailbox_full;
      case Overflow::block:
        break;
    }
    // Only the owner makes room in its mailbox: waiting for itself would wait forever.
    if (sender == target) return SendResult::mailbox_full;
    if (target->done.load(std::memory_order_acquire)) return SendResult::noproc;
    if (!sender) {
      wait_outside();
      continue;
    }
    sd::yield_point("send.blocked.checked");
    // Register, then try once more: the owner may have made room before it saw us registered. A target
    // that exited since the check above refuses the registration (nobody would wake us).
    if (!target->mailbox.add_blocked_sender(sender->pid.value)) return SendResult::noproc;
    if (delivered(*target)) return SendResult::ok;
    sender->park(/*wake_on_message=*/false);
    sender->charge(1);  // a blocked sender can still be killed: `message` and `hold` clean up
  }
}

void NodeImpl::wait_outside() {
  // A thread outside the node has nobody to wake it: it polls. A process of another node (two nodes in one
  // OS process) must not block its scheduler thread: it sleeps as a process.
  if (Process* p = current_process()) {
    p->sleep(1);
    return;
  }
  std::this_thread::sleep_for(std::chrono::microseconds(50));
}

bool NodeImpl::alive(Pid pid) {
  Process* p = table.acquire(pid);
  if (!p) return false;
  // An ending process is dead already: its Exits and Downs may be out before it is retired.
  bool ending;
  {
    std::lock_guard g(p->signal_lock);
    ending = p->closed;
  }
  table.release(p);
  return !ending;
}

std::optional<ProcessInfo> NodeImpl::info(Pid pid) {
  Process* p = table.acquire(pid);
  if (!p) return std::nullopt;
  ProcessInfo info;
  info.pid = pid;
  if (p->done.load(std::memory_order_acquire)) {
    info.status = ProcessStatus::exiting;
  } else if (p->wake->asleep()) {
    info.status = ProcessStatus::waiting;
  } else {
    info.status = group.is_running(p->id) ? ProcessStatus::running : ProcessStatus::runnable;
  }
  // Closed, it has sent (or is sending) its Exits and Downs while its fiber may still run down: whoever
  // got its Down must not see it running (the registry's "taken or noproc" hinges on this).
  if (p->closed.load(std::memory_order_acquire)) info.status = ProcessStatus::exiting;
  info.message_queue_len = p->mailbox.user_length();
  info.system_queue_len = p->mailbox.system_length();
  info.reductions = p->reductions.load(std::memory_order_relaxed);
  info.holds_stack = p->holds_stack.load(std::memory_order_relaxed);
  info.memory = sizeof(Process) + (info.holds_stack ? group.stacks().stack_size() : 0);
  info.migrations = p->migrations.load(std::memory_order_relaxed);
  info.mailbox_bound = p->mailbox.bound();
  RelationsSnapshot r = snapshot(*p);
  info.links = std::move(r.links);
  info.monitors = std::move(r.monitors);
  info.monitored_by = std::move(r.monitored_by);
  info.trap_exit = r.trap_exit;
  info.registered_name = std::move(r.attachment);
  if (CodeVersion* v = p->code_version()) {
    info.kind = v->spec.kind;
    info.version = v->spec.version;
  }
  table.release(p);
  return info;
}

void NodeImpl::kill(Process& p) {
  p.mailbox.push_system(kill_signal());
  group.notify(p);
}

void NodeImpl::process_gone() {
  if (table.live() == 0) {
    std::lock_guard lock(stop_mutex_);
    all_gone_.notify_all();
  }
}

void NodeImpl::stop() {
  {
    std::lock_guard lock(stop_mutex_);
    if (stopped_) return;
    stopped_ = true;
  }
  // Kill everything once, then wait. A process spawned meanwhile is killed by start() (stopping_). Killing
  // again in rounds, as this once did, sent a second signal to every process still unwinding: at 10M
  // processes that was most of the shutdown.
  stopping_.store(true, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_seq_cst);
  std::vector<sd::Task*> batch;
  batch.reserve(kStopBatch);
  table.for_each_live([&](Process& p) {
    p.mailbox.push_system(kill_signal());
    if (group.mark_notified(p)) batch.push_back(&p);
    if (batch.size() == kStopBatch) {
      group.submit_from_outside(batch);
      batch.clear();
    }
  });
  group.submit_from_outside(batch);
  std::unique_lock lock(stop_mutex_);
  while (!all_gone_.wait_for(lock, std::chrono::milliseconds(100), [this] { return table.live() == 0; })) {
  }
  lock.unlock();
  group.stop();
}

}  // namespace myrmex::vm::detail
