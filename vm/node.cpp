#include "vm/node.h"

#include "vm/detail/node_impl.h"
#include "vm/detail/process.h"

namespace myrmex::vm {

Node::Node(NodeConfig config) : impl_(std::make_unique<detail::NodeImpl>(config)) {}

Node::~Node() {
  stop();
}

void Node::stop() {
  impl_->stop();
}

Pid Node::spawn_behaviour(std::unique_ptr<Behaviour> behaviour, const SpawnOptions& options) {
  return detail::spawn(impl_.get(), nullptr, std::move(behaviour), options);
}

SendResult Node::send(Pid to, Message&& message) {
  return detail::send_outside(impl_.get(), to, detail::forwarded(message, "Node::send"));
}

void Node::exit(Pid target, Term reason) {
  detail::send_exit_signal(*impl_, Pid{}, target, reason);
}

Term Node::run_body(std::unique_ptr<detail::Body> body) {
  std::promise<Term> done;
  auto result = done.get_future();
  impl_->spawn(std::move(body), nullptr, {}, [&done](const Term& reason) { done.set_value(reason); });
  return result.get();
}

std::optional<ProcessInfo> Node::process_info(Pid pid) const {
  return impl_->info(pid);
}

bool Node::alive(Pid pid) const {
  return impl_->alive(pid);
}

std::size_t Node::process_count() const {
  return impl_->table.live();
}

std::vector<scheduler::SchedulerStats> Node::scheduler_stats() const {
  return impl_->group.stats();
}

std::uint64_t Node::long_schedules() const {
  return impl_->group.long_schedules();
}

unsigned Node::schedulers() const {
  return impl_->group.size();
}

}  // namespace myrmex::vm
