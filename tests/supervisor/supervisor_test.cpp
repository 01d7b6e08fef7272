// Supervisors (supervisor/supervisor.h), as OTP 25's supervisor reference page defines them: the four
// strategies, the three restart types, the restart intensity, the shutdown modes, start order and reverse
// stop order, a failed start, the child operations and their errors, a three-level tree, many dynamic
// children, and gen_server calls across a restart.
//
// Children report what happens to them as Ev messages to the test process ("start a", "stop a shutdown"),
// so that each test can compare the exact sequence of starts and stops. The supervisor is a serial server:
// once a restart's last event arrived, the whole restart ran (it is one handle_info), so a later call's
// reply comes after every event the restart sent.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/test_node.h"

// Event lists print as ["start a", "stop a shutdown"] in failure messages.
namespace doctest {
template <>
struct StringMaker<std::vector<std::string>> {
  static String convert(const std::vector<std::string>& v) {
    std::string s = "[";
    for (const std::string& e : v) s += (s.size() > 1 ? ", \"" : "\"") + e + "\"";
    return (s + "]").c_str();
  }
};
}  // namespace doctest

using namespace std::chrono_literals;
using myrmex::Pid;
using myrmex::Term;
using myrmex::test::config;
using myrmex::test::scaled;
namespace sup = myrmex::supervisor;
namespace gs = myrmex::gen_server;

namespace {

constexpr auto kPatience = 10s;  // a safety net against hangs, not a timing

// Ev is what a child tells the test process: "start <id>", "stop <id> <reason>".
struct Ev {
  std::string text;
  Pid pid;
};

struct Die {
  Term reason;
};
struct Crash {
  using reply_type = int;
};
struct WhoAreYou {
  using reply_type = Pid;
};

// Worker reports its start and (when it traps exits, or stops itself) its terminate to `observer`.
struct Worker {
  using calls = gs::Messages<Crash, WhoAreYou>;
  using casts = gs::Messages<Die>;
  std::string id;
  Pid observer;
  bool trap = false;
  bool fail = false;  // init() fails with `bad`

  gs::InitResult init() {
    if (fail) return gs::InitResult::stop(Term::atom("bad"));
    if (trap) myrmex::set_trap_exit(true);
    (void)myrmex::send(observer, Ev{"start " + id, myrmex::self()});
    return gs::InitResult::ok();
  }
  int handle_call(Crash&) { throw std::runtime_error("crash_in_call"); }
  Pid handle_call(WhoAreYou&) { return myrmex::self(); }
  void handle_cast(Die& d) { gs::stop_self(d.reason); }
  void terminate(const Term& reason) {
    (void)myrmex::send(observer, Ev{"stop " + id + " " + reason.to_string(), myrmex::self()});
  }
};

sup::StartFunction start_worker(std::string id, Pid observer, bool trap = false,
                                gs::StartOptions options = {}) {
  return [id, observer, trap, options] { return gs::start_link(Worker{id, observer, trap}, options); };
}

sup::ChildSpec worker(const std::string& id, Pid observer, sup::Restart restart = sup::Restart::permanent,
                      bool trap = true) {
  return sup::worker(id, start_worker(id, observer, trap), restart);
}

// next_ev() takes the oldest Ev, or nullopt if none came within `limit`.
std::optional<Ev> next_ev(std::chrono::milliseconds limit = kPatience) {
  return myrmex::receive([](Ev& e) { return std::optional<Ev>(std::move(e)); },
                         myrmex::after(limit, [] { return std::optional<Ev>(); }));
}

// events() takes `n` Evs (their texts), then every Ev already queued: a test compares the whole list.
std::vector<std::string> events(std::size_t n) {
  std::vector<std::string> out;
  while (out.size() < n) {
    auto e = next_ev();
    if (!e) {
      out.push_back("(no event)");
      break;
    }
    out.push_back(e->text);
  }
  while (auto e = next_ev(0ms)) out.push_back(e->text);
  return out;
}

// pending() is every Ev already queued.
std::vector<std::string> pending() {
  return events(0);
}

std::vector<std::string> list(std::initializer_list<const char*> l) {
  return std::vector<std::string>(l.begin(), l.end());
}

std::vector<Pid> child_pids(const gs::ServerRef& s) {
  auto w = sup::which_children(s);
  REQUIRE(w.has_value());
  std::vector<Pid> out;
  for (auto& c : *w) out.push_back(c.pid);
  return out;
}

std::vector<std::string> child_ids(const gs::ServerRef& s) {
  auto w = sup::which_children(s);
  REQUIRE(w.has_value());
  std::vector<std::string> out;
  for (auto& c : *w) out.push_back(c.id);
  return out;
}

// poll() calls `pred` until it holds (sleeping 1 ms in between), up to kPatience. A safety net.
template <class Pred>
bool poll(Pred pred) {
  const auto end = std::chrono::steady_clock::now() + kPatience;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > end) return false;
    myrmex::sleep_for(1ms);
  }
  return true;
}

// down_reason() is the reason in monitor `ref`'s Down, or "(no Down)".
std::string down_reason(myrmex::MonitorRef ref) {
  return myrmex::receive(myrmex::when([ref](const myrmex::Down& d) { return d.ref == ref; },
                                      [](myrmex::Down& d) { return d.reason.to_string(); }),
                         myrmex::after(kPatience, [] { return std::string("(no Down)"); }));
}

// exit_of() is the reason of the Exit from `from` (the test process traps exits), or "(no Exit)".
std::string exit_of(Pid from) {
  return myrmex::receive(myrmex::when([from](const myrmex::Exit& e) { return e.from == from; },
                                      [](myrmex::Exit& e) { return e.reason.to_string(); }),
                         myrmex::after(kPatience, [] { return std::string("(no Exit)"); }));
}

// stop_sup() ends a supervisor the test process started linked (as its parent would) and waits until
// it is gone; returns its exit reason.
std::string stop_sup(Pid s) {
  auto ref = myrmex::monitor(s);
  myrmex::exit(s, myrmex::vm::atoms::shutdown());
  std::string why = down_reason(ref);
  (void)exit_of(s);
  return why;
}

// Quiet silences the supervisor's reports for one test.
struct Quiet {
  Quiet() { myrmex::logger::set_level(myrmex::logger::Level::none); }
  ~Quiet() { myrmex::logger::set_level(myrmex::logger::Level::info); }
};

// run() runs `body` as a process that traps exits, on a node of one scheduler, then of two.
template <class F>
void run(F body) {
  Quiet quiet;
  for (unsigned schedulers : {1u, 2u}) {
    CAPTURE(schedulers);
    myrmex::Node node(config(schedulers));
    node.run([&] {
      myrmex::set_trap_exit(true);
      body();
    });
  }
}

Pid start_sup(sup::Spec spec, gs::StartOptions options = {}) {
  auto s = sup::start_link(std::move(spec), std::move(options));
  REQUIRE(s.has_value());
  return *s;
}

sup::Spec three(sup::Strategy strategy, Pid me) {
  return sup::Spec{.flags = {.strategy = strategy, .intensity = 10, .period = 60s},
                   .children = {worker("a", me), worker("b", me), worker("c", me)}};
}

}  // namespace

TEST_CASE("children start in order and stop in reverse order") {
  run([] {
    Pid me = myrmex::self();
    Pid s = start_sup(three(sup::Strategy::one_for_one, me));
    CHECK(pending() == list({"start a", "start b", "start c"}));
    CHECK(child_ids(s) == list({"a", "b", "c"}));
    CHECK(stop_sup(s) == "shutdown");
    CHECK(pending() == list({"stop c shutdown", "stop b shutdown", "stop a shutdown"}));
  });
}

TEST_CASE("one_for_one restarts the crashed child only") {
  run([] {
    Pid me = myrmex::self();
    Pid s = start_sup(three(sup::Strategy::one_for_one, me));
    CHECK(events(3) == list({"start a", "start b", "start c"}));
    auto before = child_pids(s);
    REQUIRE(before.size() == 3);
    gs::cast(before[1], Die{Term::atom("boom")});
    CHECK(events(2) == list({"stop b boom", "start b"}));
    auto after = child_pids(s);
    REQUIRE(after.size() == 3);
    CHECK(after[0] == before[0]);
    CHECK(after[1] != before[1]);
    CHECK(myrmex::alive(after[1]));
    CHECK(after[2] == before[2]);
    CHECK(pending().empty());
    CHECK(stop_sup(s) == "shutdown");
  });
}

TEST_CASE("one_for_all stops the others in reverse order and restarts all in order") {
  run([] {
    Pid me = myrmex::self();
    Pid s = start_sup(three(sup::Strategy::one_for_all, me));
    CHECK(events(3) == list({"start a", "start b", "start c"}));
    auto before = child_pids(s);
    REQUIRE(before.size() == 3);
    gs::cast(before[1], Die{Term::atom("boom")});
    CHECK(events(6) ==
          list({"stop b boom", "stop c shutdown", "stop a shutdown", "start a", "start b", "start c"}));
    auto after = child_pids(s);
    REQUIRE(after.size() == 3);
    for (int i = 0; i < 3; ++i) {
      CHECK(after[i] != before[i]);
      CHECK(myrmex::alive(after[i]));
    }
    CHECK(stop_sup(s) == "shutdown");
  });
}

TEST_CASE("rest_for_one restarts the crashed child and the ones started after it") {
  run([] {
    Pid me = myrmex::self();
    Pid s = start_sup(three(sup::Strategy::rest_for_one, me));
    CHECK(events(3) == list({"start a", "start b", "start c"}));
    auto before = child_pids(s);
    REQUIRE(before.size() == 3);
    gs::cast(before[1], Die{Term::atom("boom")});
    CHECK(events(4) == list({"stop b boom", "stop c shutdown", "start b", "start c"}));
    auto after = child_pids(s);
    REQUIRE(after.size() == 3);
    CHECK(after[0] == before[0]);
    CHECK(after[1] != before[1]);
    CHECK(after[2] != before[2]);
    // The last child's crash restarts it alone.
    gs::cast(after[2], Die{Term::atom("boom")});
    CHECK(events(2) == list({"stop c boom", "start c"}));
    auto last = child_pids(s);
    CHECK(last[0] == after[0]);
    CHECK(last[1] == after[1]);
    CHECK(last[2] != after[2]);
    CHECK(stop_sup(s) == "shutdown");
  });
}

TEST_CASE("simple_one_for_one starts no child itself and restarts the crashed dynamic child only") {
  run([] {
    Pid me = myrmex::self();
    Pid s = start_sup(sup::Spec{.flags = {.strategy = sup::Strategy::simple_one_for_one, .intensity = 10},
                                .children = {worker("template", me)}});
    CHECK(pending().empty());
    std::vector<Pid> started;
    for (const char* id : {"a", "b", "c"}) {
      auto p = sup::start_child(s, start_worker(id, me, true));
      REQUIRE(p.has_value());
      started.push_back(*p);
    }
    CHECK(events(3) == list({"start a", "start b", "start c"}));
    CHECK(child_pids(s) == started);
    CHECK(child_ids(s) == list({"", "", ""}));
    gs::cast(started[1], Die{Term::atom("boom")});
    CHECK(events(2) == list({"stop b boom", "start b"}));
    auto after = child_pids(s);
    REQUIRE(after.size() == 3);
    CHECK(std::count(after.begin(), after.end(), started[0]) == 1);
    CHECK(std::count(after.begin(), after.end(), started[1]) == 0);
    CHECK(std::count(after.begin(), after.end(), started[2]) == 1);
    for (Pid p : after) CHECK(myrmex::alive(p));
    CHECK(stop_sup(s) == "shutdown");
    CHECK(pending().size() == 3);  // each stopped with shutdown
  });
}

TEST_CASE("restart types: permanent always, transient after an abnormal exit only, temporary never") {
  struct Row {
    sup::Restart restart;
    Term why;
    bool restarted;
  };
  const Term normal = Term::atom("normal"), shutdown = Term::atom("shutdown"), boom = Term::atom("boom");
  const Term shutdown_because = Term::tuple({shutdown, Term::atom("because")});
  const Row rows[] = {
      {sup::Restart::permanent, normal, true},
      {sup::Restart::permanent, shutdown, true},
      {sup::Restart::permanent, shutdown_because, true},
      {sup::Restart::permanent, boom, true},
      {sup::Restart::transient, normal, false},
      {sup::Restart::transient, shutdown, false},
      {sup::Restart::transient, shutdown_because, false},
      {sup::Restart::transient, boom, true},
      {sup::Restart::temporary, normal, false},
      {sup::Restart::temporary, shutdown, false},
      {sup::Restart::temporary, shutdown_because, false},
      {sup::Restart::temporary, boom, false},
  };
  for (const Row& row : rows) {
    CAPTURE(static_cast<int>(row.restart));
    const std::string why = row.why.to_string();
    CAPTURE(why);
    run([&] {
      Pid me = myrmex::self();
      Pid s = start_sup(sup::Spec{.flags = {.intensity = 10}, .children = {worker("a", me, row.restart)}});
      CHECK(events(1) == list({"start a"}));
      Pid first = child_pids(s).at(0);
      gs::cast(first, Die{row.why});
      if (row.restarted) {
        CHECK(events(2) == std::vector<std::string>{"stop a " + why, "start a"});
        auto now = child_pids(s);
        REQUIRE(now.size() == 1);
        CHECK(now[0] != first);
        CHECK(myrmex::alive(now[0]));
      } else {
        CHECK(events(1) == std::vector<std::string>{"stop a " + why});
        // Once the supervisor saw the exit, the decision is made (and a restart would have run).
        REQUIRE(poll([&] {
          auto w = sup::which_children(s);
          return w && (w->empty() || !w->front().pid);
        }));
        auto w = sup::which_children(s);
        REQUIRE(w.has_value());
        if (row.restart == sup::Restart::temporary) {
          CHECK(w->empty());  // its spec went with it
        } else {
          REQUIRE(w->size() == 1);
          CHECK(!w->front().pid);
          CHECK(!w->front().restarting);
        }
        CHECK(pending().empty());
      }
      CHECK(stop_sup(s) == "shutdown");
    });
  }
}

TEST_CASE("intensity: R restarts within the period pass, R+1 stop the children and end it with shutdown") {
  for (int intensity : {0, 1, 3}) {
    CAPTURE(intensity);
    run([&] {
      Pid me = myrmex::self();
      Pid s = start_sup(sup::Spec{.flags = {.intensity = intensity, .period = 60s},
                                  .children = {worker("a", me), worker("b", me), worker("c", me)}});
      CHECK(events(3) == list({"start a", "start b", "start c"}));
      auto ref = myrmex::monitor(s);
      for (int i = 0; i < intensity; ++i) {
        Pid a = child_pids(s).at(0);
        gs::cast(a, Die{Term::atom("boom")});
        CHECK(events(2) == list({"stop a boom", "start a"}));
      }
      CHECK(myrmex::alive(s));
      Pid b = child_pids(s).at(1);
      gs::cast(child_pids(s).at(0), Die{Term::atom("boom")});
      std::string why = down_reason(ref);
      CHECK(why == "shutdown");
      CHECK(exit_of(s) == "shutdown");
      // The crashed child is not restarted; the others were stopped, last first, before it ended.
      CHECK(pending() == list({"stop a boom", "stop c shutdown", "stop b shutdown"}));
      CHECK_FALSE(myrmex::alive(b));
    });
  }
}

TEST_CASE("intensity: a restart whose start fails is retried, each try counting as a restart") {
  run([] {
    Pid me = myrmex::self();
    auto attempts = std::make_shared<int>(0);
    // Starts the first time only; every later start fails with `bad`.
    auto flaky = sup::worker("a", [me, attempts] {
      ++*attempts;  // runs in the supervisor process only
      return gs::start_link(Worker{"a", me, true, *attempts > 1});
    });
    Pid s =
        start_sup(sup::Spec{.flags = {.intensity = 3, .period = 60s}, .children = {flaky, worker("b", me)}});
    CHECK(events(2) == list({"start a", "start b"}));
    auto ref = myrmex::monitor(s);
    gs::cast(child_pids(s).at(0), Die{Term::atom("boom")});
    CHECK(down_reason(ref) == "shutdown");
    CHECK(exit_of(s) == "shutdown");
    // The first start, then one try per restart the intensity allows; the one more gives up.
    CHECK(*attempts == 1 + 3);
    CHECK(pending() == list({"stop a boom", "stop b shutdown"}));
  });
}

TEST_CASE("intensity: restarts spread over more than the period do not trip it") {
  run([] {
    Pid me = myrmex::self();
    constexpr auto period = 300ms;
    Pid s = start_sup(sup::Spec{.flags = {.intensity = 2, .period = period}, .children = {worker("a", me)}});
    CHECK(events(1) == list({"start a"}));
    // Three rounds of `intensity` restarts, each round more than a period after the last: 6 restarts in
    // all, never more than 2 within one period.
    for (int round = 0; round < 3; ++round) {
      if (round > 0) myrmex::sleep_for(period * 3);
      for (int i = 0; i < 2; ++i) {
        gs::cast(child_pids(s).at(0), Die{Term::atom("boom")});
        CHECK(events(2) == list({"stop a boom", "start a"}));
      }
      CHECK(myrmex::alive(s));
    }
    CHECK(stop_sup(s) == "shutdown");
  });
}

namespace {

struct Ready {
  Pid pid;
};

// stubborn() starts a process that traps exits and ignores them all: only `kill` ends it.
sup::StartFunction stubborn() {
  return []() -> myrmex::Expected<Pid, sup::StartError> {
    Pid parent = myrmex::self();
    Pid p = myrmex::spawn_link([parent] {
      myrmex::set_trap_exit(true);
      (void)myrmex::send(parent, Ready{myrmex::self()});
      for (;;) myrmex::receive([](myrmex::Exit&) {});
    });
    myrmex::receive(myrmex::when([p](const Ready& r) { return r.pid == p; }, [](Ready&) {}));
    return p;
  };
}

}  // namespace

TEST_CASE("shutdown brutal_kill: killed, terminate does not run") {
  run([] {
    Pid me = myrmex::self();
    auto spec = worker("a", me);
    spec.shutdown = sup::Shutdown::kill();
    Pid s = start_sup(sup::Spec{.flags = {}, .children = {spec}});
    CHECK(events(1) == list({"start a"}));
    Pid a = child_pids(s).at(0);
    auto ref = myrmex::monitor(a);
    REQUIRE(sup::terminate_child(s, "a").has_value());
    std::string why = down_reason(ref);
    CHECK(why == "killed");
    CHECK(pending().empty());
    CHECK(stop_sup(s) == "shutdown");
  });
}

TEST_CASE("shutdown time-out: a child that ignores shutdown is killed when it expires") {
  run([] {
    auto spec = sup::worker("a", stubborn());
    spec.shutdown = sup::Shutdown::after(100ms);
    Pid s = start_sup(sup::Spec{.flags = {}, .children = {spec}});
    Pid a = child_pids(s).at(0);
    REQUIRE(myrmex::alive(a));
    auto ref = myrmex::monitor(a);
    REQUIRE(sup::terminate_child(s, "a").has_value());
    std::string why = down_reason(ref);
    CHECK(why == "killed");
    // The same when the supervisor itself stops.
    REQUIRE(sup::restart_child(s, "a").has_value());
    Pid again = child_pids(s).at(0);
    auto ref2 = myrmex::monitor(again);
    CHECK(stop_sup(s) == "shutdown");
    std::string why2 = down_reason(ref2);
    CHECK(why2 == "killed");
  });
}

TEST_CASE("shutdown time-out: a gen_server that traps exits runs terminate with shutdown") {
  run([] {
    Pid me = myrmex::self();
    auto spec = worker("a", me, sup::Restart::permanent, true);
    spec.shutdown = sup::Shutdown::after(30s);
    Pid s = start_sup(sup::Spec{.flags = {}, .children = {spec}});
    CHECK(events(1) == list({"start a"}));
    Pid a = child_pids(s).at(0);
    auto ref = myrmex::monitor(a);
    REQUIRE(sup::terminate_child(s, "a").has_value());
    CHECK(pending() == list({"stop a shutdown"}));
    std::string why = down_reason(ref);
    CHECK(why == "shutdown");
    CHECK(stop_sup(s) == "shutdown");
  });
}

TEST_CASE("shutdown infinity: a supervisor child stops its own children before it ends") {
  run([] {
    Pid me = myrmex::self();
    auto mid = sup::supervisor_child("mid", [me] {
      return sup::start_link(sup::Spec{.flags = {}, .children = {worker("w1", me), worker("w2", me)}});
    });
    CHECK(mid.shutdown.kind == sup::Shutdown::infinity);
    CHECK(sup::worker("x", stubborn()).shutdown.kind == sup::Shutdown::timeout);
    Pid s = start_sup(sup::Spec{.flags = {}, .children = {mid}});
    CHECK(events(2) == list({"start w1", "start w2"}));
    Pid m = child_pids(s).at(0);
    auto ref = myrmex::monitor(m);
    REQUIRE(sup::terminate_child(s, "mid").has_value());
    CHECK(pending() == list({"stop w2 shutdown", "stop w1 shutdown"}));
    std::string why = down_reason(ref);
    CHECK(why == "shutdown");
    auto counts = sup::count_children(s);
    REQUIRE(counts.has_value());
    CHECK(counts->specs == 1);
    CHECK(counts->active == 0);
    CHECK(counts->supervisors == 1);
    CHECK(stop_sup(s) == "shutdown");
  });
}

TEST_CASE("a child whose start fails fails start_link and stops the children started before it") {
  run([] {
    Pid me = myrmex::self();
    auto bad = sup::worker("b", [me] { return gs::start_link(Worker{"b", me, true, true}); });
    auto r = sup::start_link(sup::Spec{.flags = {}, .children = {worker("a", me), bad, worker("c", me)}});
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().kind == sup::StartError::failed);
    CHECK(r.error().reason ==
          Term::tuple({Term::atom("shutdown"), Term::tuple({Term::atom("failed_to_start_child"),
                                                            Term::atom("b"), Term::atom("bad")})}));
    CHECK(pending() == list({"start a", "stop a shutdown"}));
  });
}

namespace {
// ignoring() is a start function that returns ignore (OTP's `ignore` from a start function).
sup::StartFunction ignoring() {
  return [] {
    return myrmex::Expected<Pid, sup::StartError>(
        myrmex::vm::unexpected(sup::StartError{sup::StartError::ignored, Term::atom("ignore"), Pid{}}));
  };
}
}  // namespace

TEST_CASE("a start that returns ignore keeps the spec without a process, except a temporary one's") {
  run([] {
    Pid me = myrmex::self();
    Pid s = start_sup(sup::Spec{.flags = {},
                                .children = {sup::worker("pi", ignoring()), worker("a", me),
                                             sup::worker("ti", ignoring(), sup::Restart::temporary)}});
    CHECK(events(1) == list({"start a"}));
    CHECK(child_ids(s) == list({"pi", "a"}));
    CHECK(!child_pids(s).at(0));
    auto t = sup::start_child(s, sup::worker("ti2", ignoring(), sup::Restart::temporary));
    REQUIRE(t.has_value());
    CHECK(!*t);
    auto p = sup::start_child(s, sup::worker("pi2", ignoring(), sup::Restart::transient));
    REQUIRE(p.has_value());
    CHECK(!*p);
    CHECK(child_ids(s) == list({"pi", "a", "pi2"}));
    auto n = sup::count_children(s);
    REQUIRE(n.has_value());
    CHECK(n->specs == 3);
    CHECK(n->active == 1);
    CHECK(stop_sup(s) == "shutdown");
  });
}

TEST_CASE("child operations and their errors") {
  run([] {
    Pid me = myrmex::self();
    Pid s = start_sup(sup::Spec{.flags = {.intensity = 10}, .children = {}});
    CHECK(child_ids(s).empty());

    auto a = sup::start_child(s, worker("a", me));
    REQUIRE(a.has_value());
    CHECK(events(1) == list({"start a"}));
    auto again = sup::start_child(s, worker("a", me));
    REQUIRE_FALSE(again.has_value());
    CHECK(again.error().kind == sup::SupervisorError::already_started);
    CHECK(again.error().pid == *a);
    CHECK(pending().empty());  // the second spec's start did not run

    auto b = sup::start_child(s, sup::supervisor_child("b", [] {
                                return sup::start_link(sup::Spec{.flags = {}, .children = {}});
                              }));
    REQUIRE(b.has_value());
    auto w = sup::which_children(s);
    REQUIRE(w.has_value());
    REQUIRE(w->size() == 2);
    CHECK((*w)[0].id == "a");
    CHECK((*w)[0].pid == *a);
    CHECK((*w)[0].type == sup::ChildType::worker);
    CHECK((*w)[1].id == "b");
    CHECK((*w)[1].pid == *b);
    CHECK((*w)[1].type == sup::ChildType::supervisor);
    auto n = sup::count_children(s);
    REQUIRE(n.has_value());
    CHECK(n->specs == 2);
    CHECK(n->active == 2);
    CHECK(n->workers == 1);
    CHECK(n->supervisors == 1);

    // Running: neither restart_child nor delete_child.
    auto rr = sup::restart_child(s, "a");
    REQUIRE_FALSE(rr.has_value());
    CHECK(rr.error().kind == sup::SupervisorError::running);
    auto dr = sup::delete_child(s, "a");
    REQUIRE_FALSE(dr.has_value());
    CHECK(dr.error().kind == sup::SupervisorError::running);

    // terminate_child keeps the spec.
    REQUIRE(sup::terminate_child(s, "a").has_value());
    CHECK(pending() == list({"stop a shutdown"}));
    CHECK_FALSE(myrmex::alive(*a));
    w = sup::which_children(s);
    REQUIRE(w->size() == 2);
    CHECK((*w)[0].id == "a");
    CHECK(!(*w)[0].pid);
    n = sup::count_children(s);
    CHECK(n->specs == 2);
    CHECK(n->active == 1);
    // A terminated child is not restarted by the supervisor: its exit was not a crash it saw.
    CHECK(pending().empty());
    auto present = sup::start_child(s, worker("a", me));
    REQUIRE_FALSE(present.has_value());
    CHECK(present.error().kind == sup::SupervisorError::already_present);
    CHECK(sup::terminate_child(s, "a").has_value());  // again: nothing to stop, still fine (OTP: ok)

    // restart_child starts it again from its spec.
    auto a2 = sup::restart_child(s, "a");
    REQUIRE(a2.has_value());
    CHECK(*a2 != *a);
    CHECK(myrmex::alive(*a2));
    CHECK(events(1) == list({"start a"}));
    CHECK(child_pids(s).at(0) == *a2);

    // delete_child removes a stopped child's spec.
    REQUIRE(sup::terminate_child(s, "a").has_value());
    CHECK(events(1) == list({"stop a shutdown"}));
    REQUIRE(sup::delete_child(s, "a").has_value());
    CHECK(child_ids(s) == list({"b"}));

    // Unknown ids.
    for (auto kind : {sup::terminate_child(s, "zz").error().kind, sup::restart_child(s, "zz").error().kind,
                      sup::delete_child(s, "zz").error().kind, sup::delete_child(s, "a").error().kind})
      CHECK(kind == sup::SupervisorError::not_found);
    // By PID on a supervisor that is not simple_one_for_one: not_found.
    auto by_pid = sup::terminate_child(s, *b);
    REQUIRE_FALSE(by_pid.has_value());
    CHECK(by_pid.error().kind == sup::SupervisorError::not_found);
    CHECK(myrmex::alive(*b));
    // start_child() from a template on a supervisor that has none.
    auto templ = sup::start_child(s);
    REQUIRE_FALSE(templ.has_value());
    CHECK(templ.error().kind == sup::SupervisorError::simple_one_for_one);

    // A start that fails: start_failed with its reason, and no spec stays.
    auto failing = sup::start_child(s, sup::worker("f", [me] {
                                      return gs::start_link(Worker{"f", me, true, true});
                                    }));
    REQUIRE_FALSE(failing.has_value());
    CHECK(failing.error().kind == sup::SupervisorError::start_failed);
    CHECK(failing.error().reason == Term::atom("bad"));
    CHECK(child_ids(s) == list({"b"}));
    // A start that returns ignore: {ok, undefined}, the spec stays without a process.
    auto ignored = sup::start_child(s, sup::worker("i", ignoring()));
    REQUIRE(ignored.has_value());
    CHECK(!*ignored);
    CHECK(child_ids(s) == list({"b", "i"}));

    // A temporary child's spec goes when it is terminated.
    auto t = sup::start_child(s, worker("t", me, sup::Restart::temporary));
    REQUIRE(t.has_value());
    CHECK(events(1) == list({"start t"}));
    CHECK(child_ids(s) == list({"b", "i", "t"}));
    REQUIRE(sup::terminate_child(s, "t").has_value());
    CHECK(events(1) == list({"stop t shutdown"}));
    CHECK(child_ids(s) == list({"b", "i"}));

    CHECK(stop_sup(s) == "shutdown");
    // The supervisor is gone: noproc.
    auto gone = sup::which_children(s);
    REQUIRE_FALSE(gone.has_value());
    CHECK(gone.error().kind == sup::SupervisorError::noproc);
    CHECK(sup::count_children(s).error().kind == sup::SupervisorError::noproc);
    CHECK(sup::start_child(s, worker("x", me)).error().kind == sup::SupervisorError::noproc);
  });
}

TEST_CASE("simple_one_for_one child operations and their errors") {
  run([] {
    Pid me = myrmex::self();
    Pid s = start_sup(sup::Spec{.flags = {.strategy = sup::Strategy::simple_one_for_one},
                                .children = {worker("w", me, sup::Restart::temporary)}});
    auto p = sup::start_child(s);
    REQUIRE(p.has_value());
    CHECK(events(1) == list({"start w"}));
    CHECK(sup::start_child(s, worker("x", me)).error().kind == sup::SupervisorError::simple_one_for_one);
    CHECK(sup::terminate_child(s, "w").error().kind == sup::SupervisorError::simple_one_for_one);
    CHECK(sup::restart_child(s, "w").error().kind == sup::SupervisorError::simple_one_for_one);
    CHECK(sup::delete_child(s, "w").error().kind == sup::SupervisorError::simple_one_for_one);
    CHECK(sup::terminate_child(s, me).error().kind == sup::SupervisorError::not_found);
    REQUIRE(sup::terminate_child(s, *p).has_value());
    CHECK(events(1) == list({"stop w shutdown"}));
    CHECK_FALSE(myrmex::alive(*p));
    CHECK(sup::terminate_child(s, *p).error().kind == sup::SupervisorError::not_found);
    auto n = sup::count_children(s);
    REQUIRE(n.has_value());
    CHECK(n->specs == 0);
    CHECK(n->active == 0);
    CHECK(stop_sup(s) == "shutdown");
  });
  // simple_one_for_one needs exactly one child spec.
  run([] {
    auto r =
        sup::start_link(sup::Spec{.flags = {.strategy = sup::Strategy::simple_one_for_one}, .children = {}});
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().kind == sup::StartError::failed);
  });
}

TEST_CASE("a three-level tree: a leaf restarts locally; a mid supervisor that gives up restarts once") {
  run([] {
    Pid me = myrmex::self();
    auto mid = sup::supervisor_child("mid", [me] {
      return sup::start_link(sup::Spec{.flags = {.intensity = 2, .period = 60s},
                                       .children = {worker("l1", me), worker("l2", me)}});
    });
    Pid top = start_sup(sup::Spec{.flags = {.intensity = 1, .period = 60s}, .children = {mid}},
                        {.name = "top_sup", .timeout = 5s, .spawn = {}});
    CHECK(events(2) == list({"start l1", "start l2"}));
    CHECK(myrmex::whereis("top_sup") == top);
    Pid m = child_pids("top_sup").at(0);
    // A leaf crash: restarted by mid, mid and top unchanged.
    gs::cast(child_pids(m).at(0), Die{Term::atom("boom")});
    CHECK(events(2) == list({"stop l1 boom", "start l1"}));
    CHECK(child_pids(top).at(0) == m);
    CHECK(myrmex::alive(top));
    // Two more crashes within mid's period: the third trips mid, which stops l2 and ends with shutdown;
    // top restarts it (one restart: within top's intensity).
    gs::cast(child_pids(m).at(0), Die{Term::atom("boom")});
    CHECK(events(2) == list({"stop l1 boom", "start l1"}));
    auto ref = myrmex::monitor(m);
    gs::cast(child_pids(m).at(0), Die{Term::atom("boom")});
    std::string why = down_reason(ref);
    CHECK(why == "shutdown");
    CHECK(events(4) == list({"stop l1 boom", "stop l2 shutdown", "start l1", "start l2"}));
    Pid m2 = child_pids(top).at(0);
    CHECK(m2 != m);
    CHECK(myrmex::alive(m2));
    CHECK(myrmex::alive(top));
    CHECK(child_pids(m2).size() == 2);
    CHECK(stop_sup(top) == "shutdown");
    CHECK(pending() == list({"stop l2 shutdown", "stop l1 shutdown"}));
  });
}

namespace {
struct Idle {};
}  // namespace

TEST_CASE("dynamic children: many started, then stopped by PID; count_children follows") {
  run([] {
    const long n = scaled(10000);
    Pid s = start_sup(sup::Spec{.flags = {.strategy = sup::Strategy::simple_one_for_one},
                                .children = {sup::worker(
                                    "w", [] { return gs::start_link(Idle{}); }, sup::Restart::temporary)}});
    std::vector<Pid> pids;
    pids.reserve(static_cast<std::size_t>(n));
    for (long i = 0; i < n; ++i) {
      auto p = sup::start_child(s);
      REQUIRE(p.has_value());
      pids.push_back(*p);
    }
    auto c = sup::count_children(s);
    REQUIRE(c.has_value());
    CHECK(c->specs == static_cast<std::size_t>(n));
    CHECK(c->active == static_cast<std::size_t>(n));
    CHECK(c->workers == static_cast<std::size_t>(n));
    CHECK(c->supervisors == 0);
    long failed = 0;
    for (long i = 0; i < n; ++i) {
      if (i == n / 2) {
        auto half = sup::count_children(s);
        REQUIRE(half.has_value());
        CHECK(half->active == static_cast<std::size_t>(n - n / 2));
      }
      failed += !sup::terminate_child(s, pids[static_cast<std::size_t>(i)]).has_value();
    }
    CHECK(failed == 0);
    c = sup::count_children(s);
    REQUIRE(c.has_value());
    CHECK(c->specs == 0);
    CHECK(c->active == 0);
    long alive = 0;
    for (Pid p : pids) alive += myrmex::alive(p);
    CHECK(alive == 0);
    CHECK(stop_sup(s) == "shutdown");
  });
}

TEST_CASE("a call by name reaches the restarted server") {
  run([] {
    Pid me = myrmex::self();
    Pid s = start_sup(sup::Spec{
        .flags = {.intensity = 10},
        .children = {sup::worker(
            "named",
            start_worker("named", me, false, {.name = "named_server", .timeout = 5s, .spawn = {}}))}});
    CHECK(events(1) == list({"start named"}));
    auto first = gs::call("named_server", WhoAreYou{});
    REQUIRE(first.has_value());
    CHECK(*first == child_pids(s).at(0));
    gs::cast(*first, Die{Term::atom("boom")});
    CHECK(events(2) == list({"stop named boom", "start named"}));
    REQUIRE(poll([&] {
      Pid now = myrmex::whereis("named_server");
      return now && now != *first;
    }));
    auto second = gs::call("named_server", WhoAreYou{});
    REQUIRE(second.has_value());
    CHECK(*second != *first);
    CHECK(*second == child_pids(s).at(0));
    CHECK(stop_sup(s) == "shutdown");
  });
}

TEST_CASE("a crash in handle_call: the caller gets exited with the reason, the supervisor restarts it") {
  run([] {
    Pid me = myrmex::self();
    Pid s = start_sup(
        sup::Spec{.flags = {.intensity = 10}, .children = {worker("a", me, sup::Restart::permanent, false)}});
    CHECK(events(1) == list({"start a"}));
    Pid a = child_pids(s).at(0);
    auto r = gs::call(a, Crash{});
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().kind == myrmex::CallError::exited);
    const std::string reason = r.error().reason.to_string();
    CHECK(reason.find("exception") != std::string::npos);
    CHECK(reason.find("crash_in_call") != std::string::npos);
    auto ev = events(2);
    REQUIRE(ev.size() == 2);
    CHECK(ev[0].find("stop a {exception") == 0);
    CHECK(ev[0].find("crash_in_call") != std::string::npos);
    CHECK(ev[1] == "start a");
    Pid a2 = child_pids(s).at(0);
    CHECK(a2 != a);
    CHECK(myrmex::alive(a2));
    auto ok = gs::call(a2, WhoAreYou{});
    REQUIRE(ok.has_value());
    CHECK(*ok == a2);
    CHECK(stop_sup(s) == "shutdown");
  });
}
