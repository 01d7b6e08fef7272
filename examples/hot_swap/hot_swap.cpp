// hot_swap: a counter server swapped from v1 (built into this program) to v2 (libcounter_v2.so, loaded at
// run time) and back, while clients cast and call it at full speed.
//
//   ./build/examples/hot_swap/hot_swap [path/to/libcounter_v2.so]   (default: next to the executable)
//
// It checks what a hot swap promises: no call fails, no count is lost, and each client's casts are seen in
// the order it sent them. It prints a report and exits non-zero if any of that failed.
#include <myrmex/myrmex.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "examples/hot_swap/counter.h"
#include "examples/hot_swap/counter_v1.h"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
namespace gs = myrmex::gen_server;

constexpr int kClients = 4;
constexpr auto kPhase = 300ms;  // how long the clients run on each version

struct Stop {};
struct ClientReport {
  std::int64_t calls = 0;   // calls answered
  std::int64_t failed = 0;  // calls that got an error
  std::int64_t stale = 0;   // answers below an earlier one or below this client's own adds: a lost count
  std::int64_t added = 0;   // the sum of this client's adds
};

// client() casts an Add, then calls Get (which its own Add must have reached first), until told to stop.
void client(myrmex::Pid report_to, std::int64_t id) {
  ClientReport r;
  std::int64_t last_answer = 0;
  bool running = true;
  for (std::int64_t seq = 1; running; ++seq) {
    const std::int64_t by = 1 + seq % 3;
    gs::cast("counter", counter::Add{id, seq, by});
    r.added += by;
    auto n = gs::call("counter", counter::Get{});
    if (!n) {
      ++r.failed;
    } else {
      ++r.calls;
      if (*n < last_answer || *n < r.added) ++r.stale;
      last_answer = *n;
    }
    myrmex::receive([&](Stop&) { running = false; }, myrmex::after(0ms, [] {}));
  }
  myrmex::send(report_to, r);
}

std::int64_t micros_since(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t).count();
}

// swap_to() swaps the server to `version` and prints how long it took; false if it failed.
bool swap_to(std::uint32_t version) {
  const auto t = Clock::now();
  auto swapped = gs::swap("counter", version);
  const std::int64_t us = micros_since(t);
  if (!swapped) {
    std::printf("swap to v%u failed: %s\n", version, swapped.error().message.c_str());
    return false;
  }
  auto info = myrmex::process_info(myrmex::whereis("counter"));
  std::printf("swapped to v%u in %lld us under load; the server now runs %s v%u\n", version,
              static_cast<long long>(us), info->kind.c_str(), info->version);
  return info->version == version;
}

void print_history() {
  auto h = gs::call("counter", counter::History{});
  std::printf("v2's history (the last %zu values of the count):", counter::kHistory);
  for (std::int64_t v : h ? *h : std::vector<std::int64_t>{}) std::printf(" %lld", static_cast<long long>(v));
  std::printf("\n");
}

// run() is the program's main process; it returns whether every property held.
bool run(const std::string& library) {
  gs::StartOptions options;
  options.name = "counter";
  if (!myrmex::code::add(counter_v1::version()) ||
      !gs::start_link(counter::kKind, myrmex::Term::nil(), options))
    return false;
  std::printf("counter v1 runs as \"counter\"; %d clients call it, %lld ms on each version\n", kClients,
              static_cast<long long>(kPhase.count()));
  std::vector<myrmex::Pid> clients;
  for (int i = 0; i < kClients; ++i)
    clients.push_back(myrmex::spawn([me = myrmex::self(), i] { client(me, i); }));
  const auto start = Clock::now();

  myrmex::sleep_for(kPhase);
  auto loaded = myrmex::code::load_library(library);
  if (!loaded) {
    std::printf("cannot load %s: %s\n", library.c_str(), loaded.error().message.c_str());
    return false;
  }
  std::printf("loaded %s\n", library.c_str());
  bool ok = swap_to(2);
  myrmex::sleep_for(kPhase);
  print_history();
  ok = swap_to(1) && ok;
  myrmex::sleep_for(kPhase);

  ClientReport total;
  for (myrmex::Pid c : clients) myrmex::send(c, Stop{});
  for (int i = 0; i < kClients; ++i)
    myrmex::receive([&](ClientReport& r) {
      total.calls += r.calls, total.failed += r.failed, total.stale += r.stale, total.added += r.added;
    });
  const double seconds = micros_since(start) / 1e6;
  const std::int64_t count = gs::call("counter", counter::Get{}).value();
  const std::int64_t out_of_order = gs::call("counter", counter::OutOfOrder{}).value();
  (void)gs::stop("counter");

  std::printf("%d clients: %lld calls answered (%.0f calls/s), %lld failed, %lld stale\n", kClients,
              static_cast<long long>(total.calls), total.calls / seconds,
              static_cast<long long>(total.failed), static_cast<long long>(total.stale));
  std::printf("count %lld, sum of all adds %lld; casts out of their client's order: %lld\n",
              static_cast<long long>(count), static_cast<long long>(total.added),
              static_cast<long long>(out_of_order));
  ok = ok && total.failed == 0 && total.stale == 0 && count == total.added && out_of_order == 0;
  std::printf("%s\n", ok ? "OK: no call failed, no count lost, every client's casts in order" : "FAILED");
  return ok;
}

std::string library_next_to_executable() {
  return (std::filesystem::read_symlink("/proc/self/exe").parent_path() / "libcounter_v2.so").string();
}

}  // namespace

int main(int argc, char** argv) {
  const std::string library = argc > 1 ? argv[1] : library_next_to_executable();
  myrmex::Node node;
  bool ok = false;
  node.run([&] { ok = run(library); });
  return ok ? 0 : 1;
}
