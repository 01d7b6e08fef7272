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
#include <tuple>
#include <type_traits>
#include <utility>

#include "mailbox/message.h"
#include "vm/expected.h"
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
};

// ExitUnwind is thrown to unwind a process that exits (exit(reason), or a signal that kills it). It is not
// a std::exception; code that catches (...) must rethrow it.
struct ExitUnwind {
  Term reason;
};

// Request/Reply carry call() and reply(). A request type names its reply type, so that a server cannot
// answer with another type (a compile error in reply()) and a client need not repeat it:
//
//   struct GetTotal { using reply_type = int; };
//   struct Reset { using reply_type = void; };  // the caller waits for an acknowledgement only
//   // server:  receive([&](Request<GetTotal>& r) { reply(r, total); },
//   //                  [&](Request<Reset>& r) { total = 0; reply(r); });
//   // client:  Expected<int, CallError> t = call(server, GetTotal{});
//
// A type that names no reply (an int, a std::string) states it at both ends instead:
// `call<int>(server, std::string("total"))` and `Request<std::string, int>`.
template <class Req, class R>
struct RequestOf {
  using request_type = Req;
  using reply_type = R;
  Pid from;
  Ref ref;
  Req value;
};

namespace detail {
template <class Req, class... R>
struct request_reply {
  static_assert(sizeof...(R) <= 1, "Request<Req, R>: at most one reply type");
  using type = std::tuple_element_t<0, std::tuple<R...>>;
};
template <class Req>
struct request_reply<Req> {
  static_assert(
      requires { typename Req::reply_type; },
      "this request type names no reply type: give it `using reply_type = ...;` or write "
      "Request<Req, ReplyType> (and call<ReplyType>(...) on the client side)");
  using type = typename Req::reply_type;
};
}  // namespace detail

// Request<Req> is the message a call(server, Req) sends; Request<Req, R> when Req names no reply type.
template <class Req, class... R>
using Request = RequestOf<Req, typename detail::request_reply<Req, R...>::type>;

template <class R>
struct Reply {
  Ref ref;
  R value;
};
template <>
struct Reply<void> {
  Ref ref;
};

enum class CallError { noproc, timeout };

// ---------------------------------------------------------------------------------------------------------
// Receive clauses

// when() pairs a guard (called with `const T&`) with a handler of T: the clause accepts a T only if the
// guard says so.
template <class G, class H>
struct Guarded {
  G guard;
  H handler;
};
template <class G, class H>
Guarded<std::decay_t<G>, std::decay_t<H>> when(G&& guard, H&& handler) {
  return {std::forward<G>(guard), std::forward<H>(handler)};
}

// after() is receive's time-out clause: `fn` runs if no message matched within `timeout`. A zero time-out
// polls the mailbox once. It must be the last argument of receive().
template <class F>
struct After {
  std::int64_t ms;
  F fn;
};
template <class Rep, class Period, class F>
After<std::decay_t<F>> after(std::chrono::duration<Rep, Period> timeout, F&& fn) {
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(timeout).count();
  return {ms < 0 ? 0 : static_cast<std::int64_t>(ms), std::forward<F>(fn)};
}

namespace detail {

class NodeImpl;

struct Body {
  virtual ~Body() = default;
  virtual void run() = 0;
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
// sending_process() is the calling process, charged for one send. It is called before the message is
// boxed: an exit signal that takes effect here unwinds with nothing allocated yet.
Process* sending_process();
// send_from() delivers `message` (owned from here on, whatever happens) from `self`.
SendResult send_from(Process* self, Pid to, mailbox::Envelope* message);
// send_outside() delivers from a thread that is not one of `node`'s processes.
SendResult send_outside(NodeImpl* node, Pid to, mailbox::Envelope* message);

struct Matcher {
  void* clauses;
  int (*match)(void* clauses, mailbox::Envelope& message);  // index of the accepting clause, or -1
};
// receive() returns the first message some clause accepts (unlinked from the mailbox; `which` says the
// clause), or nullptr after `timeout_ms` (negative: never). `marker` non-zero starts the scan at the
// mailbox position marked by make_ref() for that reference.
mailbox::Envelope* receive(const Matcher& matcher, int& which, std::int64_t timeout_ms, std::uint64_t marker);
void clear_marker();

// Handler traits: the message type a handler takes.
template <class F>
struct handler_traits : handler_traits<decltype(&F::operator())> {};
template <class C, class R, class A>
struct handler_traits<R (C::*)(A) const> {
  using arg = std::remove_cvref_t<A>;
  using result = R;
};
template <class C, class R, class A>
struct handler_traits<R (C::*)(A)> : handler_traits<R (C::*)(A) const> {};
template <class R, class A>
struct handler_traits<R (*)(A)> {
  using arg = std::remove_cvref_t<A>;
  using result = R;
};

template <class C>
struct clause_traits {
  using handler = C;
  using message = typename handler_traits<C>::arg;
  static bool accepts(C&, const message&) { return true; }
  static C& handler_of(C& c) { return c; }
};
template <class G, class H>
struct clause_traits<Guarded<G, H>> {
  using handler = H;
  using message = typename handler_traits<H>::arg;
  static bool accepts(Guarded<G, H>& c, const message& m) { return c.guard(m); }
  static H& handler_of(Guarded<G, H>& c) { return c.handler; }
};

template <class C>
bool clause_matches(C& clause, mailbox::Envelope& e) {
  using T = clause_traits<C>;
  using M = typename T::message;
  if constexpr (std::is_same_v<M, Message>) {
    return true;  // a Message clause takes anything
  } else {
    M* m = mailbox::unbox<M>(&e);
    return m && T::accepts(clause, *m);
  }
}

template <class C>
decltype(auto) invoke_clause(C& clause, mailbox::Envelope* e) {
  using T = clause_traits<C>;
  using M = typename T::message;
  auto& h = T::handler_of(clause);
  if constexpr (std::is_same_v<M, Message>) {
    Message m(e);
    return h(m);
  } else {
    Message owner(e);  // frees the envelope after the handler
    M& value = *mailbox::unbox<M>(e);
    if constexpr (std::is_invocable_v<decltype(h), M&&>) {
      return h(std::move(value));
    } else {
      return h(value);
    }
  }
}

template <class C>
using clause_result = typename handler_traits<typename clause_traits<C>::handler>::result;

template <class T>
struct is_after : std::false_type {};
template <class F>
struct is_after<After<F>> : std::true_type {};

// `after` is a pointer to the After clause, or nullptr (no time-out).
template <class Tuple, std::size_t... I, class A>
decltype(auto) receive_clauses(std::uint64_t marker, Tuple& clauses, std::index_sequence<I...>, A after) {
  constexpr bool has_after = !std::is_same_v<A, std::nullptr_t>;
  using First = std::remove_cvref_t<std::tuple_element_t<0, Tuple>>;
  using R = clause_result<First>;
  static_assert(
      (std::is_same_v<R, clause_result<std::remove_cvref_t<std::tuple_element_t<I, Tuple>>>> && ...),
      "every receive clause must return the same type");
  Matcher matcher{&clauses, [](void* ctx, mailbox::Envelope& e) -> int {
                    auto& cs = *static_cast<Tuple*>(ctx);
                    int which = -1;
                    ((which < 0 && clause_matches(std::get<I>(cs), e) ? (which = static_cast<int>(I)) : 0),
                     ...);
                    return which;
                  }};
  int which = -1;
  std::int64_t timeout_ms = -1;
  if constexpr (has_after) timeout_ms = after->ms;
  mailbox::Envelope* e = detail::receive(matcher, which, timeout_ms, marker);
  if constexpr (has_after) {
    if (!e) return after->fn();
  }
  if constexpr (std::is_void_v<R>) {
    ((which == static_cast<int>(I) ? (invoke_clause(std::get<I>(clauses), e), 0) : 0), ...);
  } else {
    std::optional<R> r;
    ((which == static_cast<int>(I) ? (r.emplace(invoke_clause(std::get<I>(clauses), e)), 0) : 0), ...);
    return R(std::move(*r));
  }
}

template <class... Cs>
decltype(auto) receive_marked(std::uint64_t marker, Cs&&... clauses) {
  constexpr std::size_t n = sizeof...(Cs);
  using Last = std::remove_cvref_t<std::tuple_element_t<n - 1, std::tuple<Cs...>>>;
  auto all = std::forward_as_tuple(clauses...);
  if constexpr (is_after<Last>::value) {
    static_assert(n >= 2, "receive() needs a clause besides after()");
    auto handlers = [&]<std::size_t... I>(std::index_sequence<I...>) {
      return std::forward_as_tuple(std::get<I>(all)...);
    }
    (std::make_index_sequence<n - 1>{});
    return receive_clauses(marker, handlers, std::make_index_sequence<n - 1>{}, &std::get<n - 1>(all));
  } else {
    return receive_clauses(marker, all, std::make_index_sequence<n>{}, nullptr);
  }
}

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

// spawn_behaviour() starts a behaviour-style process (see Behaviour). Process only; charges.
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

// receive() takes the first message, in arrival order, that one of the clauses accepts, and runs that
// clause; the other messages stay, in order. A clause is a handler taking a message type (`const T&`,
// `T&`, `T&&` or `T`), or when(guard, handler); a handler taking Message accepts anything. An optional
// last after(timeout, fn) runs fn when nothing matched in time. Returns what the clause returned.
// Process only; charges (one per message scanned); may park.
template <class... Clauses>
decltype(auto) receive(Clauses&&... clauses) {
  return detail::receive_marked(0, std::forward<Clauses>(clauses)...);
}

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

// reply() answers a call() request with a value of its reply type (reply(request) for a void reply). It
// may be called by any process that holds the request, later, after handle() returned. Process only;
// charges.
template <class Req, class R, class... T>
SendResult reply(const RequestOf<Req, R>& request, T&&... value) {
  if constexpr (std::is_void_v<R>) {
    static_assert(sizeof...(T) == 0, "this request's reply_type is void: answer with reply(request)");
    return send(request.from, Reply<void>{request.ref});
  } else {
    static_assert(sizeof...(T) == 1 && (std::is_constructible_v<R, T&&> && ...),
                  "reply(request, value): value must convert to the request's reply_type");
    return send(request.from, Reply<R>{request.ref, R(std::forward<T>(value)...)});
  }
}

namespace detail {
// The reply type of call<R>(server, req): R when given, else the request type's own.
struct reply_of_request {};
template <class R, class Req>
struct call_reply {
  using type = R;
};
template <class Req>
struct call_reply<reply_of_request, Req> {
  using type = typename request_reply<Req>::type;
};
template <class R, class Req>
using call_reply_t = typename call_reply<R, Req>::type;
struct MarkerGuard {
  ~MarkerGuard() { clear_marker(); }
};
}  // namespace detail

// call() sends Request<Req>{self(), ref, req} to `server` and waits for the reply carrying that ref; R is
// the request type's reply_type unless given (call<R>). Costs O(1) whatever the caller's mailbox holds
// (receive marker). Errors: noproc (dead server at send time), timeout. Process only; may park.
template <class R = detail::reply_of_request, class Req>
Expected<detail::call_reply_t<R, std::remove_cvref_t<Req>>, CallError> call(
    Pid server, Req&& request, std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
  using Q = std::remove_cvref_t<Req>;
  using Out = detail::call_reply_t<R, Q>;
  Ref ref = make_ref();
  detail::MarkerGuard clear;  // also if an exit unwinds through the call
  if (send(server, RequestOf<Q, Out>{self(), ref, std::forward<Req>(request)}) == SendResult::noproc)
    return unexpected(CallError::noproc);
  const auto mine = [ref](const Reply<Out>& r) { return r.ref == ref; };
  if constexpr (std::is_void_v<Out>) {
    bool replied = detail::receive_marked(ref.value, when(mine, [](Reply<Out>&) { return true; }),
                                          after(timeout, [] { return false; }));
    if (!replied) return unexpected(CallError::timeout);
    return {};
  } else {
    std::optional<Out> out;
    detail::receive_marked(ref.value, when(mine, [&](Reply<Out>& r) { out.emplace(std::move(r.value)); }),
                           after(timeout, [] {}));
    if (!out) return unexpected(CallError::timeout);
    return std::move(*out);
  }
}

// process_info() describes a live process of this node, nullopt for a dead PID. Process only; charges.
std::optional<ProcessInfo> process_info(Pid pid);
// alive() tells whether `pid` names a live process of the calling process's node. Process only; charges.
bool alive(Pid pid);

}  // namespace myrmex::vm
