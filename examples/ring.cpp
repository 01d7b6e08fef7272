// ring: spawn a ring of processes (1M by default) and pass a token around it.
//
//   ./build/examples/ring [processes] [laps]
//
// Each process is behaviour-style: it waits for the token holding no stack, forwards it to the next
// process, and stops after the last lap. The program prints what it did and how long each phase took.
#include <myrmex/myrmex.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>

namespace {

struct Token {
  long hops_left;
};

// A ring member forwards the token to `next` until no hops are left; then it tells `done`.
class Member : public myrmex::Behaviour {
 public:
  Member(myrmex::Pid next, myrmex::Pid done) : next_(next), done_(done) {}
  void set_next(myrmex::Pid next) { next_ = next; }
  void handle(myrmex::Message& m) override {
    if (auto* t = m.get<Token>()) {
      if (t->hops_left == 0) {
        myrmex::send(done_, *t);
      } else {
        myrmex::send(next_, Token{t->hops_left - 1});
      }
    } else if (auto* next = m.get<myrmex::Pid>()) {
      next_ = *next;
    }
  }

 private:
  myrmex::Pid next_;
  myrmex::Pid done_;
};

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

int main(int argc, char** argv) {
  long n = argc > 1 ? std::atol(argv[1]) : 1000000;
  long laps = argc > 2 ? std::atol(argv[2]) : 1;
  if (n < 1 || laps < 1) {
    std::fprintf(stderr, "usage: ring [processes >= 1] [laps >= 1]\n");
    return 2;
  }
  myrmex::Node node;
  std::printf("myrmex ring: %ld processes, %ld lap(s), %u schedulers\n", n, laps, node.schedulers());
  myrmex::Term reason = node.run([n, laps] {
    auto t0 = std::chrono::steady_clock::now();
    // Build the ring backwards: each new member points at the previous one; the first is closed last.
    myrmex::Pid first = myrmex::spawn_behaviour(std::make_unique<Member>(myrmex::Pid{}, myrmex::self()));
    myrmex::Pid next = first;
    for (long i = 1; i < n; ++i)
      next = myrmex::spawn_behaviour(std::make_unique<Member>(next, myrmex::self()));
    myrmex::send(first, next);  // close the ring: first -> last spawned
    double spawn_s = seconds_since(t0);
    std::printf("spawned %ld processes in %.3f s (%.0f ns/process)\n", n, spawn_s, spawn_s * 1e9 / n);

    auto t1 = std::chrono::steady_clock::now();
    long hops = n * laps;
    myrmex::send(first, Token{hops - 1});
    myrmex::receive([](Token&) {});
    double ring_s = seconds_since(t1);
    std::printf("token made %ld hops in %.3f s (%.0f ns/hop)\n", hops, ring_s, ring_s * 1e9 / hops);
  });
  auto t2 = std::chrono::steady_clock::now();
  node.stop();
  std::printf("stopped the node (all %ld processes exited) in %.3f s; main process exit reason: %s\n", n,
              seconds_since(t2), reason.to_string().c_str());
  return reason.is_atom("normal") ? 0 : 1;
}
