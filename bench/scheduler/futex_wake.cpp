// Limit: handing control from one OS thread to another and back, bare. A scheduler that parks idle threads on
// a futex pays at least the futex round trip to wake one, and one that spins instead pays at least the
// spinning hand-off; so no cross-scheduler message that finds its receiver's scheduler asleep (or spinning)
// can be answered faster.
//  - futex: each thread sleeps in FUTEX_WAIT_PRIVATE until the other moves the shared word on and calls
//    FUTEX_WAKE_PRIVATE, with the two threads pinned to different CPUs, then to the same one;
//  - spin: the same hand-off with both threads spinning (pause) on the word, on different CPUs.
//
// limit_handoff is the spin figure alone, short (a few ms), with a `label`: bench/run takes it right before
// each program of W10, because this VM's host switches between two modes in spells of seconds to minutes,
// with a cache-line round trip between our two vCPUs of ~80 ns or of ~400 ns; a program that passes
// messages between schedulers runs ~3× slower in the second (philosophers: 100 against 370 ms).
//
//   myrmex-bench limit_futex round_trips=20000 reps=5
//   myrmex-bench limit_handoff label=philosophers
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include "bench/workloads.h"

namespace myrmex::bench {

namespace {

// Baton is the one word the two threads pass control through: each hands over by storing the next count and
// then waits until the count moves past the one it stored. One word and no reset store, so one cache line
// changes hands per hand-off, the least any hand-off can move.
struct alignas(64) Baton {
  std::atomic<std::uint32_t> count{0};
};

void futex(Baton& b, int op, std::uint32_t value) {
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&b.count), op, value, nullptr, nullptr, 0);
}

// Release on the hand, acquire on the wait: what one thread wrote before handing over is seen after the wait.
void futex_wait(Baton& b, std::uint32_t handed) {
  while (b.count.load(std::memory_order_acquire) == handed) futex(b, FUTEX_WAIT_PRIVATE, handed);
}

void futex_hand(Baton& b, std::uint32_t count) {
  b.count.store(count, std::memory_order_release);
  futex(b, FUTEX_WAKE_PRIVATE, 1);
}

void spin_wait(Baton& b, std::uint32_t handed) {
  while (b.count.load(std::memory_order_acquire) == handed) __builtin_ia32_pause();
}

void spin_hand(Baton& b, std::uint32_t count) {
  b.count.store(count, std::memory_order_release);
}

// Handoff is a way to hand the baton to the other thread and to wait for it back.
struct Handoff {
  void (*wait)(Baton&, std::uint32_t handed);
  void (*hand)(Baton&, std::uint32_t count);
};

constexpr Handoff kFutex{futex_wait, futex_hand};
constexpr Handoff kSpin{spin_wait, spin_hand};

// allowed_cpus() is the CPUs this OS process may run on, lowest first.
std::vector<int> allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  sched_getaffinity(0, sizeof set, &set);
  std::vector<int> cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
    if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
  return cpus;
}

// pin() binds the calling thread to `cpu`.
void pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (pthread_setaffinity_np(pthread_self(), sizeof set, &set) != 0) {
    std::fprintf(stderr, "limit_futex: cannot pin a thread to CPU %d\n", cpu);
    std::exit(1);
  }
}

// round_trip_ns() runs `round_trips` hand-offs there and back between a thread on `cpu_a` and one on `cpu_b`,
// and returns ns per round trip.
double round_trip_ns(const Handoff& how, long round_trips, int cpu_a, int cpu_b) {
  // Round trip i hands the baton over with count 2i + 1 and back with 2i + 2; round trip 0 is untimed, so
  // both threads are running and pinned when the clock starts.
  Baton baton;
  std::thread echo([&] {
    pin(cpu_b);
    for (long i = 0; i <= round_trips; ++i) {
      auto back = static_cast<std::uint32_t>(2 * i);
      how.wait(baton, back);
      how.hand(baton, back + 2);
    }
  });
  double ns = 0;
  std::thread ping([&] {
    pin(cpu_a);
    auto round_trip = [&](long i) {
      auto there = static_cast<std::uint32_t>(2 * i + 1);
      how.hand(baton, there);
      how.wait(baton, there);
    };
    round_trip(0);
    Stopwatch clock;
    for (long i = 1; i <= round_trips; ++i) round_trip(i);
    ns = clock.ns() / static_cast<double>(round_trips);
  });
  ping.join();
  echo.join();
  return ns;
}

}  // namespace

void limit_futex_wake(const Args& args) {
  long reps = args.get("reps", 5L);
  long round_trips = args.get("round_trips", 20'000L);
  std::vector<int> cpus = allowed_cpus();
  auto figure = [&](const char* item, Params params, const Handoff& how, int cpu_a, int cpu_b) {
    print(Figure{.item = item,
                 .params = params,
                 .unit = "ns/rt",
                 .samples = repeat(reps, [&] { return round_trip_ns(how, round_trips, cpu_a, cpu_b); }),
                 .impl = "limit"});
  };
  if (cpus.size() < 2) {
    std::fprintf(stderr, "limit_futex: one CPU only, so no figures across CPUs\n");
    figure("limit.futex_wake_rtt", Params().add("cores", "same"), kFutex, cpus[0], cpus[0]);
    return;
  }
  figure("limit.futex_wake_rtt", Params().add("cores", "different"), kFutex, cpus[0], cpus[1]);
  figure("limit.futex_wake_rtt", Params().add("cores", "same"), kFutex, cpus[0], cpus[0]);
  figure("limit.spin_handoff_rtt", Params(), kSpin, cpus[0], cpus[1]);
}

void limit_handoff(const Args& args) {
  long reps = args.get("reps", 3L);
  long round_trips = args.get("round_trips", 20'000L);
  std::vector<int> cpus = allowed_cpus();
  if (cpus.size() < 2) return;  // nothing crosses CPUs
  print(Figure{.item = "limit.handoff_rtt",
               .params = Params().add("label", args.get("label", std::string("-"))),
               .unit = "ns/rt",
               .samples = repeat(reps, [&] { return round_trip_ns(kSpin, round_trips, cpus[0], cpus[1]); }),
               .impl = "limit"});
}

}  // namespace myrmex::bench
