// Watchdog: reports a task that runs too long without reaching a charge point (BEAM's long_schedule).
//
// Internal to myrmex. C++ cannot be preempted safely, so a loop without charge points hogs its scheduler;
// this thread samples each scheduler's progress counter and reports a task whose counter stood still for
// longer than the configured limit, once per stall. It also wakes an idle scheduler when a task waits in
// a scheduler's runnext slot while that scheduler does not switch (see Scheduler::steal_runnext()).
#pragma once

#include <condition_variable>
#include <mutex>
#include <thread>

namespace myrmex::scheduler::detail {

class SchedulerGroup;

class Watchdog {
 public:
  explicit Watchdog(SchedulerGroup& group);
  ~Watchdog();  // stops and joins

 private:
  void watch();

  SchedulerGroup& group_;
  std::mutex mutex_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;  // GUARDED_BY(mutex_)
  std::thread thread_;
};

}  // namespace myrmex::scheduler::detail
