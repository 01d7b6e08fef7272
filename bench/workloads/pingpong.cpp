#include "bench/workloads/pingpong.h"

#include "bench/workloads/common.h"

namespace myrmex::bench {

namespace {

// Ball is what the two players pass: who to answer, and how many round trips are left.
struct Ball {
  Pid from;
  long left;
};

void pong() {
  for (bool more = true; more;)
    receive([&](Ball& b) {
      send(b.from, Ball{self(), b.left});
      more = b.left > 0;
    });
}

void ping(Pid partner, long round_trips, Pid done) {
  for (long left = round_trips - 1; left >= 0; --left) {
    send(partner, Ball{self(), left});
    receive([](Ball&) {});
  }
  send(done, Stop{});
}

}  // namespace

double pingpong_ns(long round_trips) {
  Pid partner = spawn(pong);
  Stopwatch clock;
  spawn(ping, partner, round_trips, self());
  receive([](Stop) {});
  return clock.ns() / static_cast<double>(round_trips);
}

}  // namespace myrmex::bench
