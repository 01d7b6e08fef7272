// myrmex-bench: runs one workload and prints one JSON object per figure.
//
//   myrmex-bench <workload> [key=value ...]      e.g.  myrmex-bench w2 n=10000 m=100 schedulers=2
#include <cstdio>
#include <cstring>

#include "bench/programs/programs.h"
#include "bench/workloads.h"

namespace {

struct Entry {
  const char* name;
  myrmex::bench::Workload run;
  const char* help;
};

constexpr Entry kWorkloads[] = {
    {"w1", myrmex::bench::w1_spawn, "n schedulers: spawn n blocked processes, then stop them (one rep)"},
    {"w2", myrmex::bench::w2_ring, "n m schedulers reps: token m times around a ring of n"},
    {"w3", myrmex::bench::w3_pingpong, "round_trips schedulers reps: ping-pong"},
    {"w4", myrmex::bench::w4_fanin, "k m schedulers reps: k senders, m messages each, one receiver"},
    {"w5", myrmex::bench::w5_call,
     "calls schedulers reps [case]: call latency, long caller/server mailboxes, gen_server"},
    {"w6", myrmex::bench::w6_fairness, "round_trips reps: ping-pong on one scheduler, spin=0 and 1"},
    {"w8", myrmex::bench::w8_supervisor,
     "cycles schedulers: crash a supervised registered server, wait for its restart, call it"},
    {"w9", myrmex::bench::w9_exit,
     "cycles links schedulers reps: spawn_monitor/Down cycles; exit fan-out to trapping links"},
    {"terms", myrmex::bench::terms, "reps: ETF encode/decode of three shapes, and memcpy of 1 MiB"},
    {"swap_one", myrmex::bench::swap_one, "swaps schedulers reps: swap one idle gen_server back and forth"},
    {"swap_all", myrmex::bench::swap_all, "n schedulers reps: swap_all of n idle gen_servers of one kind"},
    {"swap_calls", myrmex::bench::swap_calls,
     "clients ms schedulers reps: calls/s and latency while the server is swapped, and without"},
    {"idle", myrmex::bench::idle_node, "n seconds schedulers: CPU used by a node with n idle processes"},
    {"stack_rss", myrmex::bench::stack_rss, "n schedulers: RSS per process, function vs behaviour style"},
    {"limit_switch", myrmex::bench::limit_context_switch, "reps: bare Boost.Context switch"},
    {"limit_futex", myrmex::bench::limit_futex_wake, "reps: futex wake round trip between two threads"},
    {"limit_mpsc", myrmex::bench::limit_mpsc, "reps: bare MPSC push+pop"},
    {"limit_handoff", myrmex::bench::limit_handoff,
     "label round_trips reps: a cache line's round trip between two CPUs (the host's mode)"},
    {"registry_whereis", myrmex::bench::registry_whereis,
     "names lookups schedulers reps: whereis from every scheduler vs lock-based maps"},
    {"savina_banking", myrmex::bench::savina_banking,
     "accounts transactions schedulers reps: Savina bank transfers, source calls destination"},
    {"savina_bndbuffer", myrmex::bench::savina_bndbuffer,
     "buffer producers consumers items produce_cost consume_cost schedulers reps: Savina bounded buffer"},
    {"savina_concdict", myrmex::bench::savina_concdict,
     "workers messages write_percent schedulers reps: Savina concurrent dictionary server"},
    {"savina_logmap", myrmex::bench::savina_logmap,
     "terms series schedulers reps: Savina logistic map, series workers call rate computers"},
    {"savina_philosophers", myrmex::bench::savina_philosophers,
     "n m schedulers reps: Savina's dining philosophers, an arbitrator gen_server"},
    {"savina_sieve", myrmex::bench::savina_sieve,
     "n m schedulers reps: Savina's prime sieve, a pipeline of filters"},
    {"savina_radixsort", myrmex::bench::savina_radixsort,
     "n max seed schedulers reps: Savina's radix sort, a pipeline of one stage per bit"},
    {"savina_nqueenk", myrmex::bench::savina_nqueenk,
     "n k threshold workers schedulers reps: Savina's first k solutions of n-queens"},
};

void usage() {
  std::fprintf(stderr, "usage: myrmex-bench <workload> [key=value ...]\n");
  for (const Entry& e : kWorkloads) std::fprintf(stderr, "  %-13s %s\n", e.name, e.help);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    usage();
    return 2;
  }
  for (const Entry& e : kWorkloads)
    if (std::strcmp(argv[1], e.name) == 0) {
      e.run(myrmex::bench::Args(argc - 2, argv + 2));
      return 0;
    }
  std::fprintf(stderr, "myrmex-bench: unknown workload '%s'\n", argv[1]);
  usage();
  return 2;
}
