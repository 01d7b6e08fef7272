// gen_server (supervisor/gen_server.h): callbacks, the start handshake, typed calls, casts, info,
// replies later, stop, terminate, names.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "tests/test_node.h"

using namespace std::chrono_literals;
using myrmex::CallError;
using myrmex::Message;
using myrmex::Pid;
using myrmex::Term;
using myrmex::test::config;
using myrmex::test::exception_term;
namespace gs = myrmex::gen_server;

namespace {

struct Get {
  using reply_type = int;
};
struct Add {
  int by;
};
struct Reset {
  using reply_type = void;
};
struct Crash {
  using reply_type = int;
};
struct Note {  // a plain message: handle_info's
  std::string text;
};

// Counter reports its callbacks to `watcher` as strings.
struct Counter {
  using calls = gs::Messages<Get, Reset, Crash>;
  using casts = gs::Messages<Add>;
  Pid watcher;
  int n = 0;

  int handle_call(Get&) { return n; }
  void handle_call(Reset&) { n = 0; }
  int handle_call(Crash&) { throw std::runtime_error("handle_call crashed"); }
  void handle_cast(Add& a) { n += a.by; }
  void handle_info(Message& m) {
    if (auto* note = m.get<Note>()) (void)myrmex::send(watcher, "info " + note->text);
    if (auto* e = m.get<myrmex::Exit>()) (void)myrmex::send(watcher, "exit " + e->reason.to_string());
  }
  void terminate(const Term& reason) { (void)myrmex::send(watcher, "terminate " + reason.to_string()); }
};

std::string next_line(std::chrono::milliseconds timeout = 10s) {
  std::string out = "(nothing)";
  myrmex::receive([&](std::string& s) { out = std::move(s); }, myrmex::after(timeout, [] {}));
  return out;
}

}  // namespace

TEST_CASE("gen_server: call, cast and info reach their callbacks; a client names the server by PID or name") {
  myrmex::Node node(config(2));
  node.run([] {
    auto pid = gs::start(Counter{myrmex::self()}, {.name = "counter"});
    REQUIRE(pid);
    CHECK(myrmex::whereis("counter") == *pid);
    gs::cast(*pid, Add{2});
    gs::cast("counter", Add{3});
    CHECK(gs::call(*pid, Get{}).value() == 5);
    CHECK(gs::call("counter", Get{}).value() == 5);
    CHECK(gs::call("counter", Reset{}).has_value());
    CHECK(gs::call(std::string("counter"), Get{}).value() == 0);
    (void)myrmex::send(*pid, Note{"hello"});
    CHECK(next_line() == "info hello");
    // Idle, it holds no stack.
    CHECK_FALSE(myrmex::process_info(*pid)->holds_stack);
    CHECK(gs::stop("counter").has_value());
    CHECK(next_line() == "terminate normal");
    CHECK_FALSE(myrmex::alive(*pid));
  });
}

TEST_CASE("gen_server: a client of a name nobody holds gets noproc; a cast to it is dropped") {
  myrmex::Node node(config(1));
  node.run([] {
    auto r = gs::call("nobody", Get{});
    REQUIRE_FALSE(r);
    CHECK(r.error() == CallError::noproc);
    gs::cast("nobody", Add{1});  // returns, as OTP's cast does
    auto s = gs::stop("nobody");
    REQUIRE_FALSE(s);
    CHECK(s.error() == CallError::noproc);
  });
}

namespace {
// Failing is a server whose init() fails in the way `how` says.
struct Failing {
  int how;
  gs::InitResult init() {
    if (how == 0) return gs::InitResult::stop(Term::atom("no_database"));
    if (how == 1) throw std::runtime_error("init threw");
    if (how == 2) myrmex::exit(Term::atom("exited_in_init"));
    if (how == 3) return gs::InitResult::ignore();
    return gs::InitResult::ok();
  }
  void terminate(const Term&) { std::abort(); }  // never: init did not succeed
};
}  // namespace

TEST_CASE("gen_server: init() that stops, throws, exits or ignores fails the start with its reason") {
  myrmex::Node node(config(2));
  node.run([] {
    auto stop = gs::start(Failing{0});
    REQUIRE_FALSE(stop);
    CHECK(stop.error() == gs::StartError::failed);
    CHECK(stop.error().reason == Term::atom("no_database"));
    auto threw = gs::start(Failing{1});
    REQUIRE_FALSE(threw);
    CHECK(threw.error().reason == exception_term("std::runtime_error", "init threw"));
    auto exited = gs::start(Failing{2});
    REQUIRE_FALSE(exited);
    CHECK(exited.error().reason == Term::atom("exited_in_init"));
    auto ignored = gs::start(Failing{3}, {.name = "ignored"});
    REQUIRE_FALSE(ignored);
    CHECK(ignored.error() == gs::StartError::ignored);
    // An ignored server ends and frees its name.
    CHECK(myrmex::test::wait_until([] { return !myrmex::whereis("ignored"); }));
    CHECK(myrmex::process_info(myrmex::self())->message_queue_len == 0);  // nothing of the starts left
  });
}

TEST_CASE("gen_server: start_link's failed init ends a caller that does not trap exits, as in OTP") {
  myrmex::Node node(config(1));
  Term reason = node.run([] {
    (void)gs::start_link(Failing{0});
    myrmex::receive([](int) {});  // not reached
  });
  CHECK(reason == Term::atom("no_database"));
  // A trapping caller gets the error and the Exit.
  node.run([] {
    myrmex::set_trap_exit(true);
    auto r = gs::start_link(Failing{0});
    REQUIRE_FALSE(r);
    CHECK(r.error().reason == Term::atom("no_database"));
    bool got_exit = false;
    myrmex::receive([&](myrmex::Exit& e) { got_exit = e.reason == Term::atom("no_database"); },
                    myrmex::after(10s, [] {}));
    CHECK(got_exit);
  });
}

TEST_CASE("gen_server: a name already held fails the start with already_started and the holder") {
  myrmex::Node node(config(2));
  node.run([] {
    auto first = gs::start(Counter{myrmex::self()}, {.name = "one"});
    REQUIRE(first);
    auto second = gs::start(Counter{myrmex::self()}, {.name = "one"});
    REQUIRE_FALSE(second);
    CHECK(second.error() == gs::StartError::already_started);
    CHECK(second.error().pid == *first);
    CHECK(second.error().reason == Term::tuple({Term::atom("already_started"), Term(*first)}));
    CHECK(gs::call("one", Get{}).value() == 0);  // the first one is untouched
    CHECK(gs::stop("one").has_value());
    CHECK(next_line() == "terminate normal");
    CHECK(next_line(100ms) == "(nothing)");  // the second never ran its terminate
  });
}

TEST_CASE("gen_server: a crash in handle_call gives the caller the reason, and terminate runs with it") {
  myrmex::Node node(config(2));
  node.run([] {
    auto pid = gs::start(Counter{myrmex::self()});
    REQUIRE(pid);
    auto r = gs::call(*pid, Crash{});
    REQUIRE_FALSE(r);
    CHECK(r.error() == CallError::exited);
    CHECK(r.error().reason == exception_term("std::runtime_error", "handle_call crashed"));
    CHECK(next_line() ==
          "terminate " + exception_term("std::runtime_error", "handle_call crashed").to_string());
  });
}

namespace {
// Deferred answers Ask later: it keeps the From and a helper process replies when told to.
struct Ask {
  using reply_type = std::string;
  bool answer;
};
struct Deferred {
  using calls = gs::Messages<Ask>;
  std::vector<gs::From<std::string>> waiting;
  gs::CallResult<std::string> handle_call(Ask& a, gs::From<std::string> from) {
    if (!a.answer) return gs::noreply;  // never answered
    // Another process replies on our behalf.
    myrmex::spawn([from] { gs::reply(from, std::string("from a helper")); });
    return gs::noreply;
  }
};
}  // namespace

TEST_CASE("gen_server: handle_call may reply later from another process, or never (the caller times out)") {
  myrmex::Node node(config(2));
  node.run([] {
    auto pid = gs::start(Deferred{});
    REQUIRE(pid);
    CHECK(gs::call(*pid, Ask{true}).value() == "from a helper");
    auto never = gs::call(*pid, Ask{false}, 50ms);
    REQUIRE_FALSE(never);
    CHECK(never.error() == CallError::timeout);
    CHECK(gs::stop(*pid).has_value());
  });
}

namespace {
// Trapping traps exits: an exit signal from its parent ends it with terminate, others go to handle_info.
struct Trapping {
  Pid watcher;
  gs::InitResult init() {
    myrmex::set_trap_exit(true);
    return gs::InitResult::ok();
  }
  void handle_info(Message& m) {
    if (auto* e = m.get<myrmex::Exit>()) (void)myrmex::send(watcher, "info exit " + e->reason.to_string());
  }
  void terminate(const Term& reason) { (void)myrmex::send(watcher, "terminate " + reason.to_string()); }
};
}  // namespace

TEST_CASE("gen_server: a trapping server ends with terminate on its parent's exit signal; others are info") {
  myrmex::Node node(config(2));
  node.run([] {
    Pid me = myrmex::self();
    // The parent: starts the server linked, then exits with shutdown when told.
    Pid parent = myrmex::spawn([me] {
      auto server = gs::start_link(Trapping{me});
      (void)myrmex::send(me, *server);
      myrmex::receive([](int) {});
      myrmex::exit(myrmex::atoms::shutdown());
    });
    Pid server;
    myrmex::receive([&](Pid p) { server = p; });
    // An exit signal from a stranger is a message.
    Pid stranger = myrmex::spawn([] { myrmex::receive([](int) {}); });
    myrmex::exit(server, Term::atom("from_a_stranger"));
    CHECK(next_line() == "info exit from_a_stranger");
    (void)stranger;
    myrmex::send(parent, 1);
    CHECK(next_line() == "terminate shutdown");
    CHECK(myrmex::test::wait_until([&] { return !myrmex::alive(server); }));
    myrmex::exit(stranger, myrmex::atoms::kill());
  });
}

TEST_CASE("gen_server: stop_self() ends the server after its callback returned; stop() with a reason") {
  myrmex::Node node(config(1));
  struct Quitter {
    using calls = gs::Messages<Get>;
    Pid watcher;
    int handle_call(Get&) {
      gs::stop_self(Term::atom("done"));
      return 7;  // the reply still goes out
    }
    void terminate(const Term& reason) { (void)myrmex::send(watcher, "terminate " + reason.to_string()); }
  };
  node.run([] {
    auto pid = gs::start(Quitter{myrmex::self()});
    REQUIRE(pid);
    CHECK(gs::call(*pid, Get{}).value() == 7);
    CHECK(next_line() == "terminate done");
    auto other = gs::start(Quitter{myrmex::self()});
    CHECK(gs::stop(*other, Term::atom("bye")).has_value());
    CHECK(next_line() == "terminate bye");
  });
}

namespace {
// Ten request types: dispatch must find each, the last included.
template <int I>
struct Nth {
  using reply_type = int;
};
struct Wide {
  using calls = gs::Messages<Nth<0>, Nth<1>, Nth<2>, Nth<3>, Nth<4>, Nth<5>, Nth<6>, Nth<7>, Nth<8>, Nth<9>>;
  template <int I>
  int handle_call(Nth<I>&) {
    return I;
  }
};
}  // namespace

TEST_CASE("gen_server: with ten request types each reaches its own handle_call") {
  myrmex::Node node(config(1));
  node.run([] {
    auto pid = gs::start(Wide{});
    REQUIRE(pid);
    CHECK(gs::call(*pid, Nth<0>{}).value() == 0);
    CHECK(gs::call(*pid, Nth<4>{}).value() == 4);
    CHECK(gs::call(*pid, Nth<9>{}).value() == 9);
    // A request it does not list is an info message: no reply, the call times out.
    auto r = gs::call(*pid, Get{}, 50ms);
    REQUIRE_FALSE(r);
    CHECK(r.error() == CallError::timeout);
    CHECK(gs::stop(*pid).has_value());
  });
}
