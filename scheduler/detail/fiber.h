// Fiber switching: Boost.Context's fcontext plus what every switch must carry along: the sanitizer
// annotations, and the C++ runtime's per-thread exception state.
//
// Internal to myrmex. The only place that knows about fcontext_t, about ASan/TSan fiber APIs and about
// __cxa_get_globals(), so the scheduler reads as plain "switch to that context" code.
//
// Exception state is per fiber: libstdc++ keeps the caught-exceptions stack (std::current_exception(),
// `throw;`) and std::uncaught_exceptions() per thread, so a switch stores the thread's state on the
// outgoing stack and the side that lands loads its own back (a new fiber starts with none). A process may
// therefore park inside a catch block or in a destructor run by unwinding, and resume on any thread.
#pragma once

#include <cstddef>

namespace myrmex::scheduler::detail {

// Context is a suspended machine context (an fcontext_t). Null means "no context".
using Context = void*;

// Transfer is what a switch delivers to the side that lands: the context that jumped here and its payload.
struct Transfer {
  Context from;
  void* data;
};

using FiberEntry = void (*)(Transfer);

// SanitizerSide is the sanitizer bookkeeping for one stack (a fiber's, or a scheduler thread's own).
// Fields are plain: each is touched only by the thread currently running on or switching to that stack.
// Without a sanitizer it is empty, so a million process control blocks do not carry it.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define MYRMEX_FIBER_SANITIZER 1
struct SanitizerSide {
  void* tsan_fiber = nullptr;       // TSan's fiber handle
  void* asan_fake_stack = nullptr;  // ASan's fake-stack save slot
  const void* stack_bottom = nullptr;
  std::size_t stack_size = 0;
};
#else
struct SanitizerSide {};
#endif

// make_context() prepares a context that starts `entry` on the stack [top - size, top).
Context make_context(void* stack_top, std::size_t size, FiberEntry entry);

// switch_context() jumps from the running stack (`self`) to `to` (whose stack is `target`), passing `data`.
// Returns when some context jumps back here, maybe on another thread, with this stack's exception state
// back in place. `self_ends` says the running fiber will never be resumed, so ASan may free its fake stack.
Transfer switch_context(Context to, void* data, SanitizerSide& self, const SanitizerSide& target,
                        bool self_ends = false);

// jump_from_signal() abandons the running fiber from a signal handler and lands in `to`, which must be
// suspended in switch_context() (it then restores its own exception state: the abandoned fiber's
// exceptions are never freed, but they do not leak into the thread).
[[noreturn]] void jump_from_signal(Context to, void* data);

// landed() must be the first thing a new fiber does: it finishes the sanitizer switch and clears the
// thread's exception state, which still is that of the stack that jumped here.
void landed(SanitizerSide& self);

// Sanitizer fiber handles for a thread's own stack and for new fibers (no-ops without TSan/ASan).
void init_thread_side(SanitizerSide& side);
void init_fiber_side(SanitizerSide& side, const void* stack_bottom, std::size_t size);
void destroy_fiber_side(SanitizerSide& side);

// Whether this build runs under ASan or TSan (some tests of signal handling skip there).
bool under_sanitizer();

}  // namespace myrmex::scheduler::detail
