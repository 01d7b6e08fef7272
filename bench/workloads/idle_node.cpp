// The idle check: a node holding n idle processes, with nothing to do, should use ~0% CPU.
#include "bench/workloads.h"
#include "bench/workloads/common.h"

namespace myrmex::bench {

void idle_node(const Args& args) {
  const long n = args.get("n", 1000000), seconds = args.get("seconds", 10);
  Params params;
  params.add("n", n).add("schedulers", schedulers(args));
  std::atomic<long> started{0}, gone{0};  // outlive the node: its processes count themselves out at stop
  Node node(node_config(args));
  node.run([&] {
    for (long i = 0; i < n; ++i) spawn_behaviour(std::make_unique<Sleeper>(started, gone));
    wait_for_count(started, n);
  });
  // Measured from outside any process: the node's threads have nothing to run.
  std::this_thread::sleep_for(std::chrono::seconds(1));
  double cpu_before = cpu_seconds();
  Stopwatch clock;
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  double percent = 100.0 * (cpu_seconds() - cpu_before) / (clock.ns() * 1e-9);
  print({"idle.cpu", params, "%", {percent}});
}

}  // namespace myrmex::bench
