// W2: a token (an integer) goes m times around a ring of n behaviour-style processes.
#include "bench/workloads.h"
#include "bench/workloads/common.h"

namespace myrmex::bench {

namespace {

struct Token {
  long hops_left;
};

// Member forwards the token to `next` until no hops are left, then hands it to `done`.
class Member final : public Counted {
 public:
  Member(Pid next, Pid done, std::atomic<long>& gone) : Counted(gone), next_(next), done_(done) {}
  void handle(Message& m) override {
    if (auto* t = m.get<Token>()) {
      if (t->hops_left == 0) {
        send(done_, *t);
      } else {
        send(next_, Token{t->hops_left - 1});
      }
    } else if (auto* next = m.get<Pid>()) {
      next_ = *next;
    } else if (m.is<Stop>()) {
      stop();
    }
  }

 private:
  Pid next_;
  Pid done_;
};

struct Lap {
  double setup_ns_per_proc;
  double ns_per_hop;
};

Lap run_ring(long n, long m) {
  std::atomic<long> gone{0};
  std::vector<Pid> ring;
  ring.reserve(static_cast<std::size_t>(n));
  Stopwatch setup;
  // Built backwards: each member points at the one spawned before it; the first is closed last.
  ring.push_back(spawn_behaviour(std::make_unique<Member>(Pid{}, self(), gone)));
  for (long i = 1; i < n; ++i)
    ring.push_back(spawn_behaviour(std::make_unique<Member>(ring.back(), self(), gone)));
  send(ring.front(), ring.back());
  Lap lap{setup.ns() / static_cast<double>(n), 0};

  const long hops = n * m;
  Stopwatch running;
  send(ring.front(), Token{hops - 1});
  receive([](Token&) {});
  lap.ns_per_hop = running.ns() / static_cast<double>(hops);

  for (Pid p : ring) send(p, Stop{});
  wait_for_count(gone, n);
  return lap;
}

}  // namespace

void w2_ring(const Args& args) {
  const long n = args.get("n", 10000), m = args.get("m", 100), reps = args.get("reps", 3);
  Params params;
  params.add("n", n).add("m", m).add("schedulers", schedulers(args));
  std::vector<double> setup, hop;
  Node node(node_config(args));
  node.run([&] {
    run_ring(n, m);  // warm-up
    for (long r = 0; r < reps; ++r) {
      Lap lap = run_ring(n, m);
      setup.push_back(lap.setup_ns_per_proc);
      hop.push_back(lap.ns_per_hop);
    }
  });
  print({"W2.ring", params, "ns/hop", hop});
  print({"W2.setup", params, "ns/proc", setup});
}

}  // namespace myrmex::bench
