// Terms and the atom table. The atom table is shared by every node of the OS process and reached at every
// process exit, so looking up an atom that exists must not wait for anyone.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "scheduler/detail/systematic.h"
#include "scheduler/detail/yield_point.h"
#include "tests/test_node.h"
#include "vm/term.h"

using myrmex::vm::Term;
namespace atoms = myrmex::vm::atoms;
namespace sd = myrmex::scheduler::detail;

TEST_CASE("the runtime's atoms are the interned atoms of their names") {
  CHECK(atoms::normal() == Term::atom("normal"));
  CHECK(atoms::kill() == Term::atom("kill"));
  CHECK(atoms::killed() == Term::atom("killed"));
  CHECK(atoms::noproc() == Term::atom("noproc"));
  CHECK(atoms::noconnection() == Term::atom("noconnection"));
  CHECK(atoms::undefined() == Term::atom("undefined"));
  CHECK(atoms::undefined() == Term());
  CHECK(atoms::exception() == Term::atom("exception"));
  CHECK(atoms::stack_overflow() == Term::atom("stack_overflow"));
  CHECK(atoms::shutdown() == Term::atom("shutdown"));
  CHECK(atoms::timeout() == Term::atom("timeout"));
  CHECK(atoms::normal().atom_name() == "normal");
  CHECK_FALSE(atoms::normal() == atoms::kill());
}

TEST_CASE("atoms interned by many threads at once are one atom per name") {
  // Enough new names to make the table grow while others look up.
  constexpr int kThreads = 4;
  constexpr int kNames = 20000;
  std::vector<std::vector<Term>> got(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([t, &got] {
      got[t].reserve(kNames);
      for (int i = 0; i < kNames; ++i) {
        int n = (i * 7919 + t * 104729) % kNames;  // each thread in its own order
        got[t].push_back(Term::atom("term_test_" + std::to_string(n)));
      }
    });
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t)
    for (int i = 0; i < kNames; ++i) {
      int n = (i * 7919 + t * 104729) % kNames;
      const Term& a = got[t][i];
      if (a.atom_name() != "term_test_" + std::to_string(n) || !(a == Term::atom(a.atom_name()))) {
        FAIL("thread ", t, " got ", a.to_string(), " for term_test_", n);
      }
    }
  CHECK(Term::atom("term_test_0") == got[0][0]);
}

namespace {
// The hook holds the first thread that reaches "atom.intern.inserting" there until `release`.
std::atomic<bool> inserting_held{false};
std::atomic<bool> release_inserter{false};
thread_local bool is_inserter = false;
void hold_inserter(const char* name) {
  if (!is_inserter || std::strcmp(name, "atom.intern.inserting") != 0) return;
  inserting_held = true;
  auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!release_inserter && std::chrono::steady_clock::now() < give_up)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
}
}  // namespace

TEST_CASE("looking up an existing atom does not wait for a thread inserting a new one") {
  if (!sd::kYieldPoints) return;  // needs the yield point inside the insertion
  Term::atom("term_test_existing");
  sd::set_yield_hook(hold_inserter);
  std::thread inserter([] {
    is_inserter = true;
    Term::atom("term_test_new_atom_while_held");
  });
  while (!inserting_held) std::this_thread::yield();
  std::atomic<bool> looked_up{false};
  std::thread reader([&] {
    Term::atom("term_test_existing");
    Term::atom("normal");
    looked_up = true;
  });
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (!looked_up && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  bool in_time = looked_up;
  release_inserter = true;
  inserter.join();
  reader.join();
  sd::set_yield_hook(nullptr);
  CHECK_MESSAGE(in_time, "a lookup of an existing atom waited for an insertion");
}

TEST_CASE("seeded: processes interning one new atom at once on two schedulers do not stop the node" *
          doctest::skip(!sd::kYieldPoints)) {
  // The inserter reaches the yield point `atom.intern.inserting` holding the table's mutex; the turn may
  // pass to the other scheduler thread, which must not block on that mutex (it would never give the turn
  // back), but hand the turn on until the mutex is free.
  long seeds = myrmex::test::for_each_seed(30, [](std::uint64_t seed) {
    myrmex::Node node(myrmex::test::config(2));
    std::atomic<int> done{0};
    node.run([&] {
      const std::string name = "term_test_seeded_" + std::to_string(seed);
      for (int k = 0; k < 4; ++k)
        myrmex::spawn([&done, name] {
          myrmex::yield();
          (void)Term::atom(name);
          ++done;
        });
      while (done.load() < 4) myrmex::yield();
    });
    CHECK(done.load() == 4);
  });
  CHECK(seeds > 0);
}
