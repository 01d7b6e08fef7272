// Savina's radix sort (Imam & Sarkar, AGERE 2014: "radixsort"): N values go through a pipeline of sort
// stages, gen_servers, one per bit a value below MAX may have, lowest bit first, into a sink. A stage passes
// a value whose bit is 0 on at once and holds one whose bit is 1 until it has seen all N; then it sends
// the held ones on, in arrival order, and ends. Each stage is a stable partition, so the sink receives
// the values sorted. The values come from Savina's generator: x' = (1309 x + 13849) mod 65536 from the
// seed, each taken mod MAX; so they are below 65,536 and the stages of the higher bits only pass values
// on, as in Savina. Savina's sizes: N=100,000 values, MAX=2^60 (60 stages), seed 2,048.
//
// Verified: what the sink received, asked for with a call it answers once it has all N values, is sorted
// and is a permutation of the input.
//
//   myrmex-bench savina_radixsort n=100000 max=1152921504606846976 seed=2048 schedulers=1 reps=3
#include <algorithm>
#include <chrono>
#include <optional>
#include <vector>

#include "bench/programs/common.h"
#include "bench/programs/programs.h"

namespace myrmex::bench {

namespace {

using savina::fail;
using savina::must;

constexpr const char* kName = "savina_radixsort";
// The sink answers once every value has gone through every stage; allow for a slow, shared machine.
constexpr std::chrono::milliseconds kPatience = std::chrono::minutes(5);

struct Value {
  long value;
};
struct Received {  // the sink's values in arrival order, once it has all of them
  using reply_type = std::vector<long>;
};

// Stage sorts on one bit: zeros go on now, ones after the last value.
struct Stage {
  using casts = gen_server::Messages<Value>;

  Stage(long n, long bit, Pid next) : n(n), bit(bit), next(next) {}
  long n;
  long bit;
  Pid next;
  long seen = 0;
  std::vector<long> ones;

  void handle_cast(Value& v) {
    if (v.value & bit)
      ones.push_back(v.value);
    else
      gen_server::cast(next, v);
    if (++seen < n) return;
    for (long one : ones) gen_server::cast(next, Value{one});
    gen_server::stop_self();
  }
};

// Sink collects the values at the end of the pipeline and answers Received once it has all n.
struct Sink {
  using calls = gen_server::Messages<Received>;
  using casts = gen_server::Messages<Value>;

  std::size_t n;
  std::vector<long> values;
  std::optional<gen_server::From<std::vector<long>>> asker;

  void handle_cast(Value& v) {
    values.push_back(v.value);
    if (values.size() == n && asker) answer(*asker);
  }
  gen_server::CallResult<std::vector<long>> handle_call(Received&, gen_server::From<std::vector<long>> from) {
    if (values.size() == n)
      answer(from);
    else
      asker = from;
    return gen_server::noreply;
  }
  void answer(const gen_server::From<std::vector<long>>& to) {
    gen_server::reply(to, std::move(values));
    gen_server::stop_self();
  }
};

// Savina's pseudo-random generator (16 bits).
struct PseudoRandom {
  long state;
  long next() { return state = (state * 1309 + 13849) & 65535; }
};

void radixsort(long n, long max, long seed) {
  Pid next = must(gen_server::start_link(Sink{static_cast<std::size_t>(n), {}, {}}), "starting the sink");
  const Pid sink = next;
  long top = 1;  // the highest power of two below max: Savina's max/2 when max is a power of two
  while (top <= (max - 1) / 2) top *= 2;
  for (long bit = top; bit > 0; bit /= 2)  // the highest bit's stage first, each feeding the one before
    next = must(gen_server::start_link(Stage(n, bit, next)), "starting a stage");
  std::vector<long> input;
  input.reserve(n);
  PseudoRandom random{seed};
  for (long i = 0; i < n; ++i) {
    input.push_back(random.next() % max);
    gen_server::cast(next, Value{input.back()});
  }
  const std::vector<long> output = must(gen_server::call(sink, Received{}, kPatience), "Received");
  if (!std::is_sorted(output.begin(), output.end())) fail("the output is not sorted");
  std::sort(input.begin(), input.end());
  if (output != input) fail("the output is not a permutation of the input");
}

}  // namespace

void savina_radixsort(const Args& args) {
  const long n = args.get("n", 100000L), max = args.get("max", 1L << 60), seed = args.get("seed", 2048L);
  if (n < 1 || max < 2) savina::bad_arguments(kName, "n must be at least 1 and max at least 2");
  savina::run(args, kName, Params().add("n", n).add("max", max).add("seed", seed),
              [&] { radixsort(n, max, seed); });
}

}  // namespace myrmex::bench
