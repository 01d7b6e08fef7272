// supervision_tree: a small OTP-style tree, broken on purpose, healing itself.
//
//   ./build/examples/supervision_tree [seed]
//
//   top (one_for_one, at most 20 restarts in 5 s)
//   ├── kv    a gen_server registered as "kv": put/get on a map, and a `Crash` cast that makes it throw
//   └── pool  (one_for_one, at most 20 restarts in 1 s, registered as "pool")
//       ├── worker1 .. worker4   gen_servers that answer `Work`
//
// Phase 1 kills a random member (a worker, or kv) every 60 ms, 30 times, with exit(pid, kill) or a crash
// cast, and shows each one coming back under a new PID; that is at most 17 kills in any second, under
// every supervisor's limit. Phase 2 kills pool workers as fast as it can: more than 20 restarts within 1 s is
// more than pool may do, so pool gives up (it stops its workers and exits with `shutdown`), and top, for
// which that is one restart of a permanent child, starts a fresh pool with fresh workers. The logger's lines
// are captured with logger::set_sink() and counted per event; a few are printed. The program ends by itself,
// status 0.
#include <myrmex/myrmex.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using namespace myrmex;
using namespace std::chrono_literals;

// ---- kv: a registered key/value server

struct Put {
  using reply_type = void;
  std::string key;
  int value;
};
struct Get {
  using reply_type = int;  // -1: no such key
  std::string key;
};
struct Crash {};

// named() is StartOptions with a registered name (spelt out: designated initializers that leave fields out
// warn under -Wextra).
gen_server::StartOptions named(const char* name) {
  gen_server::StartOptions options;
  options.name = name;
  return options;
}

struct Kv {
  using calls = gen_server::Messages<Put, Get>;
  using casts = gen_server::Messages<Crash>;
  std::map<std::string, int> data;
  void handle_call(Put& p) { data[p.key] = p.value; }
  int handle_call(Get& g) {
    auto it = data.find(g.key);
    return it == data.end() ? -1 : it->second;
  }
  void handle_cast(Crash&) { throw std::runtime_error("kv was asked to crash"); }
};

// ---- pool workers

struct Work {
  using reply_type = int;
  int x;
};
struct Worker {
  using calls = gen_server::Messages<Work>;
  using casts = gen_server::Messages<Crash>;
  int n;
  int handle_call(Work& w) { return w.x * n; }
  void handle_cast(Crash&) { throw std::runtime_error("worker was asked to crash"); }
};

constexpr int kWorkers = 4;

supervisor::Spec pool_spec() {
  supervisor::Spec spec{
      .flags = {.strategy = supervisor::Strategy::one_for_one, .intensity = 20, .period = 1s},
      .children = {}};
  for (int i = 1; i <= kWorkers; ++i)
    spec.children.push_back(
        supervisor::worker("worker" + std::to_string(i), [i] { return gen_server::start_link(Worker{i}); }));
  return spec;
}

supervisor::Spec top_spec() {
  return supervisor::Spec{
      .flags = {.strategy = supervisor::Strategy::one_for_one, .intensity = 20, .period = 5s},
      .children = {supervisor::worker("kv", [] { return gen_server::start_link(Kv{}, named("kv")); }),
                   supervisor::supervisor_child(
                       "pool", [] { return supervisor::start_link(pool_spec(), named("pool")); })}};
}

// ---- the logger's lines, captured

std::mutex lines_mutex;
std::vector<std::string> lines;  // guarded by lines_mutex; written from any scheduler thread

std::vector<std::string> captured() {
  std::lock_guard lock(lines_mutex);
  return lines;
}

// event_counts() counts the captured lines by their event (the word after the level).
std::map<std::string, int> event_counts(std::size_t from = 0) {
  std::map<std::string, int> counts;
  auto all = captured();
  for (std::size_t i = from; i < all.size(); ++i) {
    const std::string& l = all[i];
    auto start = l.find(' ') + 1, end = l.find(' ', start);
    ++counts[l.substr(start, end - start)];
  }
  return counts;
}

void print_counts(const char* title, std::size_t from) {
  std::printf("  %s:", title);
  for (const auto& [event, n] : event_counts(from)) std::printf(" %s=%d", event.c_str(), n);
  // child_restarted lines name the supervisor that restarted (name=...).
  std::map<std::string, int> by;
  auto all = captured();
  for (std::size_t i = from; i < all.size(); ++i) {
    const std::string& l = all[i];
    if (l.find(" child_restarted ") == std::string::npos) continue;
    auto start = l.find("name=") + 5, end = l.find(' ', start);
    ++by[l.substr(start, end - start)];
  }
  std::printf("; restarts by");
  for (const auto& [name, n] : by) std::printf(" %s=%d", name.c_str(), n);
  std::printf("\n");
}

// ---- looking at the tree

void print_tree(const char* title) {
  std::printf("%s\n", title);
  auto top = supervisor::which_children("top");
  if (!top) {
    std::printf("  top: not running\n");
    return;
  }
  for (const auto& c : *top) {
    std::printf("  top/%-8s %s%s\n", c.id.c_str(), c.pid.to_string().c_str(),
                c.type == supervisor::ChildType::supervisor ? "  (supervisor)" : "");
    if (c.id != "pool") continue;
    auto pool = supervisor::which_children(c.pid);
    if (!pool) continue;
    for (const auto& w : *pool) std::printf("    pool/%-8s %s\n", w.id.c_str(), w.pid.to_string().c_str());
  }
}

// child_pid() is the PID supervisor `sup` has for child `id` now (Pid{}: none, restarting, or no `sup`).
Pid child_pid(const gen_server::ServerRef& sup, const std::string& id) {
  auto children = supervisor::which_children(sup);
  if (!children) return Pid{};
  for (const auto& c : *children)
    if (c.id == id) return c.pid;
  return Pid{};
}

// wait_restarted() waits (up to 2 s) until `sup` has a running child `id` other than `old`.
Pid wait_restarted(const gen_server::ServerRef& sup, const std::string& id, Pid old) {
  for (int i = 0; i < 2000; ++i) {
    Pid now = child_pid(sup, id);
    if (now && now != old) return now;
    sleep_for(1ms);
  }
  std::printf("!! %s was not restarted within 2 s\n", id.c_str());
  std::exit(1);
}

// ---- the demo

int demo(unsigned seed) {
  set_trap_exit(true);  // top is linked to us: its end must be a message here, not our end
  auto top = supervisor::start_link(top_spec(), named("top"));
  if (!top) {
    std::printf("top failed to start: %s\n", top.error().reason.to_string().c_str());
    return 1;
  }
  print_tree("The tree as started:");

  gen_server::call("kv", Put{"answer", 42});
  std::printf("kv: put answer=42, get answer -> %d\n\n", *gen_server::call("kv", Get{"answer"}));

  // Phase 1: random kills, slow enough for every supervisor's intensity.
  std::printf("Phase 1: 30 random kills, one every 60 ms\n");
  std::mt19937 rng(seed);
  std::map<std::string, int> kills;
  for (int round = 1; round <= 30; ++round) {
    const int pick = static_cast<int>(rng() % (kWorkers + 1));  // 0: kv, else a worker
    const bool brutal = rng() % 2 == 0;
    const std::string id = pick == 0 ? "kv" : "worker" + std::to_string(pick);
    const gen_server::ServerRef sup =
        pick == 0 ? gen_server::ServerRef("top") : gen_server::ServerRef("pool");
    const Pid old = child_pid(sup, id);
    if (brutal)
      exit(old, atoms::kill());
    else
      gen_server::cast(old, Crash{});
    const Pid now = wait_restarted(sup, id, old);
    ++kills[id];
    std::printf("  %2d. %-8s %-12s %s -> %s\n", round, id.c_str(), brutal ? "exit(kill)" : "crash cast",
                old.to_string().c_str(), now.to_string().c_str());
    sleep_for(60ms);
  }
  std::printf("  kills:");
  for (const auto& [id, n] : kills) std::printf(" %s=%d", id.c_str(), n);
  std::printf("\n");
  print_counts("logger events so far", 0);
  std::printf("kv after its restarts: get answer -> %d (state is the process's: a restart starts empty)\n\n",
              *gen_server::call("kv", Get{"answer"}));
  print_tree("The tree after phase 1 (same shape, new PIDs):");

  // Phase 2: kill pool workers faster than pool's intensity (20 in 1 s) allows.
  std::printf("\nPhase 2: kill pool workers as fast as possible until pool gives up\n");
  const std::size_t mark = captured().size();
  const Pid old_pool = whereis("pool");
  const MonitorRef pool_ref = monitor(old_pool);
  int fast_kills = 0;
  std::map<int, Pid> last_killed;  // a worker not restarted yet still shows its old PID: kill it once
  Term pool_reason;
  for (bool down = false; !down;) {
    receive(when([&](const Down& d) { return d.ref.value == pool_ref.value; },
                 [&](Down& d) {
                   pool_reason = d.reason;
                   down = true;
                 }),
            after(0ms, [] {}));
    if (down) break;
    const int n = 1 + fast_kills % kWorkers;
    const Pid w = child_pid(old_pool, "worker" + std::to_string(n));
    if (!w || w == last_killed[n]) {
      yield();  // restarting, or pool is stopping: look again
      continue;
    }
    exit(w, atoms::kill());
    last_killed[n] = w;
    ++fast_kills;
  }
  std::printf("  %d kills, then pool %s exited with reason %s\n", fast_kills, old_pool.to_string().c_str(),
              pool_reason.to_string().c_str());
  const Pid new_pool = wait_restarted("top", "pool", old_pool);
  std::printf("  top restarted pool: %s -> %s\n", old_pool.to_string().c_str(), new_pool.to_string().c_str());
  std::printf(
      "  (pool's limit counts every restart of the last second, phase 1's last ones too; a shutdown_error\n"
      "  below is a worker this loop killed while pool was stopping it)\n");
  std::printf("  the logger's lines about it (from pool and top):\n");
  auto all = captured();
  for (std::size_t i = mark; i < all.size(); ++i) {
    const std::string& l = all[i];
    if (l.find(" shutdown ") != std::string::npos || l.find(" shutdown_error ") != std::string::npos ||
        l.find("id=pool") != std::string::npos)
      std::printf("    %s\n", l.c_str());
  }
  print_counts("logger events in phase 2", mark);
  std::printf("\n");
  print_tree("The tree after phase 2 (a fresh pool with fresh workers):");

  // Check that the tree works, then stop it; its children stop in reverse order.
  std::printf("\nworker3 of the new pool: Work{7} -> %d\n",
              *gen_server::call(child_pid("pool", "worker3"), Work{7}));
  auto stopped = gen_server::stop(*top);
  std::printf("top stopped: %s\n", stopped ? "ok" : stopped.error().reason.to_string().c_str());
  print_counts("logger events in all", 0);
  return stopped ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const unsigned seed = argc > 1 ? static_cast<unsigned>(std::strtoul(argv[1], nullptr, 10)) : 2024;
  std::printf("supervision_tree, seed %u\n\n", seed);
  logger::set_sink([](logger::Level, const std::string& line) {
    std::lock_guard lock(lines_mutex);
    lines.push_back(line);
  });
  int status = 1;
  // The logger's server_terminated lines report the crashes; the node's own stderr line for a process
  // that ended with an exception would repeat them.
  NodeConfig config;
  config.log_crashes = false;
  Node node(config);
  node.run([&] { status = demo(seed); });
  logger::set_sink(nullptr);
  return status;
}
