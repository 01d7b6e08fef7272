#include "vm/detail/node_impl.h"

#include <chrono>
#include <cstdio>
#include <thread>

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
  group.start();
}

NodeImpl::~NodeImpl() {
  stop();
}

Pid NodeImpl::spawn(std::unique_ptr<Body> body, std::unique_ptr<Behaviour> behaviour,
                    const SpawnOptions& options, std::function<void(const Term&)> on_exit) {
  Pid pid = table.reserve();
  auto* p = new Process(*this, pid, std::move(body), std::move(behaviour));
  p->mailbox.set_bound(options.mailbox_bound, options.overflow);
  if (on_exit) p->on_exit = std::make_unique<std::function<void(const Term&)>>(std::move(on_exit));
  table.publish(pid, p);
  group.submit(*p, false);
  return pid;
}

SendResult NodeImpl::send(Process* sender, Pid to, mailbox::Envelope* e) {
  if (sender) {
    // A process sending from its scheduler needs no reference until its next quiescent point, unless the
    // target's mailbox is bounded: a blocked sender parks, and a parked process may hold nothing.
    Process* target = table.lookup_local(to);
    if (!target) {
      mailbox::destroy(e);
      return SendResult::noproc;
    }
    if (target->mailbox.bound() == 0) return deliver(sender, *target, e);
  }
  Process* target = table.acquire(to);
  if (!target) {
    mailbox::destroy(e);
    return SendResult::noproc;
  }
  SendResult r = deliver(sender, *target, e);
  table.release(target);
  return r;
}

SendResult NodeImpl::deliver(Process* sender, Process& target, mailbox::Envelope* e) {
  for (;;) {
    if (target.mailbox.push_user(e)) {
      group.notify(target);
      return SendResult::ok;
    }
    switch (target.mailbox.policy()) {
      case Overflow::drop:
        mailbox::destroy(e);
        return SendResult::dropped;
      case Overflow::reject:
        mailbox::destroy(e);
        return SendResult::mailbox_full;
      case Overflow::block:
        break;
    }
    if (target.state.load(std::memory_order_acquire) == sd::TaskState::done) {
      mailbox::destroy(e);
      return SendResult::noproc;
    }
    if (sender && sender != &target) {
      // Register, then try once more: the owner may have made room before it saw us registered.
      target.mailbox.add_blocked_sender(sender->pid.value);
      if (target.mailbox.push_user(e)) {
        group.notify(target);
        return SendResult::ok;
      }
      sender->park();
      sender->charge(1);  // a blocked sender can still be killed
    } else {
      // A thread outside the node (or a process filling its own mailbox) has nobody to wake it: poll.
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  }
}

void NodeImpl::exit_signal(Pid from, Pid to, Term reason) {
  Process* target = table.acquire(to);
  if (!target) return;
  target->mailbox.push_system(mailbox::box(ExitSignal{from, std::move(reason)}));
  group.notify(*target);
  table.release(target);
}

bool NodeImpl::alive(Pid pid) {
  Process* p = table.acquire(pid);
  if (p) table.release(p);
  return p != nullptr;
}

std::optional<ProcessInfo> NodeImpl::info(Pid pid) {
  Process* p = table.acquire(pid);
  if (!p) return std::nullopt;
  ProcessInfo info;
  info.pid = pid;
  switch (p->state.load(std::memory_order_acquire)) {
    case sd::TaskState::running:
    case sd::TaskState::notified:
      info.status = ProcessStatus::running;
      break;
    case sd::TaskState::runnable:
      info.status = ProcessStatus::runnable;
      break;
    case sd::TaskState::waiting:
      info.status = ProcessStatus::waiting;
      break;
    case sd::TaskState::done:
      info.status = ProcessStatus::exiting;
      break;
  }
  info.message_queue_len = p->mailbox.user_length();
  info.system_queue_len = p->mailbox.system_length();
  info.reductions = p->reductions.load(std::memory_order_relaxed);
  info.holds_stack = p->holds_stack.load(std::memory_order_relaxed);
  info.memory = sizeof(Process) + (info.holds_stack ? group.stacks().stack_size() : 0);
  info.migrations = p->migrations.load(std::memory_order_relaxed);
  info.mailbox_bound = p->mailbox.bound();
  table.release(p);
  return info;
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
  // Kill everything, then wait; processes spawned meanwhile get killed on the next round.
  std::unique_lock lock(stop_mutex_);
  while (table.live() > 0) {
    lock.unlock();
    table.for_each_live([this](Process& p) {
      p.mailbox.push_system(mailbox::box(ExitSignal{Pid{}, atoms::kill()}));
      group.notify(p);
    });
    lock.lock();
    all_gone_.wait_for(lock, std::chrono::milliseconds(100), [this] { return table.live() == 0; });
  }
  lock.unlock();
  group.stop();
}

}  // namespace myrmex::vm::detail
