#include "scheduler/detail/fiber.h"

#include <pthread.h>

#include <cxxabi.h>

#include <boost/context/detail/fcontext.hpp>

#if defined(__SANITIZE_ADDRESS__)
#define MYRMEX_ASAN 1
#include <sanitizer/common_interface_defs.h>
#endif
#if defined(__SANITIZE_THREAD__)
#define MYRMEX_TSAN 1
#include <sanitizer/tsan_interface.h>
#endif

namespace myrmex::scheduler::detail {

namespace bctx = boost::context::detail;

namespace {

// EhGlobals is libstdc++'s per-thread exception state (__cxa_eh_globals in its ABI, <cxxabi.h> leaves it
// opaque): the stack of caught exceptions (std::current_exception(), `throw;`) and the count behind
// std::uncaught_exceptions(). The C++ runtime knows threads, not fibers, so each fiber keeps its own copy
// while it is switched off, and the thread gets the copy of whichever stack runs on it.
#ifdef __ARM_EABI_UNWINDER__
#error "EhGlobals: the ARM EH ABI adds a field (propagatingExceptions) that would need saving too"
#endif
struct EhGlobals {
  void* caught_exceptions;
  unsigned int uncaught_exceptions;
};

// The thread's EhGlobals, looked up once per thread. initial-exec: no lazy TLS allocation on this path.
thread_local EhGlobals* tls_eh_globals __attribute__((tls_model("initial-exec"))) = nullptr;

// thread_eh_globals() is the calling thread's EhGlobals. Not inlined, and opaque to the optimizer (the asm):
// a fiber that called it before a switch may be on another thread after it, so the compiler must not
// reuse the address it computed for the thread-local (__cxa_get_globals() is even declared const).
__attribute__((noinline)) EhGlobals* thread_eh_globals() {
  EhGlobals* g = tls_eh_globals;
  if (!g) [[unlikely]]
    tls_eh_globals = g = reinterpret_cast<EhGlobals*>(abi::__cxa_get_globals());
  asm volatile("" : "+r"(g)::"memory");
  return g;
}

void finish_switch([[maybe_unused]] SanitizerSide& self) {
#ifdef MYRMEX_ASAN
  __sanitizer_finish_switch_fiber(self.asan_fake_stack, nullptr, nullptr);
#endif
}

}  // namespace

Context make_context(void* stack_top, std::size_t size, FiberEntry entry) {
  // fcontext_t's entry takes a transfer_t, which has the same layout as our Transfer. (The cast goes through
  // void (*)(), the type GCC accepts as "any function", so the deliberate conversion does not warn.)
  static_assert(sizeof(Transfer) == sizeof(bctx::transfer_t));
  static_assert(alignof(Transfer) == alignof(bctx::transfer_t));
  auto any = reinterpret_cast<void (*)()>(entry);
  return bctx::make_fcontext(stack_top, size, reinterpret_cast<void (*)(bctx::transfer_t)>(any));
}

void landed(SanitizerSide& self) {
  finish_switch(self);
  // A new fiber starts with no exception caught or in flight, whatever the stack that jumped here had.
  *thread_eh_globals() = EhGlobals{nullptr, 0};
}

Transfer switch_context(Context to, void* data, [[maybe_unused]] SanitizerSide& self,
                        [[maybe_unused]] const SanitizerSide& target, [[maybe_unused]] bool self_ends) {
  // This stack's exception state waits here, in this frame, on this stack, while it is switched off: every
  // suspended stack is suspended in this function, so each keeps its own copy and it costs a control block
  // nothing. The side that lands restores its own copy (or starts empty: landed()), so no process sees
  // another's exceptions, a fiber that resumes on another thread takes its state along, and a fiber
  // abandoned by jump_from_signal() leaves nothing behind: the loop it lands in restores its own.
  const EhGlobals eh = *thread_eh_globals();
#ifdef MYRMEX_ASAN
  __sanitizer_start_switch_fiber(self_ends ? nullptr : &self.asan_fake_stack, target.stack_bottom,
                                 target.stack_size);
#endif
#ifdef MYRMEX_TSAN
  __tsan_switch_to_fiber(target.tsan_fiber, 0);
#endif
  bctx::transfer_t t = bctx::jump_fcontext(static_cast<bctx::fcontext_t>(to), data);
  finish_switch(self);
  *thread_eh_globals() = eh;  // maybe another thread's than before the jump
  return Transfer{t.fctx, t.data};
}

void jump_from_signal(Context to, void* data) {
  bctx::jump_fcontext(static_cast<bctx::fcontext_t>(to), data);
  __builtin_unreachable();
}

void init_thread_side([[maybe_unused]] SanitizerSide& side) {
#ifdef MYRMEX_FIBER_SANITIZER
  pthread_attr_t attr;
  if (pthread_getattr_np(pthread_self(), &attr) == 0) {
    void* addr = nullptr;
    std::size_t size = 0;
    pthread_attr_getstack(&attr, &addr, &size);
    side.stack_bottom = addr;
    side.stack_size = size;
    pthread_attr_destroy(&attr);
  }
#endif
#ifdef MYRMEX_TSAN
  side.tsan_fiber = __tsan_get_current_fiber();
#endif
}

void init_fiber_side([[maybe_unused]] SanitizerSide& side, [[maybe_unused]] const void* stack_bottom,
                     [[maybe_unused]] std::size_t size) {
#ifdef MYRMEX_FIBER_SANITIZER
  side.stack_bottom = stack_bottom;
  side.stack_size = size;
  side.asan_fake_stack = nullptr;
#endif
#ifdef MYRMEX_TSAN
  side.tsan_fiber = __tsan_create_fiber(0);
#endif
}

void destroy_fiber_side([[maybe_unused]] SanitizerSide& side) {
#ifdef MYRMEX_TSAN
  if (side.tsan_fiber) __tsan_destroy_fiber(side.tsan_fiber);
  side.tsan_fiber = nullptr;
#endif
}

bool under_sanitizer() {
#if defined(MYRMEX_ASAN) || defined(MYRMEX_TSAN)
  return true;
#else
  return false;
#endif
}

}  // namespace myrmex::scheduler::detail
