// W4: k senders each send m small messages to one receiver that counts them.
#include "bench/workloads.h"
#include "bench/workloads/common.h"

namespace myrmex::bench {

namespace {

struct Go {};

void sender(Pid receiver, long m) {
  receive([](Go) {});
  for (long i = 0; i < m; ++i) send(receiver, i);
}

void counter(long expected, Pid done) {
  for (long seen = 0; seen < expected; ++seen) receive([](long) {});
  send(done, Stop{});
}

double fanin_msgs_per_s(long k, long m) {
  Pid receiver = spawn(counter, k * m, self());
  std::vector<Pid> senders;
  for (long i = 0; i < k; ++i) senders.push_back(spawn(sender, receiver, m));
  Stopwatch clock;
  for (Pid s : senders) send(s, Go{});
  receive([](Stop) {});
  return static_cast<double>(k * m) / (clock.ns() * 1e-9);
}

}  // namespace

void w4_fanin(const Args& args) {
  const long k = args.get("k", 4), m = args.get("m", 1000000), reps = args.get("reps", 3);
  Params params;
  params.add("k", k).add("m", m).add("schedulers", schedulers(args));
  std::vector<double> samples;
  Node node(node_config(args));
  node.run([&] { samples = repeat(reps, [&] { return fanin_msgs_per_s(k, m); }); });
  print({"W4.fanin", params, "msg/s", samples});
}

}  // namespace myrmex::bench
