// supervisor: OTP 25's supervisor as C++ (myrmex::supervisor). OTP's reference page maps onto it name by
// name: a supervisor starts its children in order from their child specs, restarts them as its strategy
// says, gives up (ends with `shutdown`, its children stopped) when more than `intensity` restarts happen
// within `period`, and stops its children in reverse order.
//
//   using namespace myrmex;
//   supervisor::Spec spec{.flags = {.strategy = supervisor::Strategy::one_for_one, .intensity = 3},
//                         .children = {supervisor::worker("db", [] { return gen_server::start_link(Db{},
//                         {.name = "db"}); }),
//                                      supervisor::supervisor_child("pool", [] { return
//                                      supervisor::start_link(pool_spec()); })}};
//   Expected<Pid, gen_server::StartError> sup = supervisor::start_link(std::move(spec));
//
// A child's `start` runs in the supervisor process and must start a process linked to its caller (the
// supervisor), as gen_server::start_link() and supervisor::start_link() do; it returns the new PID or the
// StartError (`ignored`: the child stays in the specs without a process, as OTP's ignore).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "supervisor/gen_server.h"
#include "vm/expected.h"
#include "vm/pid.h"
#include "vm/term.h"

namespace myrmex::supervisor {

using gen_server::ServerRef;
using gen_server::StartError;
using gen_server::StartOptions;
using vm::Expected;
using vm::Pid;
using vm::Term;

enum class Strategy { one_for_one, one_for_all, rest_for_one, simple_one_for_one };

// Restart: permanent children are always restarted, transient ones only after an exit other than normal,
// shutdown or {shutdown, _}, temporary ones never (and their spec goes with them).
enum class Restart { permanent, transient, temporary };

enum class ChildType { worker, supervisor };

// Shutdown is how a child is stopped: brutal_kill (exit `kill`), a time-out (exit `shutdown`, then `kill`
// when it expires) or infinity (exit `shutdown` and wait: for supervisors).
struct Shutdown {
  enum Kind { brutal_kill, timeout, infinity };
  Kind kind = timeout;
  std::chrono::milliseconds time{5000};
  static Shutdown kill() { return {brutal_kill, {}}; }
  static Shutdown after(std::chrono::milliseconds t) { return {timeout, t}; }
  static Shutdown wait() { return {infinity, {}}; }
};

using StartFunction = std::function<Expected<Pid, StartError>()>;

// ChildSpec is OTP's child specification (id, start, restart, shutdown, type).
struct ChildSpec {
  std::string id;
  StartFunction start;
  Restart restart = Restart::permanent;
  Shutdown shutdown = Shutdown::after(std::chrono::milliseconds(5000));
  ChildType type = ChildType::worker;
};

// worker() and supervisor_child() are child specs with OTP's defaults for each type (a worker gets 5 s to
// shut down, a supervisor infinity).
ChildSpec worker(std::string id, StartFunction start, Restart restart = Restart::permanent);
ChildSpec supervisor_child(std::string id, StartFunction start, Restart restart = Restart::permanent);

// Flags are OTP's supervisor flags: at most `intensity` restarts within `period`.
struct Flags {
  Strategy strategy = Strategy::one_for_one;
  int intensity = 1;
  std::chrono::milliseconds period{5000};
};

struct Spec {
  Flags flags;
  // simple_one_for_one: exactly one, the template every start_child() follows; it starts no child itself.
  std::vector<ChildSpec> children;
};

// start_link() starts a supervisor linked to the caller and waits until every child started
// (supervisor:start_link/2,3). A child whose start fails stops the ones already started (in reverse
// order) and the start fails with {shutdown, {failed_to_start_child, Id, Reason}}. Process only.
Expected<Pid, StartError> start_link(Spec spec, StartOptions options = {});

// SupervisorError says why a child operation failed.
struct SupervisorError {
  enum Kind {
    not_found,           // no child with that id (or PID)
    running,             // restart_child/delete_child of a child that has a process
    restarting,          // the child waits for a restart
    simple_one_for_one,  // an operation by id on a simple_one_for_one supervisor
    already_present,     // start_child with an id already in the specs (no process)
    already_started,     // start_child with an id already running (`pid` is it)
    start_failed,        // the child's start failed (`reason`)
    noproc,              // the supervisor is gone (or the call failed: `reason`)
  };
  Kind kind = not_found;
  Term reason;
  Pid pid;
  friend bool operator==(const SupervisorError& e, Kind k) { return e.kind == k; }
};

// start_child() adds a child and starts it (supervisor:start_child/2). On a simple_one_for_one
// supervisor, the first form starts one more child from the template, the second one from the template
// with another start function (OTP's extra arguments: a closure carries them).
Expected<Pid, SupervisorError> start_child(const ServerRef& sup, ChildSpec spec);
Expected<Pid, SupervisorError> start_child(const ServerRef& sup);
Expected<Pid, SupervisorError> start_child(const ServerRef& sup, StartFunction start);

// terminate_child() stops a child (its spec stays, except a temporary child's); by PID on a
// simple_one_for_one supervisor, where the child is gone afterwards.
Expected<void, SupervisorError> terminate_child(const ServerRef& sup, const std::string& id);
Expected<void, SupervisorError> terminate_child(const ServerRef& sup, Pid child);
// restart_child() starts a stopped child again from its spec.
Expected<Pid, SupervisorError> restart_child(const ServerRef& sup, const std::string& id);
// delete_child() removes a stopped child's spec.
Expected<void, SupervisorError> delete_child(const ServerRef& sup, const std::string& id);

struct ChildInfo {
  std::string id;  // empty on simple_one_for_one (OTP's undefined)
  Pid pid;         // Pid{}: not running (OTP's undefined), or restarting
  bool restarting = false;
  ChildType type = ChildType::worker;
};
// which_children() lists the children in start order (OTP lists them newest first).
Expected<std::vector<ChildInfo>, SupervisorError> which_children(const ServerRef& sup);

struct ChildCounts {
  std::size_t specs = 0, active = 0, supervisors = 0, workers = 0;
};
Expected<ChildCounts, SupervisorError> count_children(const ServerRef& sup);

}  // namespace myrmex::supervisor
