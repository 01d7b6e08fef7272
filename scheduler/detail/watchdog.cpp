#include "scheduler/detail/watchdog.h"

#include <chrono>
#include <utility>
#include <vector>

#include "scheduler/detail/scheduler.h"

namespace myrmex::scheduler::detail {

Watchdog::Watchdog(SchedulerGroup& group) : group_(group), thread_([this] { watch(); }) {}

Watchdog::~Watchdog() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  thread_.join();
}

void Watchdog::watch() {
  using namespace std::chrono;
  struct Seen {
    std::uint64_t progress = 0;
    std::uint64_t task = 0;
    std::uint64_t switches = 0;
    steady_clock::time_point since{};
    bool reported = false;
  };
  const auto limit = group_.config().long_schedule;
  const auto period = std::max(milliseconds(1), duration_cast<milliseconds>(limit / 4));
  // After a second with no process running, look once a second only: an idle node must cost ~no CPU
  // (each wake-up of this thread costs ~0.4 ms of CPU on our VMs). A process that then runs too long is
  // reported at most a second late.
  const auto idle_period = std::max(period, duration_cast<milliseconds>(seconds(1)));
  const long idle_rounds_before_backoff = std::max<long>(1, static_cast<long>(seconds(1) / period));
  long idle_rounds = 0;
  std::vector<Seen> seen(group_.size());
  std::unique_lock lock(mutex_);
  while (!stop_cv_.wait_for(lock, idle_rounds >= idle_rounds_before_backoff ? idle_period : period,
                            [this] { return stopping_; })) {
    auto now = steady_clock::now();
    bool any_running = false;
    for (unsigned i = 0; i < group_.size(); ++i) {
      Scheduler& s = *group_.schedulers_[i];
      std::uint64_t progress = s.progress_.load(std::memory_order_relaxed);
      std::uint64_t task = s.running_id_.load(std::memory_order_relaxed);
      any_running |= task != 0;
      Seen& last = seen[i];
      // A task waiting in runnext while its scheduler has not switched for a whole round: the idle
      // schedulers may all be asleep, none spinning to steal it. Wake one (it steals on its second look).
      const std::uint64_t switches =
          std::exchange(last.switches, s.switches_.load(std::memory_order_relaxed));
      if (s.runnext_.load(std::memory_order_relaxed) && switches == last.switches) group_.wake_one();
      if (task == 0 || progress != last.progress || task != last.task) {
        last = Seen{progress, task, last.switches, now, false};
        continue;
      }
      auto ran = duration_cast<milliseconds>(now - last.since);
      if (!last.reported && ran >= limit) {
        last.reported = true;
        s.long_schedules_.fetch_add(1, std::memory_order_relaxed);
        if (group_.report_) group_.report_(i, task, ran);
      }
    }
    idle_rounds = any_running ? 0 : idle_rounds + 1;
  }
}

}  // namespace myrmex::scheduler::detail
