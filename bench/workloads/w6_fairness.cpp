// W6: W3's ping-pong on ONE scheduler, alone and beside a process that spins forever (charging
// reductions, never receiving). Also reports the spinner's share of the CPU while the pair plays.
#include "bench/workloads.h"
#include "bench/workloads/common.h"
#include "bench/workloads/pingpong.h"

namespace myrmex::bench {

namespace {

// spin() does a little arithmetic per reduction, as an Erlang loop does per function call, and bumps
// `laps` every 1000 iterations so its progress can be measured from outside.
void spin(std::atomic<long>& laps) {
  std::uint64_t x = 1;
  for (;;) {
    for (int i = 0; i < 1000; ++i) {
      x = x * 6364136223846793005u + 1442695040888963407u;
      consume(1);
    }
    laps.fetch_add(1, std::memory_order_relaxed);
    if (x == 0) std::abort();  // keeps the loop from being optimised away; never true
  }
}

// spinner_rate() is the spinner's laps per ns when it has the scheduler to itself.
double spinner_rate(const std::atomic<long>& laps) {
  long before = laps.load(std::memory_order_relaxed);
  Stopwatch clock;
  sleep_for(std::chrono::milliseconds(300));
  return static_cast<double>(laps.load(std::memory_order_relaxed) - before) / clock.ns();
}

}  // namespace

void w6_fairness(const Args& args) {
  const long round_trips = args.get("round_trips", 100000), reps = args.get("reps", 3);
  NodeConfig config = node_config(args);
  config.scheduler.schedulers = 1;
  Node node(config);
  std::vector<double> alone, beside, share;
  node.run([&] {
    alone = repeat(reps, [&] { return pingpong_ns(round_trips); });
    std::atomic<long> laps{0};
    Pid spinner = spawn(spin, std::ref(laps));
    double rate = spinner_rate(laps);
    beside = repeat(reps, [&] {
      long before = laps.load(std::memory_order_relaxed);
      Stopwatch clock;
      double ns = pingpong_ns(round_trips);
      share.push_back(100.0 * static_cast<double>(laps.load(std::memory_order_relaxed) - before) /
                      (rate * clock.ns()));
      return ns;
    });
    share.erase(share.begin());  // the warm-up's
    exit(spinner, Term::atom("kill"));
  });
  auto params = [](long spin) {
    Params p;
    p.add("spin", spin).add("schedulers", 1);
    return p;
  };
  print({"W6.pingpong", params(0), "ns/rt", alone});
  print({"W6.pingpong", params(1), "ns/rt", beside});
  print({"W6.spinner_share", params(1), "%", share});
}

}  // namespace myrmex::bench
