// W5: sequential call/reply latency, with 100k unrelated messages waiting in the caller's mailbox (the
// receive marker makes that free) or in the server's (its selective receive skips them every time).
#include "bench/workloads.h"
#include "bench/workloads/common.h"

namespace myrmex::bench {

namespace {

struct Junk {
  long i;
};

constexpr long kJunk = 100000;

void server() {
  for (bool more = true; more;)
    receive([](Request<long, long>& r) { reply(r, r.value); }, [&](Stop) { more = false; });
}

void fill(Pid target) {
  for (long i = 0; i < kJunk; ++i) send(target, Junk{i});
}

double calls_ns(Pid server, long calls) {
  Stopwatch clock;
  for (long i = 0; i < calls; ++i) {
    if (!call<long>(server, i)) std::abort();  // a bench must not time failures
  }
  return clock.ns() / static_cast<double>(calls);
}

// run_case() measures in a fresh caller process, so its junk does not leak into the next case.
std::vector<double> run_case(const std::string& which, long calls, long reps) {
  std::vector<double> samples;
  Pid caller = spawn([&, me = self()] {
    Pid s = spawn(server);
    if (which == "caller_100k") fill(self());
    if (which == "server_100k") fill(s);
    samples = repeat(reps, [&] { return calls_ns(s, calls); });
    send(s, Stop{});
    send(me, Stop{});
  });
  (void)caller;
  receive([](Stop) {});
  return samples;
}

}  // namespace

void w5_call(const Args& args) {
  const long calls = args.get("calls", 10000), reps = args.get("reps", 3);
  Node node(node_config(args));
  const std::string only = args.get("case", std::string());  // one case, or all three
  for (const char* which : {"empty", "caller_100k", "server_100k"}) {
    if (!only.empty() && only != which) continue;
    std::vector<double> samples;
    node.run([&] { samples = run_case(which, calls, reps); });
    Params params;
    params.add("case", which).add("schedulers", schedulers(args));
    print({"W5.call", params, "ns/call", samples});
  }
}

}  // namespace myrmex::bench
