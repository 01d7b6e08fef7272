// Helpers shared by the tests of links, monitors, exit signals and call (tests/vm/links_test.cpp,
// monitors_test.cpp, exit_signals_test.cpp, call_test.cpp, links_stress_test.cpp). Process only, unless
// a comment says otherwise.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "scheduler/detail/scheduler.h"
#include "tests/test_node.h"

namespace myrmex::test {

// The scheduler counts each of these tests runs at.
inline constexpr unsigned kSchedulerCounts[] = {1, 2};

inline constexpr std::chrono::milliseconds kPatience{10000};  // a safety net against hangs, not a timing

// next_exit() takes the oldest Exit in the caller's mailbox, waiting up to `limit`; nullopt if none came.
inline std::optional<Exit> next_exit(std::chrono::milliseconds limit = kPatience) {
  return receive([](Exit& e) { return std::optional<Exit>(std::move(e)); },
                 after(limit, [] { return std::optional<Exit>(); }));
}

// next_exit_from() takes the oldest Exit from `from`, waiting up to `limit`.
inline std::optional<Exit> next_exit_from(Pid from, std::chrono::milliseconds limit = kPatience) {
  return receive(when([from](const Exit& e) { return e.from == from; },
                      [](Exit& e) { return std::optional<Exit>(std::move(e)); }),
                 after(limit, [] { return std::optional<Exit>(); }));
}

// next_down() takes the Down of monitor `ref`, waiting up to `limit`.
inline std::optional<Down> next_down(MonitorRef ref, std::chrono::milliseconds limit = kPatience) {
  return receive(when([ref](const Down& d) { return d.ref == ref; },
                      [](Down& d) { return std::optional<Down>(std::move(d)); }),
                 after(limit, [] { return std::optional<Down>(); }));
}

// down_reason() is the reason in monitor `ref`'s Down, or "(no Down)" if none came within `limit`.
inline std::string down_reason(MonitorRef ref, std::chrono::milliseconds limit = kPatience) {
  std::optional<Down> d = next_down(ref, limit);
  return d ? d->reason.to_string() : std::string("(no Down)");
}

// exit_reason() monitors `pid` and returns its exit reason ("noproc" if it is gone already).
inline std::string exit_reason(Pid pid, std::chrono::milliseconds limit = kPatience) {
  return down_reason(monitor(pid), limit);
}

// wait_gone() returns true once `pid`'s exit has run to its end: every Exit and Down it sends is queued by
// then (process_info() finds a process until it is retired, which comes after its links and monitors fired).
// alive() first: it is cheaper than process_info(), which copies the relations (100k links, say).
inline bool wait_gone(Pid pid, std::chrono::milliseconds limit = std::chrono::seconds(60)) {
  const auto end = std::chrono::steady_clock::now() + limit;
  for (long polls = 0; alive(pid) || process_info(pid); ++polls) {
    if (std::chrono::steady_clock::now() > end) return false;
    if (polls < 1000) {
      yield();
    } else {
      sleep_for(std::chrono::milliseconds(1));
    }
  }
  return true;
}

// queued() is the number of user messages waiting in the caller's mailbox.
inline std::size_t queued() {
  return process_info(self())->message_queue_len;
}

// links_of(), monitors_of(), monitored_by() are process_info()'s lists, sorted (empty for a dead PID).
inline std::vector<Pid> sorted(std::vector<Pid> v) {
  std::sort(v.begin(), v.end());
  return v;
}
inline std::vector<Pid> links_of(Pid pid) {
  auto info = process_info(pid);
  return info ? sorted(info->links) : std::vector<Pid>{};
}
inline std::vector<Pid> monitors_of(Pid pid) {
  auto info = process_info(pid);
  return info ? sorted(info->monitors) : std::vector<Pid>{};
}
inline std::vector<Pid> monitored_by(Pid pid) {
  auto info = process_info(pid);
  return info ? sorted(info->monitored_by) : std::vector<Pid>{};
}

// to_string() of a PID list, for failure messages.
inline std::string to_string(const std::vector<Pid>& pids) {
  std::string s = "[";
  for (const Pid& p : pids) {
    if (s.size() > 1) s += ',';
    s += p.to_string();
  }
  s += ']';
  return s;
}

// crash() is a reason that names `what` and `n`: {what, n}.
inline Term crash(const char* what, long n = 0) {
  return Term::tuple({Term::atom(what), Term(static_cast<std::int64_t>(n))});
}

// ---------------------------------------------------------------------------------------------------------
// Races across schedulers. A process and one it spawns usually run on one scheduler (the child goes to the
// spawner's `runnext`), so a race between them is an interleaving on one thread, not a race. race_apart()
// keeps the two sides on different schedulers.

// scheduler_index() is the index of the scheduler running the caller.
inline int scheduler_index() {
  return static_cast<int>(scheduler::detail::Scheduler::current()->index());
}

// spin_until() polls `pred`, yielding in between and never parking (so that the caller's scheduler never
// runs dry and steals another's processes), until it holds or `limit` passed. True if it held.
template <class Pred>
bool spin_until(Pred pred, std::chrono::milliseconds limit = std::chrono::seconds(60)) {
  const auto end = std::chrono::steady_clock::now() + limit;
  for (long polls = 1; !pred(); ++polls) {
    if (polls % 1024 == 0 && std::chrono::steady_clock::now() > end) return false;
    yield();
  }
  return true;
}

// race_apart() runs `rounds` rounds of a race between `batch` targets and a racer, on different schedulers
// when the node has two. Each round a spawner process starts the targets (target(round, k) is the body of
// the k-th) on its scheduler, and a racer process, which never parks between rounds and so stays on the
// other scheduler, runs racer(round, targets) at once; that returns the scheduler index where its racing
// step ran (scheduler_index()). Both wait for the other's end of the round, and race_apart() waits until
// every target is gone. Returns the number of targets whose end ran on another scheduler than the racer's
// step: the races that were real. Process only.
template <class Target, class Racer>
long race_apart(unsigned schedulers, long rounds, int batch, Target target, Racer racer) {
  struct Shared {
    std::atomic<long> ready{-1}, done{-1};
    std::atomic<int> spawner_at{-1}, racer_at{-2};
    std::vector<Pid> targets;  // written by the spawner before `ready`, read by the racer after it
    std::unique_ptr<std::atomic<int>[]> target_at;  // each target's scheduler as it ended
    long cross = 0;                                 // the racer's
  } s;
  s.target_at = std::make_unique<std::atomic<int>[]>(static_cast<std::size_t>(batch));
  const Pid caller = self();
  const Pid spawner = spawn([&s, target, rounds, batch, schedulers] {
    for (long r = 0; r < rounds; ++r) {
      spin_until([&] {
        s.spawner_at = scheduler_index();
        return s.done.load() == r - 1;
      });
      // Apart from the racer: of two processes that spin on one scheduler, the other scheduler steals one.
      if (schedulers > 1)
        spin_until(
            [&] {
              s.spawner_at = scheduler_index();
              return s.spawner_at.load() != s.racer_at.load();
            },
            std::chrono::milliseconds(100));
      s.targets.clear();
      for (int k = 0; k < batch; ++k) {
        std::atomic<int>* at = &s.target_at[static_cast<std::size_t>(k)];
        at->store(-1);
        s.targets.push_back(spawn([at, target, r, k] {
          struct Mark {
            std::atomic<int>* at;
            ~Mark() { at->store(scheduler_index()); }  // as it ends, however it ends
          } mark{at};
          target(r, k);
        }));
      }
      s.ready = r;
      yield();  // the targets run here
    }
  });
  auto [racing, racing_ref] = spawn_monitor([&s, racer, rounds, batch, caller] {
    for (long r = 0; r < rounds; ++r) {
      spin_until([&] {
        s.racer_at = scheduler_index();
        return s.ready.load() == r;
      });
      const int at = racer(r, s.targets);
      for (Pid t : s.targets) wait_gone(t);
      for (int k = 0; k < batch; ++k) s.cross += s.target_at[static_cast<std::size_t>(k)].load() != at;
      s.racer_at = scheduler_index();
      s.done = r;
    }
    send(caller, s.cross);
  });
  // A racer that failed a REQUIRE ends: -1 then. Nothing may use `s` once we return.
  const long cross =
      receive([](long n) { return n; },
              when([ref = racing_ref](const Down& d) { return d.ref == ref; }, [](Down&) { return -1L; }));
  exit(spawner, Term::atom("kill"));
  wait_gone(spawner);
  wait_gone(racing);
  demonitor(racing_ref, flush);  // its Down, when it ended normally
  for (Pid t : s.targets) wait_gone(t);
  return cross;
}

}  // namespace myrmex::test
