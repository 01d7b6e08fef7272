// The name API (registry/registry.h): find the calling process, charge it, and ask its node's registry.
#include "registry/registry.h"

#include "registry/detail/registry.h"
#include "scheduler/detail/yield_point.h"
#include "vm/detail/process.h"
#include "vm/detail/relations.h"

namespace myrmex::registry {

namespace {
constexpr int kLookupCost = 1;
constexpr int kChangeCost = 2;  // the table and the holder's control block, each under its lock
constexpr int kMonitorCost = 2;

// charged() is the calling process's node's registry, once the process is charged `cost`.
detail::Registry& charged(const char* api, int cost) {
  vm::detail::Process& self = vm::detail::self_process(api);
  self.charge(cost);
  return detail::Registry::of(self.node);
}
}  // namespace

Expected<void, NameError> register_name(std::string_view name, Pid pid) {
  return charged("register_name", kChangeCost).register_name(name, pid);
}

Expected<void, NameError> unregister_name(std::string_view name) {
  return charged("unregister_name", kChangeCost).unregister_name(name);
}

Pid whereis(std::string_view name) {
  return charged("whereis", kLookupCost).whereis(name);
}

std::vector<std::string> registered() {
  return charged("registered", kLookupCost).registered();
}

MonitorRef monitor(std::string_view name) {
  vm::detail::Process& self = vm::detail::self_process("monitor");
  self.charge(kMonitorCost);
  Pid holder = detail::Registry::of(self.node).whereis(name);
  return MonitorRef{vm::detail::monitor(self, holder, std::string(name))};
}

namespace detail {

Expected<Pid, NameError> holder_for_send(vm::detail::Process* self, std::string_view name) {
  if (!valid_name(name)) return vm::unexpected(NameError::bad_name);
  Pid to = Registry::of(self->node).whereis(name);
  if (!to) return vm::unexpected(NameError::unknown_name);
  scheduler::detail::yield_point("registry.send.resolved");  // the holder may die before the delivery
  return to;
}

}  // namespace detail

Expected<SendResult, NameError> send(std::string_view name, Message&& message) {
  vm::detail::Process* self = vm::detail::sending_process();
  mailbox::Envelope* e = vm::detail::forwarded(message, "send");  // aborts when empty
  Expected<Pid, NameError> to = detail::holder_for_send(self, name);
  if (!to) {
    message = Message(e);  // back to the caller, untouched
    return vm::unexpected(to.error());
  }
  return vm::detail::send_from(self, *to, e);
}

}  // namespace myrmex::registry
