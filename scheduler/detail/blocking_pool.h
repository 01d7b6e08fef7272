// BlockingPool: threads that run blocking calls so schedulers never block in a syscall.
//
// Internal to myrmex. A process calls blocking(fn): it parks, a pool thread runs fn, then wakes it.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace myrmex::scheduler::detail {

class BlockingPool {
 public:
  explicit BlockingPool(unsigned threads);
  ~BlockingPool();  // finishes queued jobs, joins the threads

  // submit() queues `job` (any thread).
  void submit(std::function<void()> job);

 private:
  void work();

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> jobs_;  // GUARDED_BY(mutex_)
  bool stopping_ = false;                   // GUARDED_BY(mutex_)
  std::vector<std::thread> threads_;
};

}  // namespace myrmex::scheduler::detail
