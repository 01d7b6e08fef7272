// Savina's prime sieve (Imam & Sarkar, AGERE 2014: "sieve"): the program sends the odd numbers 3, 5, ...
// below N down a pipeline of filters, gen_servers that each hold up to M primes. A filter drops a number
// that one of its primes divides and passes the others on; the last filter keeps a number that reaches
// it (it is prime), and once it holds M primes it starts the next filter with the new one. The first
// filter starts with 2. Savina's sizes: N=100,000 numbers, M=1,000 primes per filter.
//
// Verified: the primes the filters hold, asked for with a call that walks down the pipeline behind the
// last number, are as many as a sequential sieve finds below N (9,592 for 100,000).
//
//   myrmex-bench savina_sieve n=100000 m=1000 schedulers=1 reps=3
#include <chrono>
#include <string>
#include <vector>

#include "bench/programs/common.h"
#include "bench/programs/programs.h"

namespace myrmex::bench {

namespace {

using savina::fail;
using savina::must;

constexpr const char* kName = "savina_sieve";
// A count waits behind every number still in the pipeline; allow for a slow, shared machine.
constexpr std::chrono::milliseconds kPatience = std::chrono::minutes(2);

struct Candidate {
  long value;
};
struct Count {  // how many primes this filter and the ones after it hold
  using reply_type = long;
};
struct Finish {};  // end, after telling the next filter to

struct Filter {
  using calls = gen_server::Messages<Count>;
  using casts = gen_server::Messages<Candidate, Finish>;

  std::vector<long> primes;  // at most `capacity`
  std::size_t capacity;
  Pid next;  // none until this filter is full

  Filter(long first, std::size_t capacity) : capacity(capacity) {
    primes.reserve(capacity);
    primes.push_back(first);
  }

  void handle_cast(Candidate& c) {
    for (long p : primes)
      if (c.value % p == 0) return;
    if (next)
      gen_server::cast(next, c);
    else if (primes.size() < capacity)
      primes.push_back(c.value);
    else
      next = must(gen_server::start_link(Filter(c.value, capacity)), "starting a filter");
  }
  long handle_call(Count&) {
    const long here = static_cast<long>(primes.size());
    return next ? here + must(gen_server::call(next, Count{}, kPatience), "Count") : here;
  }
  void handle_cast(Finish&) {
    if (next) gen_server::cast(next, Finish{});
    gen_server::stop_self();
  }
};

// primes_below() counts the primes below n with a sequential sieve of Eratosthenes.
long primes_below(long n) {
  std::vector<bool> composite(static_cast<std::size_t>(n > 0 ? n : 0));
  long count = 0;
  for (long i = 2; i < n; ++i) {
    if (composite[i]) continue;
    ++count;
    for (long j = i * i; j < n; j += i) composite[j] = true;
  }
  return count;
}

void sieve(long n, long m) {
  const Pid first = must(gen_server::start_link(Filter(2, m)), "starting the first filter");
  for (long candidate = 3; candidate < n; candidate += 2) gen_server::cast(first, Candidate{candidate});
  const long found = must(gen_server::call(first, Count{}, kPatience), "Count");
  gen_server::cast(first, Finish{});
  const long expected = primes_below(n);
  if (found != expected)
    fail("the filters hold " + std::to_string(found) + " primes below " + std::to_string(n) +
         ", a sequential sieve finds " + std::to_string(expected));
}

}  // namespace

void savina_sieve(const Args& args) {
  const long n = args.get("n", 100000L), m = args.get("m", 1000L);
  if (n < 3 || m < 1) savina::bad_arguments(kName, "n must be at least 3 and m at least 1");
  savina::run(args, kName, Params().add("n", n).add("m", m), [&] { sieve(n, m); });
}

}  // namespace myrmex::bench
