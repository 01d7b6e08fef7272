// Scheduler (one per thread) and SchedulerGroup (all of a node's schedulers).
//
// Internal to myrmex. The wake protocol follows Go's: at most half of the busy schedulers spin looking for
// work, and a waker starts a spinner only when none spins (so wakes never stampede); a scheduler that
// publishes new work wakes one sleeper only when nobody spins; a scheduler about to
// sleep first publishes itself as idle, then looks at every queue once more, so a push racing with its
// decision is never lost (each side does a seq_cst store then a load: one of them sees the other).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <deque>

#include "scheduler/detail/blocking_pool.h"
#include "scheduler/detail/quiescence.h"
#include "scheduler/detail/run_queue.h"
#include "scheduler/detail/stack_pool.h"
#include "scheduler/detail/systematic.h"
#include "scheduler/detail/task.h"
#include "scheduler/detail/timer_wheel.h"
#include "scheduler/scheduler.h"

namespace myrmex::scheduler::detail {

class SchedulerGroup;
class Watchdog;

// Why a fiber switched back to its scheduler.
// park: until notified; park_for_message: until notified or a message comes (WakeWord's wake_on_payload).
enum class SwitchReason : std::uintptr_t {
  yield,
  park,
  park_for_message,
  end_finished,
  end_hibernate,
  overflow,
  terminated
};

class Scheduler {
 public:
  Scheduler(SchedulerGroup& group, unsigned index);

  // current() is the scheduler of the calling thread, null off scheduler threads. Not inlined on purpose:
  // a fiber may resume on another thread, and the compiler must not reuse a TLS address across a switch.
  static Scheduler* current();

  unsigned index() const { return index_; }
  Task* running() const { return running_; }
  SchedulerGroup& group() { return group_; }
  TimerWheel& wheel() { return wheel_; }
  // unique() is a non-zero value that no other call, on this or any scheduler of the group, returns: a
  // count of this scheduler's with its index in the low bits (Erlang makes its references the same way),
  // so that references made on every core write no shared line. Owner thread only.
  std::uint64_t unique() { return (++unique_count_ << kUniqueIndexBits) | index_; }

  // ---- Fiber side: called by the running task on this scheduler. ----
  // charge() spends `n` reductions; returns true when the slice is spent.
  // What was spent is added to the task's and the scheduler's totals when the task switches out.
  bool charge(int n) {
    budget_ -= n;
    progress_.store(progress_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    return budget_ <= 0;
  }
  // switch_out() returns to the scheduler loop for `why`; returns when the task is resumed (maybe on
  // another scheduler: re-read Scheduler::current() afterwards).
  static void switch_out(Task& task, SwitchReason why);
  // park() suspends `task` until notified or, `wake_on_message`, until a message comes; it returns at
  // once (after a switch) if either came since the task last looked (WakeWord::commit_park()). When the
  // task woken to run next (runnext) has a suspended fiber and the slice is not spent, it jumps straight
  // there, skipping the scheduler loop: one context switch per message hop instead of two.
  static void park(Task& task, bool wake_on_message);
  // end_fiber() leaves the fiber for good.
  [[noreturn]] static void end_fiber(Task& task, SwitchReason why);

  void run_loop();
  void wake();  // any thread: end this scheduler's sleep

  SchedulerStats stats() const;

 private:
  friend class SchedulerGroup;
  friend class Watchdog;
  friend struct FaultHandler;
  friend struct TerminateHandler;

  Task* find_work();
  Task* try_local();
  Task* try_steal();
  void run(Task* task);
  // switch_in() makes `task` the running task; switched_out() accounts for the one that stopped running.
  void switch_in(Task& task);
  void switched_out(Task& task);
  // take_runnext() takes the runnext task for a direct hand-off (no trip through the loop): only if the
  // slice is not spent and the task has a suspended fiber (`with_fiber`) or needs a fresh one (not).
  Task* take_runnext(bool with_fiber);
  // take_runnext_any() empties runnext and returns what it held (owner only).
  Task* take_runnext_any();
  // set_runnext() puts `task` in runnext; what was there moves to the local queue (owner only).
  void set_runnext(Task& task);
  // steal_runnext() takes `victim`'s runnext task if it has been waiting there since our last look
  // (`seen` remembers that look).
  struct RunnextSeen {
    Task* task = nullptr;
    std::uint64_t switches = 0;
  };
  Task* steal_runnext(Scheduler& victim, RunnextSeen& seen);
  // share_slice() caps the slice a runnext task inherits while other tasks wait in the local queue.
  void share_slice();
  // slice_share() is the eighth of a slice that share_slice() caps to; slice_for_turn() is the budget of a
  // task that starts a turn (not inheriting): a whole slice, or the share while short_turns_ last.
  int slice_share() const;
  int slice_for_turn();
  // pass_fiber() hands the running fiber, stack and all, from a task whose activation ended (idle, at
  // top level) to `to`, which needs a fresh fiber; `from` parks without one.
  void pass_fiber(Task& from, Task& to);
  // resumed() runs on `task`'s fiber right after it was resumed by the loop or by a handing-off fiber.
  void resumed(Task& task, Transfer t);
  void after_switch(Task* task, SwitchReason why);
  // finish_park() commits a park once the task's fiber is off its stack, or queues it to look again.
  void finish_park(Task* task, bool wake_on_message);
  void push_local(Task* task);
  void sleep();
  // systematic() is the node's seeded-mode controller (systematic.h), null when it does not run seeded;
  // constant null without yield points, so the calls behind it compile away.
  Systematic* systematic() const;
  bool seeded() const { return systematic() != nullptr; }
  bool leave_idle_list();
  void become_spinning_done();
  void fire_timers();
  static void fiber_entry(Transfer t);

  static constexpr unsigned kUniqueIndexBits = 10;
  static_assert(kMaxSchedulers <= 1u << kUniqueIndexBits);

  SchedulerGroup& group_;
  const unsigned index_;

  // Owner thread only.
  RunQueue local_;
  int budget_ = 0;
  int budget_at_switch_in_ = 0;  // budget_ when the running task was switched in
  std::uint32_t ticks_ = 0;
  bool spinning_ = false;
  Task* running_ = nullptr;
  Context loop_context_ = nullptr;
  [[no_unique_address]] SanitizerSide sanitizer_;
  StackCache stacks_;
  bool inherit_slice_ = false;             // the task find_work() returned came from runnext
  std::uint32_t short_turns_ = 0;          // turns still to run on a share of a slice (share_slice())
  std::uint64_t unique_count_ = 0;         // unique()'s
  std::vector<RunnextSeen> runnext_seen_;  // per scheduler, for steal_runnext()

  // Woken or spawned by the running task: runs next, inheriting the slice. The owner fills it; the owner
  // and thieves (steal_runnext()) empty it. A line of its own: thieves read it while the owner runs.
  alignas(64) std::atomic<Task*> runnext_{nullptr};
  TimerWheel wheel_;
  std::int64_t timers_advanced_ms_ = -1;  // the wheel was last advanced to this millisecond

  // Sleep: the waker sets the word to 1 then futex-wakes; the sleeper waits while it is 0.
  alignas(64) std::atomic<std::uint32_t> sleep_word_{0};
  bool in_idle_list_ = false;  // GUARDED_BY(group_.idle_mutex_)

  // Read by the watchdog and stats from other threads (relaxed: counters).
  alignas(64) std::atomic<std::uint64_t> progress_{0};  // bumped at switch-in and every charge point
  std::atomic<std::uint64_t> running_id_{0};            // non-zero while a task runs (its describe key)
  std::atomic<std::uint64_t> switches_{0};
  std::atomic<std::uint64_t> reductions_{0};
  std::atomic<std::uint64_t> steals_{0};
  std::atomic<std::uint64_t> sleeps_{0};
  std::atomic<std::uint64_t> wakeups_{0};
  std::atomic<std::uint64_t> long_schedules_{0};
  std::atomic<std::uint64_t> idle_ns_{0};
};

class SchedulerGroup {
 public:
  // LongScheduleReport is told about a task that ran `ran` without reaching a charge point.
  using LongScheduleReport =
      std::function<void(unsigned scheduler, std::uint64_t task_id, std::chrono::milliseconds ran)>;

  SchedulerGroup(const SchedulerConfig& config, LongScheduleReport report);
  ~SchedulerGroup();  // stop() must have run

  void start();
  // stop() ends the scheduler threads once they are idle; the node has ended every task before.
  void stop();

  // submit() makes a new or woken task runnable (any thread). With `run_next` and a running task on this
  // thread, the target runs next on the same scheduler, inheriting the slice (no cross-core hop); otherwise
  // it goes to a queue and an idle scheduler is woken.
  void submit(Task& task, bool run_next);
  // submit_spawned() makes a new task runnable. Spawned by a running task, it runs next on the same
  // scheduler, as Go's `go` statement does: a parent that spawns and then waits (fork/join, spawn_monitor)
  // keeps the pair on one core. An idle scheduler is woken all the same, and steals the child if the
  // parent goes on computing (steal_runnext()); a parent that spawns many pushes each earlier child to its
  // queue, where the others take them at once.
  void submit_spawned(Task& task);
  // notify() wakes `task` if it is parked, or makes it look again if it is running (any thread).
  void notify(Task& task) {
    if (mark_notified(task)) submit(task, true);
  }
  // wake_claimed() queues a task whose wake-up the caller claimed with a push (Mailbox::Pushed::wake).
  void wake_claimed(Task& task) { submit(task, true); }
  // mark_notified() is notify() but for the submit: true when `task` was parked and is now runnable, and
  // the caller must submit it (alone, or in a batch with submit_from_outside()).
  bool mark_notified(Task& task);
  // submit_from_outside() queues `tasks` on the global queue under one lock and wakes a scheduler (a
  // thread outside the node waking many: Node::stop()).
  void submit_from_outside(const std::vector<Task*>& tasks);
  // run_blocking() parks the calling task while `job` runs on the blocking pool (fiber side).
  void run_blocking(Task& self, std::function<void()> job);

  const SchedulerConfig& config() const { return config_; }
  unsigned size() const { return static_cast<unsigned>(schedulers_.size()); }
  StackPool& stacks() { return stacks_; }
  // defer() runs fn(context, a, b) once every scheduler has passed a quiescent point, so none still holds
  // a pointer it looked up without a reference (see quiescence.h). Any thread; from outside the schedulers
  // it wakes one, so the callback runs even when the node has nothing else to do.
  void defer(Quiescence::Callback fn, void* context, std::uint64_t a, std::uint64_t b);
  std::vector<SchedulerStats> stats() const;
  std::uint64_t long_schedules() const;
  // is_running() tells whether a scheduler runs the task with this id right now (a hint, for reports).
  bool is_running(std::uint64_t id) const;

 private:
  friend class Scheduler;
  friend class Watchdog;

  void push_global(Task* task);
  Task* pop_global();
  // pop_global_batch() returns one global task and moves a share of the others into `local` (the
  // caller's own, empty queue).
  Task* pop_global_batch(RunQueue& local);
  bool has_visible_work() const;
  void wake_one();  // Go's wakep()
  void pin(unsigned index);

  const SchedulerConfig config_;
  const LongScheduleReport report_;
  StackPool stacks_;
  // Destroyed after stop() joined the threads: its destructor runs what is still deferred.
  std::unique_ptr<Quiescence> quiescence_;
  std::vector<std::unique_ptr<Scheduler>> schedulers_;
  std::vector<std::thread> threads_;
  std::unique_ptr<BlockingPool> blocking_;
  std::unique_ptr<Watchdog> watchdog_;
  // The seeded mode's turn (systematic.h): set at construction while the mode is enabled, else null.
  std::unique_ptr<Systematic> systematic_;
  void* topology_ = nullptr;  // hwloc_topology_t, when pinning

  // The global queue takes overflow and tasks woken from outside the schedulers: a slow path, so a
  // mutex is enough. (moodycamel's queue was here; TSan flags its block reuse, whose fences it cannot
  // model, and a checker we cannot trust here would hide our own races.)
  std::mutex global_mutex_;
  std::deque<Task*> global_;                              // GUARDED_BY(global_mutex_)
  alignas(64) std::atomic<std::int64_t> global_size_{0};  // lets pop_global() skip the lock when empty
  alignas(64) std::atomic<int> spinning_{0};
  std::atomic<int> idle_count_{0};
  std::atomic<bool> stopping_{false};
  std::mutex idle_mutex_;
  std::vector<Scheduler*> idle_;  // GUARDED_BY(idle_mutex_)
};

}  // namespace myrmex::scheduler::detail
