// Scheduler configuration and statistics: the public face of the scheduler layer.
//
// A node runs one scheduler thread per core by default. Each has a local run queue; idle schedulers steal
// from busy ones, spin briefly, then sleep, so an idle node uses no CPU. Processes are cooperative: API
// calls charge *reductions* against a per-slice budget and a process that spent it yields.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace myrmex::scheduler {

// kMaxSchedulers is the most scheduler threads a node runs (Erlang's limit too).
inline constexpr unsigned kMaxSchedulers = 1024;

// SchedulerConfig is how a node runs its schedulers. Every field has a usable default.
struct SchedulerConfig {
  // Number of scheduler threads; 0 means one per core. At most kMaxSchedulers (more are cut to it).
  unsigned schedulers = 0;
  // Pin scheduler i to core i (via hwloc).
  bool pin = true;
  // Reductions per time slice (BEAM: 4000).
  int reductions = 4000;
  // Usable bytes of each fiber stack (a 64 KiB guard lies below each, so a frame of up to 64 KiB that
  // overflows faults in it even in code built without -fstack-clash-protection).
  std::size_t stack_size = 256 * 1024;
  // How long an idle scheduler keeps looking for work before it sleeps.
  std::chrono::microseconds spin = std::chrono::microseconds(50);
  // Threads that run blocking() calls.
  unsigned blocking_threads = 4;
  // A process that runs this long without reaching a charge point is reported (long_schedule).
  std::chrono::milliseconds long_schedule = std::chrono::milliseconds(100);
  // Catch fiber stack overflows (SIGSEGV in a stack's guard) and end only that process. The handler is
  // installed once per OS process; other faults go on to the SIGSEGV/SIGBUS action that was in place
  // before it (or get the default action).
  bool catch_stack_overflow = true;
};

// SchedulerStats is a snapshot of one scheduler's counters (monotonic since node start, except
// run_queue which is the current length).
struct SchedulerStats {
  std::uint64_t switches = 0;        // times a process was switched in
  std::uint64_t reductions = 0;      // reductions charged by processes running here
  std::uint64_t steals = 0;          // tasks stolen from other schedulers
  std::uint64_t sleeps = 0;          // times this scheduler went to sleep
  std::uint64_t wakeups = 0;         // times another thread woke it
  std::uint64_t long_schedules = 0;  // long_schedule reports about processes running here
  // Nanoseconds it spent with nothing to run: looking for work (spinning, stealing) or asleep. What
  // Erlang's scheduler_wall_time gives as total minus active time.
  std::uint64_t idle_ns = 0;
  std::uint32_t run_queue = 0;  // tasks in its local queue now
};

}  // namespace myrmex::scheduler
