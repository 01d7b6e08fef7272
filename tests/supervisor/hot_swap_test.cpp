// Hot code swap of gen_servers whose versions come from shared libraries loaded at run time
// (tests/code/tcounter_a.cpp: version 1, tcounter_b.cpp: version 2): the swap and back, a refused
// code_change, a message of the old library still queued at the swap, libraries unloaded only once nothing
// reaches into them, supervisors restarting on the new version.
#include <doctest/doctest.h>

#include <atomic>
#include <cstdlib>
#include <string>
#include <vector>

#include "tests/code/protocol.h"
#include "tests/test_node.h"

using namespace std::chrono_literals;
using myrmex::Pid;
using myrmex::Term;
using myrmex::test::config;
using myrmex::test::eventually;
namespace code = myrmex::code;
namespace gs = myrmex::gen_server;
namespace sup = myrmex::supervisor;
using namespace myrmex_test_code;

namespace {

std::atomic<int> unloaded_a{0}, unloaded_b{0}, unloaded_c{0};

std::string library(const char* name) {
  const char* dir = std::getenv("MYRMEX_CODE_TEST_DIR");
  REQUIRE_MESSAGE(dir, "MYRMEX_CODE_TEST_DIR is not set (meson test sets it)");
  return std::string(dir) + "/lib" + name + ".so";
}

void load(const char* name) {
  auto l = code::load_library(library(name));
  REQUIRE_MESSAGE(l, (l ? "" : l.error().message));
}

int which(const gs::ServerRef& s) {
  auto r = gs::call(s, WhichCode{});
  REQUIRE(r);
  return *r;
}

std::int64_t count(const gs::ServerRef& s) {
  auto r = gs::call(s, Get{});
  REQUIRE(r);
  return *r;
}

Pid start(const char* name = "") {
  auto p = gs::start("tcounter", Term(0), {.name = name});
  REQUIRE(p);
  return *p;
}

}  // namespace

extern "C" void myrmex_test_library_unloaded(const char* name) {
  (name[0] == 'a' ? unloaded_a : name[0] == 'b' ? unloaded_b : unloaded_c).fetch_add(1);
}

TEST_CASE("hot swap from a library: state across layouts, by name, and back; each library unloaded once") {
  for (unsigned schedulers : {1u, 2u}) {
    CAPTURE(schedulers);
    const int a0 = unloaded_a, b0 = unloaded_b;
    {
      myrmex::Node node(config(schedulers));
      node.run([] {
        load("tcounter_a");
        Pid p = start("tc");
        for (int i = 1; i <= 10; ++i) gs::cast("tc", Add{i});
        CHECK(which("tc") == 1);
        load("tcounter_b");
        auto kinds = code::which_kinds();
        REQUIRE(kinds.size() == 1);
        REQUIRE(kinds[0].versions.size() == 2);
        CHECK(kinds[0].versions[0].library.find("libtcounter_b.so") != std::string::npos);
        CHECK(kinds[0].versions[1].processes == 1);
        REQUIRE(gs::swap("tc", 2));
        CHECK(which("tc") == 2);
        CHECK(count("tc") == 55);
        CHECK(myrmex::process_info(p)->version == 2);
        CHECK(myrmex::whereis("tc") == p);
        gs::cast("tc", Add{100});
        REQUIRE(gs::swap(p, 1));  // b's state {tcounter, N, History} read by a
        CHECK(which("tc") == 1);
        CHECK(count("tc") == 155);
        CHECK(gs::swap("nobody", 1).error() == code::CodeError::noproc);
      });
    }
    // The node let go of both libraries as it ended.
    CHECK(unloaded_a == a0 + 1);
    CHECK(unloaded_b == b0 + 1);
  }
}

TEST_CASE("hot swap: a code_change that throws leaves the server on the old version, running") {
  myrmex::Node node(config(2));
  node.run([] {
    load("tcounter_a");
    Pid p = start();
    gs::cast(p, Add{13});
    CHECK(count(p) == 13);  // handled: a swap would overtake a message still queued
    load("tcounter_b");
    auto e = gs::swap(p, 2);
    REQUIRE(!e);
    CHECK(e.error() == code::CodeError::code_change_failed);
    CHECK(e.error().reason == myrmex::test::exception_term("std::runtime_error", "13 is refused"));
    CHECK(which(p) == 1);
    CHECK(count(p) == 13);
    gs::cast(p, Add{1});
    CHECK(count(p) == 14);
    CHECK(gs::swap(p, 2));
    CHECK(count(p) == 14);
  });
}

TEST_CASE("hot swap: the old library's message queued at the swap is not read as the new one's type") {
  myrmex::Node node(config(2));
  node.run([] {
    load("tcounter_a");
    Pid p = start();
    load("tcounter_b");
    gs::cast(p, NoteTo{p});  // a's Note, to itself: queued behind the Park below
    gs::cast(p, Park{myrmex::self()});
    myrmex::receive([](std::string& s) { CHECK(s == "parked"); });
    Pid me = myrmex::self();
    myrmex::spawn([p, me] { myrmex::send(me, static_cast<bool>(gs::swap(p, 2, 30s))); });
    myrmex::sleep_for(20ms);
    myrmex::send(p, Go{});
    myrmex::receive([](bool swapped) { CHECK(swapped); });
    // b got a's Note after the swap; a type of the same name from another library is not b's Note (b
    // throws if m.is<Note>() matched), so it went to handle_info as an unknown message.
    auto unmatched = gs::call(p, Unmatched{});
    REQUIRE(unmatched);
    CHECK(*unmatched == std::vector<std::string>{"myrmex_test_code::Note"});
    CHECK(which(p) == 2);
  });
}

TEST_CASE("code libraries stay loaded while a process runs them or a message they boxed lives") {
  const int a0 = unloaded_a;
  myrmex::Node node(config(2));
  node.run([a0] {
    load("tcounter_a");
    std::vector<Pid> on_a;
    for (int i = 0; i < 3; ++i) on_a.push_back(start());
    gs::cast(on_a[0], Park{myrmex::self()});  // killed inside a's code below
    myrmex::receive([](std::string& s) { CHECK(s == "parked"); });
    // A process that keeps a message a boxed (a's Note) without reading it.
    Pid me = myrmex::self();
    Pid keeper = myrmex::spawn([me] {
      myrmex::send(me, std::string("keeping"));
      myrmex::receive([](std::string&) {});  // the Note waits behind, until this process ends
      myrmex::send(me, std::string("dropped"));
    });
    myrmex::receive([](std::string& s) { CHECK(s == "keeping"); });
    gs::cast(on_a[1], NoteTo{keeper});
    CHECK(count(on_a[1]) == 0);  // the Note has been sent
    load("tcounter_b");
    Pid on_b = start();
    CHECK(code::purge("tcounter").value() == 3);
    for (Pid p : on_a) CHECK(!myrmex::alive(p));
    CHECK(which(on_b) == 2);
    CHECK(unloaded_a == a0);  // the Note still points into it
    myrmex::send(keeper, std::string("now"));
    myrmex::receive([](std::string& s) { CHECK(s == "dropped"); });
    CHECK(eventually([a0] { return unloaded_a == a0 + 1; }));
  });
}

TEST_CASE("code libraries: a process still inside the old library's code is the last to hold it") {
  const int a0 = unloaded_a;
  myrmex::Node node(config(2));
  node.run([a0] {
    load("tcounter_a");
    const Pid spinner = start();
    const Pid idle = start();
    std::atomic<bool> release{false};
    gs::cast(spinner, Spin{&release, myrmex::self()});
    myrmex::receive([](std::string& s) { CHECK(s == "spinning"); });
    // In its blocking job: before it, it would take the kill below at once.
    REQUIRE(eventually(
        [spinner] { return myrmex::process_info(spinner)->status == myrmex::ProcessStatus::waiting; }));
    load("tcounter_b");
    CHECK(unloaded_a == a0);
    struct Purged {
      bool ok;
      std::size_t killed;
    };
    const Pid me = myrmex::self();
    myrmex::spawn([me] {
      auto n = code::purge("tcounter");
      myrmex::send(me, Purged{static_cast<bool>(n), n ? *n : 0});
    });
    // The old version leaves the table at once, and the node lets go of a: from then on only a's processes
    // hold it. The idle one is killed and gone; the spinner takes its kill only once its job returns.
    CHECK(eventually([] {
      auto kinds = code::which_kinds();
      return kinds.size() == 1 && kinds[0].versions.size() == 1;
    }));
    CHECK(eventually([idle] { return !myrmex::alive(idle); }));
    myrmex::sleep_for(50ms);
    CHECK(myrmex::alive(spinner));
    CHECK(unloaded_a == a0);  // the spinner still runs a's code
    release.store(true, std::memory_order_release);
    myrmex::receive([](Purged& p) {
      CHECK(p.ok);
      CHECK(p.killed == 2);
    });
    CHECK(!myrmex::alive(spinner));
    CHECK(eventually([a0] { return unloaded_a == a0 + 1; }));  // nothing else held it
  });
  CHECK(unloaded_a == a0 + 1);  // once: the node's end does not close it again
}

TEST_CASE(
    "code libraries: a third version's library purges the oldest: its processes are killed, then it goes") {
  const int a0 = unloaded_a, b0 = unloaded_b, c0 = unloaded_c;
  {
    myrmex::Node node(config(2));
    node.run([a0, b0] {
      load("tcounter_a");
      const Pid stays = start(), moves = start();
      const myrmex::MonitorRef ref = myrmex::monitor(stays);
      gs::cast(moves, Add{5});
      load("tcounter_b");
      const Pid on_b = start();
      REQUIRE(gs::swap(moves, 2));
      load("tcounter_c");  // version 1 is purged first: `stays` is killed, and nothing holds a any more
      const bool down = myrmex::receive(
          [&](myrmex::Down& d) {
            CHECK(d.ref == ref);
            CHECK(d.pid == stays);
            CHECK(d.reason == Term::atom("killed"));
            return true;
          },
          myrmex::after(30s, [] { return false; }));
      CHECK(down);
      CHECK(eventually([a0] { return unloaded_a == a0 + 1; }));
      CHECK(unloaded_b == b0);
      CHECK(which(moves) == 2);
      CHECK(count(moves) == 5);
      CHECK(which(on_b) == 2);
      CHECK(which(start()) == 3);
      auto kinds = code::which_kinds();
      REQUIRE(kinds.size() == 1);
      REQUIRE(kinds[0].versions.size() == 2);
      CHECK(kinds[0].versions[0].version == 3);
      CHECK(kinds[0].versions[1].version == 2);
      CHECK(kinds[0].versions[1].processes == 2);
      REQUIRE(gs::swap(moves, 3));  // b's state read by c, the same layout built again
      CHECK(count(moves) == 5);
      CHECK(gs::swap(moves, 1).error() == code::CodeError::not_loaded);
    });
  }
  CHECK(unloaded_a == a0 + 1);
  CHECK(unloaded_b == b0 + 1);
  CHECK(unloaded_c == c0 + 1);
}

TEST_CASE("hot swap: a supervisor restarts its child on the kind's current version") {
  myrmex::Node node(config(2));
  node.run([] {
    load("tcounter_a");
    sup::Spec spec{
        .flags = {.strategy = sup::Strategy::one_for_one, .intensity = 5},
        .children = {sup::worker("tc", [] { return gs::start_link("tcounter", Term(0), {.name = "tc"}); })}};
    auto s = sup::start_link(std::move(spec));
    REQUIRE(s);
    Pid first = myrmex::whereis("tc");
    CHECK(which("tc") == 1);
    load("tcounter_b");
    gs::cast("tc", Crash{});
    CHECK(eventually([first] {
      Pid now = myrmex::whereis("tc");
      return now && now != first;
    }));
    CHECK(which("tc") == 2);
    CHECK(myrmex::process_info(myrmex::whereis("tc"))->kind == "tcounter");
    auto soft = code::soft_purge("tcounter");  // nobody runs a now
    CHECK(soft);
  });
}

TEST_CASE("code libraries: two nodes in one OS process share a library, and it goes with the last") {
  const int a0 = unloaded_a;
  auto node1 = std::make_unique<myrmex::Node>(config(1));
  auto node2 = std::make_unique<myrmex::Node>(config(1));
  const auto use = [] {
    load("tcounter_a");
    Pid p = start("tc");
    gs::cast(p, Add{2});
    CHECK(count(p) == 2);
    load("tcounter_b");
    REQUIRE(gs::swap(p, 2));
    REQUIRE(gs::swap(p, 1));
    CHECK(count(p) == 2);
  };
  node1->run(use);
  node2->run(use);
  CHECK(code::libraries_open() == 2);
  node1.reset();
  CHECK(unloaded_a == a0);  // node 2 still holds it
  CHECK(code::libraries_open() == 2);
  node2.reset();
  CHECK(unloaded_a == a0 + 1);
  CHECK(code::libraries_open() == 0);
}
