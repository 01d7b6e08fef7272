// Stack strategy at scale: resident memory per process for a function-style process blocked in a nested
// receive (it holds a stack) and for a behaviour-style process idle at its top level (it holds none).
#include "bench/workloads.h"
#include "bench/workloads/common.h"

namespace myrmex::bench {

namespace {

// A few frames deep, as a handler waiting for a reply would be.
__attribute__((noinline)) void nested_wait(int depth, std::atomic<long>& started) {
  if (depth > 0) return nested_wait(depth - 1, started);
  started.fetch_add(1, std::memory_order_relaxed);
  receive([](Stop) {});
}

// rss_per_process() spawns n processes with `spawn_one`, waits until all started, and returns the RSS
// they added per process; then stops them all.
template <class SpawnOne>
double rss_per_process(long n, std::atomic<long>& started, std::atomic<long>& gone, SpawnOne spawn_one) {
  std::vector<Pid> pids;
  pids.reserve(static_cast<std::size_t>(n));
  std::int64_t before = rss_bytes();
  for (long i = 0; i < n; ++i) pids.push_back(spawn_one());
  wait_for_count(started, n);
  double per = static_cast<double>(rss_bytes() - before) / static_cast<double>(n);
  for (Pid p : pids) send(p, Stop{});
  wait_for_count(gone, n);
  return per;
}

}  // namespace

void stack_rss(const Args& args) {
  const long n = args.get("n", 100000);
  Params params;
  params.add("n", n);
  double function_style = 0, behaviour_style = 0;
  Node node(node_config(args));
  node.run([&] {
    std::atomic<long> started{0}, gone{0};
    behaviour_style = rss_per_process(
        n, started, gone, [&] { return spawn_behaviour(std::make_unique<Sleeper>(started, gone)); });
    started = 0;
    gone = 0;
    function_style = rss_per_process(n, started, gone, [&] {
      return spawn([&] {
        struct CountExit {
          std::atomic<long>& gone;
          ~CountExit() { gone.fetch_add(1, std::memory_order_release); }
        } on_exit{gone};
        nested_wait(4, started);
      });
    });
  });
  print({"mem.function_style", params, "B/proc", {function_style}});
  print({"mem.behaviour_style", params, "B/proc", {behaviour_style}});
}

}  // namespace myrmex::bench
