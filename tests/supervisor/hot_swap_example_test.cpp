// The hot swap example (examples/hot_swap) as a test: its counter swapped v1 -> v2 -> v1 while clients
// cast and call it at full speed answers every call, keeps the count exact and each client's casts in
// order; process_info shows the swap; v2's history is right. v1 is the example's own code, v2 its
// libcounter_v2.so (meson test passes its path in MYRMEX_COUNTER_V2).
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "examples/hot_swap/counter.h"
#include "examples/hot_swap/counter_v1.h"
#include "tests/test_node.h"

using namespace std::chrono_literals;
using myrmex::Pid;
using myrmex::Term;
using myrmex::test::config;
namespace gs = myrmex::gen_server;
namespace code = myrmex::code;

namespace {

constexpr auto kPhase = 100ms;  // how long the clients run on each version
constexpr int kRounds = 3;      // round trips v1 -> v2 -> v1 under load
constexpr int kBurst = 4;       // casts a client sends before each call: a swap finds some queued

std::string counter_v2_path() {
  if (const char* path = std::getenv("MYRMEX_COUNTER_V2")) return path;
  // Run by hand from a build tree: <build>/tests/myrmex_tests and <build>/examples/hot_swap/.
  auto build = std::filesystem::read_symlink("/proc/self/exe").parent_path().parent_path();
  return (build / "examples" / "hot_swap" / "libcounter_v2.so").string();
}

// start_counter() starts "counter" on v1 and loads v2 (the kind's current version from then on; the
// server stays on v1 until it is swapped).
Pid start_counter() {
  REQUIRE(code::add(counter_v1::version()).has_value());
  gs::StartOptions options;
  options.name = "counter";
  auto server = gs::start(counter::kKind, Term::nil(), options);
  REQUIRE(server);
  auto loaded = code::load_library(counter_v2_path());
  REQUIRE_MESSAGE(loaded, counter_v2_path(), ": ", (loaded ? "" : loaded.error().message));
  return *server;
}

std::uint32_t version_of(Pid pid) {
  auto info = myrmex::process_info(pid);
  REQUIRE(info);
  CHECK(info->kind == counter::kKind);
  return info->version;
}

std::int64_t count() {
  return gs::call("counter", counter::Get{}).value();
}
std::vector<std::int64_t> history() {
  return gs::call("counter", counter::History{}).value();
}

// A client casts kBurst Add{id, seq, by} and calls Get after them (its own Adds are ahead of that call),
// and History now and then, until told to Stop; then it sends its Tally.
struct Stop {};
struct Tally {
  std::int64_t answered = 0, failed = 0;
  std::int64_t stale = 0;        // a Get below an earlier answer or below this client's own adds
  std::int64_t bad_history = 0;  // a History not increasing, too long, or behind this client's adds
  std::int64_t histories = 0;    // non-empty Histories: v2 answered under load
  std::int64_t added = 0;
};

void check_history(const std::vector<std::int64_t>& h, Tally& t) {
  if (h.empty()) return;  // v1's answer
  ++t.histories;
  bool increasing = true;
  for (std::size_t i = 1; i < h.size(); ++i) increasing = increasing && h[i - 1] < h[i];
  if (!increasing || h.size() > counter::kHistory || h.back() < t.added) ++t.bad_history;
}

void client(Pid parent, std::int64_t id) {
  Tally t;
  std::int64_t last = 0;
  bool running = true;
  for (std::int64_t seq = 1, round = 1; running; ++round) {
    for (int i = 0; i < kBurst; ++i, ++seq) {
      const std::int64_t by = 1 + seq % 5;
      gs::cast("counter", counter::Add{id, seq, by});
      t.added += by;
    }
    if (auto n = gs::call("counter", counter::Get{}); n) {
      ++t.answered;
      if (*n < last || *n < t.added) ++t.stale;
      last = *n;
    } else {
      ++t.failed;
    }
    if (round % 8 == 0) {
      if (auto h = gs::call("counter", counter::History{}); h) {
        ++t.answered;
        check_history(*h, t);
      } else {
        ++t.failed;
      }
    }
    myrmex::receive([&](Stop&) { running = false; }, myrmex::after(0ms, [] {}));
  }
  myrmex::send(parent, t);
}

// swap_checked() swaps the server under load and checks that it kept its PID and name.
void swap_checked(Pid server, std::uint32_t version) {
  auto swapped = gs::swap("counter", version);
  REQUIRE_MESSAGE(swapped, "swap to v", version, ": ", (swapped ? "" : swapped.error().message));
  CHECK(version_of(server) == version);
  CHECK(myrmex::whereis("counter") == server);
}

void swap_under_load(unsigned schedulers, int clients) {
  CAPTURE(schedulers);
  myrmex::Node node(config(schedulers));
  node.run([clients] {
    const Pid server = start_counter();
    CHECK(version_of(server) == 1);  // loading v2 moves no process
    std::vector<Pid> pids;
    for (int i = 0; i < clients; ++i)
      pids.push_back(myrmex::spawn([me = myrmex::self(), i] { client(me, i); }));

    myrmex::sleep_for(kPhase);
    std::int64_t before = count();
    for (int round = 0; round < kRounds; ++round) {
      for (std::uint32_t version : {2u, 1u}) {
        swap_checked(server, version);
        myrmex::sleep_for(kPhase);
        const std::int64_t now = count();
        CHECK(now > before);  // the clients ran on this version
        before = now;
      }
    }

    for (Pid p : pids) myrmex::send(p, Stop{});
    Tally all;
    for (int i = 0; i < clients; ++i)
      myrmex::receive([&](Tally& t) {
        CHECK(t.failed == 0);
        CHECK(t.stale == 0);
        CHECK(t.bad_history == 0);
        CHECK(t.answered > 0);
        all.added += t.added;
        all.histories += t.histories;
      });
    CHECK(count() == all.added);
    CHECK(gs::call("counter", counter::OutOfOrder{}).value() == 0);
    CHECK(all.histories > 0);
    CHECK(gs::stop("counter").has_value());
  });
}

}  // namespace

TEST_CASE(
    "hot swap example: v1 -> v2 -> v1 under full-speed clients answers every call, loses no count, "
    "keeps each client's casts in order") {
  SUBCASE("1 scheduler") {
    swap_under_load(1, 4);
  }
  SUBCASE("2 schedulers") {
    swap_under_load(2, 4);
  }
}

TEST_CASE(
    "hot swap example: v2 remembers the last 10 values; the count and the order check cross both "
    "ways; v1 drops the history") {
  myrmex::test::LiveCounts live;
  {
    myrmex::Node node(config(2));
    node.run([] {
      const Pid server = start_counter();
      std::int64_t seq = 0;
      const auto add = [&](std::int64_t by) { gs::cast("counter", counter::Add{7, ++seq, by}); };
      for (int i = 0; i < 5; ++i) add(1);
      CHECK(count() == 5);
      CHECK(history().empty());  // v1 remembers nothing

      swap_checked(server, 2);
      CHECK(count() == 5);
      CHECK(history().empty());            // v2 starts remembering at the swap
      std::vector<std::int64_t> expected;  // the values the count takes: 6, 8, 11, ...
      std::int64_t n = 5;
      for (std::int64_t by = 1; by <= 12; ++by) {
        add(by);
        expected.push_back(n += by);
      }
      expected.erase(expected.begin(), expected.end() - counter::kHistory);  // the last 10 of them
      CHECK(history() == expected);
      CHECK(count() == expected.back());
      CHECK(gs::call("counter", counter::OutOfOrder{}).value() == 0);
      ++seq;  // skip one: the next cast is out of order
      add(100);
      CHECK(gs::call("counter", counter::OutOfOrder{}).value() == 1);
      auto kinds = code::which_kinds();
      REQUIRE(kinds.size() == 1);
      REQUIRE(kinds[0].versions.size() == 2);
      CHECK(kinds[0].versions[0].version == 2);  // current, from the library
      CHECK(kinds[0].versions[0].processes == 1);
      CHECK_FALSE(kinds[0].versions[0].library.empty());
      CHECK(kinds[0].versions[1].processes == 0);

      swap_checked(server, 1);
      CHECK(count() == expected.back() + 100);
      CHECK(gs::call("counter", counter::OutOfOrder{}).value() == 1);
      CHECK(history().empty());
      swap_checked(server, 2);
      CHECK(history().empty());  // v1 did not keep it
      add(1);
      CHECK(history() == std::vector<std::int64_t>{expected.back() + 101});
      CHECK(gs::stop("counter").has_value());
    });
    CHECK(code::libraries_open() == 1);  // the node's versions hold it
  }
  CHECK(code::libraries_open() == 0);
  CHECK(live.grown() == "");
}
