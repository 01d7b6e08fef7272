// gen_server: OTP 25's generic server as a typed C++ behaviour (myrmex::gen_server).
//
// A server is a plain class. It lists the requests it answers and the casts it takes, and defines the
// callbacks it needs; every callback is optional except a handle_call per listed request and a
// handle_cast per listed cast. OTP's reference page for gen_server maps onto it name by name:
//
//   struct Get { using reply_type = int; };
//   struct Add { int by; };
//   struct Counter {
//     using calls = myrmex::gen_server::Messages<Get>;
//     using casts = myrmex::gen_server::Messages<Add>;
//     int n = 0;
//     int handle_call(Get&) { return n; }         // the reply, sent when the callback returns
//     void handle_cast(Add& a) { n += a.by; }
//   };
//   auto c = myrmex::gen_server::start_link(Counter{}, {.name = "counter"});   // Expected<Pid, StartError>
//   myrmex::gen_server::cast("counter", Add{2});
//   Expected<int, CallError> n = myrmex::gen_server::call("counter", Get{});
//
// Callbacks (each optional unless said otherwise; they run as the server process, where every process
// function may be used):
//   InitResult init()                   before any message; InitResult::ok() by default. Return
//                                       InitResult::stop(reason) or throw to fail the start (the starter
//                                       gets the reason), InitResult::ignore() to end quietly.
//   R handle_call(Req&, From<R> from)   one per request type in `calls` (R is its reply type); the `from`
//                                       parameter may be left out. Returning R replies now (void replies
//                                       when it returns). Return CallResult<R> to choose: a value replies
//                                       now, gen_server::noreply replies later (reply(from, value), from
//                                       any process) or never.
//   void handle_cast(T&)                one per type in `casts` (sent with cast()).
//   void handle_info(Message&)          everything else: Exit, Down, plain send()s. Unhandled: dropped.
//   void terminate(const Term& reason)  as the server ends: after stop(), after stop_self(), after a
//                                       callback threw (the reason is {exception, ...}), and when its
//                                       parent (the process that started it linked: a supervisor) sends an
//                                       exit signal while the server traps exits. Not after a `kill`.
//   code_change: left for the hot-swap issue.
//
// Between messages a server holds no stack (it is a vm::Behaviour). Dispatch finds the callback by
// comparing the message's type_info pointer with the listed types (one pointer compare per listed type,
// no string compare on the way; names are compared only when no pointer matched, for a type whose
// type_info a shared library duplicated).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <utility>

#include "mailbox/message.h"
#include "registry/registry.h"
#include "vm/call.h"
#include "vm/expected.h"
#include "vm/links.h"
#include "vm/pid.h"
#include "vm/process.h"
#include "vm/term.h"

namespace myrmex::gen_server {

using mailbox::Message;
using vm::CallError;
using vm::Expected;
using vm::Pid;
using vm::Ref;
using vm::Term;

// Messages<T...> lists message types: a server's `calls` (request types) and `casts`.
template <class... T>
struct Messages {};

// ServerRef names a server by PID or by registered name; every client function takes one.
class ServerRef {
 public:
  ServerRef(Pid pid) : pid_(pid) {}                        // NOLINT: implicit on purpose
  ServerRef(const char* name) : name_(name) {}             // NOLINT
  ServerRef(std::string name) : name_(std::move(name)) {}  // NOLINT
  ServerRef(std::string_view name) : name_(name) {}        // NOLINT
  // pid() is the server's PID now: the name's holder, or Pid{} when nobody holds it. Process only.
  Pid pid() const { return name_.empty() ? pid_ : registry::whereis(name_); }
  const std::string& name() const { return name_; }

 private:
  Pid pid_;
  std::string name_;
};

// From<R> is a caller waiting for a reply of type R (OTP's From): keep it to reply later.
template <class R>
struct From {
  Pid pid;
  Ref ref;
};

// reply() answers a saved From, from any process (gen_server:reply/2). A caller that gave up drops it.
template <class R, class... T>
mailbox::SendResult reply(const From<R>& from, T&&... value) {
  return vm::reply(vm::RequestOf<int, R>{from.pid, from.ref, 0}, std::forward<T>(value)...);
}

// noreply: handle_call() returns it (as CallResult<R>) to reply later or never ({noreply, State}).
struct NoReply {};
inline constexpr NoReply noreply{};

// CallResult<R> is what a handle_call() may return instead of R: a reply now, or noreply.
template <class R>
class CallResult {
 public:
  CallResult(NoReply) {}  // NOLINT: implicit on purpose
  template <class T, class = std::enable_if_t<std::is_constructible_v<R, T&&>>>
  CallResult(T&& value) : value_(std::forward<T>(value)) {}  // NOLINT
  std::optional<R>& value() { return value_; }

 private:
  std::optional<R> value_;
};
template <>
class CallResult<void> {
 public:
  CallResult() : reply_(true) {}
  CallResult(NoReply) {}  // NOLINT
  bool replies() const { return reply_; }

 private:
  bool reply_ = false;
};

// InitResult is what init() returns: ok, ignore, or stop with a reason ({ok,S} | ignore | {stop,R}).
class InitResult {
 public:
  static InitResult ok() { return InitResult(Kind::ok, vm::atoms::normal()); }
  static InitResult ignore() { return InitResult(Kind::ignore, Term::atom("ignore")); }
  static InitResult stop(Term reason) { return InitResult(Kind::stop, std::move(reason)); }
  enum class Kind { ok, ignore, stop };
  Kind kind() const { return kind_; }
  const Term& reason() const { return reason_; }

 private:
  InitResult(Kind k, Term r) : kind_(k), reason_(std::move(r)) {}
  Kind kind_;
  Term reason_;
};

// StartError says why a start failed. `reason` is init()'s stop reason or exit reason, `ignore` when init
// returned ignore, {already_started, Pid} when the name was taken (then `pid` is the holder), `timeout`.
struct StartError {
  enum Kind { failed, ignored, already_started, timeout };
  Kind kind = failed;
  Term reason;
  Pid pid;  // already_started: the process holding the name
  friend bool operator==(const StartError& e, Kind k) { return e.kind == k; }
};

// StartOptions: a name to register the server under before init() runs (empty: none), how long the
// starter waits for init(), and the process's spawn options (SpawnOptions::link is set by start_link()).
struct StartOptions {
  std::string name;
  std::chrono::milliseconds timeout = std::chrono::milliseconds(5000);
  vm::SpawnOptions spawn{};
};

// stop_self() ends the calling server with `reason` once the running callback returns (its reply, if
// any, goes first): gen_server's {stop, Reason, ...}. Call it from a callback only.
void stop_self(Term reason = vm::atoms::normal());

}  // namespace myrmex::gen_server

#include "supervisor/detail/server_process.h"

namespace myrmex::gen_server {

// start() runs `server` as a new process and waits until its init() returned (gen_server:start/3,4).
// Process only; may park.
template <class S>
Expected<Pid, StartError> start(S server, StartOptions options = {}) {
  return detail::start_server(std::make_unique<detail::ServerProcess<S>>(std::move(server)),
                              std::move(options));
}

// start_link() is start() with the server linked to the caller before it runs (gen_server:start_link).
// As in OTP, an init() that fails also ends a caller that does not trap exits. Process only; may park.
template <class S>
Expected<Pid, StartError> start_link(S server, StartOptions options = {}) {
  options.spawn.link = true;
  return start(std::move(server), std::move(options));
}

// call() sends `request` to the server and waits for its reply (gen_server:call/3). Errors: noproc (no
// such process or name), exited with the server's exit reason (it died first, a crash in its handle_call
// included), timeout. Process only; may park.
template <class R = vm::detail::reply_of_request, class Req>
auto call(const ServerRef& server, Req&& request,
          std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
  return vm::call<R>(server.pid(), std::forward<Req>(request), timeout);
}

// cast() sends `message` to the server's handle_cast() and returns at once, whether or not the server
// exists (gen_server:cast/2). Process only.
template <class T>
void cast(const ServerRef& server, T&& message) {
  (void)vm::send(server.pid(), detail::Cast<std::remove_cvref_t<T>>{std::forward<T>(message)});
}

// stop() makes the server end with `reason` (its terminate() runs) and waits until it has ended
// (gen_server:stop/3). Errors: noproc, exited (it ended with another reason first), timeout. Process
// only; may park.
Expected<void, CallError> stop(const ServerRef& server, Term reason = vm::atoms::normal(),
                               std::chrono::milliseconds timeout = std::chrono::hours(24 * 365));

}  // namespace myrmex::gen_server
