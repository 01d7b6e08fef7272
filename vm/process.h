// The process API: what code running inside a Myrmex process calls.
//
//   myrmex::Node node;
//   node.run([] {
//     myrmex::Pid echo = myrmex::spawn([] {
//       myrmex::receive([](std::pair<myrmex::Pid, std::string>& m) { myrmex::send(m.first, m.second); });
//     });
//     myrmex::send(echo, std::pair{myrmex::self(), std::string("hi")});
//     myrmex::receive([](std::string& s) { std::puts(s.c_str()); },
//                     myrmex::after(std::chrono::seconds(1), [] { std::puts("no answer"); }));
//   });
//
// Unless a comment says otherwise, these functions must be called from inside a process ("process only";
// calling them elsewhere aborts with a message). "May park" means the calling process may be suspended
// (other processes run meanwhile); "charges" means it spends reductions and may yield its slice.
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "mailbox/message.h"
#include "scheduler/scheduler.h"
#include "vm/expected.h"
#include "vm/links.h"
#include "vm/monitors.h"
#include "vm/pid.h"
#include "vm/term.h"

namespace myrmex::vm {

using mailbox::Message;
using mailbox::Overflow;
using mailbox::SendResult;

// SpawnOptions are the per-process options of spawn_opt() (Erlang's spawn_opt/2).
struct SpawnOptions {
  // 0: unbounded (the default, as in Erlang). Otherwise at most this many user messages wait in the
  // mailbox; `overflow` says what happens to one more. System signals are never bounded.
  std::size_t mailbox_bound = 0;
  Overflow overflow = Overflow::block;
  // Link the new process to the caller before it can run (spawn_link()). Process only.
  bool link = false;
};

enum class ProcessStatus { running, runnable, waiting, exiting };

// ProcessInfo is a snapshot of a live process (Erlang's process_info/1).
struct ProcessInfo {
  Pid pid;
  ProcessStatus status = ProcessStatus::waiting;
  std::size_t message_queue_len = 0;  // user messages waiting
  std::size_t system_queue_len = 0;   // system signals waiting
  std::uint64_t reductions = 0;       // cumulative
  std::size_t memory = 0;             // bytes: control block, plus the stack's size while it holds one
  bool holds_stack = false;           // false for a behaviour-style process idle at its top level
  std::uint32_t migrations = 0;       // times it resumed on another scheduler
  std::size_t mailbox_bound = 0;
  std::vector<Pid> links;
  std::vector<Pid> monitors;      // the processes it monitors (one entry per monitor)
  std::vector<Pid> monitored_by;  // the processes monitoring it (one entry per monitor)
  bool trap_exit = false;
  std::string registered_name;  // empty: none (registry/)
  std::string kind;             // the behaviour kind it runs (vm/code.h); empty: none
  std::uint32_t version = 0;    // and the version of it
};

// NodeInfo is a snapshot of node-wide figures, as a process of the node reads them (Erlang's
// erlang:system_info/1 and statistics/1); Node's own accessors give the same from outside.
struct NodeInfo {
  std::size_t process_count = 0;  // live processes
  unsigned schedulers = 0;
  std::vector<scheduler::SchedulerStats> scheduler_stats;  // one per scheduler
  std::uint64_t long_schedules = 0;                        // watchdog reports so far
};

// Behaviour is a process kept as a heap object: handle() runs once per user message, in arrival order.
// Between messages the process holds no stack (Erlang's hibernate, made automatic), which is what lets a
// node keep millions of them. Inside handle() every process function may be used, receive() included:
// a process parked inside a handler holds a stack until the handler returns.
//
//   struct Counter : myrmex::Behaviour {
//     int n = 0;
//     void handle(myrmex::Message& m) override {
//       if (m.is<int>()) ++n;
//     }
//   };
//   myrmex::Pid c = myrmex::spawn_behaviour(std::make_unique<Counter>());
//
// Where each part runs: init(), handle() and terminate() run as the process, on its fiber, where every
// process function may be used. The destructor runs as the process too, after terminate(), once the
// process is exiting: process functions still work there (send(), spawn(), self(), ...), but exit signals
// no longer take effect, so do not park in it (a receive() there could wait forever). The same holds for
// the destructors of what a function-style process's function and arguments captured.
class Behaviour {
 public:
  virtual ~Behaviour() = default;
  // init() runs once, on the first activation, before any message.
  virtual void init() {}
  virtual void handle(Message& message) = 0;
  // terminate() runs once as the process ends, with its exit reason: after stop(reason), after init() or
  // handle() threw (reason {exception, ...}), after exit(reason), and on an exit signal other than
  // `kill` (gen_server's terminate/2; like Erlang, an untrappable `kill` ends the process without it).
  // An exception out of terminate() becomes the exit reason. Not called after a stack overflow.
  virtual void terminate(const Term& reason) { (void)reason; }

  // Hot code swap (vm/code.h). export_state() is the state as a term, for another version's code_change
  // (a term, so that a version with another C++ layout can read it). It runs as the process, between two
  // messages. The default throws: a behaviour that exports nothing cannot be swapped.
  virtual Term export_state();
  // carry_over() runs on the new version's behaviour before it replaces `previous`: what a layer above
  // vm/ keeps across a swap besides the user's state (gen_server: its parent and name). Default: nothing.
  virtual void carry_over(Behaviour& previous) { (void)previous; }

  // Behaviours come from the node's small-object pool: a node holds millions of them.
  static void* operator new(std::size_t size);
  static void* operator new(std::size_t size, std::align_val_t alignment);
  static void operator delete(void* p, std::size_t size) noexcept;
  static void operator delete(void* p, std::size_t size, std::align_val_t alignment) noexcept;

 protected:
  // stop() ends the process with `reason` once the running init() or handle() returns (gen_server's
  // {stop, Reason, State}). exit() ends it at once but unwinds the stack with an exception, which costs
  // microseconds; stop() costs nothing. Call it from init() or handle() only.
  static void stop(Term reason = atoms::normal());
  // crash_reported() tells the node that the calling process reported its own crash (a gen_server's
  // crash report), so NodeConfig::log_crashes does not print a second line for it. Process only.
  static void crash_reported();
};

// ExitUnwind is thrown to unwind a process that exits (exit(reason), or a signal that kills it). It is not
// a std::exception; code that catches (...) must rethrow it.
struct ExitUnwind {
  Term reason;
};

namespace detail {

class NodeImpl;

struct Body {
  virtual ~Body() = default;
  virtual void run() = 0;
  // Bodies come from the node's small-object pool: a spawn makes one.
  static void* operator new(std::size_t size);
  static void* operator new(std::size_t size, std::align_val_t alignment);
  static void operator delete(void* p, std::size_t size) noexcept;
  static void operator delete(void* p, std::size_t size, std::align_val_t alignment) noexcept;
};

template <class F, class... Args>
struct FunctionBody final : Body {
  explicit FunctionBody(F f, Args... args) : call(std::move(f), std::move(args)...) {}
  void run() override {
    std::apply([](auto& f, auto&... args) { f(std::move(args)...); }, call);
  }
  std::tuple<F, Args...> call;
};

template <class F, class... Args>
std::unique_ptr<Body> make_body(F&& f, Args&&... args) {
  return std::make_unique<FunctionBody<std::decay_t<F>, std::decay_t<Args>...>>(std::forward<F>(f),
                                                                                std::forward<Args>(args)...);
}

class Process;

// Entry points behind the templates. `node` null means the calling process's node.
Pid spawn(NodeImpl* node, std::unique_ptr<Body> body, std::unique_ptr<Behaviour> behaviour,
          const SpawnOptions& options);
// spawn_monitored() spawns from the calling process with a monitor set before the child can run.
std::pair<Pid, MonitorRef> spawn_monitored(std::unique_ptr<Body> body, std::unique_ptr<Behaviour> behaviour,
                                           const SpawnOptions& options);
// sending_process() is the calling process, charged for one send. It is called before the message is
// boxed: an exit signal that takes effect here unwinds with nothing allocated yet.
Process* sending_process();
// send_from() delivers `message` (owned from here on, whatever happens) from `self`.
SendResult send_from(Process* self, Pid to, mailbox::Envelope* message);
// send_outside() delivers from a thread that is not one of `node`'s processes.
SendResult send_outside(NodeImpl* node, Pid to, mailbox::Envelope* message);

void run_blocking(std::function<void()> job);

}  // namespace detail

// ---------------------------------------------------------------------------------------------------------
// The API

// self() is the calling process's PID. Process only.
Pid self();

// spawn() starts a process running f(args...) (moved into it) on this node. The process exits with
// reason `normal` when f returns, with {exception, Type, What} when f throws. Process only; charges.
template <class F, class... Args>
Pid spawn(F&& f, Args&&... args) {
  return detail::spawn(nullptr, detail::make_body(std::forward<F>(f), std::forward<Args>(args)...), nullptr,
                       {});
}

// spawn_opt() is spawn() with options (e.g. a bounded mailbox). Process only; charges.
template <class F, class... Args>
Pid spawn_opt(const SpawnOptions& options, F&& f, Args&&... args) {
  return detail::spawn(nullptr, detail::make_body(std::forward<F>(f), std::forward<Args>(args)...), nullptr,
                       options);
}

// spawn_link() is spawn() with the new process linked to the caller before it can run (so it never runs
// unlinked). Process only; charges.
template <class F, class... Args>
Pid spawn_link(F&& f, Args&&... args) {
  SpawnOptions options;
  options.link = true;
  return detail::spawn(nullptr, detail::make_body(std::forward<F>(f), std::forward<Args>(args)...), nullptr,
                       options);
}

// spawn_monitor() is spawn() with the caller monitoring the new process from before it can run; returns
// the PID and the monitor. Process only; charges.
template <class F, class... Args>
std::pair<Pid, MonitorRef> spawn_monitor(F&& f, Args&&... args) {
  return detail::spawn_monitored(detail::make_body(std::forward<F>(f), std::forward<Args>(args)...), nullptr,
                                 {});
}

// spawn_behaviour() starts a behaviour-style process (see Behaviour); SpawnOptions::link links it.
// Process only; charges.
Pid spawn_behaviour(std::unique_ptr<Behaviour> behaviour, const SpawnOptions& options = {});

// send() moves `message` to `to`'s mailbox. To a dead PID it does nothing (SendResult::noproc), as in
// Erlang. To a full bounded mailbox it follows the target's policy; with Overflow::block it parks until
// there is room. Process only; charges; may park (bounded mailboxes only).
template <class T>
SendResult send(Pid to, T&& message) {
  static_assert(!std::is_same_v<std::remove_cvref_t<T>, Message>,
                "forward a received Message as it is with send(pid, std::move(message))");
  detail::Process* self = detail::sending_process();
  return detail::send_from(self, to, mailbox::box(std::forward<T>(message)));
}

// send(to, Message&&) forwards a received message as it is, envelope and all (routers, proxies): the
// receiver sees the original type. An empty Message is a programming error (aborts). Otherwise as above.
SendResult send(Pid to, Message&& message);

// exit(reason) ends the calling process with `reason` (unwinding its stack). Process only.
[[noreturn]] void exit(Term reason);
// exit(pid) does not compile: a Pid would become the caller's own exit reason (Erlang's exit/1), not a
// signal to `pid`. Write exit(pid, Term::atom("kill")) (or another reason) to end another process.
void exit(Pid) = delete;
// exit(pid, reason) sends an exit signal (Erlang's exit/2): `kill` ends the target with reason `killed`,
// `normal` is ignored (unless the target is the caller), anything else ends it with that reason. System
// signals overtake user messages. A dead target: nothing happens. Process only; charges.
void exit(Pid target, Term reason);

// yield() gives up the rest of the time slice. Process only.
void yield();
// consume() charges `reductions` for work done outside the API (long loops call it). Process only.
void consume(int reductions);
// sleep_for() parks the caller for `duration`; its messages stay queued. Process only; may park.
void sleep_for(std::chrono::milliseconds duration);

// blocking() runs fn() on the blocking pool while the caller is parked, so the scheduler thread never
// blocks in a syscall; returns its result or rethrows its exception. Signals wait until fn returns.
// Process only; may park.
template <class F>
auto blocking(F&& fn) -> std::invoke_result_t<F&> {
  using R = std::invoke_result_t<F&>;
  std::exception_ptr error;
  if constexpr (std::is_void_v<R>) {
    detail::run_blocking([&] {
      try {
        fn();
      } catch (...) {
        error = std::current_exception();
      }
    });
    if (error) std::rethrow_exception(error);
  } else {
    std::optional<R> result;
    detail::run_blocking([&] {
      try {
        result.emplace(fn());
      } catch (...) {
        error = std::current_exception();
      }
    });
    if (error) std::rethrow_exception(error);
    return std::move(*result);
  }
}

// make_ref() returns a node-unique reference and marks the caller's mailbox, so a receive for a reply
// carrying it scans only messages that arrived afterwards. Process only; charges.
Ref make_ref();

// process_info() describes a live process of this node, nullopt for a dead PID. Process only; charges.
std::optional<ProcessInfo> process_info(Pid pid);
// node_info() reads the calling process's node's figures. Process only; charges.
NodeInfo node_info();
// alive() tells whether `pid` names a live process of the calling process's node. Process only; charges.
bool alive(Pid pid);

}  // namespace myrmex::vm

// receive() and call() live in their own headers; every `#include "vm/process.h"` still gets them.
#include "vm/call.h"
#include "vm/receive.h"
