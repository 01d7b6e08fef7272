// Limit: one bare fiber switch, through the same wrapper the scheduler uses (scheduler/detail/fiber.h:
// Boost.Context's fcontext plus the sanitizer hooks), ping-ponging between this thread's stack and one
// fiber's. No run queue, task state or stack pool is involved, so no process switch can cost less.
//
//   myrmex-bench limit_switch iterations=10000000 reps=5
#include <cstddef>
#include <vector>

#include "bench/workloads.h"
#include "scheduler/detail/fiber.h"

namespace myrmex::bench {

namespace {

using scheduler::detail::Context;
using scheduler::detail::SanitizerSide;
using scheduler::detail::Transfer;

constexpr std::size_t kStackSize = 64 * 1024;

// Fiber is one fiber on a plain heap stack, and the sanitizer bookkeeping of both sides of the switch.
struct Fiber {
  std::vector<char> stack = std::vector<char>(kStackSize);
  SanitizerSide thread_side;
  SanitizerSide fiber_side;
};

// bounce() is the fiber: it jumps straight back to whoever switched in, until one switches in with null data.
void bounce(Transfer t) {
  Fiber* f = static_cast<Fiber*>(t.data);
  scheduler::detail::landed(f->fiber_side);
  while (t.data) t = scheduler::detail::switch_context(t.from, f, f->fiber_side, f->thread_side);
  scheduler::detail::switch_context(t.from, nullptr, f->fiber_side, f->thread_side, true);
  __builtin_unreachable();
}

// switch_ns() runs `round_trips` round trips into a fresh fiber and back, and returns ns per one-way switch.
double switch_ns(long round_trips) {
  Fiber f;
  scheduler::detail::init_thread_side(f.thread_side);
  scheduler::detail::init_fiber_side(f.fiber_side, f.stack.data(), f.stack.size());
  Context fiber = scheduler::detail::make_context(f.stack.data() + f.stack.size(), f.stack.size(), &bounce);
  // Untimed first entry: the fiber starts and comes straight back.
  fiber = scheduler::detail::switch_context(fiber, &f, f.thread_side, f.fiber_side).from;
  Stopwatch clock;
  for (long i = 0; i < round_trips; ++i)
    fiber = scheduler::detail::switch_context(fiber, &f, f.thread_side, f.fiber_side).from;
  double ns = clock.ns();
  scheduler::detail::switch_context(fiber, nullptr, f.thread_side, f.fiber_side);  // lets the fiber end
  scheduler::detail::destroy_fiber_side(f.fiber_side);
  return ns / (2.0 * static_cast<double>(round_trips));
}

}  // namespace

void limit_context_switch(const Args& args) {
  long reps = args.get("reps", 5L);
  long iterations = args.get("iterations", 10'000'000L);
  print(Figure{.item = "limit.context_switch",
               .params = Params(),
               .unit = "ns/switch",
               .samples = repeat(reps, [&] { return switch_ns(iterations); }),
               .impl = "limit"});
}

}  // namespace myrmex::bench
