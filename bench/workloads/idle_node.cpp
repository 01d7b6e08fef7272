// The idle check: a node holding n idle processes, with nothing to do, should use ~0% CPU.
#include "bench/workloads.h"
#include "bench/workloads/common.h"

namespace myrmex::bench {

namespace {

class Idle final : public Behaviour {
 public:
  explicit Idle(std::atomic<long>& started) : started_(started) {}
  void init() override { started_.fetch_add(1, std::memory_order_relaxed); }
  void handle(Message&) override {}

 private:
  std::atomic<long>& started_;
};

}  // namespace

void idle_node(const Args& args) {
  const long n = args.get("n", 1000000), seconds = args.get("seconds", 10);
  Params params;
  params.add("n", n).add("schedulers", schedulers(args));
  Node node(node_config(args));
  std::atomic<long> started{0};
  node.run([&] {
    for (long i = 0; i < n; ++i) spawn_behaviour(std::make_unique<Idle>(started));
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
