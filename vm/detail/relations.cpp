#include "vm/detail/relations.h"

#include <mutex>

#include "memory/detail/object_pool.h"
#include "vm/detail/code_libraries.h"
#include "vm/detail/node_impl.h"
#include "vm/detail/process.h"
#include "vm/links.h"
#include "vm/monitors.h"

namespace myrmex::vm::detail {

namespace {

using Guard = std::lock_guard<SignalLock>;

// Held is a process found by PID, valid for the scope. A process of the node needs no reference as long as
// it does not park or yield in that scope (the table frees a control block only after every scheduler
// passed a quiescent point); any other thread takes one.
class Held {
 public:
  Held(NodeImpl& node, Pid pid) : node_(node) {
    Process* self = current_process();
    counted_ = !self || &self->node != &node;
    p_ = counted_ ? node.table.acquire(pid) : node.table.lookup_local(pid);
  }
  Held(const Held&) = delete;
  Held& operator=(const Held&) = delete;
  ~Held() {
    if (p_ && counted_) node_.table.release(p_);
  }
  explicit operator bool() const { return p_ != nullptr; }
  Process* operator->() const { return p_; }
  Process& operator*() const { return *p_; }

 private:
  NodeImpl& node_;
  Process* p_;
  bool counted_;
};

// PairGuard holds two processes' locks, taken in PID order: both ends of a link change in one step, and
// two processes linking and unlinking each other at once cannot deadlock.
class PairGuard {
 public:
  PairGuard(Process& a, Process& b) : first_(a.pid < b.pid ? a : b), second_(a.pid < b.pid ? b : a) {
    first_.signal_lock.lock();
    second_.signal_lock.lock();
  }
  PairGuard(const PairGuard&) = delete;
  PairGuard& operator=(const PairGuard&) = delete;
  ~PairGuard() {
    second_.signal_lock.unlock();
    first_.signal_lock.unlock();
  }

 private:
  Process& first_;
  Process& second_;
};

Relations* relations_of(Process& p) {
  return p.relations.load(std::memory_order_acquire);
}

// WakeUp is what a delivery under the target's lock leaves the caller to do once the lock is released.
enum class WakeUp {
  none,
  claimed,  // a message push claimed the target's wake-up: queue it (SchedulerGroup::wake_claimed)
  notify,   // a signal was queued: notify it
};

WakeUp pushed_message(Process& to, mailbox::Envelope* e) {
  using Pushed = mailbox::detail::Mailbox::Pushed;
  return to.mailbox.push_user_unbounded(e) == Pushed::wake ? WakeUp::claimed : WakeUp::none;
}

void wake_up(NodeImpl& node, Process& p, WakeUp w) {
  if (w == WakeUp::claimed) node.group.wake_claimed(p);
  if (w == WakeUp::notify) node.group.notify(p);
}

// take_exit_signal() applies the exit-signal table (vm/links.h) to `to` as it is now; `to`'s lock is held.
WakeUp take_exit_signal(Process& to, Pid from, const Term& reason, bool from_link) {
  if (to.closed) return WakeUp::none;  // it is ending already
  const bool untrappable = !from_link && reason == atoms::kill();
  if (!untrappable && to.trap_exit) return pushed_message(to, mailbox::box(Exit{from, reason}));
  // `normal` ends nobody, except a process that sent it to itself with exit(self(), normal).
  if (reason == atoms::normal() && (from_link || from != to.pid)) return WakeUp::none;
  to.mailbox.push_system(mailbox::box(ExitSignal{untrappable ? atoms::killed() : reason, untrappable}));
  return WakeUp::notify;
}

// queue_down() queues the Down for `n` if the monitor is still active, taking it out of the watcher's index.
// `watcher`'s lock is held.
WakeUp queue_down(Process& watcher, MonitorNode* n, Pid pid, const Term& reason) {
  Relations* rp = relations_of(watcher);
  if (watcher.closed || !rp) return WakeUp::none;
  Relations& r = *rp;
  if (r.call_monitor.load(std::memory_order_relaxed) == n) {
    r.call_monitor.store(nullptr, std::memory_order_relaxed);
  } else {
    auto it = r.monitors.find(n->ref);
    if (it == r.monitors.end() || it->second != n) return WakeUp::none;  // demonitored
    r.monitors.erase(it);
  }
  return pushed_message(watcher, mailbox::box(Down{MonitorRef{n->ref}, pid, reason, n->name}));
}

// attach_to_target() puts `n` in its target's monitored-by list; false if the target is dead or ending.
bool attach_to_target(NodeImpl& node, MonitorNode* n) {
  Held t(node, n->target);
  if (!t) return false;
  Guard g(t->signal_lock);
  if (t->closed) return false;
  t->relations_locked().push_monitored_by(n);
  return true;
}

// detach_from_target() is the target's half of stopping a monitor already taken out of its watcher's
// index. True when `n` is the caller's to free (or reuse).
[[nodiscard]] bool detach_from_target(NodeImpl& node, Pid target, MonitorNode* n) {
  Held t(node, target);
  if (!t) return false;  // its exit has run to the end, and freed `n`
  Guard g(t->signal_lock);
  if (t->closed) return false;  // its exit holds the list, and frees `n` once it has looked at it
  relations_of(*t)->erase_monitored_by(n);
  return true;
}

// fire_now() is a monitor whose target was gone when it was set: its Down is queued at once.
void fire_now(Process& self, MonitorNode* n) {
  {
    Guard g(self.signal_lock);
    queue_down(self, n, n->target, atoms::noproc());
  }
  delete n;
}

MonitorNode* new_monitor(Process& self, Pid target, std::string name) {
  auto* n = new MonitorNode;
  n->ref = self.scheduler->unique();
  n->watcher = self.pid;
  n->target = target;
  n->name = std::move(name);
  return n;
}

}  // namespace

void* MonitorNode::operator new(std::size_t size) {
  return memory::detail::pool_allocate(size);
}

void MonitorNode::operator delete(void* p, std::size_t size) noexcept {
  memory::detail::pool_free(p, size);
}

void* Relations::operator new(std::size_t size) {
  return memory::detail::pool_allocate(size);
}

void Relations::operator delete(void* p, std::size_t size) noexcept {
  memory::detail::pool_free(p, size);
}

Relations::~Relations() {
  delete spare_call_monitor;
}

void Relations::push_monitored_by(MonitorNode* n) {
  n->prev = nullptr;
  n->next = monitored_by;
  if (monitored_by) monitored_by->prev = n;
  monitored_by = n;
  ++monitored_by_count;
}

void Relations::erase_monitored_by(MonitorNode* n) {
  if (n->prev) {
    n->prev->next = n->next;
  } else {
    monitored_by = n->next;
  }
  if (n->next) n->next->prev = n->prev;
  --monitored_by_count;
}

bool link(Process& self, Pid other) {
  if (other == self.pid) return true;
  Held t(self.node, other);
  if (!t) return false;
  PairGuard g(self, *t);
  if (t->closed) return false;
  self.relations_locked().links.insert(other);
  t->relations_locked().links.insert(self.pid);
  return true;
}

void unlink(Process& self, Pid other) {
  if (other == self.pid) return;  // never linked (and one lock cannot be taken twice)
  Held t(self.node, other);
  if (!t) {  // gone: only our side can be left
    Guard g(self.signal_lock);
    if (Relations* r = relations_of(self)) r->links.erase(other);
    return;
  }
  PairGuard g(self, *t);
  if (Relations* r = relations_of(self)) r->links.erase(other);
  if (Relations* r = relations_of(*t)) r->links.erase(self.pid);
}

std::uint64_t monitor(Process& self, Pid target, std::string name) {
  MonitorNode* n = new_monitor(self, target, std::move(name));
  const std::uint64_t ref = n->ref;
  {
    Guard g(self.signal_lock);
    self.relations_locked().monitors.emplace(ref, n);
  }
  if (!attach_to_target(self.node, n)) fire_now(self, n);
  return ref;
}

bool demonitor(Process& self, std::uint64_t ref) {
  MonitorNode* n = nullptr;
  Pid target;
  {
    Guard g(self.signal_lock);
    Relations* r = relations_of(self);
    if (!r) return false;
    auto it = r->monitors.find(ref);
    if (it == r->monitors.end()) return false;
    n = it->second;
    target = n->target;
    r->monitors.erase(it);
  }
  if (detach_from_target(self.node, target, n)) delete n;
  return true;
}

bool begin_call(Process& self, std::uint64_t ref, Pid server) {
  Relations* r = relations_of(self);
  if (!r) {
    Guard g(self.signal_lock);
    r = &self.relations_locked();
  }
  MonitorNode* n = std::exchange(r->spare_call_monitor, nullptr);
  if (!n) n = new MonitorNode;
  n->ref = ref;
  n->watcher = self.pid;
  n->target = server;
  // No lock: until the request goes out nobody knows the reference, and the server learns of the node
  // through its own lock below.
  r->call_ref.store(ref, std::memory_order_relaxed);
  r->call_monitor.store(n, std::memory_order_relaxed);
  if (attach_to_target(self.node, n)) return true;
  r->call_ref.store(0, std::memory_order_relaxed);
  r->call_monitor.store(nullptr, std::memory_order_relaxed);
  r->spare_call_monitor = n;
  return false;
}

bool end_call(Process& self) {
  MonitorNode* n = nullptr;
  Pid server;
  Relations& r = *relations_of(self);
  {
    Guard g(self.signal_lock);
    r.call_ref.store(0, std::memory_order_relaxed);  // from here on replies for it are dropped
    n = r.call_monitor.exchange(nullptr, std::memory_order_relaxed);
    if (n) server = n->target;
  }
  if (n && detach_from_target(self.node, server, n)) r.spare_call_monitor = n;  // the next call's
  return n != nullptr;
}

void link_unpublished(Process& self, Process& child) {
  {
    Guard g(child.signal_lock);
    child.relations_locked().links.insert(self.pid);
  }
  Guard g(self.signal_lock);
  self.relations_locked().links.insert(child.pid);
}

std::uint64_t monitor_unpublished(Process& self, Process& child) {
  MonitorNode* n = new_monitor(self, child.pid, {});
  {
    Guard g(child.signal_lock);
    child.relations_locked().push_monitored_by(n);
  }
  Guard g(self.signal_lock);
  self.relations_locked().monitors.emplace(n->ref, n);
  return n->ref;
}

void send_exit_signal(NodeImpl& node, Pid from, Pid to, const Term& reason) {
  Held t(node, to);
  if (!t) return;
  WakeUp wake;
  {
    Guard g(t->signal_lock);
    wake = take_exit_signal(*t, from, reason, /*from_link=*/false);
  }
  wake_up(node, *t, wake);
}

bool send_reply(NodeImpl& node, Pid to, std::uint64_t ref, mailbox::Envelope* reply) {
  track_envelope(reply);
  bool queued = false;
  {
    Held t(node, to);
    if (t) {
      WakeUp wake = WakeUp::none;
      {
        Guard g(t->signal_lock);
        Relations* r = relations_of(*t);
        if (r && r->call_ref.load(std::memory_order_relaxed) == ref) {
          wake = pushed_message(*t, reply);
          queued = true;
        }
      }
      wake_up(node, *t, wake);
    }
  }
  if (!queued) mailbox::destroy(reply);  // the caller gave up (OTP 24's alias semantics)
  return queued;
}

void release_attachment(Process& p) {
  ProcessAttachment* attachment;
  {
    Guard g(p.signal_lock);
    p.attachment_closed = true;
    attachment = std::exchange(p.attachment, nullptr);
  }
  // Before `closed`: a monitor set meanwhile is queued for tear_down(), not answered noproc at once, so
  // nobody gets a Down for p while it still holds its name.
  if (attachment) attachment->process_exiting(p.pid);
}

void tear_down(Process& p, const Term& reason, void (*pace)(Process&)) {
  NodeImpl& node = p.node;
  int fired = 0;
  const auto paced = [&] {
    if (pace && ++fired % kTearDownBatch == 0) pace(p);
  };
  // The name goes first: whoever sees p dead (an Exit, a Down, a link's or a monitor's noproc) finds it
  // free.
  release_attachment(p);
  Relations::LinkSet links;
  MonitorNode* monitored_by = nullptr;
  std::vector<std::pair<Pid, MonitorNode*>> held;  // (target, node) of the monitors p holds
  {
    Guard g(p.signal_lock);
    p.closed = true;
    if (Relations* rp = relations_of(p)) {
      Relations& r = *rp;
      links.swap(r.links);
      monitored_by = std::exchange(r.monitored_by, nullptr);
      r.monitored_by_count = 0;
      if (MonitorNode* c = r.call_monitor.exchange(nullptr, std::memory_order_relaxed))
        r.monitors.emplace(c->ref, c);
      for (auto& [ref, n] : r.monitors) held.emplace_back(n->target, n);
      r.monitors.clear();
      r.call_ref.store(0, std::memory_order_relaxed);
    }
  }
  for (Pid other : links) {
    {
      Held t(node, other);
      if (!t) continue;
      WakeUp wake = WakeUp::none;
      {
        Guard g(t->signal_lock);
        // Only the side that erases the link delivers: an unlink() that got there first means no signal.
        Relations* r = relations_of(*t);
        if (r && r->links.erase(p.pid)) wake = take_exit_signal(*t, p.pid, reason, /*from_link=*/true);
      }
      wake_up(node, *t, wake);
    }
    paced();  // may yield: nothing found by PID may be held across it
  }
  while (MonitorNode* n = monitored_by) {
    monitored_by = n->next;
    {
      Held w(node, n->watcher);
      if (w) {
        WakeUp wake;
        {
          Guard g(w->signal_lock);
          wake = queue_down(*w, n, p.pid, reason);
        }
        wake_up(node, *w, wake);
      }
    }
    delete n;
    paced();
  }
  for (auto [target, n] : held) {
    if (detach_from_target(node, target, n)) delete n;
    paced();
  }
}

RelationsSnapshot snapshot(Process& p) {
  RelationsSnapshot s;
  Guard g(p.signal_lock);
  s.trap_exit = p.trap_exit;
  if (p.attachment) s.attachment = p.attachment->describe();
  const Relations* rp = relations_of(p);
  if (!rp) return s;
  const Relations& r = *rp;
  s.links.assign(r.links.begin(), r.links.end());
  for (const auto& [ref, n] : r.monitors) s.monitors.push_back(n->target);
  if (const MonitorNode* c = r.call_monitor.load(std::memory_order_relaxed)) s.monitors.push_back(c->target);
  for (const MonitorNode* n = r.monitored_by; n; n = n->next) s.monitored_by.push_back(n->watcher);
  return s;
}

AttachResult attach(NodeImpl& node, Pid pid, ProcessAttachment* a) {
  Held t(node, pid);
  if (!t) return AttachResult::noproc;
  Guard g(t->signal_lock);
  if (t->attachment_closed) return AttachResult::noproc;
  if (t->attachment) return AttachResult::taken;
  t->attachment = a;
  return AttachResult::attached;
}

bool detach(NodeImpl& node, Pid pid, ProcessAttachment* a) {
  Held t(node, pid);
  if (!t) return false;
  Guard g(t->signal_lock);
  if (t->attachment != a) return false;
  t->attachment = nullptr;
  return true;
}

}  // namespace myrmex::vm::detail
