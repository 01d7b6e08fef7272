// Savina's Concurrent Dictionary. W workers each send M requests to one dictionary server, one at a time
// (a call each): a write of a random value to a random key with probability write_percent %, else a read
// of a random key. Keys are below 2^31 / 4096 = 524287, as in Savina. Savina sizes: W = 20 workers,
// M = 10000 messages per worker, 10% writes. Unlike Savina, the dictionary starts empty instead of
// preloaded with 524287 entries, so a run times the messages rather than building a large map.
//
// Each worker writes only keys of its own class modulo W (reads go anywhere), so the final dictionary is
// a function of the workers' request sequences: one worker's requests arrive in order.
// Verifies: each write answered with its value, each read of a key of the reader's own class answered
// with the value the reader last wrote there (none if none); the server's read and write counts equal
// the workers'; the final dictionary (size and a checksum of every entry) equals a sequential replay.
//
//   myrmex-bench savina_concdict workers=20 messages=10000 write_percent=10 schedulers=1 reps=3
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>

#include "bench/programs/common.h"
#include "bench/programs/programs.h"

namespace myrmex::bench {

namespace {

namespace gs = gen_server;
using savina::fail;

constexpr std::int64_t kKeys = 2147483647 / 4096;

using Map = std::unordered_map<std::int64_t, std::int64_t>;

// checksum() is the sum of key·value over the entries, mod 2^32 (the Erlang side computes the same).
std::uint32_t checksum(const Map& map) {
  std::uint32_t sum = 0;
  for (const auto& [key, value] : map)
    sum += static_cast<std::uint32_t>(static_cast<std::uint64_t>(key * value));
  return sum;
}

struct Write {
  using reply_type = std::int64_t;  // the value written
  std::int64_t key, value;
};
struct Read {
  using reply_type = std::optional<std::int64_t>;
  std::int64_t key;
};
struct Stats {
  long reads, writes;
  std::size_t size;
  std::uint32_t checksum;
};
struct GetStats {
  using reply_type = Stats;
};

struct Dictionary {
  using calls = gs::Messages<Write, Read, GetStats>;
  Map entries;
  long reads = 0, writes = 0;

  std::int64_t handle_call(Write& w) {
    ++writes;
    return entries[w.key] = w.value;
  }
  std::optional<std::int64_t> handle_call(Read& r) {
    ++reads;
    auto it = entries.find(r.key);
    return it == entries.end() ? std::nullopt : std::optional(it->second);
  }
  Stats handle_call(GetStats&) { return {reads, writes, entries.size(), checksum(entries)}; }
};

struct Sizes {
  long workers, messages, write_percent;
};

// Op is one request of a worker; Ops draws worker `id`'s sequence (seeded as Savina seeds it).
struct Op {
  bool write;
  std::int64_t key, value;
};
class Ops {
 public:
  Ops(long id, const Sizes& s) : random_(id + s.messages + s.write_percent), id_(id), s_(s) {}
  Op next() {
    if (random_.next_int(100) < s_.write_percent) {
      const std::int64_t key = random_.next_int(kKeys / s_.workers) * s_.workers + id_;
      return {true, key, random_.next()};
    }
    return {false, random_.next_int(kKeys), 0};
  }

 private:
  savina::Random random_;
  long id_;
  Sizes s_;
};

struct WorkerDone {
  long reads, writes;
};

void work(Pid dictionary, Pid home, long id, const Sizes& s) {
  Ops ops(id, s);
  Map mine;  // what this worker wrote last to each of its keys
  WorkerDone done{0, 0};
  for (long m = 0; m < s.messages; ++m) {
    const Op op = ops.next();
    if (op.write) {
      auto written = gs::call(dictionary, Write{op.key, op.value}, savina::kPatience);
      if (!written || *written != op.value) fail("concdict: a write got a wrong answer");
      mine[op.key] = op.value;
      ++done.writes;
    } else {
      auto read = gs::call(dictionary, Read{op.key}, savina::kPatience);
      if (!read) fail("concdict: a read got no answer");
      if (op.key % s.workers == id) {
        auto it = mine.find(op.key);
        if (*read != (it == mine.end() ? std::nullopt : std::optional(it->second)))
          fail("concdict: a read did not see the reader's own last write");
      }
      ++done.reads;
    }
  }
  send(home, done);
}

// replay() is the final dictionary and the number of writes, computed sequentially.
std::pair<Map, long> replay(const Sizes& s) {
  Map map;
  long writes = 0;
  for (long id = 0; id < s.workers; ++id) {
    Ops ops(id, s);
    for (long m = 0; m < s.messages; ++m)
      if (Op op = ops.next(); op.write) {
        map[op.key] = op.value;
        ++writes;
      }
  }
  return {std::move(map), writes};
}

void concdict(const Sizes& s) {
  auto dictionary = gs::start_link(Dictionary{});
  if (!dictionary) fail("concdict: the dictionary did not start");
  for (long id = 0; id < s.workers; ++id)
    spawn_link([d = *dictionary, home = self(), id, &s] { work(d, home, id, s); });
  WorkerDone total{0, 0};
  for (long w = 0; w < s.workers; ++w)
    receive(
        [&](WorkerDone& d) {
          total.reads += d.reads;
          total.writes += d.writes;
        },
        after(savina::kPatience, [] { fail("concdict: a worker did not finish"); }));

  auto stats = gs::call(*dictionary, GetStats{}, savina::kPatience);
  if (!stats) fail("concdict: the dictionary did not answer");
  const auto [expected, writes] = replay(s);
  if (total.reads + total.writes != s.workers * s.messages || stats->reads != total.reads ||
      stats->writes != total.writes || total.writes != writes)
    fail("concdict: reads and writes miscounted");
  if (stats->size != expected.size() || stats->checksum != checksum(expected))
    fail("concdict: the final dictionary differs from the sequential replay");
  if (!gs::stop(*dictionary)) fail("concdict: the dictionary did not stop");
}

}  // namespace

void savina_concdict(const Args& args) {
  const Sizes s{args.get("workers", 20L), args.get("messages", 10000L), args.get("write_percent", 10L)};
  if (s.workers < 1 || s.messages < 1 || s.write_percent < 0 || s.write_percent > 100) {
    std::fprintf(stderr, "savina_concdict: needs workers, messages >= 1 and write_percent in 0..100\n");
    std::exit(2);
  }
  Params params;
  params.add("workers", s.workers).add("messages", s.messages).add("write_percent", s.write_percent);
  savina::run(args, "savina_concdict", params, [&] { concdict(s); });
}

}  // namespace myrmex::bench
