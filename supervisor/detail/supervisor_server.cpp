#include "supervisor/detail/supervisor_server.h"

#include <algorithm>

#include "registry/registry.h"
#include "supervisor/logger.h"
#include "supervisor/reasons.h"
#include "vm/links.h"
#include "vm/monitors.h"
#include "vm/process.h"

namespace myrmex::supervisor::detail {

namespace {

using Clock = std::chrono::steady_clock;

SupervisorError error(SupervisorError::Kind kind, Term reason = Term(), Pid pid = Pid{}) {
  return SupervisorError{kind, std::move(reason), pid};
}

std::string self_name() {
  auto info = vm::process_info(vm::self());
  return info ? info->registered_name : std::string();
}

// report() writes a supervisor report; `fields` is called only when the level lets the line through (the
// fields' strings cost more than the rest of a restart).
template <class Fields>
void report(logger::Level level, std::string_view event, Fields fields) {
  if (!logger::enabled(level)) return;
  fields([&](std::initializer_list<logger::Field> f) {
    logger::report(level, event, vm::self(), self_name(), f);
  });
}

// ignored() is true for a start that returned ignore (OTP's ignore: no process, and no error).
bool ignored(const Expected<Pid, StartError>& start) {
  return !start && start.error().kind == StartError::ignored;
}

// exit_from() takes an Exit from `pid` already queued (the child died before we unlinked it).
std::optional<Term> exit_from(Pid pid) {
  std::optional<Term> reason;
  vm::receive(vm::when([pid](const vm::Exit& e) { return e.from == pid; },
                       [&](vm::Exit& e) { reason = std::move(e.reason); }),
              vm::after(std::chrono::milliseconds(0), [] {}));
  return reason;
}

// down_of() waits up to `timeout` (negative: for ever) for the Down of `ref`.
std::optional<Term> down_of(vm::MonitorRef ref, std::chrono::milliseconds timeout) {
  std::optional<Term> reason;
  const auto mine = [ref](const vm::Down& d) { return d.ref.value == ref.value; };
  const auto take = [&](vm::Down& d) { reason = std::move(d.reason); };
  if (timeout.count() < 0) {
    vm::receive(vm::when(mine, take));
  } else {
    vm::receive(vm::when(mine, take), vm::after(timeout, [] {}));
  }
  return reason;
}

}  // namespace

SupervisorServer::SupervisorServer(Spec spec) : flags_(spec.flags) {
  if (dynamic()) {
    if (spec.children.size() == 1) template_ = std::move(spec.children.front());
    return;
  }
  for (ChildSpec& c : spec.children) children_.push_back(make_child(std::move(c)));
}

SupervisorServer::Child SupervisorServer::make_child(ChildSpec spec) {
  return Child{std::move(spec), Pid{}, false, next_key_++};
}

gen_server::InitResult SupervisorServer::init() {
  vm::set_trap_exit(true);
  if (dynamic() && !template_)
    return gen_server::InitResult::stop(Term::tuple(
        {Term::atom("bad_start_spec"), Term::atom("simple_one_for_one needs exactly one child spec")}));
  for (std::size_t i = 0; i < children_.size(); ++i) {
    Child& c = children_[i];
    auto pid = start(c);
    if (!pid && !ignored(pid)) {
      Term failed =
          Term::tuple({Term::atom("failed_to_start_child"), Term::atom(c.spec.id), pid.error().reason});
      report(logger::Level::error, "start_error", [&](auto write) {
        write({{"id", c.spec.id}, {"reason", pid.error().reason.to_string()}});
      });
      shut_down_from(0, i);
      return gen_server::InitResult::stop(Term::tuple({vm::atoms::shutdown(), std::move(failed)}));
    }
  }
  // A temporary child that returned ignore is never started again: OTP keeps no spec for it.
  std::erase_if(children_, [](const Child& c) { return c.spec.restart == Restart::temporary && !c.pid; });
  return gen_server::InitResult::ok();
}

Expected<Pid, StartError> SupervisorServer::start(Child& c) {
  Expected<Pid, StartError> pid =
      c.spec.start ? c.spec.start()
                   : vm::unexpected(StartError{StartError::failed, Term::atom("no_start_function"), Pid{}});
  c.pid = pid ? *pid : Pid{};
  c.restarting = false;
  return pid;
}

void SupervisorServer::shut_down(Child& c) {
  const Pid pid = c.pid;
  if (!pid) return;
  c.pid = Pid{};
  // OTP's monitor_child: from here on the child's end is seen by the monitor, not by the link.
  const vm::MonitorRef ref = vm::monitor(pid);
  vm::unlink(pid);
  if (auto early = exit_from(pid)) {
    down_of(ref, std::chrono::milliseconds(-1));
    if (!is_quiet_exit(*early))
      report(logger::Level::error, "shutdown_error", [&](auto write) {
        write({{"child", pid.to_string()}, {"id", c.spec.id}, {"reason", early->to_string()}});
      });
    return;
  }
  std::optional<Term> reason;
  switch (c.spec.shutdown.kind) {
    case Shutdown::brutal_kill:
      vm::exit(pid, vm::atoms::kill());
      reason = down_of(ref, std::chrono::milliseconds(-1));
      if (reason && *reason == vm::atoms::killed()) return;
      break;
    case Shutdown::timeout:
      vm::exit(pid, vm::atoms::shutdown());
      reason = down_of(ref, c.spec.shutdown.time);
      if (!reason) {
        vm::exit(pid, vm::atoms::kill());
        reason = down_of(ref, std::chrono::milliseconds(-1));
        report(logger::Level::error, "shutdown_error", [&](auto write) {
          write({{"child", pid.to_string()}, {"id", c.spec.id}, {"reason", "killed"}});
        });
        return;
      }
      break;
    case Shutdown::infinity:
      vm::exit(pid, vm::atoms::shutdown());
      reason = down_of(ref, std::chrono::milliseconds(-1));
      break;
  }
  if (reason && !(*reason == vm::atoms::shutdown()) && !(*reason == vm::atoms::noproc()))
    report(logger::Level::error, "shutdown_error", [&](auto write) {
      write({{"child", pid.to_string()}, {"id", c.spec.id}, {"reason", reason->to_string()}});
    });
}

void SupervisorServer::shut_down_from(std::size_t first, std::size_t last) {
  for (std::size_t i = last; i-- > first;) shut_down(children_[i]);
  // Temporary children are not restarted, so their specs go with them.
  auto gone = std::remove_if(children_.begin() + static_cast<std::ptrdiff_t>(first),
                             children_.begin() + static_cast<std::ptrdiff_t>(last),
                             [](const Child& c) { return c.spec.restart == Restart::temporary && !c.pid; });
  children_.erase(gone, children_.begin() + static_cast<std::ptrdiff_t>(last));
}

void SupervisorServer::shut_down_all() {
  shut_down_from(0, children_.size());
}

void SupervisorServer::terminate(const Term&) {
  shut_down_all();
}

SupervisorServer::Children::iterator SupervisorServer::find(const std::string& id) {
  return std::find_if(children_.begin(), children_.end(), [&](const Child& c) { return c.spec.id == id; });
}

SupervisorServer::Children::iterator SupervisorServer::find(Pid pid) {
  return std::find_if(children_.begin(), children_.end(), [&](const Child& c) { return c.pid == pid; });
}

SupervisorServer::Children::iterator SupervisorServer::find_key(std::uint64_t key) {
  return std::find_if(children_.begin(), children_.end(), [&](const Child& c) { return c.key == key; });
}

void SupervisorServer::handle_info(mailbox::Message& m) {
  if (auto* e = m.get<vm::Exit>()) {
    auto c = find(e->from);
    if (c != children_.end() && e->from) child_exited(c, e->reason);
    return;  // an Exit from a process that is no child (a start that failed) is nothing to us
  }
  if (auto* retry = m.get<RetryRestart>()) {
    auto c = find_key(retry->child);
    if (c != children_.end() && c->restarting) restart(retry->child);
  }
}

void SupervisorServer::child_exited(Children::iterator c, const Term& reason) {
  const bool quiet = is_quiet_exit(reason);
  if (!quiet)
    report(logger::Level::error, "child_terminated", [&](auto write) {
      write({{"child", c->pid.to_string()}, {"id", c->spec.id}, {"reason", reason.to_string()}});
    });
  c->pid = Pid{};
  const bool again =
      c->spec.restart == Restart::permanent || (c->spec.restart == Restart::transient && !quiet);
  if (!again) {
    if (c->spec.restart == Restart::temporary || dynamic()) children_.erase(c);
    return;
  }
  restart(c->key);
}

bool SupervisorServer::add_restart() {
  const auto now = Clock::now();
  // OTP keeps the restarts at or after now - period, and gives up when they number more than intensity.
  while (!restarts_.empty() && restarts_.front() < now - flags_.period) restarts_.pop_front();
  restarts_.push_back(now);
  return restarts_.size() <= static_cast<std::size_t>(flags_.intensity);
}

bool SupervisorServer::restart(std::uint64_t key) {
  if (!add_restart()) {
    report(logger::Level::error, "shutdown", [&](auto write) {
      write({{"reason", "reached_max_restart_intensity"},
             {"intensity", std::to_string(flags_.intensity)},
             {"period_ms", std::to_string(flags_.period.count())}});
    });
    shut_down_all();
    gen_server::stop_self(vm::atoms::shutdown());
    return false;
  }
  auto c = find_key(key);
  if (c == children_.end()) return true;
  if (flags_.strategy == Strategy::one_for_all || flags_.strategy == Strategy::rest_for_one) {
    const bool all = flags_.strategy == Strategy::one_for_all;
    const auto index = static_cast<std::size_t>(c - children_.begin());
    shut_down_from(all ? 0 : index + 1, children_.size());
    // Temporaries stopped before `c` are gone now: find it again.
    c = find_key(key);
    start_group(all ? 0 : static_cast<std::size_t>(c - children_.begin()), children_.size());
    return true;
  }
  const auto index = static_cast<std::size_t>(c - children_.begin());
  start_group(index, index + 1);
  return true;
}

void SupervisorServer::start_group(std::size_t first, std::size_t last) {
  for (std::size_t i = first; i < last && i < children_.size(); ++i) {
    Child& c = children_[i];
    if (c.pid) continue;
    auto pid = start(c);
    if (pid) {
      report(logger::Level::info, "child_restarted", [&](auto write) {
        write(
            {{"child", pid->to_string()}, {"id", c.spec.id}, {"restarts", std::to_string(restarts_.size())}});
      });
      continue;
    }
    if (ignored(pid)) continue;
    report(logger::Level::error, "start_error", [&](auto write) {
      write({{"id", c.spec.id}, {"reason", pid.error().reason.to_string()}});
    });
    // OTP's try_again_restart: the next attempt comes as a message, so calls in between are served.
    c.restarting = true;
    (void)vm::send(vm::self(), RetryRestart{c.key});
    return;
  }
}

PidResult SupervisorServer::handle_call(StartChild& r) {
  if (dynamic()) return vm::unexpected(error(SupervisorError::simple_one_for_one));
  if (auto c = find(r.spec.id); c != children_.end()) {
    if (c->pid) return vm::unexpected(error(SupervisorError::already_started, Term(), c->pid));
    return vm::unexpected(error(SupervisorError::already_present));
  }
  children_.push_back(make_child(std::move(r.spec)));
  auto pid = start(children_.back());
  if (pid) return *pid;
  if (!ignored(pid)) {
    children_.pop_back();
    return vm::unexpected(error(SupervisorError::start_failed, pid.error().reason));
  }
  // OTP's {ok, undefined}: the spec stays without a process, except a temporary child's (as in init()).
  if (children_.back().spec.restart == Restart::temporary) children_.pop_back();
  return Pid{};
}

PidResult SupervisorServer::handle_call(StartFromTemplate& r) {
  if (!dynamic()) return vm::unexpected(error(SupervisorError::simple_one_for_one));
  ChildSpec spec = *template_;
  if (r.start) spec.start = std::move(*r.start);
  children_.push_back(make_child(std::move(spec)));
  auto pid = start(children_.back());
  if (pid && *pid) return *pid;
  children_.pop_back();  // a dynamic child lives only as long as its process
  if (ignored(pid)) return Pid{};
  return vm::unexpected(
      error(SupervisorError::start_failed, pid ? Term::atom("ignore") : pid.error().reason));
}

VoidResult SupervisorServer::handle_call(TerminateChild& r) {
  if (r.pid) {
    if (!dynamic()) return vm::unexpected(error(SupervisorError::not_found));
    auto c = find(r.pid);
    if (c == children_.end()) return vm::unexpected(error(SupervisorError::not_found));
    shut_down(*c);
    children_.erase(c);
    return {};
  }
  if (dynamic()) return vm::unexpected(error(SupervisorError::simple_one_for_one));
  auto c = find(r.id);
  if (c == children_.end()) return vm::unexpected(error(SupervisorError::not_found));
  shut_down(*c);
  c->restarting = false;
  if (c->spec.restart == Restart::temporary) children_.erase(c);
  return {};
}

PidResult SupervisorServer::handle_call(RestartChild& r) {
  if (dynamic()) return vm::unexpected(error(SupervisorError::simple_one_for_one));
  auto c = find(r.id);
  if (c == children_.end()) return vm::unexpected(error(SupervisorError::not_found));
  if (c->pid) return vm::unexpected(error(SupervisorError::running, Term(), c->pid));
  if (c->restarting) return vm::unexpected(error(SupervisorError::restarting));
  auto pid = start(*c);
  if (!pid) {
    if (ignored(pid)) return Pid{};
    return vm::unexpected(error(SupervisorError::start_failed, pid.error().reason));
  }
  return *pid;
}

VoidResult SupervisorServer::handle_call(DeleteChild& r) {
  if (dynamic()) return vm::unexpected(error(SupervisorError::simple_one_for_one));
  auto c = find(r.id);
  if (c == children_.end()) return vm::unexpected(error(SupervisorError::not_found));
  if (c->pid) return vm::unexpected(error(SupervisorError::running, Term(), c->pid));
  if (c->restarting) return vm::unexpected(error(SupervisorError::restarting));
  children_.erase(c);
  return {};
}

WhichChildren::reply_type SupervisorServer::handle_call(WhichChildren&) {
  std::vector<ChildInfo> out;
  out.reserve(children_.size());
  for (const Child& c : children_)
    out.push_back(ChildInfo{dynamic() ? std::string() : c.spec.id, c.pid, c.restarting, c.spec.type});
  return out;
}

CountChildren::reply_type SupervisorServer::handle_call(CountChildren&) {
  ChildCounts n;
  n.specs = children_.size();
  for (const Child& c : children_) {
    if (c.pid) ++n.active;
    (c.spec.type == ChildType::supervisor ? n.supervisors : n.workers)++;
  }
  return n;
}

}  // namespace myrmex::supervisor::detail
