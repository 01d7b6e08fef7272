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

enum class CallError { noproc, timeout };

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

}  // namespace myrmex::vm
