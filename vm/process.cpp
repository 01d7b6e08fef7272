// The process API (vm/process.h): thin wrappers that find the calling process and charge it.
#include "vm/process.h"

#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#include "memory/detail/live_counts.h"
#include "memory/detail/object_pool.h"
#include "vm/detail/code_server.h"
#include "vm/detail/node_impl.h"
#include "vm/detail/process.h"

namespace myrmex::vm {

namespace {
// Reductions charged per operation (BEAM charges spawn more than a send).
constexpr int kSpawnCost = 10;
constexpr int kSendCost = 1;
}  // namespace

namespace detail {

Pid spawn(NodeImpl* node, std::unique_ptr<Body> body, std::unique_ptr<Behaviour> behaviour,
          const SpawnOptions& options) {
  if (node) {
    if (options.link) {
      std::fprintf(stderr, "myrmex: SpawnOptions::link needs a calling process (Node::spawn_opt has none)\n");
      std::abort();
    }
    return node->spawn(std::move(body), std::move(behaviour), options);
  }
  Process& self = self_process("spawn");
  self.charge(kSpawnCost);
  Process* child = self.node.create(std::move(body), std::move(behaviour), options);
  if (options.link) link_unpublished(self, *child);
  return self.node.start(child);
}

std::pair<Pid, MonitorRef> spawn_versioned(std::unique_ptr<Behaviour> behaviour, const SpawnOptions& options,
                                           CodeHold hold, bool monitor) {
  Process& self = self_process("spawn");
  self.charge(kSpawnCost);
  Process* child = self.node.create(nullptr, std::move(behaviour), options);
  {
    std::lock_guard g(
        child->signal_lock);  // nobody else can reach it yet; the lock is what Relations asks for
    child->relations_locked().code.store(hold.release(), std::memory_order_relaxed);  // published by start()
  }
  if (options.link) link_unpublished(self, *child);
  MonitorRef ref{monitor ? monitor_unpublished(self, *child) : 0};
  return {self.node.start(child), ref};
}

std::pair<Pid, MonitorRef> spawn_monitored(std::unique_ptr<Body> body, std::unique_ptr<Behaviour> behaviour,
                                           const SpawnOptions& options) {
  Process& self = self_process("spawn_monitor");
  self.charge(kSpawnCost);
  Process* child = self.node.create(std::move(body), std::move(behaviour), options);
  if (options.link) link_unpublished(self, *child);
  MonitorRef ref{monitor_unpublished(self, *child)};
  return {self.node.start(child), ref};
}

Process* sending_process() {
  Process& self = self_process("send");
  self.charge(kSendCost);
  return &self;
}

SendResult send_from(Process* self, Pid to, mailbox::Envelope* message) {
  return self->node.send(self, to, message);
}

mailbox::Envelope* forwarded(Message& message, const char* api) {
  mailbox::Envelope* e = message.release();
  if (!e) {
    std::fprintf(stderr, "myrmex: %s() of an empty Message (already forwarded or moved from?)\n", api);
    std::abort();
  }
  return e;
}

SendResult send_outside(NodeImpl* node, Pid to, mailbox::Envelope* message) {
  // Node::send() called by one of the node's own processes after all: let it block properly.
  Process* p = current_process();
  return node->send(p && &p->node == node ? p : nullptr, to, message);
}

mailbox::Envelope* receive(const Matcher& matcher, int& which, std::int64_t timeout_ms,
                           std::uint64_t marker) {
  return self_process("receive").receive(matcher, which, timeout_ms, marker);
}

void run_blocking(std::function<void()> job) {
  Process& self = self_process("blocking");
  self.charge(kSendCost);
  self.node.group.run_blocking(self, std::move(job));
  self.charge(0);  // the signals that waited for the job take effect now
}

}  // namespace detail

Pid self() {
  return detail::self_process("self").pid;
}

SendResult send(Pid to, Message&& message) {
  detail::Process* self = detail::sending_process();
  return detail::send_from(self, to, detail::forwarded(message, "send"));
}

Pid spawn_behaviour(std::unique_ptr<Behaviour> behaviour, const SpawnOptions& options) {
  return detail::spawn(nullptr, nullptr, std::move(behaviour), options);
}

namespace md = memory::detail;

void* detail::Body::operator new(std::size_t size) {
  return md::pool_allocate(size);
}

void* detail::Body::operator new(std::size_t size, std::align_val_t alignment) {
  return ::operator new(size, alignment);
}

void detail::Body::operator delete(void* p, std::size_t size) noexcept {
  md::pool_free(p, size);
}

void detail::Body::operator delete(void* p, std::size_t size, std::align_val_t alignment) noexcept {
  ::operator delete(p, size, alignment);
}

void* Behaviour::operator new(std::size_t size) {
  void* p = md::pool_allocate(size);
  md::counted_add(md::Counted::behaviour, 1);
  return p;
}

void* Behaviour::operator new(std::size_t size, std::align_val_t alignment) {
  void* p = ::operator new(size, alignment);
  md::counted_add(md::Counted::behaviour, 1);
  return p;
}

void Behaviour::operator delete(void* p, std::size_t size) noexcept {
  md::counted_add(md::Counted::behaviour, -1);
  md::pool_free(p, size);
}

void Behaviour::operator delete(void* p, std::size_t size, std::align_val_t alignment) noexcept {
  md::counted_add(md::Counted::behaviour, -1);
  ::operator delete(p, size, alignment);
}

Term Behaviour::export_state() {
  throw std::logic_error(
      "this behaviour exports no state (Behaviour::export_state), so it cannot be swapped");
}

void Behaviour::stop(Term reason) {
  detail::self_process("Behaviour::stop").stop_after_handler(std::move(reason));
}

void Behaviour::crash_reported() {
  detail::self_process("Behaviour::crash_reported").mark_crash_reported();
}

void exit(Term reason) {
  detail::self_process("exit");
  throw ExitUnwind{std::move(reason)};
}

void exit(Pid target, Term reason) {
  detail::Process& self = detail::self_process("exit");
  self.charge(kSendCost);
  send_exit_signal(self.node, self.pid, target, reason);
  // A signal to ourselves takes effect now, not at some later charge point.
  if (target == self.pid) self.charge(0);
}

void yield() {
  detail::Process& self = detail::self_process("yield");
  self.charge(0);
  scheduler::detail::Scheduler::switch_out(self, scheduler::detail::SwitchReason::yield);
}

void consume(int reductions) {
  detail::self_process("consume").charge(reductions);
}

void sleep_for(std::chrono::milliseconds duration) {
  detail::self_process("sleep_for").sleep(duration.count());
}

Ref make_ref() {
  detail::Process& self = detail::self_process("make_ref");
  self.charge(kSendCost);
  Ref ref{self.scheduler->unique()};
  self.mailbox.mark(ref.value);
  return ref;
}

std::optional<ProcessInfo> process_info(Pid pid) {
  detail::Process& self = detail::self_process("process_info");
  self.charge(kSendCost);
  return self.node.info(pid);
}

NodeInfo node_info() {
  detail::Process& self = detail::self_process("node_info");
  self.charge(kSendCost);
  detail::NodeImpl& node = self.node;
  return NodeInfo{node.table.live(), node.group.size(), node.group.stats(), node.group.long_schedules()};
}

bool alive(Pid pid) {
  detail::Process& self = detail::self_process("alive");
  self.charge(kSendCost);
  return self.node.alive(pid);
}

}  // namespace myrmex::vm
