// A fiber stack overflow is caught by the guard page, reported naming the process, and ends only that
// process. Runs in a child process (a death test), since the failure is a real SIGSEGV.
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "scheduler/detail/fiber.h"

TEST_CASE("a stack overflow ends only the overflowing process, with a report naming it") {
  if (myrmex::scheduler::detail::under_sanitizer()) return;  // the sanitizers own SIGSEGV there
  const char* child = std::getenv("MYRMEX_OVERFLOW_CHILD");
  REQUIRE_MESSAGE(child, "run through meson test, which sets MYRMEX_OVERFLOW_CHILD");
  std::string cmd = std::string(child) + " 2>&1";
  FILE* out = popen(cmd.c_str(), "r");
  REQUIRE(out);
  std::string text;
  char buf[512];
  while (std::fgets(buf, sizeof buf, out)) text += buf;
  int status = pclose(out);
  INFO(text);
  CHECK(status == 0);
  // The report names the process by its PID, <node slot.index.generation>; node slots start at 1.
  const std::string report = "myrmex: stack overflow in process <";
  std::size_t at = text.find(report);
  REQUIRE(at != std::string::npos);
  unsigned slot = 0, index = 0, generation = 0;
  CHECK(std::sscanf(text.c_str() + at + report.size(), "%u.%u.%u>", &slot, &index, &generation) == 3);
  CHECK(slot >= 1);
  CHECK(generation >= 1);
  CHECK(text.find("overflow=stack_overflow") != std::string::npos);
  CHECK(text.find("others=100") != std::string::npos);
  CHECK(text.find("after=normal") != std::string::npos);
}
