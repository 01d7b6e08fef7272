// W8: restart latency under a supervisor. A one_for_one supervisor has one permanent child, a gen_server
// registered as "w8_server". Each cycle (timed one by one): cast the server `Crash` (its handle_cast
// throws), wait for the Down of a monitor set just before the clock starts, spin (yield, no sleep) until
// whereis("w8_server") names a new PID, then call that one once. The figure is over the cycles themselves:
// median/min/max of the per-cycle times (n = cycles), plus the median of the first 100 cycles and of the
// last 1,000 (flatness: does a restart get slower as restarts pile up?).
#include <cstdlib>
#include <stdexcept>
#include <vector>

#include "bench/workloads.h"
#include "bench/workloads/common.h"

namespace myrmex::bench {

namespace {

constexpr const char* kName = "w8_server";

struct Crash {};

// named() is StartOptions with a registered name (spelt out: designated initializers that leave fields out
// warn under -Wextra).
gen_server::StartOptions named(const char* name) {
  gen_server::StartOptions options;
  options.name = name;
  return options;
}

struct Echo {
  using reply_type = long;
  long value;
};

// Server crashes in handle_cast, as the Erlang side's does (its reason: {exception, ...}).
struct Server {
  using calls = gen_server::Messages<Echo>;
  using casts = gen_server::Messages<Crash>;
  long handle_call(Echo& e) { return e.value; }
  void handle_cast(Crash&) { throw std::runtime_error("w8 crash"); }
};

// cycles_us() runs `cycles` crash/restart/call cycles under a fresh supervisor and returns each one's µs.
std::vector<double> cycles_us(long cycles) {
  // Intensity 1,000,000 restarts per 1 s: far more than a cycle rate can reach (~1 µs per cycle would be
  // needed), so the supervisor never gives up during the bench. Same flags on the Erlang side.
  supervisor::Spec spec{.flags = {.strategy = supervisor::Strategy::one_for_one,
                                  .intensity = 1000000,
                                  .period = std::chrono::milliseconds(1000)},
                        .children = {supervisor::worker(
                            "server", [] { return gen_server::start_link(Server{}, named(kName)); })}};
  auto sup = supervisor::start_link(std::move(spec));
  if (!sup) std::abort();

  std::vector<double> us;
  us.reserve(static_cast<std::size_t>(cycles));
  Pid server = whereis(kName);
  if (!server) std::abort();
  for (long i = 0; i < cycles; ++i) {
    const MonitorRef ref = vm::monitor(server);
    Stopwatch clock;
    gen_server::cast(server, Crash{});
    receive(when([ref](const Down& d) { return d.ref.value == ref.value; }, [](Down&) {}));
    Pid next;
    while (!(next = whereis(kName)) || next == server) yield();
    auto echoed = gen_server::call(next, Echo{i});
    if (!echoed || *echoed != i) std::abort();  // a bench must not time failures
    us.push_back(clock.ns() / 1000.0);
    server = next;
  }

  // Stop the supervisor (and its child) and wait until it is gone, so the next repetition starts clean.
  if (!gen_server::stop(*sup)) std::abort();  // reason normal: `shutdown` would reach us by the link
  return us;
}

}  // namespace

void w8_supervisor(const Args& args) {
  const long cycles = args.get("cycles", 10000);
  if (cycles < 1000) {
    std::fprintf(stderr, "myrmex-bench w8: cycles must be at least 1000 (the last-1,000 median)\n");
    std::exit(2);
  }
  // The crash of every cycle would be a crash report and a child_terminated/child_restarted pair (the
  // logger), and the node's own line on stderr for a process that ended with an exception (log_crashes,
  // which the logger's level does not silence).
  logger::set_level(logger::Level::none);
  NodeConfig config = node_config(args);
  config.log_crashes = false;
  std::vector<double> us;
  Node node(config);
  const Term why = node.run([&] { us = cycles_us(cycles); });
  if (us.size() != static_cast<std::size_t>(cycles)) {
    std::fprintf(stderr, "myrmex-bench w8: the bench process ended with %s\n", why.to_string().c_str());
    std::exit(1);
  }
  Params params;
  params.add("cycles", cycles).add("schedulers", schedulers(args));
  print({"W8.cycle", params, "us/cycle", us}, {{"first100_median", median({us.begin(), us.begin() + 100})},
                                               {"last1000_median", median({us.end() - 1000, us.end()})}});
}

}  // namespace myrmex::bench
