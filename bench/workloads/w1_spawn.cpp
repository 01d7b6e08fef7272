// W1: spawn n processes that each bump a shared counter and block in a receive; stop them all.
// One repetition per OS process (bench/run starts several), so the RSS delta is this run's alone.
#include "bench/workloads.h"
#include "bench/workloads/common.h"

namespace myrmex::bench {

void w1_spawn(const Args& args) {
  const long n = args.get("n", 1000000);
  Params params;
  params.add("n", n).add("schedulers", schedulers(args));
  double spawn_ns = 0, exit_ns = 0, rss_per_proc = 0;
  Node node(node_config(args));
  node.run([&] {
    std::atomic<long> started{0}, gone{0};
    std::vector<Pid> pids;
    pids.reserve(static_cast<std::size_t>(n));
    std::int64_t rss_before = rss_bytes();
    Stopwatch spawning;
    for (long i = 0; i < n; ++i) pids.push_back(spawn_behaviour(std::make_unique<Sleeper>(started, gone)));
    wait_for_count(started, n);
    spawn_ns = spawning.ns() / static_cast<double>(n);
    rss_per_proc = static_cast<double>(rss_bytes() - rss_before) / static_cast<double>(n);

    Stopwatch stopping;
    for (Pid p : pids) send(p, Stop{});
    wait_for_count(gone, n);
    exit_ns = stopping.ns() / static_cast<double>(n);
  });
  print({"W1.spawn", params, "ns/proc", {spawn_ns}});
  print({"W1.mem_rss", params, "B/proc", {rss_per_proc}});
  print({"W1.exit", params, "ns/proc", {exit_ns}});
}

}  // namespace myrmex::bench
