// Task: what a scheduler runs. The vm's process control block derives from it.
//
// Internal to myrmex. A task owns at most one fiber at a time. A function-style process keeps its fiber
// from first run to exit; a behaviour-style process gets a fresh fiber for each activation and gives it
// (and its stack) back when its mailbox runs dry.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "scheduler/detail/fiber.h"
#include "scheduler/detail/timer_wheel.h"
#include "scheduler/detail/wake_word.h"

namespace myrmex::scheduler::detail {

struct Stack;
class Scheduler;

// FiberEnd says why a task's fiber ended for good.
enum class FiberEnd : std::uintptr_t {
  finished,    // the body returned: the task exited
  hibernate,   // a behaviour-style activation found its mailbox empty: park without a stack
  overflow,    // the fiber overran its stack and was abandoned
  terminated,  // std::terminate() ran on the fiber (an exception left a noexcept function); abandoned
};

class Task {
 public:
  Task() = default;
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;

  // run_fiber() is the body, run on the task's fiber. Exceptions must not escape it.
  virtual FiberEnd run_fiber() noexcept = 0;
  // terminating() runs on the task's fiber inside std::terminate(), just before the fiber is abandoned
  // (std::current_exception() is the exception that could not propagate, if any).
  virtual void terminating() noexcept = 0;
  // fiber_ended() runs on the scheduler's stack after the fiber ended with `how`.
  // The task may be destroyed by it: the scheduler touches it no more.
  virtual void fiber_ended(FiberEnd how) noexcept = 0;
  // describe() writes a short name for reports, NUL-terminated. Async-signal-safe.
  virtual void describe(char* out, std::size_t size) const noexcept = 0;

  // Whether it sleeps, and what wakes it (wake_word.h). Set before the task first runs: a process points
  // it at its mailbox's head, so a message and its wake-up are one compare-and-swap.
  WakeWord* wake = nullptr;
  // Key under which reports name the task (the vm stores the PID here).
  std::uint64_t id = 0;

  // Cumulative reductions, added by its scheduler each time it switches out; read by process_info.
  std::atomic<std::uint64_t> reductions{0};
  // Times the task resumed on a different scheduler than last time.
  std::atomic<std::uint32_t> migrations{0};

  // Mirrors `stack != nullptr` for readers on other threads (process_info).
  std::atomic<bool> holds_stack{false};

  // Receive/sleep time-out. `timed_out` is set by the wheel before it notifies.
  TimerRef timer{this};
  std::atomic<bool> timed_out{false};

  // Owned by the scheduler currently running the task (or that last switched it off).
  Context context = nullptr;  // suspended fiber, null when the task holds no fiber
  Stack* stack = nullptr;     // the fiber's stack, null when the task holds none
  [[no_unique_address]] SanitizerSide sanitizer;
  Scheduler* scheduler = nullptr;  // the scheduler running it now / last

 protected:
  ~Task() = default;
};

}  // namespace myrmex::scheduler::detail
