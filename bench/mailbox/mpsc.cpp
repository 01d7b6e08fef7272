// Limit: the bare mailbox queue (mailbox/detail/incoming_queue.h: a CAS per push, a take per batch) on
// preallocated envelopes, with no allocation, no type erasure, no notify and no scheduler. A send plus its
// receive cannot cost less:
//  - one thread pushing then popping one envelope: the uncontended cost of the queue's atomics;
//  - two producer threads against one consumer: the throughput of the contended CAS on the head.
//
//   myrmex-bench limit_mpsc items=10000000 reps=5
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include "bench/workloads.h"
#include "mailbox/detail/incoming_queue.h"

namespace myrmex::bench {

namespace {

using mailbox::Envelope;
using mailbox::detail::IncomingQueue;

constexpr long kProducers = 2;

// one_thread_ns() pushes then pops one envelope `n` times on one thread, and returns ns per push+pop.
double one_thread_ns(long n) {
  IncomingQueue queue;
  Envelope e;
  Stopwatch clock;
  for (long i = 0; i < n; ++i) {
    queue.push(&e);
    if (queue.take().first != &e) {
      std::fprintf(stderr, "limit_mpsc: popped another envelope than the one pushed\n");
      std::abort();
    }
  }
  return clock.ns() / static_cast<double>(n);
}

// contended_ns() has kProducers threads push their share of `envelopes` while this thread pops them all, and
// returns wall ns per envelope popped, from the producers' start to the last pop.
double contended_ns(std::vector<Envelope>& envelopes) {
  IncomingQueue queue;
  std::atomic<bool> go{false};
  std::vector<std::thread> producers;
  std::size_t share = envelopes.size() / kProducers;
  for (long p = 0; p < kProducers; ++p)
    producers.emplace_back([&, first = envelopes.data() + p * share] {
      while (!go.load(std::memory_order_acquire)) {
      }
      for (Envelope* e = first; e != first + share; ++e) queue.push(e);
    });
  std::size_t total = share * kProducers;
  Stopwatch clock;
  go.store(true, std::memory_order_release);
  for (std::size_t popped = 0; popped < total;) popped += queue.take().count;
  double ns = clock.ns();
  for (std::thread& t : producers) t.join();
  return ns / static_cast<double>(total);
}

}  // namespace

void limit_mpsc(const Args& args) {
  long reps = args.get("reps", 5L);
  long items = args.get("items", 10'000'000L);
  print(Figure{.item = "limit.mpsc_push_pop",
               .params = Params().add("producers", 1L),
               .unit = "ns/op",
               .samples = repeat(reps, [&] { return one_thread_ns(items); }),
               .impl = "limit"});
  // Allocated once: a run leaves every envelope popped, so the next run may push them again.
  std::vector<Envelope> envelopes(static_cast<std::size_t>(items));
  print(Figure{.item = "limit.mpsc_push_pop",
               .params = Params().add("producers", kProducers),
               .unit = "ns/op",
               .samples = repeat(reps, [&] { return contended_ns(envelopes); }),
               .impl = "limit"});
}

}  // namespace myrmex::bench
