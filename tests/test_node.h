// Helpers shared by the tests: a node with a chosen scheduler count and quiet crash logs.
#pragma once

#include <myrmex/myrmex.h>

#include <doctest/doctest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <thread>

#include "memory/detail/live_counts.h"
#include "scheduler/detail/fiber.h"
#include "scheduler/detail/systematic.h"
#include "scheduler/detail/yield_point.h"

namespace myrmex::test {

inline NodeConfig config(unsigned schedulers) {
  NodeConfig c;
  c.scheduler.schedulers = schedulers;
  c.scheduler.pin = false;  // tests oversubscribe the machine; pinning would only add contention
  c.log_crashes = false;
  return c;
}

// bounded() is spawn options for a mailbox of at most `n` user messages.
inline SpawnOptions bounded(std::size_t n, Overflow policy = Overflow::block) {
  SpawnOptions o;
  o.mailbox_bound = n;
  o.overflow = policy;
  return o;
}

// exception_term() is the exit reason of a process ended by an uncaught exception of `type` with `what`.
inline Term exception_term(const char* type, const char* what) {
  return Term::tuple({Term::atom("exception"), Term::binary(type), Term::binary(what)});
}

// Sanitizer builds run the same properties with smaller counts.
inline long scaled(long n) {
  return scheduler::detail::under_sanitizer() ? n / 10 : n;
}

// wait_until() polls `pred` for up to `limit` (a safety net against hangs, not a timing assertion).
template <class Pred>
bool wait_until(Pred pred, std::chrono::seconds limit = std::chrono::seconds(60)) {
  auto end = std::chrono::steady_clock::now() + limit;
  for (long polls = 0; !pred(); ++polls) {
    if (std::chrono::steady_clock::now() > end) return false;
    // Poll hot for a while (most waits are short), then back off.
    if (polls < 2000) {
      std::this_thread::yield();
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  return true;
}

// eventually() is wait_until() for a process: it sleeps as a process between polls, so the scheduler it
// runs on goes on with the others (the deferred frees of ended processes wait for every scheduler).
template <class Pred>
bool eventually(Pred pred, std::chrono::seconds limit = std::chrono::seconds(60)) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > end) return false;
    myrmex::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

// LiveCounts snapshots the live envelopes, control blocks, behaviours and stacks; grown() describes what
// is alive now that was not at the snapshot ("" when nothing). Take it before a node is made and look
// after it is destroyed.
class LiveCounts {
 public:
  LiveCounts() {
    for (unsigned k = 0; k < kKinds; ++k) at_[k] = memory::detail::live(static_cast<Kind>(k));
  }
  std::string grown() const {
    std::string out;
    for (unsigned k = 0; k < kKinds; ++k) {
      auto kind = static_cast<Kind>(k);
      std::int64_t d = memory::detail::live(kind) - at_[k];
      if (d != 0) out += std::to_string(d) + " " + memory::detail::counted_name(kind) + "; ";
    }
    return out;
  }

 private:
  using Kind = memory::detail::Counted;
  static constexpr unsigned kKinds = static_cast<unsigned>(Kind::kinds);
  std::array<std::int64_t, kKinds> at_{};
};

// YieldHookGuard installs a yield hook (scheduler/detail/systematic.h) for one test and removes it at the
// end, however the test ends. Tests that use one exist only where scheduler::detail::kYieldPoints is true.
struct YieldHookGuard {
  explicit YieldHookGuard(scheduler::detail::YieldHook hook) { scheduler::detail::set_yield_hook(hook); }
  ~YieldHookGuard() { scheduler::detail::set_yield_hook(nullptr); }
  YieldHookGuard(const YieldHookGuard&) = delete;
  YieldHookGuard& operator=(const YieldHookGuard&) = delete;
};

// for_each_seed() runs fn(seed) with the seeded mode on (scheduler/detail/systematic.h), once for each
// seed 1..n, where n is the environment's MYRMEX_SEEDS if set, else `n`; MYRMEX_SEED=k runs seed k only.
// A check that fails inside prints the seed, and MYRMEX_SEED=<it> replays that interleaving. Nodes must
// be constructed inside fn. Returns how many seeds ran. Only where scheduler::detail::kYieldPoints is true.
template <class Fn>
long for_each_seed(long n, Fn&& fn) {
  namespace systematic = scheduler::detail::systematic;
  std::uint64_t first = 1, last = static_cast<std::uint64_t>(n);
  if (const char* e = std::getenv("MYRMEX_SEEDS")) last = std::strtoull(e, nullptr, 10);
  if (const char* e = std::getenv("MYRMEX_SEED")) first = last = std::strtoull(e, nullptr, 10);
  long ran = 0;
  for (std::uint64_t seed = first; seed <= last; ++seed, ++ran) {
    INFO("seed ", seed, " (replay it with MYRMEX_SEED=", seed, ")");
    REQUIRE(systematic::enable(seed));
    struct Off {
      ~Off() { systematic::disable(); }
    } off;
    fn(seed);
  }
  return ran;
}

// wait_all_asleep() returns once every scheduler of `node` has gone to sleep at least once. A seeded run
// replays exactly only if it starts from there (scheduler/detail/systematic.h).
inline void wait_all_asleep(Node& node) {
  wait_until([&] {
    for (auto& s : node.scheduler_stats())
      if (s.sleeps == 0) return false;
    return true;
  });
}

}  // namespace myrmex::test
