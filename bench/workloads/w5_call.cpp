// W5: sequential call/reply latency, with 100k unrelated messages waiting in the caller's mailbox (the
// receive marker makes that free) or in the server's (its selective receive skips them every time); and
// case=gen_server, the empty case with the behaviour layer on both ends: the server is a gen_server
// (handle_call returns the reply) and the client calls through gen_server::call().
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

// Echo is the gen_server case's request: the reply is its value, as the bare server's.
struct Echo {
  using reply_type = long;
  long value;
};
struct EchoServer {
  using calls = gen_server::Messages<Echo>;
  long handle_call(Echo& e) { return e.value; }
};

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

double gen_server_calls_ns(Pid server, long calls) {
  Stopwatch clock;
  for (long i = 0; i < calls; ++i) {
    if (!gen_server::call(server, Echo{i})) std::abort();
  }
  return clock.ns() / static_cast<double>(calls);
}

// run_case() measures in a fresh caller process, so its junk does not leak into the next case.
std::vector<double> run_case(const std::string& which, long calls, long reps) {
  std::vector<double> samples;
  Pid caller = spawn([&, me = self()] {
    if (which == "gen_server") {
      auto s = gen_server::start(EchoServer{});
      if (!s) std::abort();
      samples = repeat(reps, [&] { return gen_server_calls_ns(*s, calls); });
      if (!gen_server::stop(*s)) std::abort();
      send(me, Stop{});
      return;
    }
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
  const std::string only = args.get("case", std::string());  // one case, or all four
  for (const char* which : {"empty", "caller_100k", "server_100k", "gen_server"}) {
    if (!only.empty() && only != which) continue;
    std::vector<double> samples;
    node.run([&] { samples = run_case(which, calls, reps); });
    Params params;
    params.add("case", which).add("schedulers", schedulers(args));
    print({"W5.call", params, "ns/call", samples});
  }
}

}  // namespace myrmex::bench
