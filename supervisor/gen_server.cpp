#include "supervisor/gen_server.h"

#include <optional>

#include "supervisor/logger.h"
#include "supervisor/reasons.h"
#include "vm/code.h"

namespace myrmex::gen_server {

namespace {

// exactly<T>() is the message's T when it holds one of the runtime's own types (their type_info is never
// duplicated: one pointer compare, no name compare on a miss).
template <class T>
T* exactly(Message& m) {
  return &m.type() == &typeid(T) ? m.get<T>() : nullptr;
}

}  // namespace

void stop_self(Term reason) {
  detail::ServerBase::stop_current(std::move(reason));
}

Expected<void, CallError> stop(const ServerRef& server, Term reason, std::chrono::milliseconds timeout) {
  const Pid pid = server.pid();
  const vm::MonitorRef ref = vm::monitor(pid);
  (void)vm::send(pid, detail::StopRequest{reason});
  std::optional<CallError> error;
  vm::receive(vm::when([ref](const vm::Down& d) { return d.ref.value == ref.value; },
                       [&](vm::Down& d) {
                         if (d.reason == vm::atoms::noproc())
                           error = CallError{CallError::noproc, d.reason};
                         else if (!(d.reason == reason))
                           error = CallError{CallError::exited, std::move(d.reason)};
                       }),
              vm::after(timeout, [&] {
                vm::demonitor(ref, vm::flush);
                error = CallError{CallError::timeout, vm::atoms::timeout()};
              }));
  if (error) return vm::unexpected(std::move(*error));
  return {};
}

namespace detail {

void ServerBase::init() {
  if (!name.empty() && !registry::register_name(name, vm::self())) {
    // OTP's {error, {already_started, Pid}}: this process ends quietly.
    (void)vm::send(starter, Started{start_ref, InitResult::Kind::stop, true, registry::whereis(name)});
    stop_current(vm::atoms::normal());
    return;
  }
  InitResult result = user_init();  // an exception ends the process: the starter sees its Down
  switch (result.kind()) {
    case InitResult::Kind::ok:
      initialized_ = true;
      (void)vm::send(starter, Started{start_ref, result.kind(), false, Pid{}});
      return;
    case InitResult::Kind::ignore:
      (void)vm::send(starter, Started{start_ref, result.kind(), false, Pid{}});
      stop_current(vm::atoms::normal());
      return;
    case InitResult::Kind::stop:
      stop_current(result.reason());  // the starter sees the reason in its Down
      return;
  }
}

void ServerBase::terminate(const Term& reason) {
  if (initialized_) user_terminate(reason);
  if (supervisor::is_quiet_exit(reason)) return;
  crash_reported();  // this report is the crash's line: the node prints none of its own
  if (logger::enabled(logger::Level::error))
    logger::report(logger::Level::error, "server_terminated", vm::self(), name,
                   {{"type", type_name()}, {"reason", reason.to_string()}});
}

void ServerBase::carry_over(vm::Behaviour& previous) {
  auto& old = dynamic_cast<ServerBase&>(previous);  // a version of a gen_server kind is one
  starter = old.starter;
  start_ref = old.start_ref;
  name = old.name;
  parent = old.parent;
  initialized_ = old.initialized_;
}

bool ServerBase::handle_system(Message& m) {
  if (auto* stop = exactly<StopRequest>(m)) {
    stop_current(std::move(stop->reason));
    return true;
  }
  if (auto* e = exactly<vm::Exit>(m); e && parent && e->from == parent) {
    stop_current(std::move(e->reason));
    return true;
  }
  return false;
}

namespace {

// prepare() gives a server what its start handshake needs, before its process can run.
void prepare(ServerBase& server, const StartOptions& options, Ref ref) {
  server.starter = vm::self();
  server.start_ref = ref;
  server.name = options.name;
  server.parent = options.spawn.link ? vm::self() : Pid{};
}

// await_start() waits until the server spawned as `pid` (monitored by `monitor`) answered `ref`.
Expected<Pid, StartError> await_start(Pid pid, vm::MonitorRef monitor, Ref ref, const StartOptions& options) {
  std::optional<StartError> error;
  const auto started = [&](Started& s) {
    if (s.name_taken) {
      error = StartError{StartError::already_started,
                         Term::tuple({Term::atom("already_started"), Term(s.holder)}), s.holder};
    } else if (s.kind == InitResult::Kind::ignore) {
      error = StartError{StartError::ignored, Term::atom("ignore"), Pid{}};
    }
  };
  vm::receive(vm::when([ref](const Started& s) { return s.ref == ref; }, started),
              vm::when([m = monitor](const vm::Down& d) { return d.ref.value == m.value; },
                       [&](vm::Down& d) {
                         error = StartError{StartError::failed, std::move(d.reason), Pid{}};
                       }),
              vm::after(options.timeout, [&, p = pid] {
                vm::exit(p, vm::atoms::kill());
                error = StartError{StartError::timeout, vm::atoms::timeout(), Pid{}};
              }));
  vm::demonitor(monitor, vm::flush);
  if (error) return vm::unexpected(std::move(*error));
  return pid;
}

}  // namespace

Expected<Pid, StartError> start_server(std::unique_ptr<ServerBase> server, StartOptions options) {
  const Ref ref = vm::make_ref();
  prepare(*server, options, ref);
  auto [pid, monitor] = vm::detail::spawn_monitored(nullptr, std::move(server), options.spawn);
  return await_start(pid, monitor, ref, options);
}

Expected<Pid, StartError> start_kind(const std::string& kind, const Term& args, StartOptions options) {
  const Ref ref = vm::make_ref();
  std::optional<bool> is_server;  // set once the kind's version made a behaviour
  auto spawned = vm::detail::spawn_kind(kind, args, options.spawn, [&](vm::Behaviour& b) {
    auto* server = dynamic_cast<ServerBase*>(&b);
    is_server = server != nullptr;
    if (server) prepare(*server, options, ref);
    return *is_server;
  });
  if (!spawned)
    return vm::unexpected(StartError{
        StartError::failed,
        Term::tuple({Term::atom(is_server ? "not_a_gen_server" : "not_loaded"), Term::binary(kind)}), Pid{}});
  return await_start(spawned->first, spawned->second, ref, options);
}

}  // namespace detail
}  // namespace myrmex::gen_server
