// What the Savina programs (bench/programs/) share: the frame that runs and times them, the failure they
// report when a result is wrong, a pseudo-random generator and Savina's busy work. The Erlang twins share
// bench/programs/savina_common.erl, which implements the same generator and busy work, so both sides draw
// the same numbers and do the same work.
//
// A program is one function run as the first process of a fresh node; it builds its processes, runs to
// the end, checks its result and stops what it started. Its time is the wall time of that function,
// verification included (the Erlang side times once/1 whole, which verifies too); the node's start and
// teardown are not timed.
//
// Internal to the benchmarks.
#pragma once

#include <myrmex/myrmex.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include "bench/bench.h"

namespace myrmex::bench::savina {

// kPatience bounds every wait of a program (a call, a receive): no answer in that long is a failure (a
// lost message, a hang), not a slow run. The Erlang side waits as long.
inline constexpr std::chrono::milliseconds kPatience{60000};

// VerifyError is what fail() throws: the program's process ends with it, and run() reports it.
struct VerifyError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// fail() ends the calling process with a VerifyError saying `what`. A program's processes are linked to
// its first process, so a failure anywhere ends the run. Process only.
[[noreturn]] inline void fail(const std::string& what) {
  throw VerifyError(what);
}

// must() is the value of a call, start or stop that should have worked, or fail()s with the error's reason.
template <class E>
void must(Expected<void, E>&& result, const char* what) {
  if (!result) fail(std::string(what) + " failed: " + result.error().reason.to_string());
}
template <class T, class E>
T must(Expected<T, E>&& result, const char* what) {
  if (!result) fail(std::string(what) + " failed: " + result.error().reason.to_string());
  return std::move(*result);
}

// bad_arguments() reports sizes the program cannot run with and ends the bench with exit status 2 (outside
// any process).
[[noreturn]] inline void bad_arguments(const std::string& item, const std::string& what) {
  std::fprintf(stderr, "%s: %s\n", item.c_str(), what.c_str());
  std::exit(2);
}

// Random is the Park–Miller "minimal standard" generator, x ← 48271·x mod (2^31 − 1): small, the same in
// every language, and its products fit Erlang's small integers. Not thread-safe; one per process.
class Random {
 public:
  static constexpr std::int64_t kModulus = 2147483647;

  // The seed is taken mod 2^31 − 1; 0 (which the generator never leaves) becomes 1.
  explicit Random(std::int64_t seed) : x_(seed % kModulus) {
    if (x_ <= 0) x_ += kModulus - 1;
  }
  // next() is the next number in 1 .. 2^31 − 2.
  std::int64_t next() { return x_ = x_ * 48271 % kModulus; }
  // next_int() is the next number in 0 .. bound − 1 (bound > 0).
  std::int64_t next_int(std::int64_t bound) { return next() % bound; }
  // next_double() is the next number in (0, 1).
  double next_double() { return static_cast<double>(next()) / static_cast<double>(kModulus); }

 private:
  std::int64_t x_;
};

// busy_work() is Savina's processItem(): x plus 100·cost logarithms of numbers from a generator seeded
// with `cost` (one logarithm when cost is 0), a fixed amount of floating-point work per item.
inline double busy_work(double x, long cost) {
  Random random(cost);
  const long steps = cost > 0 ? 100 * cost : 1;
  for (long i = 0; i < steps; ++i) x += std::log(random.next_double() + 0.01);
  return x;
}

// run() is a program's workload: one untimed warm-up and `reps` timed runs (bench/bench.h's repeat()) of
// `program` as the first process of a fresh node with `schedulers` schedulers (both from args: 1 and 3
// by default), then one figure `item` with `params` and schedulers, in ms. A run whose process does not
// end normally (fail(), a crash of a linked process) is reported on stderr and ends the bench with exit
// status 1.
inline void run(const Args& args, const std::string& item, Params params,
                const std::function<void()>& program) {
  const long schedulers = args.get("schedulers", 1L), reps = args.get("reps", 3L);
  const auto once = [&] {
    double ms = 0;
    std::optional<std::string> failure;
    {
      NodeConfig config;
      config.scheduler.schedulers = static_cast<unsigned>(schedulers);
      Node node(config);
      Term reason = node.run([&] {
        Stopwatch clock;
        program();
        ms = clock.ns() / 1e6;
      });
      if (!reason.is_atom("normal")) failure = reason.to_string();
    }  // the node is gone before the bench exits
    if (failure) {
      std::fprintf(stderr, "%s: wrong result or crash: %s\n", item.c_str(), failure->c_str());
      std::exit(1);
    }
    return ms;
  };
  std::vector<double> samples = repeat(reps, once);
  params.add("schedulers", schedulers);
  print({item, params, "ms", samples});
}

}  // namespace myrmex::bench::savina
