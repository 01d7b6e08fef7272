// What the Savina programs philosophers, sieve, radixsort and nqueenk share: their standard arguments, a
// failed check, and one timed run on a fresh node.
#pragma once

#include <myrmex/myrmex.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>

#include "bench/bench.h"

namespace myrmex::bench::programs {

// The arguments every program takes besides its sizes: schedulers=1 and reps=3 unless given.
inline long schedulers_arg(const Args& args) {
  return args.get("schedulers", 1L);
}
inline long reps_arg(const Args& args) {
  return args.get("reps", 3L);
}

// fail() reports a wrong result, or a step that failed, on stderr and ends the OS process with status 1 at
// once. It may be called from any process or thread: nothing is unwound or destroyed.
[[noreturn]] inline void fail(const char* program, const std::string& what) {
  std::fflush(stdout);
  std::fprintf(stderr, "%s: %s\n", program, what.c_str());
  std::fflush(stderr);
  std::_Exit(1);
}

// must() is the value of a call, start or stop that should have worked, or fails the program with the
// error's reason.
template <class E>
void must(Expected<void, E>&& result, const char* program, const char* what) {
  if (!result) fail(program, std::string(what) + " failed: " + result.error().reason.to_string());
}
template <class T, class E>
T must(Expected<T, E>&& result, const char* program, const char* what) {
  if (!result) fail(program, std::string(what) + " failed: " + result.error().reason.to_string());
  return std::move(*result);
}

// timed_run() builds a node of `schedulers` schedulers, runs `program` as its first process, and returns
// the wall milliseconds of that run: the whole program with its checks, not the node's start and stop.
// A program that ends other than normally fails.
template <class F>
double timed_run(const char* name, long schedulers, F&& program) {
  NodeConfig config;
  config.scheduler.schedulers = static_cast<unsigned>(schedulers);
  Node node(config);
  Stopwatch clock;
  const Term reason = node.run(std::forward<F>(program));
  const double ms = clock.ns() / 1e6;
  if (!reason.is_atom("normal")) fail(name, "the program ended with " + reason.to_string());
  return ms;
}

}  // namespace myrmex::bench::programs
