// Selective receive: receive() and its clauses, when(guard, handler) and after(timeout, fn), and the
// templates behind them. vm/process.h includes this header.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>

#include "mailbox/message.h"

namespace myrmex::vm {

using mailbox::Message;

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

struct Matcher {
  void* clauses;
  int (*match)(void* clauses, mailbox::Envelope& message);  // index of the accepting clause, or -1
};
// receive() returns the first message some clause accepts (unlinked from the mailbox; `which` says the
// clause), or nullptr after `timeout_ms` (negative: never). `marker` non-zero starts the scan at the
// mailbox position marked by make_ref() for that reference.
mailbox::Envelope* receive(const Matcher& matcher, int& which, std::int64_t timeout_ms, std::uint64_t marker);

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

}  // namespace detail

// receive() takes the first message, in arrival order, that one of the clauses accepts, and runs that
// clause; the other messages stay, in order. A clause is a handler taking a message type (`const T&`,
// `T&`, `T&&` or `T`), or when(guard, handler); a handler taking Message accepts anything. An optional
// last after(timeout, fn) runs fn when nothing matched in time. Returns what the clause returned.
// Process only; charges (one per message scanned); may park.
template <class... Clauses>
decltype(auto) receive(Clauses&&... clauses) {
  return detail::receive_marked(0, std::forward<Clauses>(clauses)...);
}

}  // namespace myrmex::vm
