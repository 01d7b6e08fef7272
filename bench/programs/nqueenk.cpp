// Savina's N-queens, first K solutions (Imam & Sarkar, AGERE 2014: "nqueenk"): a master gen_server hands
// out partial boards round robin to W worker gen_servers. A worker given a board of fewer than THRESHOLD
// queens sends each valid board with one more queen back to the master to hand out; from THRESHOLD queens
// on it searches the rest itself. It sends the master each solution it finds, then Done. Once the master
// has K solutions it hands out nothing more; when every board it handed out is done it stops the workers
// and answers the program's call with the solutions. Savina's sizes: N=12, THRESHOLD=4, W=20 workers;
// K=1,500 here (Savina's code says 1,500,000, more than the 14,200 solutions of N=12, so it finds all).
// Savina gives deeper boards a higher message priority; our mailboxes are FIFO and this program ignores
// priorities, as does the Erlang twin. How much is searched past the K-th solution depends on the
// scheduling: every board handed out before it is still searched, and with these sizes that can be all
// of them (then K does not cut the work at all).
//
// Verified: at least K solutions came back (all of them, when N has fewer), no more than N has, and each
// one is a valid placement of N queens, no two the same.
//
//   myrmex-bench savina_nqueenk n=12 k=1500 threshold=4 workers=20 schedulers=1 reps=3
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "bench/programs/common.h"
#include "bench/programs/programs.h"

namespace myrmex::bench {

namespace {

using savina::fail;
using savina::must;

constexpr const char* kName = "savina_nqueenk";
constexpr std::chrono::milliseconds kPatience = std::chrono::minutes(5);
constexpr int kMaxSize = 16;
// How many ways there are to place n queens, for n = 1 .. kMaxSize.
constexpr std::array<long, kMaxSize + 1> kSolutions = {
    0, 1, 0, 0, 2, 10, 4, 40, 92, 352, 724, 2680, 14200, 73712, 365596, 2279184, 14772512};

// Board holds the rows of the queens in columns 0 .. depth-1.
struct Board {
  std::array<std::int8_t, kMaxSize> row{};
  int depth = 0;

  // fits() says whether a queen in the next column, at `r`, is safe from all the others.
  bool fits(int r) const {
    for (int c = 0; c < depth; ++c)
      if (row[c] == r || std::abs(row[c] - r) == depth - c) return false;
    return true;
  }
  Board with(int r) const {
    Board b = *this;
    b.row[b.depth++] = static_cast<std::int8_t>(r);
    return b;
  }
  friend bool operator<(const Board& a, const Board& b) { return a.row < b.row; }
  friend bool operator==(const Board& a, const Board& b) { return a.row == b.row && a.depth == b.depth; }
};

struct Work {  // to a worker: extend this board; to the master: hand it out
  Board board;
};
struct Solution {
  Board board;
};
struct Done {};  // a worker finished one Work
struct Solve {   // the program asks the master for the solutions
  using reply_type = std::vector<Board>;
};

struct Worker {
  using casts = gen_server::Messages<Work>;

  Pid master;
  int n;
  int threshold;

  void handle_cast(Work& w) {
    if (w.board.depth >= threshold || w.board.depth == n) {
      search(w.board);
    } else {
      for (int r = 0; r < n; ++r)
        if (w.board.fits(r)) gen_server::cast(master, Work{w.board.with(r)});
    }
    gen_server::cast(master, Done{});
  }
  void search(const Board& b) {
    if (b.depth == n) {
      gen_server::cast(master, Solution{b});
      return;
    }
    for (int r = 0; r < n; ++r)
      if (b.fits(r)) search(b.with(r));
  }
};

struct Master {
  using calls = gen_server::Messages<Solve>;
  using casts = gen_server::Messages<Work, Solution, Done>;

  Master(int n, std::size_t k, int threshold, int worker_count)
      : n(n), k(k), threshold(threshold), worker_count(worker_count) {}
  int n;
  std::size_t k;
  int threshold;
  int worker_count;
  std::vector<Pid> workers;
  std::size_t next_worker = 0;
  long handed_out = 0;
  long done = 0;
  std::vector<Board> solutions;
  std::optional<gen_server::From<std::vector<Board>>> asker;

  gen_server::CallResult<std::vector<Board>> handle_call(Solve&, gen_server::From<std::vector<Board>> from) {
    asker = from;
    for (int i = 0; i < worker_count; ++i)
      workers.push_back(must(gen_server::start_link(Worker{self(), n, threshold}), "starting a worker"));
    hand_out(Board{});
    return gen_server::noreply;
  }
  void handle_cast(Work& w) {
    if (solutions.size() < k) hand_out(w.board);
  }
  void handle_cast(Solution& s) { solutions.push_back(s.board); }
  void handle_cast(Done&) {
    if (++done < handed_out) return;
    for (Pid w : workers) must(gen_server::stop(w), "stopping a worker");
    gen_server::reply(*asker, std::move(solutions));
    gen_server::stop_self();
  }
  void hand_out(const Board& b) {
    gen_server::cast(workers[next_worker], Work{b});
    next_worker = (next_worker + 1) % workers.size();
    ++handed_out;
  }
};

// valid() checks a full board queen pair by queen pair, apart from the search's fits().
bool valid(const Board& b, int n) {
  if (b.depth != n) return false;
  for (int c = 0; c < n; ++c) {
    if (b.row[c] < 0 || b.row[c] >= n) return false;
    for (int d = c + 1; d < n; ++d)
      if (b.row[c] == b.row[d] || std::abs(b.row[c] - b.row[d]) == d - c) return false;
  }
  return true;
}

void nqueens(int n, long k, int threshold, int workers) {
  const Pid master = must(gen_server::start_link(Master(n, static_cast<std::size_t>(k), threshold, workers)),
                          "starting the master");
  std::vector<Board> found = must(gen_server::call(master, Solve{}, kPatience), "Solve");
  const long all = kSolutions[n], least = std::min(k, all), got = static_cast<long>(found.size());
  if (got < least || got > all)
    fail(std::to_string(got) + " solutions, expected " + std::to_string(least) + " to " +
         std::to_string(all));
  for (const Board& b : found)
    if (!valid(b, n)) fail("a solution is not a valid placement");
  std::sort(found.begin(), found.end());
  if (std::adjacent_find(found.begin(), found.end()) != found.end()) fail("a solution came twice");
}

}  // namespace

void savina_nqueenk(const Args& args) {
  const long n = args.get("n", 12L), k = args.get("k", 1500L), threshold = args.get("threshold", 4L),
             workers = args.get("workers", 20L);
  if (n < 1 || n > kMaxSize || k < 1 || threshold < 1 || workers < 1)
    savina::bad_arguments(kName,
                          "need 1 <= n <= " + std::to_string(kMaxSize) + ", k, threshold and workers >= 1");
  savina::run(
      args, kName, Params().add("n", n).add("k", k).add("threshold", threshold).add("workers", workers),
      [&] { nqueens(static_cast<int>(n), k, static_cast<int>(threshold), static_cast<int>(workers)); });
}

}  // namespace myrmex::bench
