// Savina's dining philosophers (Imam & Sarkar, AGERE 2014: "philosopher"). N philosophers sit at a round
// table with a fork between each two; an arbitrator, a gen_server, owns the forks. A hungry philosopher
// asks it for both its forks (a call: yes or no); when either is in use the answer is no and it asks
// again at once. After its meal it gives both back (a cast). Each eats M times. Savina's sizes: N=20
// philosophers, M=10,000 rounds.
//
// Verified: every philosopher ate M times, by its own count and by the arbitrator's, and no two
// neighbours ate at once. For the last, outside the actor model, a philosopher raises a flag while it
// eats and looks at its neighbours' flags just after raising its own and just before lowering it (so two
// overlapping meals cannot both miss each other). As in Savina a meal takes no time, so only philosophers
// on different schedulers can overlap: with one scheduler this check cannot fail. (A meal of one yield()
// would make it bite there too, but it changes the program: on one scheduler a denied neighbour then
// retries for a whole time slice while the eater waits its turn, 2.8M retries instead of 124k.)
//
//   myrmex-bench savina_philosophers n=20 m=10000 schedulers=1 reps=3
#include <atomic>
#include <memory>
#include <vector>

#include "bench/programs/common.h"
#include "bench/programs/programs.h"

namespace myrmex::bench {

namespace {

using savina::fail;
using savina::must;

constexpr const char* kName = "savina_philosophers";

struct Hungry {  // may I eat? true: both forks are now yours
  using reply_type = bool;
  int seat;
};
struct Done {  // the forks go back
  int seat;
};
struct Meals {  // how many times each seat was granted its forks
  using reply_type = std::vector<long>;
};

// Arbitrator owns the forks: fork i lies left of seat i, fork i+1 (mod n) right of it.
struct Arbitrator {
  using calls = gen_server::Messages<Hungry, Meals>;
  using casts = gen_server::Messages<Done>;

  std::vector<bool> in_use;
  std::vector<long> meals;

  explicit Arbitrator(int n) : in_use(n), meals(n) {}
  int right(int seat) const { return (seat + 1) % static_cast<int>(in_use.size()); }

  bool handle_call(Hungry& h) {
    if (in_use[h.seat] || in_use[right(h.seat)]) return false;
    in_use[h.seat] = in_use[right(h.seat)] = true;
    ++meals[h.seat];
    return true;
  }
  std::vector<long> handle_call(Meals&) { return meals; }
  void handle_cast(Done& d) { in_use[d.seat] = in_use[right(d.seat)] = false; }
};

// Table holds the flags that check the arbitrator: eating[i] is raised while seat i eats.
struct Table {
  explicit Table(int n) : eating(std::make_unique<std::atomic<bool>[]>(n)), seats(n) {}
  std::unique_ptr<std::atomic<bool>[]> eating;
  int seats;
  std::atomic<bool> clash{false};

  bool neighbour_eating(int seat) const {
    const int left = (seat + seats - 1) % seats, right = (seat + 1) % seats;
    return (left != seat && eating[left].load()) || (right != seat && eating[right].load());
  }
  void eat(int seat) {
    eating[seat].store(true);
    if (neighbour_eating(seat)) clash.store(true);
    // The meal takes no time, as in Savina.
    if (neighbour_eating(seat)) clash.store(true);
    eating[seat].store(false);
  }
};

// Full is a philosopher's last word to the program: how many times it ate.
struct Full {
  int seat;
  long meals;
};

void philosopher(Pid arbitrator, int seat, long rounds, Table& table, Pid program) {
  long meals = 0;
  for (long round = 0; round < rounds; ++round) {
    bool granted = false;
    while (!granted) granted = must(gen_server::call(arbitrator, Hungry{seat}), "Hungry");
    table.eat(seat);
    ++meals;
    gen_server::cast(arbitrator, Done{seat});
  }
  send(program, Full{seat, meals});
}

void dine(int n, long rounds, Table& table) {
  const Pid arbitrator = must(gen_server::start_link(Arbitrator(n)), "starting the arbitrator");
  for (int seat = 0; seat < n; ++seat)
    spawn_link([=, &table, program = self()] { philosopher(arbitrator, seat, rounds, table, program); });
  std::vector<long> own(n, -1);
  for (int i = 0; i < n; ++i) receive([&](Full& f) { own[f.seat] = f.meals; });
  const std::vector<long> granted = must(gen_server::call(arbitrator, Meals{}), "Meals");
  must(gen_server::stop(arbitrator), "stopping the arbitrator");
  for (int seat = 0; seat < n; ++seat)
    if (own[seat] != rounds || granted[seat] != rounds)
      fail("seat " + std::to_string(seat) + " ate " + std::to_string(own[seat]) +
           " times (the arbitrator says " + std::to_string(granted[seat]) + "), not " +
           std::to_string(rounds));
  if (table.clash.load()) fail("two neighbours ate at once");
}

}  // namespace

void savina_philosophers(const Args& args) {
  const long n = args.get("n", 20L), m = args.get("m", 10000L);
  if (n < 1) savina::bad_arguments(kName, "n must be at least 1");
  savina::run(args, kName, Params().add("n", n).add("m", m), [&] {
    Table table(static_cast<int>(n));
    dine(static_cast<int>(n), m, table);
  });
}

}  // namespace myrmex::bench
