#include "scheduler/detail/scheduler.h"

#include <cxxabi.h>
#include <hwloc.h>
#include <linux/futex.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <mutex>
#include <utility>

#include "scheduler/detail/watchdog.h"

namespace myrmex::scheduler::detail {

namespace {

// initial-exec: read from the SIGSEGV handler, so it must not need lazy TLS allocation.
thread_local Scheduler* tls_scheduler __attribute__((tls_model("initial-exec"))) = nullptr;

void futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected, const timespec* timeout) {
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT_PRIVATE, expected, timeout, nullptr,
          0);
}

void futex_wake(std::atomic<std::uint32_t>& word) {
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
}

inline void cpu_relax() {
  __builtin_ia32_pause();
}

void write_all(const char* s) {
  std::size_t n = std::strlen(s);
  while (n > 0) {
    ssize_t w = ::write(STDERR_FILENO, s, n);
    if (w <= 0) return;
    s += w;
    n -= static_cast<std::size_t>(w);
  }
}

}  // namespace

// FaultHandler turns a fault on a fiber's guard into the end of that process only. Every other fault goes
// to the handler that was installed before it (the application's, a JIT's, a profiler's), or, if there was
// none, gets the default action (the OS process dies of it, as it would without a node).
struct FaultHandler {
  static constexpr std::size_t kAltStackSize = 64 * 1024;

  // The SIGSEGV and SIGBUS actions in place before ours. Written once, by the sigaction() that installs
  // ours (so before our handler can run), then only read.
  static inline struct sigaction previous_segv {};
  static inline struct sigaction previous_bus {};

  static void install() {
    static std::once_flag once;  // a signal handler is process-wide by nature
    std::call_once(once, [] {
      struct sigaction sa {};
      sa.sa_sigaction = &on_fault;
      // SA_NODEFER: we leave the handler by a context jump, never by returning, so SIGSEGV must not
      // stay blocked. SA_ONSTACK: the faulting stack is exhausted.
      sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
      sigemptyset(&sa.sa_mask);
      sigaction(SIGSEGV, &sa, &previous_segv);
      sigaction(SIGBUS, &sa, &previous_bus);
    });
  }

  static void on_fault(int sig, siginfo_t* info, void* ucontext) {
    Scheduler* s = tls_scheduler;
    Task* t = s ? s->running_ : nullptr;
    if (t && t->stack && t->stack->in_guard(info->si_addr)) {
      char name[64];
      t->describe(name, sizeof name);
      write_all("myrmex: stack overflow in process ");
      write_all(name);
      write_all(
          ": it ran past its fiber stack into the guard below it; it exits with reason stack_overflow\n");
      jump_from_signal(s->loop_context_, reinterpret_cast<void*>(SwitchReason::overflow));
    }
    chain(sig, info, ucontext);
  }

  // chain() hands a fault that is no guard hit to the previous action. A function is called as the kernel
  // would have (its sa_mask and SA_RESETHAND are not replayed); it may repair the fault and return, or
  // leave by a jump. SIG_DFL and SIG_IGN are put back instead: returning re-runs the faulting access, which
  // then gets the default action (the kernel does not let a synchronous fault be ignored).
  static void chain(int sig, siginfo_t* info, void* ucontext) {
    const struct sigaction& old = sig == SIGSEGV ? previous_segv : previous_bus;
    if (old.sa_handler == SIG_DFL || old.sa_handler == SIG_IGN) {
      sigaction(sig, &old, nullptr);
    } else if (old.sa_flags & SA_SIGINFO) {
      old.sa_sigaction(sig, info, ucontext);
    } else {
      old.sa_handler(sig);
    }
  }
};

// TerminateHandler turns std::terminate() on a process's fiber into the end of that process only, as a
// crash in one Erlang process never takes the node down. It happens when an exception reaches a noexcept
// function: an exit signal taking effect at a charge point inside a destructor (C++ cannot tell a charge
// point that it runs in one), or a user's exception out of a noexcept function. The fiber cannot be
// unwound any further, so, as after a stack overflow, it is abandoned: what is on its stack leaks. Every
// other terminate goes to the handler installed before ours.
struct TerminateHandler {
  static inline std::terminate_handler previous = nullptr;  // written once, before ours can run

  static void install() {
    static std::once_flag once;  // the terminate handler is process-wide by nature
    std::call_once(once, [] { previous = std::set_terminate(&on_terminate); });
  }

  [[noreturn]] static void on_terminate() {
    Scheduler* s = Scheduler::current();
    Task* t = s ? s->running_ : nullptr;
    char probe = 0;
    const bool on_its_fiber = t && t->stack && &probe >= t->stack->bottom && &probe < t->stack->top();
    if (!on_its_fiber) {
      if (previous) previous();
      std::abort();
    }
    t->terminating();
    // Release the exception that could not propagate (terminate() holds it as caught): nothing on the
    // abandoned stack will ever end that catch.
    if (std::current_exception()) abi::__cxa_end_catch();
    char name[64];
    t->describe(name, sizeof name);
    std::fprintf(stderr,
                 "myrmex: std::terminate() in process %s (an exception left a noexcept function, such as a "
                 "destructor): the process ends and its stack is abandoned, unwound no further\n",
                 name);
    Scheduler::end_fiber(*t, SwitchReason::terminated);
  }
};

// ---------------------------------------------------------------------------------------------------------
// Scheduler

Scheduler::Scheduler(SchedulerGroup& group, unsigned index)
    : group_(group), index_(index), runnext_seen_(group.config_.schedulers) {}

__attribute__((noinline)) Scheduler* Scheduler::current() {
  Scheduler* s = tls_scheduler;
  asm volatile("" ::: "memory");
  return s;
}

void Scheduler::fiber_entry(Transfer t) {
  Task* task = static_cast<Task*>(t.data);
  landed(task->sanitizer);
  task->scheduler->loop_context_ = t.from;
  for (;;) {
    FiberEnd how = task->run_fiber();
    if (how != FiberEnd::hibernate) end_fiber(*task, SwitchReason::end_finished);
    // The activation left nothing on this stack. If the task woken to run next also needs a fresh fiber,
    // it runs its activation right here: no switch at all (a ring of behaviours hops this way).
    Scheduler* s = task->scheduler;
    Task* next = s->take_runnext(false);
    if (!next) end_fiber(*task, SwitchReason::end_hibernate);
    s->pass_fiber(*task, *next);
    task = next;
  }
}

Task* Scheduler::take_runnext(bool with_fiber) {
  if (budget_ <= 0) return nullptr;
  // Claimed before it is looked at: until then a thief may take it and run it.
  Task* next = take_runnext_any();
  if (!next) return nullptr;
  if ((next->context != nullptr) != with_fiber) {
    runnext_.store(next, std::memory_order_release);  // not for this hand-off: back (only we fill the slot)
    return nullptr;
  }
  share_slice();
  return next;
}

Task* Scheduler::take_runnext_any() {
  if (!runnext_.load(std::memory_order_relaxed)) return nullptr;  // no RMW for an empty slot
  return runnext_.exchange(nullptr, std::memory_order_acquire);
}

void Scheduler::set_runnext(Task& task) {
  // Thieves only ever empty the slot, so an empty one can be filled with a plain store.
  Task* old = runnext_.load(std::memory_order_relaxed);
  if (!old) {
    runnext_.store(&task, std::memory_order_release);
    return;
  }
  if ((old = runnext_.exchange(&task, std::memory_order_acq_rel))) push_local(old);
}

void Scheduler::share_slice() {
  // A task run from runnext inherits what is left of the slice, so a pair passing messages back and forth
  // shares one slice. While others wait in the local queue, it inherits at most an eighth: a pair that
  // keeps waking each other would otherwise hold the core for a whole slice per round of the queue, and
  // a process it woke that is queued behind others (a philosopher, a swapper) would starve.
  // The tasks it is queued behind get the same eighth on their next turn (short_turns_), or a computing
  // process among them would take a whole slice for each eighth the pair got (W6's spinner took 82%).
  const int share = slice_share();
  if (budget_ > share && !local_.empty()) {
    budget_ = share;
    short_turns_ = local_.size();
  }
}

int Scheduler::slice_share() const {
  return group_.config_.reductions / 8;
}

int Scheduler::slice_for_turn() {
  if (short_turns_ == 0) return group_.config_.reductions;
  --short_turns_;
  return slice_share();
}

void Scheduler::pass_fiber(Task& from, Task& to) {
  to.stack = std::exchange(from.stack, nullptr);
  to.sanitizer = from.sanitizer;
  from.sanitizer = {};
  from.context = nullptr;
  from.holds_stack.store(false, std::memory_order_relaxed);
  to.holds_stack.store(true, std::memory_order_relaxed);
  switched_out(from);
  switch_in(to);
  finish_park(&from, /*wake_on_message=*/true);
}

namespace {
// What a fiber that parks passes to the fiber it hands the scheduler to.
struct Handoff {
  Task* parked;
  SwitchReason why;  // park or park_for_message
};
}  // namespace

void Scheduler::switch_out(Task& task, SwitchReason why) {
  Scheduler* s = task.scheduler;
  Transfer t = switch_context(s->loop_context_, reinterpret_cast<void*>(why), task.sanitizer, s->sanitizer_);
  // Resumed, maybe by another scheduler: it set task.scheduler before jumping here.
  task.scheduler->resumed(task, t);
}

void Scheduler::park(Task& task, bool wake_on_message) {
  const SwitchReason why = wake_on_message ? SwitchReason::park_for_message : SwitchReason::park;
  Scheduler* s = task.scheduler;
  Task* next = s->take_runnext(true);
  if (!next) return switch_out(task, why);
  s->switched_out(task);
  s->switch_in(*next);
  Handoff handoff{&task, why};
  Transfer t = switch_context(next->context, &handoff, task.sanitizer, next->sanitizer);
  task.scheduler->resumed(task, t);
}

void Scheduler::resumed(Task& task, Transfer t) {
  if (t.data == &task) {  // the loop's run() resumed us
    loop_context_ = t.from;
    return;
  }
  // A parking fiber jumped here directly. Its stack is no longer in use, so it may now be marked waiting
  // (from then on another scheduler may resume it: read the hand-off record first).
  const Handoff& handoff = *static_cast<Handoff*>(t.data);
  Task* parked = handoff.parked;
  parked->context = t.from;
  after_switch(parked, handoff.why);
}

void Scheduler::end_fiber(Task& task, SwitchReason why) {
  Scheduler* s = task.scheduler;
  switch_context(s->loop_context_, reinterpret_cast<void*>(why), task.sanitizer, s->sanitizer_, true);
  __builtin_unreachable();
}

void Scheduler::run_loop() {
  tls_scheduler = this;
  init_thread_side(sanitizer_);
  stack_t alt{};
  std::vector<char> alt_stack;
  if (group_.config_.catch_stack_overflow && !under_sanitizer()) {
    alt_stack.resize(FaultHandler::kAltStackSize);
    alt.ss_sp = alt_stack.data();
    alt.ss_size = alt_stack.size();
    sigaltstack(&alt, nullptr);
  }
  // Seeded: from here on this thread runs only while it holds the node's turn.
  if (Systematic* c = systematic()) c->attach(index_);
  group_.quiescence_->online(index_);
  while (Task* task = find_work()) run(task);
  group_.quiescence_->offline(index_);
  if (Systematic* c = systematic()) c->detach(index_);
  if (!alt_stack.empty()) {
    alt.ss_flags = SS_DISABLE;
    sigaltstack(&alt, nullptr);
  }
  group_.stacks_.drain(stacks_);
  tls_scheduler = nullptr;
}

void Scheduler::switch_in(Task& task) {
  budget_at_switch_in_ = budget_;
  if (task.scheduler != this) {
    if (task.scheduler) task.migrations.fetch_add(1, std::memory_order_relaxed);
    task.scheduler = this;
  }
  running_ = &task;
  running_id_.store(task.id, std::memory_order_relaxed);
  progress_.store(progress_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  switches_.store(switches_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

void Scheduler::switched_out(Task& task) {
  const auto spent = static_cast<std::uint64_t>(budget_at_switch_in_ - budget_);
  task.reductions.store(task.reductions.load(std::memory_order_relaxed) + spent, std::memory_order_relaxed);
  reductions_.store(reductions_.load(std::memory_order_relaxed) + spent, std::memory_order_relaxed);
}

void Scheduler::run(Task* task) {
  if (!inherit_slice_ || budget_ <= 0) budget_ = slice_for_turn();
  switch_in(*task);
  if (!task->context) {
    task->stack = group_.stacks_.acquire(stacks_);
    task->holds_stack.store(true, std::memory_order_relaxed);
    init_fiber_side(task->sanitizer, task->stack->bottom, task->stack->size);
    task->context = make_context(task->stack->top(), task->stack->size, &fiber_entry);
  }
  Transfer t = switch_context(task->context, task, sanitizer_, task->sanitizer);
  // The task that came back need not be `task`: parking fibers hand the scheduler to each other.
  Task* out = running_;
  running_ = nullptr;
  running_id_.store(0, std::memory_order_relaxed);
  out->context = t.from;
  switched_out(*out);
  after_switch(out, static_cast<SwitchReason>(reinterpret_cast<std::uintptr_t>(t.data)));
}

void Scheduler::after_switch(Task* task, SwitchReason why) {
  if (task->stack && !task->stack->canary_intact()) {
    char name[64];
    task->describe(name, sizeof name);
    std::fprintf(stderr,
                 "myrmex: stack overflow in process %s detected after the fact (no guard page was "
                 "available); memory may be corrupt, aborting\n",
                 name);
    std::abort();
  }
  switch (why) {
    case SwitchReason::yield:
      // The slice is spent: whoever waits in runnext goes before the yielder, so a pair that keeps
      // waking each other cannot starve the queue.
      if (Task* next = take_runnext_any()) push_local(next);
      // Behind everything that waits, the global queue included (Go's Gosched): otherwise a yielder
      // that is alone in the local queue would be picked again and again before the global queue.
      if (group_.global_size_.load(std::memory_order_relaxed) > 0) {
        group_.push_global(task);
      } else {
        push_local(task);
      }
      budget_ = 0;
      return;
    case SwitchReason::park:
    case SwitchReason::park_for_message:
      finish_park(task, why == SwitchReason::park_for_message);
      return;
    case SwitchReason::end_finished:
    case SwitchReason::end_hibernate:
    case SwitchReason::overflow:
    case SwitchReason::terminated:
      task->context = nullptr;
      destroy_fiber_side(task->sanitizer);
      group_.stacks_.release(stacks_, task->stack);
      task->stack = nullptr;
      task->holds_stack.store(false, std::memory_order_relaxed);
      if (why == SwitchReason::end_hibernate) {
        finish_park(task, /*wake_on_message=*/true);
      } else {
        task->fiber_ended(why == SwitchReason::overflow     ? FiberEnd::overflow
                          : why == SwitchReason::terminated ? FiberEnd::terminated
                                                            : FiberEnd::finished);
      }
      return;
  }
}

void Scheduler::finish_park(Task* task, bool wake_on_message) {
  if (task->wake->commit_park(wake_on_message)) return;
  push_local(task);  // notified (or a message came) while it was parking: it must look again
}

void Scheduler::push_local(Task* task) {
  if (!local_.push(task)) {
    // Full: move half of it to the global queue, as Go does, so other schedulers can take it.
    std::array<Task*, RunQueue::kCapacity> batch;
    std::uint32_t n = local_.take_half(batch);
    for (std::uint32_t i = 0; i < n; ++i) group_.push_global(batch[i]);
    local_.push(task);
  }
  group_.wake_one();
}

Task* Scheduler::try_local() {
  inherit_slice_ = false;
  // Now and then look at the global queue first, so tasks there are not starved by local ping-pong.
  if (++ticks_ % 61 == 0)
    if (Task* t = group_.pop_global()) return t;
  if (Task* t = take_runnext_any()) {
    if (budget_ > 0) {
      inherit_slice_ = true;
      share_slice();
      return t;
    }
    // The slice it would inherit is spent: it queues like any other task. Alone, it would come straight
    // back out, so it just starts its own turn, with no wake-up for a thief to take it.
    if (local_.empty()) return t;
    push_local(t);
  }
  if (Task* t = local_.pop()) return t;
  return group_.pop_global_batch(local_);
}

Task* Scheduler::try_steal() {
  const unsigned n = group_.size();
  for (unsigned k = 1; k < n; ++k) {
    const unsigned v = (index_ + k) % n;
    Scheduler& victim = *group_.schedulers_[v];
    if (victim.local_.steal_into(local_) > 0) {
      steals_.fetch_add(1, std::memory_order_relaxed);
      return local_.pop();
    }
    if (Task* t = steal_runnext(victim, runnext_seen_[v])) {
      steals_.fetch_add(1, std::memory_order_relaxed);
      return t;
    }
  }
  return nullptr;
}

Task* Scheduler::steal_runnext(Scheduler& victim, RunnextSeen& seen) {
  // Only a task the victim has left in runnext since our last look, not switching meanwhile: its running
  // task computes on (or the thread is descheduled). A victim that hands messages back and forth switches
  // all the time, and its runnext stays on its core, as it should (Go's runqsteal waits ~3 us instead).
  Task* t = victim.runnext_.load(std::memory_order_acquire);
  const std::uint64_t switches = victim.switches_.load(std::memory_order_relaxed);
  if (!t || t != seen.task || switches != seen.switches) {
    seen = {t, switches};
    return nullptr;
  }
  seen = {};
  return victim.runnext_.compare_exchange_strong(t, nullptr, std::memory_order_acquire) ? t : nullptr;
}

void Scheduler::become_spinning_done() {
  if (!spinning_) return;
  spinning_ = false;
  // The last spinner found work: there may be more, so let another idle scheduler look (Go's
  // resetspinning()).
  if (group_.spinning_.fetch_sub(1, std::memory_order_seq_cst) == 1) group_.wake_one();
}

void Scheduler::fire_timers() {
  if (!wheel_.armed()) return;
  // No timer is due in the millisecond it was armed in (deadline_after()), so one advance per millisecond
  // fires them all; more would only walk the wheel again.
  const std::int64_t now = now_ms();
  if (now == timers_advanced_ms_) return;
  timers_advanced_ms_ = now;
  wheel_.advance(now, [this](TimerRef& r) {
    r.task->timed_out.store(true, std::memory_order_release);
    group_.notify(*r.task);
  });
}

Systematic* Scheduler::systematic() const {
  if constexpr (!kYieldPoints) return nullptr;
  return group_.systematic_.get();
}

namespace {
// IdleTime adds the time from the first start() to the end of its scope to `total` (the owner's counter).
class IdleTime {
 public:
  explicit IdleTime(std::atomic<std::uint64_t>& total) : total_(total) {}
  IdleTime(const IdleTime&) = delete;
  IdleTime& operator=(const IdleTime&) = delete;
  ~IdleTime() {
    if (!started_) return;
    const auto ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - since_);
    total_.store(total_.load(std::memory_order_relaxed) + static_cast<std::uint64_t>(ns.count()),
                 std::memory_order_relaxed);
  }
  void start(std::chrono::steady_clock::time_point now) {
    if (started_) return;
    started_ = true;
    since_ = now;
  }

 private:
  std::atomic<std::uint64_t>& total_;
  bool started_ = false;
  std::chrono::steady_clock::time_point since_{};
};
}  // namespace

Task* Scheduler::find_work() {
  // Seeded, a scheduler spins this many rounds rather than for config.spin: the clock would make the
  // turns depend on timing.
  constexpr int kSeededSpins = 8;
  // Idle from the first look that finds nothing until a task is found: the clock is read only then.
  IdleTime idle(idle_ns_);
  for (;;) {
    if (group_.stopping_.load(std::memory_order_acquire)) return nullptr;
    // Between two task runs, and each time round after a sleep: the seeded mode may hand the turn on.
    yield_point("scheduler.find_work");
    group_.quiescence_->passed(index_);  // between two task runs: no process pointer is held
    fire_timers();
    if (Task* t = try_local()) {
      become_spinning_done();
      return t;
    }
    if (!spinning_) {
      // At most half of the busy schedulers spin (Go's rule): more would burn CPU for nothing.
      int busy = static_cast<int>(group_.size()) - group_.idle_count_.load(std::memory_order_relaxed);
      if (2 * group_.spinning_.load(std::memory_order_relaxed) < busy) {
        spinning_ = true;
        group_.spinning_.fetch_add(1, std::memory_order_seq_cst);
      }
    }
    const auto now = std::chrono::steady_clock::now();
    idle.start(now);
    auto deadline = now + group_.config_.spin;
    int spins = 0;
    do {
      if (Task* t = try_steal()) {
        become_spinning_done();
        return t;
      }
      if (Task* t = group_.pop_global_batch(local_)) {
        become_spinning_done();
        return t;
      }
      fire_timers();
      if (!local_.empty()) break;
      for (int i = 0; i < 64; ++i) cpu_relax();
      yield_point("scheduler.spin");
    } while (spinning_ && (seeded() ? ++spins < (group_.config_.spin.count() > 0 ? kSeededSpins : 1)
                                    : std::chrono::steady_clock::now() < deadline));
    if (!local_.empty()) continue;  // a timer woke a task here
    sleep();
  }
}

bool Scheduler::leave_idle_list() {
  std::lock_guard lock(group_.idle_mutex_);
  if (!in_idle_list_) return false;
  auto& idle = group_.idle_;
  for (auto it = idle.begin(); it != idle.end(); ++it)
    if (*it == this) {
      idle.erase(it);
      break;
    }
  in_idle_list_ = false;
  group_.idle_count_.fetch_sub(1, std::memory_order_seq_cst);
  return true;
}

void Scheduler::sleep() {
  {
    std::lock_guard lock(group_.idle_mutex_);
    sleep_word_.store(0, std::memory_order_relaxed);
    group_.idle_.push_back(this);
    in_idle_list_ = true;
    group_.idle_count_.fetch_add(1, std::memory_order_seq_cst);
  }
  if (spinning_) {
    spinning_ = false;
    group_.spinning_.fetch_sub(1, std::memory_order_seq_cst);
  }
  // seq_cst: we published "idle" above; a pusher publishes its task then reads idle_count_. One of us
  // sees the other, so either it wakes us or we see its task now.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  bool work = group_.has_visible_work() || group_.stopping_.load(std::memory_order_acquire);
  if (!work) {
    sleeps_.fetch_add(1, std::memory_order_relaxed);
    group_.quiescence_->offline(index_);
    std::optional<std::int64_t> due = wheel_.next_due_ms();
    // Deferred frees still waiting: every scheduler may be going to sleep at once, each before it saw the
    // other offline, so nobody would free them. Sleep a tick at most, then look again.
    if (group_.quiescence_->pending()) due = now_ms() + 1;
    // Seeded: a thread that blocks holding the turn would stop the node; it hands the turn on, and takes
    // it back once awake.
    if (Systematic* c = systematic()) c->block(index_);
    while (sleep_word_.load(std::memory_order_acquire) == 0 &&
           !group_.stopping_.load(std::memory_order_acquire)) {
      timespec ts{};
      const timespec* timeout = nullptr;
      if (due) {
        std::int64_t ms = *due - now_ms();
        if (ms <= 0) break;
        ts.tv_sec = ms / 1000;
        ts.tv_nsec = (ms % 1000) * 1000000;
        timeout = &ts;
      }
      futex_wait(sleep_word_, 0, timeout);
    }
    if (Systematic* c = systematic()) c->unblock(index_);
    group_.quiescence_->online(index_);
  }
  if (!leave_idle_list()) {
    // A waker took us off the idle list and counted us as spinning: honour that.
    spinning_ = true;
    wakeups_.fetch_add(1, std::memory_order_relaxed);
  }
}

void Scheduler::wake() {
  // Seeded: eligible for the turn again. Before the store: were it after, the sleeper could wake, run,
  // and block again before this call, and then be handed the turn while blocked.
  if (Systematic* c = systematic()) c->woken(index_);
  // release: the sleeper's acquire load sees everything the waker published before.
  sleep_word_.store(1, std::memory_order_release);
  futex_wake(sleep_word_);
}

SchedulerStats Scheduler::stats() const {
  SchedulerStats s;
  s.switches = switches_.load(std::memory_order_relaxed);
  s.reductions = reductions_.load(std::memory_order_relaxed);
  s.steals = steals_.load(std::memory_order_relaxed);
  s.sleeps = sleeps_.load(std::memory_order_relaxed);
  s.wakeups = wakeups_.load(std::memory_order_relaxed);
  s.long_schedules = long_schedules_.load(std::memory_order_relaxed);
  s.idle_ns = idle_ns_.load(std::memory_order_relaxed);
  s.run_queue = local_.size();
  return s;
}

// ---------------------------------------------------------------------------------------------------------
// SchedulerGroup

namespace {
SchedulerConfig normalized(SchedulerConfig c) {
  if (c.schedulers == 0) c.schedulers = std::max(1u, std::thread::hardware_concurrency());
  c.schedulers = std::min(c.schedulers, kMaxSchedulers);
  if (c.reductions <= 0) c.reductions = 4000;
  return c;
}
}  // namespace

SchedulerGroup::SchedulerGroup(const SchedulerConfig& config, LongScheduleReport report)
    : config_(normalized(config)),
      report_(std::move(report)),
      stacks_(config_.stack_size),
      quiescence_(std::make_unique<Quiescence>(config_.schedulers)) {
  for (unsigned i = 0; i < config_.schedulers; ++i)
    schedulers_.push_back(std::make_unique<Scheduler>(*this, i));
  systematic_ = Systematic::make(config_.schedulers);
  blocking_ = std::make_unique<BlockingPool>(config_.blocking_threads);
  if (config_.catch_stack_overflow && !under_sanitizer()) FaultHandler::install();
  TerminateHandler::install();
  if (config_.pin) {
    hwloc_topology_t topo;
    if (hwloc_topology_init(&topo) == 0 && hwloc_topology_load(topo) == 0) topology_ = topo;
  }
}

SchedulerGroup::~SchedulerGroup() {
  stop();
  if (topology_) hwloc_topology_destroy(static_cast<hwloc_topology_t>(topology_));
}

void SchedulerGroup::start() {
  for (unsigned i = 0; i < size(); ++i)
    threads_.emplace_back([this, i] {
      pin(i);
      schedulers_[i]->run_loop();
    });
  watchdog_ = std::make_unique<Watchdog>(*this);
}

void SchedulerGroup::stop() {
  if (threads_.empty()) return;
  watchdog_.reset();
  stopping_.store(true, std::memory_order_release);
  for (auto& s : schedulers_) s->wake();
  for (auto& t : threads_) t.join();
  threads_.clear();
  blocking_.reset();
}

void SchedulerGroup::pin(unsigned index) {
  if (!topology_) return;
  auto topo = static_cast<hwloc_topology_t>(topology_);
  int cores = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE);
  if (cores <= 0) return;
  hwloc_obj_t core = hwloc_get_obj_by_type(topo, HWLOC_OBJ_CORE, static_cast<unsigned>(index % cores));
  if (core) hwloc_set_cpubind(topo, core->cpuset, HWLOC_CPUBIND_THREAD);
}

void SchedulerGroup::submit(Task& task, bool run_next) {
  Scheduler* s = Scheduler::current();
  if (s && &s->group_ == this) {
    if (run_next && s->running_) {
      s->set_runnext(task);
      return;
    }
    s->push_local(&task);
    return;
  }
  push_global(&task);
  wake_one();
}

void SchedulerGroup::submit_spawned(Task& task) {
  submit(task, true);
  // An idle scheduler comes to look: should the parent compute on rather than park, it steals the child.
  // (Where submit() queued it, it has woken one already, and this returns at once.)
  wake_one();
}

void SchedulerGroup::submit_from_outside(const std::vector<Task*>& tasks) {
  if (tasks.empty()) return;
  {
    std::lock_guard lock(global_mutex_);
    global_.insert(global_.end(), tasks.begin(), tasks.end());
    // seq_cst: pairs with the sleeper's fence in Scheduler::sleep() (has_visible_work()).
    global_size_.fetch_add(static_cast<std::int64_t>(tasks.size()), std::memory_order_seq_cst);
  }
  wake_one();
}

bool SchedulerGroup::mark_notified(Task& task) {
  return task.wake->notify();
}

void SchedulerGroup::run_blocking(Task& self, std::function<void()> job) {
  // 0: running, 1: done but notify() still in flight, 2: the pool no longer touches `self`.
  std::atomic<int> phase{0};
  blocking_->submit([this, &self, &phase, job = std::move(job)] {
    job();
    phase.store(1, std::memory_order_release);
    notify(self);
    phase.store(2, std::memory_order_release);
  });
  for (;;) {
    int p = phase.load(std::memory_order_acquire);
    if (p == 2) return;
    Scheduler::switch_out(self, p == 1 ? SwitchReason::yield : SwitchReason::park);
  }
}

void SchedulerGroup::defer(Quiescence::Callback fn, void* context, std::uint64_t a, std::uint64_t b) {
  Scheduler* s = Scheduler::current();
  if (s && &s->group_ == this) return quiescence_->defer(static_cast<int>(s->index_), fn, context, a, b);
  quiescence_->defer(-1, fn, context, a, b);
  // Only a scheduler passing a quiescent point runs it: if all of them sleep with nothing to do, wake one
  // (a sleeper that saw the pending flag before this would sleep a tick at most; wake_one() covers the
  // others, since each publishes itself idle before it looks at the flag).
  wake_one();
}

void SchedulerGroup::push_global(Task* task) {
  std::lock_guard lock(global_mutex_);
  global_.push_back(task);
  // seq_cst: pairs with the sleeper's fence in Scheduler::sleep() (has_visible_work()).
  global_size_.fetch_add(1, std::memory_order_seq_cst);
}

Task* SchedulerGroup::pop_global() {
  if (global_size_.load(std::memory_order_acquire) <= 0) return nullptr;
  std::lock_guard lock(global_mutex_);
  if (global_.empty()) return nullptr;
  Task* t = global_.front();
  global_.pop_front();
  global_size_.fetch_sub(1, std::memory_order_relaxed);
  return t;
}

Task* SchedulerGroup::pop_global_batch(RunQueue& local) {
  if (global_size_.load(std::memory_order_acquire) <= 0) return nullptr;
  std::lock_guard lock(global_mutex_);
  if (global_.empty()) return nullptr;
  // Go's globrunqget(): a fair share of the global queue, at most half a local queue, so one scheduler
  // does not hoard it and the queue drains in batches rather than one task per look.
  std::size_t n =
      std::min({global_.size() / size() + 1, global_.size(), std::size_t{RunQueue::kCapacity / 2}});
  Task* first = global_.front();
  global_.pop_front();
  std::size_t taken = 1;
  for (; taken < n && local.push(global_.front()); ++taken) global_.pop_front();
  global_size_.fetch_sub(static_cast<std::int64_t>(taken), std::memory_order_relaxed);
  return first;
}

bool SchedulerGroup::has_visible_work() const {
  if (global_size_.load(std::memory_order_seq_cst) > 0) return true;
  for (auto& s : schedulers_)
    if (!s->local_.empty()) return true;
  return false;
}

void SchedulerGroup::wake_one() {
  // seq_cst: the caller just published work; see Scheduler::sleep() for the other half.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (idle_count_.load(std::memory_order_relaxed) == 0) return;
  if (spinning_.load(std::memory_order_relaxed) != 0) return;
  int zero = 0;
  if (!spinning_.compare_exchange_strong(zero, 1, std::memory_order_seq_cst)) return;
  Scheduler* s = nullptr;
  {
    std::lock_guard lock(idle_mutex_);
    if (!idle_.empty()) {
      s = idle_.back();
      idle_.pop_back();
      s->in_idle_list_ = false;
      idle_count_.fetch_sub(1, std::memory_order_seq_cst);
    }
  }
  if (!s) {
    spinning_.fetch_sub(1, std::memory_order_seq_cst);
    return;
  }
  s->wake();
}

std::vector<SchedulerStats> SchedulerGroup::stats() const {
  std::vector<SchedulerStats> out;
  for (auto& s : schedulers_) out.push_back(s->stats());
  return out;
}

bool SchedulerGroup::is_running(std::uint64_t id) const {
  for (const auto& s : schedulers_)
    if (s->running_id_.load(std::memory_order_relaxed) == id) return true;
  return false;
}

std::uint64_t SchedulerGroup::long_schedules() const {
  std::uint64_t n = 0;
  for (auto& s : schedulers_) n += s->long_schedules_.load(std::memory_order_relaxed);
  return n;
}

}  // namespace myrmex::scheduler::detail
