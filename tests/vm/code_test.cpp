// The code server (vm/code.h) with plain behaviours whose versions come from the program: the swap, its
// errors, swap_all over many processes, the two-version rule, purge and soft_purge, and libraries that
// must be refused.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "tests/test_node.h"

using namespace std::chrono_literals;
using myrmex::Message;
using myrmex::Pid;
using myrmex::Term;
using myrmex::test::config;
namespace code = myrmex::code;

namespace {

struct Read {
  using reply_type = std::pair<int, std::int64_t>;  // the version that answered, its count
};
struct Hold {  // parks the handler until a Release comes, after telling `parked` it is inside
  Pid parked;
};
struct Held {};
struct Release {};

// Counter<V> counts the ints it gets; its state crosses versions as the integer.
template <int V>
struct Counter final : myrmex::Behaviour {
  std::int64_t n = 0;
  // Each version lays its state out differently (V words of padding before the count).
  std::int64_t padding[V] = {};
  void handle(Message& m) override {
    if (auto* i = m.get<int>()) n += *i;
    if (auto* r = m.get<myrmex::Request<Read>>()) myrmex::reply(*r, std::pair{V, n});
    if (auto* h = m.get<Hold>()) {
      myrmex::send(h->parked, Held{});
      myrmex::receive([](Release&) {});
    }
  }
  Term export_state() override { return Term(n); }
  static std::unique_ptr<myrmex::Behaviour> start(const Term&) { return std::make_unique<Counter>(); }
  static std::unique_ptr<myrmex::Behaviour> change(code::Version, const Term& state) {
    if (state.as_integer() < 0) throw std::runtime_error("negative count");
    auto c = std::make_unique<Counter>();
    c->n = state.as_integer();
    return c;
  }
};

template <int V>
code::VersionSpec counter(const char* kind = "vcounter") {
  return {kind, V, &Counter<V>::start, &Counter<V>::change};
}

// A behaviour without export_state(): it cannot be swapped.
struct Mute final : myrmex::Behaviour {
  void handle(Message&) override {}
  static std::unique_ptr<myrmex::Behaviour> start(const Term&) { return std::make_unique<Mute>(); }
};

// Parks p inside its handler and returns once it is there: a swap sent earlier would overtake the Hold.
void park(Pid p) {
  myrmex::send(p, Hold{myrmex::self()});
  myrmex::receive([](Held&) {});
}

std::pair<int, std::int64_t> read(Pid p) {
  auto r = myrmex::call(p, Read{});
  REQUIRE(r);
  return *r;
}

std::size_t processes_on(const std::string& kind, code::Version v) {
  for (const auto& k : code::which_kinds())
    if (k.kind == kind)
      for (const auto& info : k.versions)
        if (info.version == v) return info.processes;
  return 0;
}

std::string library(const char* name) {
  const char* dir = std::getenv("MYRMEX_CODE_TEST_DIR");
  REQUIRE_MESSAGE(dir, "MYRMEX_CODE_TEST_DIR is not set (meson test sets it)");
  return std::string(dir) + "/lib" + name + ".so";
}

}  // namespace

TEST_CASE("swap: state, mailbox and identity carry over; back again; errors say why") {
  for (unsigned schedulers : {1u, 2u}) {
    CAPTURE(schedulers);
    myrmex::Node node(config(schedulers));
    node.run([] {
      REQUIRE(code::add(counter<1>()));
      auto p = code::spawn("vcounter");
      REQUIRE(p);
      for (int i = 0; i < 100; ++i) myrmex::send(*p, 1);
      REQUIRE(code::add(counter<2>()));
      // Queued before the swap, handled after it, in order, none lost.
      for (int i = 0; i < 100; ++i) myrmex::send(*p, 1);
      REQUIRE(code::swap(*p, 2));
      for (int i = 0; i < 100; ++i) myrmex::send(*p, 1);
      CHECK(read(*p) == std::pair{2, std::int64_t{300}});
      auto info = myrmex::process_info(*p);
      REQUIRE(info);
      CHECK(info->kind == "vcounter");
      CHECK(info->version == 2);
      CHECK(processes_on("vcounter", 2) == 1);
      CHECK(processes_on("vcounter", 1) == 0);
      REQUIRE(code::swap(*p, 1));  // a downgrade
      CHECK(read(*p) == std::pair{1, std::int64_t{300}});
      CHECK(code::swap(*p, 1));  // to the version it runs: nothing to do

      CHECK(code::swap(*p, 7).error() == code::CodeError::not_loaded);
      Pid fn = myrmex::spawn([] { myrmex::receive([](int) {}); });
      CHECK(code::swap(fn, 2).error() == code::CodeError::not_swappable);
      myrmex::send(fn, 0);
      Pid dead = myrmex::spawn([] {});
      while (myrmex::alive(dead)) myrmex::yield();
      auto e = code::swap(dead, 2);
      CHECK(e.error() == code::CodeError::noproc);
      CHECK(code::add(counter<2>()).error() == code::CodeError::already_loaded);
      CHECK(code::spawn("nosuchkind").error() == code::CodeError::not_loaded);
    });
  }
}

TEST_CASE("swap: a failing code_change or export leaves the process on its version, running") {
  myrmex::Node node(config(2));
  node.run([] {
    REQUIRE(code::add(counter<1>()));
    REQUIRE(code::add(counter<2>()));
    auto p = code::spawn("vcounter");  // on version 2
    REQUIRE(p);
    myrmex::send(*p, -5);
    CHECK(read(*p).second == -5);  // handled: a swap would overtake a message still queued
    auto e = code::swap(*p, 1);
    REQUIRE(!e);
    CHECK(e.error() == code::CodeError::code_change_failed);
    CHECK(e.error().reason == myrmex::test::exception_term("std::runtime_error", "negative count"));
    CHECK(read(*p) == std::pair{2, std::int64_t{-5}});
    CHECK(processes_on("vcounter", 2) == 1);
    CHECK(processes_on("vcounter", 1) == 0);

    REQUIRE(code::add({"mute", 1, &Mute::start, &Counter<1>::change}));
    REQUIRE(code::add({"mute", 2, &Mute::start, &Counter<2>::change}));
    auto m = code::spawn("mute");  // on 2
    REQUIRE(m);
    auto f = code::swap(*m, 1);
    CHECK(f.error() == code::CodeError::code_change_failed);
    CHECK(myrmex::alive(*m));
    CHECK(myrmex::process_info(*m)->version == 2);
  });
}

TEST_CASE(
    "swap: a process parked in a handler swaps when the handler returns; a killed swapper harms nothing") {
  myrmex::Node node(config(2));
  node.run([] {
    REQUIRE(code::add(counter<1>()));
    auto p = code::spawn("vcounter");
    REQUIRE(p);
    REQUIRE(code::add(counter<2>()));
    park(*p);
    Pid me = myrmex::self();
    Pid swapper = myrmex::spawn([p = *p, me] {
      auto r = code::swap(p, 2, 30s);
      myrmex::send(me, std::string(r ? "swapped" : r.error().message));
    });
    // It cannot swap inside the handler: still on 1 while it waits for Release.
    std::string early = "none";
    myrmex::receive([&](std::string& s) { early = s; }, myrmex::after(50ms, [] {}));
    CHECK(early == "none");
    CHECK(myrmex::process_info(*p)->version == 1);
    myrmex::send(*p, Release{});
    std::string outcome;
    myrmex::receive([&](std::string& s) { outcome = s; });
    CHECK(outcome == "swapped");
    CHECK(read(*p).first == 2);
    // It ends right after its send; we may run before it does (its slice can be spent at the send).
    CHECK(myrmex::test::eventually([&] { return !myrmex::alive(swapper); }));

    // The swapper is killed while it waits: the swap still happens when the handler returns.
    park(*p);
    Pid doomed = myrmex::spawn([p = *p, me] {
      myrmex::send(me, Held{});
      (void)code::swap(p, 1, 30s);
    });
    myrmex::receive([](Held&) {});
    // Waiting after it told us means it sent the swap and waits for the answer.
    CHECK(myrmex::test::eventually(
        [&] { return myrmex::process_info(doomed)->status == myrmex::ProcessStatus::waiting; }));
    myrmex::exit(doomed, Term::atom("kill"));
    while (myrmex::alive(doomed)) myrmex::yield();
    myrmex::send(*p, Release{});
    CHECK(read(*p).first == 1);
  });
}

namespace {

// Watcher<V> counts the Down and Exit messages of the monitors and links it set, on any version; it traps
// exits (set once, in v1's init()). Ask parks its handler in a call until the server answers.
struct Watch {
  Pid pid;
};
struct LinkTo {
  Pid pid;
};
struct Ask {
  Pid server;
};
struct Slow {
  using reply_type = int;
};
struct Tally {
  // the version that answered; Downs, Exits and answered Asks seen so far
  using reply_type = std::tuple<int, std::int64_t, std::int64_t, std::int64_t>;
};

template <int V>
struct Watcher final : myrmex::Behaviour {
  std::int64_t downs = 0, exits = 0, answers = 0;
  std::int64_t padding[V] = {};  // another layout for each version
  void init() override { myrmex::set_trap_exit(true); }
  void handle(Message& m) override {
    if (auto* w = m.get<Watch>()) (void)myrmex::monitor(w->pid);
    if (auto* l = m.get<LinkTo>()) myrmex::link(l->pid);
    if (m.is<myrmex::Down>()) ++downs;
    if (m.is<myrmex::Exit>()) ++exits;
    if (auto* a = m.get<Ask>())
      if (auto r = myrmex::call(a->server, Slow{}, 30s); r && *r == 7) ++answers;
    if (auto* r = m.get<myrmex::Request<Tally>>()) myrmex::reply(*r, std::tuple{V, downs, exits, answers});
  }
  Term export_state() override { return Term::tuple({Term(downs), Term(exits), Term(answers)}); }
  static std::unique_ptr<myrmex::Behaviour> start(const Term&) { return std::make_unique<Watcher>(); }
  static std::unique_ptr<myrmex::Behaviour> change(code::Version, const Term& state) {
    auto w = std::make_unique<Watcher>();
    w->downs = state.elements()[0].as_integer();
    w->exits = state.elements()[1].as_integer();
    w->answers = state.elements()[2].as_integer();
    return w;
  }
};

template <int V>
code::VersionSpec watcher() {
  return {"watcher", V, &Watcher<V>::start, &Watcher<V>::change};
}

std::tuple<int, std::int64_t, std::int64_t, std::int64_t> tally(Pid p) {
  auto r = myrmex::call(p, Tally{});
  REQUIRE(r);
  return *r;
}

bool has(const std::vector<Pid>& pids, Pid p) {
  return std::find(pids.begin(), pids.end(), p) != pids.end();
}

struct Go {};
struct KSaw {
  Pid from;
  Term reason;
};

}  // namespace

TEST_CASE(
    "swap: links and monitors both ways, the name and trap_exit stay; a process parked in a call swaps "
    "when the call returns") {
  myrmex::Node node(config(2));
  node.run([] {
    const Pid me = myrmex::self();
    REQUIRE(code::add(watcher<1>()));
    auto started = code::spawn("watcher");
    REQUIRE(started);
    const Pid p = *started;
    REQUIRE(myrmex::register_name("watched", p));
    // Q: p monitors it; L: p links to it; K: links to p and traps, and tells us the Exit it gets from p.
    Pid q = myrmex::spawn([] { myrmex::receive([](Go&) {}); });
    Pid l = myrmex::spawn([] { myrmex::receive([](Go&) { myrmex::exit(Term::atom("bye")); }); });
    Pid k = myrmex::spawn([me, p] {
      myrmex::set_trap_exit(true);
      myrmex::link(p);
      myrmex::send(me, Go{});
      myrmex::receive(myrmex::when([p](const myrmex::Exit& e) { return e.from == p; },
                                   [me](myrmex::Exit& e) {
                                     myrmex::send(me, KSaw{e.from, e.reason});
                                   }));
    });
    myrmex::receive([](Go&) {});  // k is linked
    const myrmex::MonitorRef m = myrmex::monitor(p);
    myrmex::send(p, Watch{q});
    myrmex::send(p, LinkTo{l});
    CHECK(tally(p) == std::tuple{1, 0, 0, 0});  // both handled

    REQUIRE(code::add(watcher<2>()));
    REQUIRE(code::swap(p, 2));
    auto info = myrmex::process_info(p);
    REQUIRE(info);
    CHECK(info->version == 2);
    CHECK(info->registered_name == "watched");
    CHECK(info->trap_exit);
    CHECK(has(info->links, l));
    CHECK(has(info->links, k));
    CHECK(has(info->monitors, q));
    CHECK(has(info->monitored_by, me));
    CHECK(myrmex::whereis("watched") == p);
    // What v1 set up reaches v2: the Down of p's monitor and the Exit of p's link.
    myrmex::send(q, Go{});
    CHECK(myrmex::test::eventually([p] { return std::get<1>(tally(p)) == 1; }));
    myrmex::send(l, Go{});
    CHECK(myrmex::test::eventually([p] { return std::get<2>(tally(p)) == 1; }));
    CHECK(tally(p) == std::tuple{2, 1, 1, 0});
    CHECK(myrmex::alive(p));  // it trapped l's exit (the flag v1 set)

    // Parked in a call to s: the swap waits until the call returns.
    Pid s = myrmex::spawn([me] {
      std::optional<myrmex::Request<Slow>> held;
      myrmex::receive([&](myrmex::Request<Slow>& r) { held.emplace(std::move(r)); });
      myrmex::send(me, Go{});
      myrmex::receive([](Go&) {});
      myrmex::reply(*held, 7);
    });
    myrmex::send(p, Ask{s});
    myrmex::receive([](Go&) {});  // p waits in its call
    Pid swapper = myrmex::spawn([p, me] {
      auto r = code::swap(p, 1, 30s);
      myrmex::send(me, std::string(r ? "swapped" : r.error().message));
    });
    std::string early = "none";
    myrmex::receive([&](std::string& e) { early = e; }, myrmex::after(50ms, [] {}));
    CHECK(early == "none");
    CHECK(myrmex::process_info(p)->version == 2);
    myrmex::send(s, Go{});
    std::string outcome;
    myrmex::receive([&](std::string& o) { outcome = o; });
    CHECK(outcome == "swapped");
    CHECK(tally(p) == std::tuple{1, 1, 1, 1});  // the call was answered, then it swapped
    while (myrmex::alive(swapper)) myrmex::yield();

    // p ends: our monitor and k's link, set on v1, fire from v1 after two swaps.
    myrmex::exit(p, Term::atom("kill"));
    myrmex::receive(myrmex::when([m](const myrmex::Down& d) { return d.ref == m; },
                                 [](myrmex::Down& d) { CHECK(d.reason == Term::atom("killed")); }));
    myrmex::receive([p](KSaw& saw) {
      CHECK(saw.from == p);
      CHECK(saw.reason == Term::atom("killed"));
    });
    CHECK(myrmex::test::eventually([] { return myrmex::whereis("watched") == Pid{}; }));
    while (myrmex::alive(k)) myrmex::yield();
  });
}

TEST_CASE("swap: a process swapping itself swaps when its handler returns") {
  struct SwapMe {};
  struct Self final : myrmex::Behaviour {
    int version;
    explicit Self(int v) : version(v) {}
    void handle(Message& m) override {
      if (m.is<SwapMe>()) CHECK(code::swap(myrmex::self(), 2));
      if (auto* r = m.get<myrmex::Request<Read>>()) myrmex::reply(*r, std::pair{version, std::int64_t{0}});
    }
    Term export_state() override { return Term(version); }
  };
  myrmex::Node node(config(1));
  node.run([] {
    REQUIRE(code::add(
        {"self", 1,
         [](const Term&) -> std::unique_ptr<myrmex::Behaviour> { return std::make_unique<Self>(1); },
         [](code::Version, const Term&) -> std::unique_ptr<myrmex::Behaviour> {
           return std::make_unique<Self>(1);
         }}));
    REQUIRE(code::add(
        {"self", 2,
         [](const Term&) -> std::unique_ptr<myrmex::Behaviour> { return std::make_unique<Self>(2); },
         [](code::Version, const Term&) -> std::unique_ptr<myrmex::Behaviour> {
           return std::make_unique<Self>(2);
         }}));
    auto p = code::spawn("self");  // on 2: swap it to 1 first
    REQUIRE(p);
    REQUIRE(code::swap(*p, 1));
    myrmex::send(*p, SwapMe{});
    CHECK(read(*p).first == 2);
  });
}

TEST_CASE("swap_all: every idle process of a kind moves, none lost") {
  const long n = myrmex::test::scaled(100'000);
  myrmex::Node node(config(2));
  node.run([n] {
    REQUIRE(code::add(counter<1>()));
    std::vector<Pid> pids;
    for (long i = 0; i < n; ++i) pids.push_back(*code::spawn("vcounter"));
    for (Pid p : pids) myrmex::send(p, 2);
    REQUIRE(code::add(counter<2>()));
    auto r = code::swap_all("vcounter", 2);
    REQUIRE(r);
    CHECK(r->swapped == static_cast<std::size_t>(n));
    CHECK(r->ended == 0);
    CHECK(r->failed.empty());
    CHECK(processes_on("vcounter", 2) == static_cast<std::size_t>(n));
    CHECK(processes_on("vcounter", 1) == 0);
    long right = 0;
    for (long i = 0; i < n; i += 97) right += read(pids[i]) == std::pair{2, std::int64_t{2}};
    CHECK(right == (n + 96) / 97);
    r = code::swap_all("vcounter", 1);
    REQUIRE(r);
    CHECK(r->swapped == static_cast<std::size_t>(n));
    CHECK(processes_on("vcounter", 1) == static_cast<std::size_t>(n));
    CHECK(code::swap_all("vcounter", 9).error() == code::CodeError::not_loaded);
  });
}

TEST_CASE("two versions: a third purges the oldest, killing exactly its processes; soft_purge refuses") {
  myrmex::Node node(config(2));
  node.run([] {
    REQUIRE(code::add(counter<1>()));
    std::vector<Pid> on1, on2;
    for (int i = 0; i < 6; ++i) on1.push_back(*code::spawn("vcounter"));
    REQUIRE(code::add(counter<2>()));
    for (int i = 0; i < 4; ++i) on2.push_back(*code::spawn("vcounter"));
    REQUIRE(code::swap(on1.back(), 2));  // one of the first six moves on
    on2.push_back(on1.back());
    on1.pop_back();

    auto refused = code::soft_purge("vcounter");
    REQUIRE(!refused);
    CHECK(refused.error() == code::CodeError::in_use);
    CHECK(refused.error().count == on1.size());
    CHECK(processes_on("vcounter", 1) == on1.size());

    REQUIRE(code::add(counter<3>()));  // version 1 goes: its five processes are killed
    for (Pid p : on1) CHECK(!myrmex::alive(p));
    for (Pid p : on2) CHECK(read(p).first == 2);
    CHECK(code::spawn("vcounter").value() != Pid{});
    auto kinds = code::which_kinds();
    REQUIRE(kinds.size() == 1);
    REQUIRE(kinds[0].versions.size() == 2);
    CHECK(kinds[0].versions[0].version == 3);
    CHECK(kinds[0].versions[0].current);
    CHECK(kinds[0].versions[1].version == 2);
    CHECK(code::swap(on2[0], 1).error() == code::CodeError::not_loaded);

    REQUIRE(code::swap_all("vcounter", 3));
    CHECK(code::soft_purge("vcounter"));          // nobody on 2 now
    CHECK(code::purge("vcounter").value() == 0);  // nothing old left
    CHECK(code::purge("nosuchkind").error() == code::CodeError::not_loaded);
    for (Pid p : on2) CHECK(read(p).first == 3);
  });
}

TEST_CASE("purge kills the old version's processes, also one parked in its handler") {
  myrmex::Node node(config(2));
  node.run([] {
    REQUIRE(code::add(counter<1>()));
    std::vector<Pid> old;
    for (int i = 0; i < 3; ++i) old.push_back(*code::spawn("vcounter"));
    park(old[0]);
    REQUIRE(code::add(counter<2>()));
    Pid fresh = *code::spawn("vcounter");
    myrmex::MonitorRef m = myrmex::monitor(old[0]);
    CHECK(code::purge("vcounter").value() == 3);
    for (Pid p : old) CHECK(!myrmex::alive(p));
    myrmex::receive(myrmex::when([m](const myrmex::Down& d) { return d.ref == m; },
                                 [](myrmex::Down& d) { CHECK(d.reason == Term::atom("killed")); }));
    CHECK(read(fresh).first == 2);
  });
}

TEST_CASE("code libraries: a missing file, no entry point and another ABI are refused with a clear error") {
  myrmex::Node node(config(1));
  node.run([] {
    const std::size_t open = code::libraries_open();
    auto missing = code::load_library("/nonexistent/libnothing.so");
    REQUIRE(!missing);
    CHECK(missing.error() == code::CodeError::bad_library);
    CHECK(missing.error().message.find("libnothing.so") != std::string::npos);

    auto no_entry = code::load_library(library("no_entry"));
    REQUIRE(!no_entry);
    CHECK(no_entry.error() == code::CodeError::bad_library);
    CHECK(no_entry.error().message.find("myrmex_code_library") != std::string::npos);

    auto wrong = code::load_library(library("wrong_abi"));
    REQUIRE(!wrong);
    CHECK(wrong.error() == code::CodeError::abi_mismatch);
    CHECK(wrong.error().message.find("ABI 999") != std::string::npos);
    CHECK(code::libraries_open() == open);
    CHECK(code::which_kinds().empty());
  });
}

TEST_CASE("swap racing with the target's exit: one outcome each, nothing left behind") {
  const long rounds = myrmex::test::scaled(2000);
  myrmex::Node node(config(2));
  node.run([rounds] {
    REQUIRE(code::add(counter<1>()));
    REQUIRE(code::add(counter<2>()));
    long swapped = 0, ended = 0;
    for (long i = 0; i < rounds; ++i) {
      Pid p = *code::spawn("vcounter");
      Pid killer = myrmex::spawn([p] { myrmex::exit(p, Term::atom("kill")); });
      auto r = code::swap(p, i % 2 ? 1 : 2, 30s);
      if (r) {
        ++swapped;
      } else {
        // It ended first: at once (noproc) or while the swap was on its way (exited, with the reason).
        CHECK((r.error() == code::CodeError::noproc || r.error() == code::CodeError::exited));
        if (r.error() == code::CodeError::exited) CHECK(r.error().reason == Term::atom("killed"));
        ++ended;
      }
      while (myrmex::alive(p) || myrmex::alive(killer)) myrmex::yield();
    }
    CHECK(swapped + ended == rounds);
    CHECK(myrmex::test::eventually(
        [] { return processes_on("vcounter", 1) + processes_on("vcounter", 2) == 0; }));
    MESSAGE("swapped first: " << swapped << ", ended first: " << ended);
  });
}
