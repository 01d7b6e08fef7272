// Child program for the stack overflow tests (a real SIGSEGV needs its own OS process). The argument picks
// the variant; each prints `key=value` lines on stdout for the parent (tests/vm/stack_overflow_test.cpp):
//
//   small       one process overflows with small frames while 100 others sleep; they all finish.
//               Prints overflow=, others=, after=.
//   frames40k   the overflowing process has 40 KiB frames, built without -fstack-clash-protection (as
//               users' code may be), so each frame jumps a 4 KiB guard; its neighbour, whose stack lies
//               right below, holds a byte pattern in a big local array. Prints overflow=, adjacent=,
//               neighbour_bad_bytes=, after=.
//   frames100k  as frames40k, with 100 KiB frames (wider than any guard) built with the project's
//               -fstack-clash-protection, which probes every page of a frame on its way down.
//   unwinding   a process overflows in a destructor run by unwinding, inside a catch block: its
//               exception state is abandoned with its stack, not left to the next process on the thread.
//               Prints overflow=, uncaught_after=, current_after=, victim_killed=.
//   chain       a SIGSEGV handler installed before the node still gets the faults that are not a fiber
//               guard hit (on a plain thread and inside a process), and a stack overflow still ends only
//               its process. Prints old_handler_calls=, overflow=, after=.
//   unhandled   with no handler before the node, a fault off any fiber guard is not swallowed: the child
//               dies of SIGSEGV (prints reached_fault=1 first).
#include <myrmex/myrmex.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <string>
#include <thread>

#include "scheduler/detail/scheduler.h"
#include "scheduler/detail/stack_pool.h"

namespace {

using myrmex::Pid;
using myrmex::Term;
using namespace std::chrono_literals;

// Unbounded on purpose: the point is to overflow.
#pragma GCC diagnostic ignored "-Winfinite-recursion"
int recurse(int depth) {
  volatile char frame[512];
  frame[0] = static_cast<char>(depth);
  return recurse(depth + 1) + frame[0];  // not a tail call
}

// Each frame is touched at its lowest byte only, first thing: the classic stack clash, where a frame
// larger than the guard lands past it without ever touching it. noinline keeps the frames one per call.
__attribute__((noinline, optimize("no-stack-clash-protection"))) int recurse_40k(int depth) {
  volatile char frame[40 * 1024];
  frame[0] = static_cast<char>(depth);
  return recurse_40k(depth + 1) + frame[0];
}

__attribute__((noinline)) int recurse_100k(int depth) {
  volatile char frame[100 * 1024];
  frame[0] = static_cast<char>(depth);
  return recurse_100k(depth + 1) + frame[0];
}

myrmex::NodeConfig node_config(unsigned schedulers) {
  myrmex::NodeConfig c;
  c.scheduler.schedulers = schedulers;
  c.scheduler.stack_size = 64 * 1024;
  c.scheduler.pin = false;
  return c;
}

int variant_small() {
  myrmex::Node node(node_config(2));
  std::atomic<int> others{0};
  for (int i = 0; i < 100; ++i)
    node.spawn([&] {
      myrmex::sleep_for(5ms);
      ++others;
    });
  Term reason = node.run([] { recurse(0); });
  // The rest keep running on the same schedulers.
  Term after = node.run([&] {
    while (others < 100) myrmex::sleep_for(1ms);
  });
  std::printf("overflow=%s\nothers=%d\nafter=%s\n", reason.to_string().c_str(), others.load(),
              after.to_string().c_str());
  return 0;
}

// ---- frames40k / frames100k ----

constexpr std::size_t kPatternSize = 40 * 1024;

unsigned char pattern_byte(std::size_t i) {
  return static_cast<unsigned char>(i * 131 + 7);
}

struct NeighbourReady {
  Pid pid;
  std::uintptr_t low, high;  // its pattern array's bytes
};
struct Check {
  Pid from;
};

// neighbour() fills a big local array with a pattern and parks in a nested receive, holding its stack,
// until asked to count the bytes that changed.
void neighbour(Pid parent) {
  volatile unsigned char pattern[kPatternSize];
  for (std::size_t i = 0; i < kPatternSize; ++i) pattern[i] = pattern_byte(i);
  myrmex::send(parent, NeighbourReady{myrmex::self(), reinterpret_cast<std::uintptr_t>(&pattern[0]),
                                      reinterpret_cast<std::uintptr_t>(&pattern[kPatternSize])});
  myrmex::receive([&](Check& c) {
    long bad = 0;
    for (std::size_t i = 0; i < kPatternSize; ++i) bad += pattern[i] != pattern_byte(i) ? 1 : 0;
    myrmex::send(c.from, bad);
  });
}

int variant_neighbour(int (*overflow)(int)) {
  // One scheduler: the overflowing process and its neighbour share a thread, which must survive too.
  myrmex::Node node(node_config(1));
  std::atomic<std::uint64_t> neighbour_pid{0};
  Term reason = node.run([&] {
    bool adjacent = false;
    namespace sd = myrmex::scheduler::detail;
    // Stacks come off a fresh arena in address order, highest first: the process spawned next takes the
    // stack right below this one's guard, where an overflow that jumps the guard lands.
    const sd::Stack* mine = sd::Scheduler::current()->running()->stack;
    myrmex::spawn(neighbour, myrmex::self());
    myrmex::receive([&](NeighbourReady& r) {
      neighbour_pid = r.pid.value;
      auto below = reinterpret_cast<std::uintptr_t>(mine->guard_page);
      adjacent = r.high <= below && r.low >= below - mine->size;
    });
    std::printf("adjacent=%d\n", adjacent ? 1 : 0);
    std::fflush(stdout);  // before the overflow, in case it takes the OS process down
    overflow(0);
  });
  Term after = node.run([&] {
    myrmex::send(Pid{neighbour_pid.load()}, Check{myrmex::self()});
    long bad = myrmex::receive([](long n) { return n; });
    std::printf("neighbour_bad_bytes=%ld\n", bad);
    // Fresh processes still run on this scheduler.
    int ran = 0;
    for (int i = 0; i < 10; ++i) myrmex::spawn([me = myrmex::self()] { myrmex::send(me, 1); });
    for (int i = 0; i < 10; ++i) ran += myrmex::receive([](int n) { return n; });
    std::printf("ran=%d\n", ran);
  });
  std::printf("overflow=%s\nafter=%s\n", reason.to_string().c_str(), after.to_string().c_str());
  return 0;
}

// ---- unwinding ----

// OverflowsWhenDestroyed's destructor overflows the stack (while an exception propagates).
struct OverflowsWhenDestroyed {
  ~OverflowsWhenDestroyed() { recurse(0); }
};

int variant_unwinding() {
  // One scheduler: whatever the overflowing process leaves in the thread, the next process sees.
  myrmex::Node node(node_config(1));
  Term reason = node.run([] {
    try {
      throw std::runtime_error("caught");
    } catch (...) {
      OverflowsWhenDestroyed o;
      throw std::logic_error("in flight");
    }
  });
  int uncaught = -1;
  bool current = true;
  bool killed = false;
  Term after = node.run([&] {
    uncaught = std::uncaught_exceptions();
    current = std::current_exception() != nullptr;
    // Signals wait while a process unwinds: a leaked count would make this one unkillable.
    Pid victim = myrmex::spawn([] { myrmex::receive([](int) {}); });
    myrmex::yield();
    myrmex::exit(victim, Term::atom("kill"));
    for (int i = 0; i < 1000 && myrmex::alive(victim); ++i) myrmex::sleep_for(1ms);
    killed = !myrmex::alive(victim);
  });
  std::printf("overflow=%s\nuncaught_after=%d\ncurrent_after=%s\nvictim_killed=%d\nafter=%s\n",
              reason.to_string().c_str(), uncaught, current ? "some" : "none", killed ? 1 : 0,
              after.to_string().c_str());
  std::fflush(stdout);  // before ~Node(), which could not kill an unkillable victim
  return 0;
}

// ---- chain / unhandled ----

char* fault_page[2] = {nullptr, nullptr};
volatile sig_atomic_t old_handler_calls = 0;

// old_handler() is the application's own SIGSEGV handler: it repairs a fault on one of its pages (so the
// access succeeds when the kernel retries it) and counts the calls.
void old_handler(int, siginfo_t* info, void*) {
  for (char* page : fault_page)
    if (static_cast<char*>(info->si_addr) == page) {
      mprotect(page, 4096, PROT_READ | PROT_WRITE);
      old_handler_calls = old_handler_calls + 1;
      return;
    }
  signal(SIGSEGV, SIG_DFL);  // not ours either: the retried access dies
}

char* protected_page() {
  void* p = mmap(nullptr, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? nullptr : static_cast<char*>(p);
}

int variant_chain() {
  struct sigaction sa {};
  sa.sa_sigaction = &old_handler;
  sa.sa_flags = SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGSEGV, &sa, nullptr);
  fault_page[0] = protected_page();
  fault_page[1] = protected_page();
  myrmex::Node node(node_config(1));
  // A fault on a thread that runs no scheduler.
  std::thread([] { *reinterpret_cast<volatile char*>(fault_page[0]) = 1; }).join();
  // A fault inside a process that is not a guard hit.
  node.run([] { *reinterpret_cast<volatile char*>(fault_page[1]) = 1; });
  Term reason = node.run([] { recurse(0); });
  Term after = node.run([] {});
  std::printf("old_handler_calls=%d\noverflow=%s\nafter=%s\n", static_cast<int>(old_handler_calls),
              reason.to_string().c_str(), after.to_string().c_str());
  return 0;
}

int variant_unhandled() {
  prctl(PR_SET_DUMPABLE, 0);  // no core file
  fault_page[0] = protected_page();
  myrmex::Node node(node_config(1));
  std::printf("reached_fault=1\n");
  std::fflush(stdout);
  *reinterpret_cast<volatile char*>(fault_page[0]) = 1;
  std::printf("survived_fault=1\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  alarm(30);  // a hang (a regression) ends the child instead of the parent test
  std::string variant = argc > 1 ? argv[1] : "small";
  if (variant == "small") return variant_small();
  if (variant == "frames40k") return variant_neighbour(&recurse_40k);
  if (variant == "frames100k") return variant_neighbour(&recurse_100k);
  if (variant == "unwinding") return variant_unwinding();
  if (variant == "chain") return variant_chain();
  if (variant == "unhandled") return variant_unhandled();
  std::fprintf(stderr, "stack_overflow_child: unknown variant %s\n", variant.c_str());
  return 2;
}
