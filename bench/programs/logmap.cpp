// Savina's Logistic Map Series (request/reply). S series workers each compute T terms of the logistic
// map x ← r·x·(1 − x); the program's first process asks every worker for the next term T times (casts),
// and the worker asks its rate computer, which holds r, for each one and waits (a call). Then the
// program calls each worker for its last term. Worker i starts at i·0.0025 with rate 3.46 + i·0.0025.
// Savina sizes: T = 25000 terms, S = 10 series (start rate 3.46, increment 0.0025: fixed here).
//
// Verifies: each series' last term equals a sequential computation of the same series, bit for bit.
//
//   myrmex-bench savina_logmap terms=25000 series=10 schedulers=1 reps=3
#include <string>
#include <vector>

#include "bench/programs/common.h"
#include "bench/programs/programs.h"

namespace myrmex::bench {

namespace {

namespace gs = gen_server;
using savina::fail;

constexpr double kStartRate = 3.46;
constexpr double kIncrement = 0.0025;

double next_term(double rate, double term) {
  return rate * term * (1 - term);
}

// Compute asks a rate computer for the term after `term`.
struct Compute {
  using reply_type = double;
  double term;
};

struct RateComputer {
  using calls = gs::Messages<Compute>;
  double rate;
  double handle_call(Compute& c) { return next_term(rate, c.term); }
};

// NextTerm (a cast) makes a series worker compute its next term; GetTerm asks for its current one.
struct NextTerm {};
struct GetTerm {
  using reply_type = double;
};

struct SeriesWorker {
  using calls = gs::Messages<GetTerm>;
  using casts = gs::Messages<NextTerm>;
  Pid computer;
  double term;

  void handle_cast(NextTerm&) {
    auto next = gs::call(computer, Compute{term}, savina::kPatience);
    if (!next) fail("logmap: a rate computer did not answer");
    term = *next;
  }
  double handle_call(GetTerm&) { return term; }
};

double rate_of(long series) {
  return kStartRate + static_cast<double>(series) * kIncrement;
}
double start_of(long series) {
  return static_cast<double>(series) * kIncrement;
}

Pid start(auto server) {
  auto started = gs::start_link(std::move(server));
  if (!started) fail("logmap: a server did not start");
  return *started;
}

void logmap(long terms, long series) {
  std::vector<Pid> computers, workers;
  for (long i = 0; i < series; ++i) {
    computers.push_back(start(RateComputer{rate_of(i)}));
    workers.push_back(start(SeriesWorker{computers.back(), start_of(i)}));
  }
  for (long t = 0; t < terms; ++t)
    for (Pid w : workers) gs::cast(w, NextTerm{});
  for (long i = 0; i < series; ++i) {
    auto last = gs::call(workers[i], GetTerm{}, savina::kPatience);
    if (!last) fail("logmap: a series worker did not answer");
    double expected = start_of(i);
    for (long t = 0; t < terms; ++t) expected = next_term(rate_of(i), expected);
    if (*last != expected) fail("logmap: series " + std::to_string(i) + " differs from the sequential one");
  }
  for (Pid p : workers)
    if (!gs::stop(p)) fail("logmap: a worker did not stop");
  for (Pid p : computers)
    if (!gs::stop(p)) fail("logmap: a rate computer did not stop");
}

}  // namespace

void savina_logmap(const Args& args) {
  const long terms = args.get("terms", 25000L), series = args.get("series", 10L);
  Params params;
  params.add("terms", terms).add("series", series);
  savina::run(args, "savina_logmap", params, [&] { logmap(terms, series); });
}

}  // namespace myrmex::bench
