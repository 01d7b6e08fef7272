#include "supervisor/supervisor.h"

#include "supervisor/detail/supervisor_server.h"

namespace myrmex::supervisor {

namespace {

constexpr auto kForever = std::chrono::hours(24 * 365);

// ask() calls the supervisor with `request` and folds a failed call into SupervisorError::noproc.
template <class Req>
auto ask(const ServerRef& sup, Req request) -> typename Req::reply_type {
  auto r = gen_server::call(sup, std::move(request), kForever);
  if (!r) return vm::unexpected(SupervisorError{SupervisorError::noproc, r.error().reason, Pid{}});
  return std::move(*r);
}

}  // namespace

ChildSpec worker(std::string id, StartFunction start, Restart restart) {
  return ChildSpec{std::move(id), std::move(start), restart, Shutdown::after(std::chrono::milliseconds(5000)),
                   ChildType::worker};
}

ChildSpec supervisor_child(std::string id, StartFunction start, Restart restart) {
  return ChildSpec{std::move(id), std::move(start), restart, Shutdown::wait(), ChildType::supervisor};
}

Expected<Pid, StartError> start_link(Spec spec, StartOptions options) {
  return gen_server::start_link(detail::SupervisorServer(std::move(spec)), std::move(options));
}

Expected<Pid, SupervisorError> start_child(const ServerRef& sup, ChildSpec spec) {
  return ask(sup, detail::StartChild{std::move(spec)});
}

Expected<Pid, SupervisorError> start_child(const ServerRef& sup) {
  return ask(sup, detail::StartFromTemplate{});
}

Expected<Pid, SupervisorError> start_child(const ServerRef& sup, StartFunction start) {
  return ask(sup, detail::StartFromTemplate{std::move(start)});
}

Expected<void, SupervisorError> terminate_child(const ServerRef& sup, const std::string& id) {
  return ask(sup, detail::TerminateChild{id, Pid{}});
}

Expected<void, SupervisorError> terminate_child(const ServerRef& sup, Pid child) {
  return ask(sup, detail::TerminateChild{{}, child});
}

Expected<Pid, SupervisorError> restart_child(const ServerRef& sup, const std::string& id) {
  return ask(sup, detail::RestartChild{id});
}

Expected<void, SupervisorError> delete_child(const ServerRef& sup, const std::string& id) {
  return ask(sup, detail::DeleteChild{id});
}

Expected<std::vector<ChildInfo>, SupervisorError> which_children(const ServerRef& sup) {
  return ask(sup, detail::WhichChildren{});
}

Expected<ChildCounts, SupervisorError> count_children(const ServerRef& sup) {
  return ask(sup, detail::CountChildren{});
}

}  // namespace myrmex::supervisor
