// Synchronous calls (gen_server style): call() and reply(), the Request/Reply messages they exchange, and
// the templates behind them. vm/process.h includes this header, and it includes vm/process.h in turn for
// send(), self() and make_ref() (#pragma once makes either order work).
#pragma once

#include <chrono>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>

#include "vm/expected.h"
#include "vm/monitors.h"
#include "vm/pid.h"
#include "vm/process.h"
#include "vm/receive.h"

namespace myrmex::vm {

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

// CallError says why a call() got no reply.
struct CallError {
  enum Kind {
    noproc,   // the server was not alive when the call began
    exited,   // the server ended before it replied; `reason` is its exit reason
    timeout,  // no reply in time (the server may still be working on it)
  };
  Kind kind = timeout;
  Term reason;  // exited: the server's exit reason; noproc: `noproc`; timeout: `timeout`
  friend bool operator==(const CallError& e, Kind k) { return e.kind == k; }
};

namespace detail {
// reply_to() queues `reply` for `to` if `to` still waits in call() for `ref` (its alias), else destroys
// it; `self` is the replying process, already charged.
SendResult reply_to(Process* self, Pid to, Ref ref, mailbox::Envelope* reply);
}  // namespace detail

// reply() answers a call() request with a value of its reply type (reply(request) for a void reply). It
// may be called by any process that holds the request, later, after handle() returned. A reply to a caller
// that gave up (timed out, or saw the server die) is dropped, never left in its mailbox (OTP 24's alias
// semantics): SendResult::noproc then. Replies are never refused by a bounded mailbox. Process only;
// charges.
template <class Req, class R, class... T>
SendResult reply(const RequestOf<Req, R>& request, T&&... value) {
  if constexpr (std::is_void_v<R>) {
    static_assert(sizeof...(T) == 0, "this request's reply_type is void: answer with reply(request)");
    detail::Process* self = detail::sending_process();
    return detail::reply_to(self, request.from, request.ref, mailbox::box(Reply<void>{request.ref}));
  } else {
    static_assert(sizeof...(T) == 1 && (std::is_constructible_v<R, T&&> && ...),
                  "reply(request, value): value must convert to the request's reply_type");
    detail::Process* self = detail::sending_process();
    return detail::reply_to(self, request.from, request.ref,
                            mailbox::box(Reply<R>{request.ref, R(std::forward<T>(value)...)}));
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
// CallScope brackets one call(): a fresh reference that marks the mailbox (so the wait scans only what
// came after it), serves as the caller's alias (replies must carry it) and names a monitor on the server
// (so its death ends the wait). It ends them however the call ends, an exit unwinding through included.
class CallScope {
 public:
  explicit CallScope(Pid server);
  CallScope(const CallScope&) = delete;
  CallScope& operator=(const CallScope&) = delete;
  ~CallScope();
  Ref ref() const { return ref_; }
  // server_alive() is false when the server was dead as the call began (nothing to wait for).
  bool server_alive() const { return alive_; }
  // end() closes the alias and the monitor: nothing for this call is queued afterwards. True when
  // something may have been queued already that the caller did not take (a Down, a late reply).
  bool end();

 private:
  Process* self_;
  Ref ref_;
  bool alive_;
  bool ended_ = false;
};

// flush_call() takes every Reply<Out> and Down for `ref` still queued after the marker.
template <class Out>
void flush_call(Ref ref) {
  const auto reply = [ref](const Reply<Out>& r) { return r.ref == ref; };
  const auto down = [ref](const Down& d) { return d.ref.value == ref.value; };
  while (receive_marked(ref.value, when(reply, [](Reply<Out>&) { return true; }),
                        when(down, [](Down&) { return true; }),
                        after(std::chrono::milliseconds(0), [] { return false; }))) {
  }
}
}  // namespace detail

// call() sends Request<Req>{self(), ref, req} to `server` and waits for the reply carrying that ref; R is
// the request type's reply_type unless given (call<R>). The caller monitors the server meanwhile, so a
// server that dies before replying ends the wait at once. Costs O(1) whatever the caller's mailbox holds
// (receive marker), and leaves nothing behind in it: a reply that comes after the caller gave up is
// dropped. Errors: noproc (the server was dead), exited (it died first; the error carries its exit
// reason), timeout. Process only; may park.
template <class R = detail::reply_of_request, class Req>
Expected<detail::call_reply_t<R, std::remove_cvref_t<Req>>, CallError> call(
    Pid server, Req&& request, std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
  using Q = std::remove_cvref_t<Req>;
  using Out = detail::call_reply_t<R, Q>;
  detail::CallScope scope(server);
  if (!scope.server_alive()) return unexpected(CallError{CallError::noproc, atoms::noproc()});
  const Ref ref = scope.ref();
  send(server, RequestOf<Q, Out>{self(), ref, std::forward<Req>(request)});
  // A server that died since the call began is seen by its Down, like one that dies later.
  const auto mine = [ref](const Reply<Out>& r) { return r.ref == ref; };
  const auto down = [ref](const Down& d) { return d.ref.value == ref.value; };
  std::optional<CallError> error;
  const auto on_down = [&](Down& d) { error = CallError{CallError::exited, std::move(d.reason)}; };
  const auto on_timeout = [&] { error = CallError{CallError::timeout, atoms::timeout()}; };
  if constexpr (std::is_void_v<Out>) {
    detail::receive_marked(ref.value, when(mine, [](Reply<Out>&) {}), when(down, on_down),
                           after(timeout, on_timeout));
    if (scope.end() || error) detail::flush_call<Out>(ref);
    if (error) return unexpected(std::move(*error));
    return {};
  } else {
    std::optional<Out> out;
    detail::receive_marked(ref.value, when(mine, [&](Reply<Out>& r) { out.emplace(std::move(r.value)); }),
                           when(down, on_down), after(timeout, on_timeout));
    if (scope.end() || error) detail::flush_call<Out>(ref);
    if (error) return unexpected(std::move(*error));
    return std::move(*out);
  }
}

}  // namespace myrmex::vm
