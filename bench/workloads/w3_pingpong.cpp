// W3: two processes exchange a small integer, round trip after round trip.
#include "bench/workloads.h"
#include "bench/workloads/common.h"
#include "bench/workloads/pingpong.h"

namespace myrmex::bench {

void w3_pingpong(const Args& args) {
  const long round_trips = args.get("round_trips", 1000000), reps = args.get("reps", 3);
  Params params;
  params.add("schedulers", schedulers(args));
  std::vector<double> samples;
  Node node(node_config(args));
  node.run([&] { samples = repeat(reps, [&] { return pingpong_ns(round_trips); }); });
  print({"W3.pingpong", params, "ns/rt", samples});
}

}  // namespace myrmex::bench
