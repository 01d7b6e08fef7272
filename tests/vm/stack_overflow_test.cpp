// A fiber stack overflow is caught by the guard, reported naming the process, and ends only that process;
// faults that are no guard hit go to whoever handled SIGSEGV before the node. Each case runs a variant of
// tests/vm/stack_overflow_child.cpp in a child process (a death test), since the failure is a real SIGSEGV.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "scheduler/detail/fiber.h"

namespace {

struct ChildRun {
  int status = -1;  // as pclose() returns it: the shell's, whose exit code is 128 + signal for a signal
  std::string text;
};

ChildRun run_child(const char* variant) {
  ChildRun run;
  const char* child = std::getenv("MYRMEX_OVERFLOW_CHILD");
  REQUIRE_MESSAGE(child, "run through meson test, which sets MYRMEX_OVERFLOW_CHILD");
  std::string cmd = std::string(child) + " " + variant + " 2>&1";
  FILE* out = popen(cmd.c_str(), "r");
  REQUIRE(out);
  char buf[512];
  while (std::fgets(buf, sizeof buf, out)) run.text += buf;
  run.status = pclose(out);
  return run;
}

bool has(const ChildRun& run, const char* line) {
  return run.text.find(line) != std::string::npos;
}

}  // namespace

TEST_CASE("a stack overflow ends only the overflowing process, with a report naming it") {
  if (myrmex::scheduler::detail::under_sanitizer()) return;  // the sanitizers own SIGSEGV there
  ChildRun run = run_child("small");
  INFO(run.text);
  CHECK(run.status == 0);
  CHECK(has(run, "myrmex: stack overflow in process <"));
  CHECK(has(run, "overflow=stack_overflow"));
  CHECK(has(run, "others=100"));
  CHECK(has(run, "after=normal"));
}

TEST_CASE("frames of 40 KiB built without stack clash protection hit the guard, not the stack below") {
  // Why: a 4 KiB guard is jumped by any frame larger than it, and the write lands in the neighbour's stack
  // (memory corruption, or a fault in some other guard that kills the node).
  if (myrmex::scheduler::detail::under_sanitizer()) return;
  ChildRun run = run_child("frames40k");
  INFO(run.text);
  CHECK(run.status == 0);
  CHECK(has(run, "adjacent=1\n"));  // otherwise the neighbour was not where the overflow lands
  CHECK(has(run, "overflow=stack_overflow"));
  CHECK(has(run, "neighbour_bad_bytes=0\n"));
  CHECK(has(run, "ran=10\n"));
  CHECK(has(run, "after=normal"));
}

TEST_CASE("frames wider than the guard are caught too, in code built with -fstack-clash-protection") {
  // Why: the build promises the flag (to users too, through pkg-config); the probes it adds touch every
  // page of a large frame from the top, so the first touch past the stack is in the guard.
  if (myrmex::scheduler::detail::under_sanitizer()) return;
  ChildRun run = run_child("frames100k");
  INFO(run.text);
  CHECK(run.status == 0);
  CHECK(has(run, "adjacent=1\n"));
  CHECK(has(run, "overflow=stack_overflow"));
  CHECK(has(run, "neighbour_bad_bytes=0\n"));
  CHECK(has(run, "after=normal"));
}

TEST_CASE("an overflow while unwinding inside a catch block leaves no exception state to the thread") {
  // Why: the overflowing fiber is abandoned mid-unwinding; if its exception state stayed in the thread,
  // the next process there would see an exception it never threw and could no longer be killed.
  if (myrmex::scheduler::detail::under_sanitizer()) return;
  ChildRun run = run_child("unwinding");
  INFO(run.text);
  CHECK(run.status == 0);
  CHECK(has(run, "overflow=stack_overflow"));
  CHECK(has(run, "uncaught_after=0\n"));
  CHECK(has(run, "current_after=none\n"));
  CHECK(has(run, "victim_killed=1\n"));
  CHECK(has(run, "after=normal"));
}

TEST_CASE("a SIGSEGV handler installed before the node still gets the faults that are not guard hits") {
  // Why: the node must not take SIGSEGV away from the application (or from a JIT, a GC, a profiler).
  if (myrmex::scheduler::detail::under_sanitizer()) return;
  ChildRun run = run_child("chain");
  INFO(run.text);
  CHECK(run.status == 0);
  CHECK(has(run, "old_handler_calls=2\n"));  // the plain thread's fault and the process's: not the overflow
  CHECK(has(run, "overflow=stack_overflow"));
  CHECK(has(run, "after=normal"));
}

TEST_CASE("with no handler before the node, a fault that is no guard hit kills the OS process") {
  if (myrmex::scheduler::detail::under_sanitizer()) return;
  ChildRun run = run_child("unhandled");
  INFO(run.text);
  CHECK(has(run, "reached_fault=1"));
  CHECK_FALSE(has(run, "survived_fault=1"));
  // The shell either reports the signal as exit code 128 + SIGSEGV or hands it through (exec'd child).
  const int st = run.status;
  CHECK(
      ((WIFEXITED(st) && WEXITSTATUS(st) == 128 + SIGSEGV) || (WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV)));
}
