// W9: exit signals. (a) spawn_monitor a process that returns at once (reason `normal`) and wait for its
// Down, cycle after cycle. (b) One process linked to n processes that trap exits ends with reason `boom`:
// time from just before its exit (it stamps the time and sends it to the collector) until the collector
// has a notification from every one of them that its Exit arrived. Spawning and linking are not timed, nor
// is stopping the n processes afterwards.
#include <chrono>
#include <cstdlib>
#include <vector>

#include "bench/workloads.h"
#include "bench/workloads/common.h"

namespace myrmex::bench {

namespace {

using Clock = std::chrono::steady_clock;

double monitor_cycle_ns(long cycles) {
  Stopwatch clock;
  for (long i = 0; i < cycles; ++i) {
    auto [pid, ref] = spawn_monitor([] {});
    receive(when([ref = ref](const Down& d) { return d.ref == ref; },
                 [pid = pid](Down& d) {
                   if (d.pid != pid || !(d.reason == atoms::normal())) std::abort();  // time no failure
                 }));
  }
  return clock.ns() / static_cast<double>(cycles);
}

// Messages to the collector: a trapper is ready (trapping, linked), a trapper got its Exit, the linked
// process is about to exit.
struct Ready {
  Pid pid;
};
struct Got {};
struct Exiting {
  Clock::time_point at;
};
// Die tells the linked process to exit.
struct Die {};

// trapper traps exits, says it is ready, waits for the Exit from `linked`, notifies, then waits for Stop.
void trapper(Pid linked, Pid collector, Term boom, std::atomic<long>& gone) {
  set_trap_exit(true);
  send(collector, Ready{self()});
  receive([&](Exit& e) {
    if (e.from != linked || !(e.reason == boom)) std::abort();
    send(collector, Got{});
  });
  receive([](Stop) {});
  gone.fetch_add(1, std::memory_order_release);
}

// link_fanout_ns() is ns per link from the linked process's exit until all `links` trappers got its Exit.
double link_fanout_ns(long links) {
  const Term boom = Term::atom("boom");
  const Pid collector = self();
  std::atomic<long> gone{0};
  Pid linked = spawn([&, links, collector, boom] {
    for (long i = 0; i < links; ++i) spawn_link(trapper, self(), collector, boom, std::ref(gone));
    receive([](Die) {});
    send(collector, Exiting{Clock::now()});
    exit(boom);
  });
  std::vector<Pid> trappers;
  trappers.reserve(static_cast<std::size_t>(links));
  for (long i = 0; i < links; ++i) receive([&](Ready& r) { trappers.push_back(r.pid); });

  send(linked, Die{});
  Clock::time_point start{};
  bool started = false;
  for (long got = 0; got < links || !started;)
    receive([&](Got) { ++got; },
            [&](Exiting& e) {
              start = e.at;
              started = true;
            });
  double ns = std::chrono::duration<double, std::nano>(Clock::now() - start).count();

  for (Pid p : trappers) send(p, Stop{});
  wait_for_count(gone, links);
  return ns / static_cast<double>(links);
}

}  // namespace

void w9_exit(const Args& args) {
  const long cycles = args.get("cycles", 100000), links = args.get("links", 100000),
             reps = args.get("reps", 3);
  std::vector<double> cycle_samples, link_samples;
  Node node(node_config(args));
  node.run([&] {
    cycle_samples = repeat(reps, [&] { return monitor_cycle_ns(cycles); });
    link_samples = repeat(reps, [&] { return link_fanout_ns(links); });
  });
  Params cycle_params, link_params;
  cycle_params.add("cycles", cycles).add("schedulers", schedulers(args));
  link_params.add("links", links).add("schedulers", schedulers(args));
  print({"W9.monitor_cycle", cycle_params, "ns/cycle", cycle_samples});
  print({"W9.link_fanout", link_params, "ns/link", link_samples});
}

}  // namespace myrmex::bench
