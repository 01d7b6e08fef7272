// Pieces the W1–W6 workloads share: the node they run on, and processes that count their own exits.
#pragma once

#include <myrmex/myrmex.h>

#include <atomic>
#include <thread>

#include "bench/bench.h"

namespace myrmex::bench {

// schedulers() is the `schedulers=` argument, one per core by default (as erl's +S).
inline long schedulers(const Args& args) {
  return args.get("schedulers", static_cast<long>(std::thread::hardware_concurrency()));
}

inline NodeConfig node_config(const Args& args) {
  NodeConfig c;
  c.scheduler.schedulers = static_cast<unsigned>(schedulers(args));
  return c;
}

// Stop asks a benchmark process to exit.
struct Stop {};

// wait_for_count() yields the calling process until `counter` reaches `target`.
inline void wait_for_count(const std::atomic<long>& counter, long target) {
  while (counter.load(std::memory_order_acquire) < target) yield();
}

// Counted is a behaviour whose destruction (the process is gone, its slot freed) bumps `gone`, so a
// benchmark can wait until every process it stopped has really been reclaimed.
class Counted : public Behaviour {
 public:
  explicit Counted(std::atomic<long>& gone) : gone_(gone) {}
  ~Counted() override { gone_.fetch_add(1, std::memory_order_release); }

 private:
  std::atomic<long>& gone_;
};

// Sleeper bumps `started` on its first activation, then waits, holding no stack, for Stop (W1, the idle
// node, stack RSS).
class Sleeper final : public Counted {
 public:
  Sleeper(std::atomic<long>& started, std::atomic<long>& gone) : Counted(gone), started_(started) {}
  void init() override { started_.fetch_add(1, std::memory_order_relaxed); }
  void handle(Message& m) override {
    if (m.is<Stop>()) stop();
  }

 private:
  std::atomic<long>& started_;
};

}  // namespace myrmex::bench
