// Named yield points: where two threads race, the code says so, and the seeded mode can stop there.
//
// Internal to myrmex. A yield point marks a window between two steps that another thread may interleave
// with (a check and the registration that depends on it, say). In builds with MYRMEX_YIELD_POINTS (meson
// option `yield_points`, on for the sanitizer builds of the test command) each one calls into the seeded
// mode (scheduler/detail/systematic.h), which may hand the turn to another scheduler thread there, or run
// a test's hook; in other builds it compiles to nothing.
//
//   mailbox.add_blocked_sender(id);
//   yield_point("send.blocked.registered");
//   if (target.done) ...
#pragma once

namespace myrmex::scheduler::detail {

#ifdef MYRMEX_YIELD_POINTS
inline constexpr bool kYieldPoints = true;
// reached() is the seeded mode's side of a yield point (systematic.cpp).
void yield_point_reached(const char* name) noexcept;
#else
inline constexpr bool kYieldPoints = false;
inline void yield_point_reached(const char*) noexcept {}
#endif

// yield_point() marks the named race window. `name` is a string literal: "<component>.<step>".
inline void yield_point(const char* name) noexcept {
  if constexpr (kYieldPoints) yield_point_reached(name);
}

}  // namespace myrmex::scheduler::detail
