// Child program for the stack overflow test: one process overflows its stack, the others must go on.
// Prints "overflow=<reason>" and "others=<count>" on stdout.
#include <myrmex/myrmex.h>

#include <atomic>
#include <cstdio>

namespace {
// Unbounded on purpose: the point is to overflow.
#pragma GCC diagnostic ignored "-Winfinite-recursion"
int recurse(int depth) {
  volatile char frame[512];
  frame[0] = static_cast<char>(depth);
  return recurse(depth + 1) + frame[0];  // not a tail call
}
}  // namespace

int main() {
  myrmex::NodeConfig c;
  c.scheduler.schedulers = 2;
  c.scheduler.stack_size = 64 * 1024;
  myrmex::Node node(c);
  std::atomic<int> others{0};
  for (int i = 0; i < 100; ++i)
    node.spawn([&] {
      myrmex::sleep_for(std::chrono::milliseconds(5));
      ++others;
    });
  myrmex::Term reason = node.run([] { recurse(0); });
  // The rest keep running on the same schedulers.
  myrmex::Term after = node.run([&] {
    while (others < 100) myrmex::sleep_for(std::chrono::milliseconds(1));
  });
  std::printf("overflow=%s\nothers=%d\nafter=%s\n", reason.to_string().c_str(), others.load(),
              after.to_string().c_str());
  return 0;
}
