// Registry lookups from every scheduler at once: whereis() (registry/detail/name_table.h: no lock, no
// shared write) beside the same lookups in a std::unordered_map behind a std::shared_mutex (readers share
// the lock, so each lookup writes its reader count) and behind a std::mutex, and a floor that only charges
// and hashes the name (no table, nothing shared): how whereis() scales from 1 to N schedulers should match
// the floor's. One process per scheduler looks up `lookups` names, all at once; a figure is the wall time
// per lookup in one process.
//
//   myrmex-bench registry_whereis schedulers=2 names=1000 lookups=2000000 reps=5
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "bench/workloads.h"
#include "bench/workloads/common.h"

namespace myrmex::bench {

namespace {

struct Go {};
struct Done {};

// Holder is an idle named process.
struct Holder final : Behaviour {
  void handle(Message& m) override {
    if (m.is<Stop>()) stop();
  }
};

// Map is the baseline table: a string map behind `Lock`, shared by readers where the lock allows it.
template <class Lock>
class Map {
 public:
  void insert(const std::string& name, Pid pid) { map_.emplace(name, pid); }
  Pid find(std::string_view name) {
    std::shared_lock<Lock> lock(
        lock_);  // lock_shared(): shared for std::shared_mutex, not for ExclusiveMutex
    auto it = map_.find(std::string(name));
    return it == map_.end() ? Pid{} : it->second;
  }

 private:
  Lock lock_;
  std::unordered_map<std::string, Pid> map_;
};

// ExclusiveMutex is std::mutex with the shared-lock interface, so Map<ExclusiveMutex> locks exclusively.
struct ExclusiveMutex : std::mutex {
  void lock_shared() { lock(); }
  void unlock_shared() { unlock(); }
};

// lookups_ns() runs `readers` processes that each call find() `lookups` times over `names`, all at once,
// and returns the wall ns per lookup.
template <class Find>
double lookups_ns(const std::vector<std::string>& names, long readers, long lookups, Find find) {
  Pid me = self();
  std::atomic<std::uint64_t> sink{0};
  std::vector<Pid> procs;
  for (long r = 0; r < readers; ++r)
    procs.push_back(spawn([&, me, r] {
      receive([](Go) {});
      std::uint64_t sum = 0;
      const std::size_t n = names.size();
      for (long i = 0; i < lookups; ++i) {
        sum += find(names[(static_cast<std::size_t>(i) * 7 + static_cast<std::size_t>(r)) % n]).value;
      }
      sink.fetch_add(sum, std::memory_order_relaxed);
      send(me, Done{});
    }));
  Stopwatch clock;
  for (Pid p : procs) send(p, Go{});
  for (long r = 0; r < readers; ++r) receive([](Done) {});
  return clock.ns() / static_cast<double>(lookups);
}

}  // namespace

void registry_whereis(const Args& args) {
  const long names_n = args.get("names", 1000), lookups = args.get("lookups", 2000000),
             reps = args.get("reps", 5), readers = schedulers(args);
  std::vector<std::string> names;
  for (long i = 0; i < names_n; ++i) names.push_back(std::string("name").append(std::to_string(i)));
  Params params;
  params.add("names", names_n).add("schedulers", readers);
  Node node(node_config(args));
  node.run([&] {
    Map<std::shared_mutex> shared;
    Map<ExclusiveMutex> exclusive;
    std::vector<Pid> holders;
    for (const std::string& name : names) {
      Pid p = spawn_behaviour(std::make_unique<Holder>());
      if (!register_name(name, p)) std::abort();
      shared.insert(name, p);
      exclusive.insert(name, p);
      holders.push_back(p);
    }
    // Each map lookup charges as whereis() does, so both yield equally often.
    print({"registry.whereis", params, "ns/op", repeat(reps, [&] {
             return lookups_ns(names, readers, lookups, [](std::string_view n) { return whereis(n); });
           })});
    print({"registry.shared_mutex_map", params, "ns/op",
           repeat(reps,
                  [&] {
                    return lookups_ns(names, readers, lookups, [&](std::string_view n) {
                      consume(1);
                      return shared.find(n);
                    });
                  }),
           "baseline"});
    print({"registry.mutex_map", params, "ns/op",
           repeat(reps,
                  [&] {
                    return lookups_ns(names, readers, lookups, [&](std::string_view n) {
                      consume(1);
                      return exclusive.find(n);
                    });
                  }),
           "baseline"});
    print({"registry.floor_charge_and_hash", params, "ns/op",
           repeat(reps,
                  [&] {
                    return lookups_ns(names, readers, lookups, [](std::string_view n) {
                      consume(1);
                      return Pid{std::hash<std::string_view>{}(n)};
                    });
                  }),
           "limit"});
    for (Pid p : holders) send(p, Stop{});
  });
}

}  // namespace myrmex::bench
