// swap: hot code swap (vm/code.h, supervisor/hot_swap.h) of idle gen_servers of one kind, "counter", whose
// two versions come from the program and have different C++ layouts (the state travels as a Term). Beside
// Erlang's sys:suspend + sys:change_code + sys:resume on the same shapes (bench/erlang/myrmex_bench.erl):
//   swap_one    one idle server swapped v2→v1→v2... `swaps` times per repetition; each gen_server::swap
//               timed from the caller (it returns once the server has swapped and answered). swap.one is
//               over every timed swap (n = reps × swaps), with its p99.
//   swap_all    n idle servers (gen_server::start, not linked); code::swap_all to v1, then back to v2, each
//               one sample: swap.all µs per swap_all, swap.all_per_proc ns per server.
//   swap_calls  `clients` processes call Get in a loop for `ms` ms while a swapper swaps the server back
//               and forth as fast as it answers (swapping=1), or without the swapper (swapping=0, the
//               baseline): swap.calls calls/s, swap.call_latency ns per call (median of every call in
//               the window, with its p99 and mean), swap.swaps swaps/s. Each call is timed on its own
//               (two clock reads), W5 times a batch.
// Every reply is checked against the state the server was given, so a swap that lost state or a message
// stops the bench; so do a failed call or swap.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <numeric>
#include <vector>

#include "bench/workloads.h"
#include "bench/workloads/common.h"

namespace myrmex::bench {

namespace {

struct Get {
  using reply_type = std::int64_t;
};
struct Add {
  std::int64_t by;
};

// CounterV1 holds its count in one field.
struct CounterV1 {
  using calls = gen_server::Messages<Get>;
  using casts = gen_server::Messages<Add>;
  std::int64_t n = 0;
  std::int64_t handle_call(Get&) { return n; }
  void handle_cast(Add& a) { n += a.by; }
  Term export_state() const { return Term(n); }
  static CounterV1 code_change(std::uint32_t, const Term& state) { return CounterV1{state.as_integer()}; }
};

// CounterV2 splits it: what it was given at the swap, and what was added since, and counts the adds.
struct CounterV2 {
  using calls = gen_server::Messages<Get>;
  using casts = gen_server::Messages<Add>;
  std::int64_t base = 0;
  std::int64_t added = 0;
  std::int32_t adds = 0;
  std::int64_t handle_call(Get&) { return base + added; }
  void handle_cast(Add& a) {
    added += a.by;
    ++adds;
  }
  Term export_state() const { return Term(base + added); }
  static CounterV2 code_change(std::uint32_t, const Term& state) {
    CounterV2 v;
    v.base = state.as_integer();
    return v;
  }
};

constexpr const char* kKind = "counter";
constexpr std::int64_t kValue = 41;  // the state every server is given (swap_all: plus its index)

// load_counter() adds both versions to this node: v2 is current (new servers start on it), v1 old.
void load_counter() {
  if (!code::add(gen_server::version<CounterV1>(kKind, 1))) std::abort();
  if (!code::add(gen_server::version<CounterV2>(kKind, 2))) std::abort();
}

Pid start_counter(std::int64_t value) {
  auto server = gen_server::start(kKind, Term::nil());
  if (!server) std::abort();
  gen_server::cast(*server, Add{value});
  return *server;
}

void check_value(Pid server, std::int64_t value) {
  auto got = gen_server::call(server, Get{});
  if (!got || *got != value) std::abort();  // a bench must not time failures
}

// other() is the version a server on `v` swaps to.
code::Version other(code::Version v) {
  return v == 1 ? 2 : 1;
}

// quantile() is the q-th quantile of sorted `samples`, nearest rank (as myrmex_bench.erl's quantile/2).
double quantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  return sorted[std::max<std::size_t>(rank, 1) - 1];
}

double p99(std::vector<double> samples) {
  std::sort(samples.begin(), samples.end());
  return quantile(samples, 0.99);
}

// ---- swap_one

// swap_us() swaps `server` to `to` and returns the µs the caller waited.
double swap_us(Pid server, code::Version to) {
  Stopwatch clock;
  if (!gen_server::swap(server, to)) std::abort();
  return clock.ns() / 1000;
}

// swap_one_samples() swaps one idle server back and forth: `swaps` untimed (warm-up), then reps × swaps
// timed.
std::vector<double> swap_one_samples(long swaps, long reps) {
  load_counter();
  const Pid server = start_counter(kValue);
  code::Version on = 2;
  std::vector<double> samples;
  for (long rep = 0; rep <= reps; ++rep)
    for (long i = 0; i < swaps; ++i) {
      on = other(on);
      const double us = swap_us(server, on);
      if (rep > 0) samples.push_back(us);
    }
  check_value(server, kValue);
  return samples;
}

// ---- swap_all

// swap_all_us() moves every counter to `to` and returns the µs it took.
double swap_all_us(code::Version to, long n) {
  Stopwatch clock;
  auto result = code::swap_all(kKind, to);
  const double us = clock.ns() / 1000;
  if (!result || result->swapped != static_cast<std::size_t>(n) || result->ended != 0 ||
      !result->failed.empty())
    std::abort();
  return us;
}

// swap_all_samples() starts n servers, each given kValue plus its index, and returns the µs of each
// swap_all: a warm-up pair, then reps pairs (to v1, back to v2). Every server is checked after.
std::vector<double> swap_all_samples(long n, long reps) {
  load_counter();
  std::vector<Pid> servers;
  servers.reserve(static_cast<std::size_t>(n));
  for (long i = 0; i < n; ++i) servers.push_back(start_counter(kValue + i));
  std::vector<double> samples;
  for (long rep = 0; rep <= reps; ++rep)
    for (code::Version to : {1, 2}) {
      const double us = swap_all_us(to, n);
      if (rep > 0) samples.push_back(us);
    }
  for (long i = 0; i < n; ++i) check_value(servers[static_cast<std::size_t>(i)], kValue + i);
  return samples;
}

// ---- swap_calls

struct Go {};
struct Done {};

using Clock = std::chrono::steady_clock;

// Window is what one timed window measured.
struct Window {
  std::vector<double> latencies;  // ns per call, every client's
  long calls = 0;
  long swaps = 0;
  double seconds = 0;  // from the Go until the last client's last reply
};

// Calls is one client's: the ns of each call, and when its last reply came.
struct Calls {
  std::vector<double> latencies;
  Clock::time_point end;
};

// client() calls until `deadline`, timing each call, and checks every reply.
void client(Pid server, const Clock::time_point& deadline, Calls& calls) {
  calls.latencies.reserve(1 << 21);
  receive([](Go) {});
  Clock::time_point t0 = Clock::now(), t1 = t0;
  for (; t0 < deadline; t0 = t1) {
    auto got = gen_server::call(server, Get{});
    t1 = Clock::now();
    if (!got || *got != kValue) std::abort();
    calls.latencies.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count());
  }
  calls.end = t1;
}

// swapper() swaps `server` back and forth until `deadline` and counts the swaps. It starts from the version
// the server runs (the server lives on from one window to the next).
void swapper(Pid server, const Clock::time_point& deadline, long& swaps) {
  receive([](Go) {});
  auto info = process_info(server);
  if (!info) std::abort();
  for (code::Version on = info->version; Clock::now() < deadline; ++swaps) {
    on = other(on);
    if (!gen_server::swap(server, on)) std::abort();
  }
}

// window() runs `clients` clients (and the swapper if `swapping`) against `server` for `ms` ms.
Window window(Pid server, long clients, long ms, bool swapping) {
  Clock::time_point deadline;
  std::vector<Calls> each(static_cast<std::size_t>(clients));
  Window w;
  std::vector<Pid> workers;
  const Pid me = self();
  for (Calls& c : each)
    workers.push_back(spawn([&deadline, server, me, mine = &c] {
      client(server, deadline, *mine);
      send(me, Done{});
    }));
  if (swapping)
    workers.push_back(spawn([&deadline, &w, server, me] {
      swapper(server, deadline, w.swaps);
      send(me, Done{});
    }));
  const Clock::time_point start = Clock::now();
  deadline = start + std::chrono::milliseconds(ms);  // written before the Go that lets them read it
  for (Pid p : workers) send(p, Go{});
  for (std::size_t i = 0; i < workers.size(); ++i) receive([](Done) {});
  Clock::time_point end = start;
  for (const Calls& c : each) {
    end = std::max(end, c.end);
    w.calls += static_cast<long>(c.latencies.size());
    w.latencies.insert(w.latencies.end(), c.latencies.begin(), c.latencies.end());
  }
  w.seconds = std::chrono::duration<double>(end - start).count();
  return w;
}

// CallFigures are one case's samples, one per timed window.
struct CallFigures {
  std::vector<double> calls_per_s, latency_median, latency_p99, latency_mean, swaps_per_s;
};

CallFigures swap_calls_case(long clients, long ms, bool swapping, long reps) {
  load_counter();
  const Pid server = start_counter(kValue);
  CallFigures f;
  for (long rep = 0; rep <= reps; ++rep) {
    Window w = window(server, clients, ms, swapping);
    if (rep == 0) continue;  // warm-up
    f.calls_per_s.push_back(static_cast<double>(w.calls) / w.seconds);
    f.swaps_per_s.push_back(static_cast<double>(w.swaps) / w.seconds);
    // Sorting a million latencies takes a while: off the scheduler, which would report a long schedule.
    blocking([&] {
      std::sort(w.latencies.begin(), w.latencies.end());
      f.latency_median.push_back(median(w.latencies));
      f.latency_p99.push_back(quantile(w.latencies, 0.99));
      f.latency_mean.push_back(std::accumulate(w.latencies.begin(), w.latencies.end(), 0.0) /
                               static_cast<double>(w.latencies.size()));
    });
  }
  gen_server::cast(server, Add{1});  // the state is exact after every swap: it still adds up
  check_value(server, kValue + 1);
  return f;
}

}  // namespace

void swap_one(const Args& args) {
  const long swaps = args.get("swaps", 2000), reps = args.get("reps", 3);
  std::vector<double> samples;
  {
    Node node(node_config(args));
    node.run([&] { samples = swap_one_samples(swaps, reps); });
  }
  Params params;
  params.add("swaps", swaps).add("schedulers", schedulers(args));
  print({"swap.one", params, "us/swap", samples}, {{"p99", p99(samples)}});
}

void swap_all(const Args& args) {
  const long n = args.get("n", 100000), reps = args.get("reps", 3);
  std::vector<double> samples;
  {
    Node node(node_config(args));  // its end kills the n servers
    node.run([&] { samples = swap_all_samples(n, reps); });
  }
  std::vector<double> per_proc;
  for (double us : samples) per_proc.push_back(us * 1000 / static_cast<double>(n));
  Params params;
  params.add("n", n).add("schedulers", schedulers(args));
  print({"swap.all", params, "us/swap_all", samples});
  print({"swap.all_per_proc", params, "ns/proc", per_proc});
}

void swap_calls(const Args& args) {
  const long clients = args.get("clients", 2), ms = args.get("ms", 1000), reps = args.get("reps", 3);
  for (bool swapping : {false, true}) {
    CallFigures f;
    {
      Node node(node_config(args));
      node.run([&] { f = swap_calls_case(clients, ms, swapping, reps); });
    }
    Params params;
    params.add("clients", clients).add("swapping", swapping ? 1 : 0).add("schedulers", schedulers(args));
    print({"swap.calls", params, "calls/s", f.calls_per_s});
    // The mean beside the median: W5's figure is a mean (a batch's time over its calls).
    print({"swap.call_latency", params, "ns/call", f.latency_median},
          {{"p99", median(f.latency_p99)}, {"mean", median(f.latency_mean)}});
    if (swapping) print({"swap.swaps", params, "swaps/s", f.swaps_per_s});
  }
}

}  // namespace myrmex::bench
