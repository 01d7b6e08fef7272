// call/reply with typed requests (the request type names its reply), acknowledgement-only calls,
// forwarding a received Message as it is, and call()'s fail-fast: a server that dies mid-call, a dead
// server, late replies, the call's monitor, and a caller killed mid-call.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "tests/test_node.h"
#include "tests/vm/relations_helpers.h"

using namespace std::chrono_literals;
using myrmex::Pid;
using myrmex::Request;
using myrmex::test::config;

namespace {

struct GetTotal {
  using reply_type = long;
};
struct Add {
  using reply_type = void;  // an acknowledgement only
  long n;
};
struct Name {
  using reply_type = std::string;
};
struct Stop {};

// A counter server answering three request types; the last one tested must not cost more lookups.
void counter() {
  long total = 0;
  for (bool more = true; more;)
    myrmex::receive([&](Request<Add>& r) { total += r.value.n, myrmex::reply(r); },
                    [&](Request<GetTotal>& r) { myrmex::reply(r, total); },
                    [&](Request<Name>& r) { myrmex::reply(r, "counter"); },  // converts to std::string
                    [&](Stop) { more = false; });
}

}  // namespace

TEST_CASE("call() deduces the reply type from the request; a void reply is an acknowledgement") {
  myrmex::Node node(config(2));
  node.run([] {
    Pid server = myrmex::spawn(counter);
    myrmex::Expected<void, myrmex::CallError> ack = myrmex::call(server, Add{5});
    CHECK(ack.has_value());
    CHECK(myrmex::call(server, Add{7}).has_value());
    myrmex::Expected<long, myrmex::CallError> total = myrmex::call(server, GetTotal{});
    REQUIRE(total.has_value());
    CHECK(*total == 12);
    auto name = myrmex::call(server, Name{});
    REQUIRE(name.has_value());
    CHECK(*name == "counter");
    myrmex::send(server, Stop{});
  });
}

TEST_CASE("an acknowledgement-only call reports noproc and timeout like any other") {
  myrmex::Node node(config(1));
  node.run([] {
    Pid dead = myrmex::spawn([] {});
    while (myrmex::alive(dead)) myrmex::yield();
    auto r1 = myrmex::call(dead, Add{1});
    REQUIRE_FALSE(r1.has_value());
    CHECK(r1.error() == myrmex::CallError::noproc);
    Pid silent = myrmex::spawn([] { myrmex::sleep_for(1h); });
    auto r2 = myrmex::call(silent, Add{1}, 10ms);
    REQUIRE_FALSE(r2.has_value());
    CHECK(r2.error() == myrmex::CallError::timeout);
  });
}

TEST_CASE("a server can keep a request and reply later, from another process") {
  myrmex::Node node(config(2));
  node.run([] {
    Pid server = myrmex::spawn([] {
      myrmex::receive([](Request<GetTotal>& r) {
        // Hand the request to a helper, which answers on the server's behalf.
        myrmex::spawn([r = std::move(r)] { myrmex::reply(r, 99L); });
      });
      // Stay up: the caller monitors the server, so a server that ended first would fail the call.
      myrmex::receive([](int) {});
    });
    auto answer = myrmex::call(server, GetTotal{});
    REQUIRE(answer.has_value());
    CHECK(*answer == 99);
    myrmex::send(server, 0);
  });
}

TEST_CASE("send(pid, Message&&) forwards the envelope as it is: the receiver sees the original type") {
  myrmex::Node node(config(2));
  node.run([] {
    Pid me = myrmex::self();
    Pid proxy = myrmex::spawn([me] {
      for (int i = 0; i < 2; ++i)
        myrmex::receive([&](myrmex::Message& m) { myrmex::send(me, std::move(m)); });
    });
    myrmex::send(proxy, std::string("through"));
    myrmex::send(proxy, GetTotal{});
    CHECK(myrmex::receive([](std::string& s) { return s; }) == "through");
    bool typed = myrmex::receive([](GetTotal&) { return true; }, [](myrmex::Message&) { return false; });
    CHECK(typed);
  });
}

TEST_CASE("a message's type name prints demangled") {
  myrmex::Node node(config(1));
  node.run([] {
    myrmex::send(myrmex::self(), GetTotal{});
    myrmex::send(myrmex::self(), 3);
    myrmex::receive([](myrmex::Message& m) { CHECK(m.type_name() == "(anonymous namespace)::GetTotal"); });
    myrmex::receive([](myrmex::Message& m) { CHECK(m.type_name() == "int"); });
  });
}

// ---------------------------------------------------------------------------------------------------------
// Fail-fast: the caller monitors the server for the call (gen_server:call's monitor), and replies go to
// an alias that dies with the call, so nothing of a call outlives it.

namespace {

using myrmex::CallError;
using myrmex::Term;
using myrmex::test::kSchedulerCounts;
using myrmex::test::monitored_by;
using myrmex::test::monitors_of;
using myrmex::test::queued;
using myrmex::test::wait_gone;

struct Go {};

// elapsed_s() is the seconds since `start`.
double elapsed_s(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// nothing_left() is true when the caller's mailbox is empty: by its length, and by a receive that polls.
bool nothing_left() {
  return queued() == 0 &&
         !myrmex::receive([](myrmex::Message&) { return true; }, myrmex::after(0ms, [] { return false; }));
}

}  // namespace

TEST_CASE("a call to a server that dies mid-call fails at once with exited and the server's reason") {
  struct Stops final : myrmex::Behaviour {
    void handle(myrmex::Message&) override { stop(Term::atom("stopped")); }
  };
  // Each server takes the request and ends without replying.
  const std::vector<std::pair<std::function<Pid()>, std::string>> servers = {
      {[] {
         return myrmex::spawn(
             [] { myrmex::receive([](Request<GetTotal>&) { myrmex::exit(Term::atom("crashed")); }); });
       },
       "crashed"},
      {[] {
         return myrmex::spawn(
             [] { myrmex::receive([](Request<GetTotal>&) { throw std::runtime_error("boom"); }); });
       },
       "{exception,<<\"std::runtime_error\">>,<<\"boom\">>}"},
      {[] {
         // Killed by a third process while it holds the request.
         return myrmex::spawn([] {
           myrmex::receive([](Request<GetTotal>&) {
             myrmex::Pid me = myrmex::self();
             myrmex::spawn([me] { myrmex::exit(me, Term::atom("kill")); });
             myrmex::receive([](Go) {});
           });
         });
       },
       "killed"},
      {[] { return myrmex::spawn_behaviour(std::make_unique<Stops>()); }, "stopped"},
      {[] { return myrmex::spawn([] { myrmex::receive([](Request<GetTotal>&) {}); }); }, "normal"},
  };
  for (unsigned schedulers : kSchedulerCounts) {
    CAPTURE(schedulers);
    myrmex::Node node(config(schedulers));
    node.run([&] {
      for (const auto& [start, reason] : servers) {
        Pid server = start();
        const auto t0 = std::chrono::steady_clock::now();
        auto r = myrmex::call(server, GetTotal{}, 60s);
        const double took = elapsed_s(t0);
        CHECK_MESSAGE(took < 30, reason, ": took ", took, " s");  // the Down ended the wait, not the time-out
        REQUIRE_FALSE_MESSAGE(r.has_value(), reason, ": the call got a reply");
        CHECK_MESSAGE(r.error() == CallError::exited, reason, ": error ", r.error().reason.to_string());
        CHECK_MESSAGE(r.error().reason.to_string() == reason, "got ", r.error().reason.to_string());
        CHECK(monitors_of(myrmex::self()).empty());
        CHECK(nothing_left());  // the call's Down was taken
      }
    });
  }
}

TEST_CASE("a call to a dead, stale or never-issued PID fails at once with noproc") {
  for (unsigned schedulers : kSchedulerCounts) {
    CAPTURE(schedulers);
    myrmex::Node node(config(schedulers));
    node.run([] {
      Pid dead = myrmex::spawn([] {});
      REQUIRE(wait_gone(dead));
      Pid live = myrmex::spawn(counter);
      Pid stale = Pid::make(live.node(), live.index(), live.generation() + 1);
      for (Pid server : {dead, stale, Pid{}}) {
        const auto t0 = std::chrono::steady_clock::now();
        auto r = myrmex::call(server, GetTotal{}, 60s);
        CHECK(elapsed_s(t0) < 30);
        REQUIRE_FALSE_MESSAGE(r.has_value(), server.to_string(), " replied");
        CHECK_MESSAGE(r.error() == CallError::noproc, server.to_string(), ": ", r.error().reason.to_string());
        CHECK(r.error().reason == Term::atom("noproc"));
        CHECK(nothing_left());
      }
      CHECK(monitored_by(live).empty());
      CHECK(myrmex::process_info(live)->message_queue_len == 0);  // the stale PID did not reach it
      myrmex::send(live, Stop{});
    });
  }
}

TEST_CASE("a late reply (after the caller timed out) is dropped, never left in the caller's mailbox") {
  for (unsigned schedulers : kSchedulerCounts) {
    CAPTURE(schedulers);
    myrmex::Node node(config(schedulers));
    std::atomic<int> late{-1};
    node.run([&] {
      // The server keeps the request, replies once told to, and ends.
      Pid server = myrmex::spawn([&late] {
        myrmex::receive([&](Request<GetTotal>& r) {
          myrmex::receive([](Go) {});
          late = static_cast<int>(myrmex::reply(r, 5L));
        });
      });
      auto r = myrmex::call(server, GetTotal{}, 20ms);
      REQUIRE_FALSE(r.has_value());
      CHECK(r.error() == CallError::timeout);
      CHECK(r.error().reason == Term::atom("timeout"));
      myrmex::send(server, Go{});
      REQUIRE(wait_gone(server));
      CHECK(late.load() == static_cast<int>(myrmex::SendResult::noproc));
      auto info = myrmex::process_info(myrmex::self());
      REQUIRE(info);
      CHECK(info->message_queue_len == 0);
      CHECK(nothing_left());
    });
  }
}

TEST_CASE("a reply to an earlier call is dropped while a later call to the same server waits") {
  for (unsigned schedulers : kSchedulerCounts) {
    CAPTURE(schedulers);
    myrmex::Node node(config(schedulers));
    std::atomic<int> first_reply{-1};
    node.run([&] {
      // The server keeps the first request; once the second comes, it answers the first, then the second.
      Pid server = myrmex::spawn([&first_reply] {
        std::optional<Request<GetTotal>> first;
        myrmex::receive([&](Request<GetTotal>& r) { first.emplace(std::move(r)); });
        myrmex::receive([&](Request<GetTotal>& second) {
          first_reply = static_cast<int>(myrmex::reply(*first, 1L));
          myrmex::reply(second, 2L);
        });
      });
      auto r1 = myrmex::call(server, GetTotal{}, 20ms);
      REQUIRE_FALSE(r1.has_value());
      CHECK(r1.error() == CallError::timeout);
      auto r2 = myrmex::call(server, GetTotal{}, 60s);
      REQUIRE(r2.has_value());
      CHECK(*r2 == 2);
      CHECK(first_reply.load() == static_cast<int>(myrmex::SendResult::noproc));
      REQUIRE(wait_gone(server));
      CHECK(nothing_left());  // neither the first reply nor the second call's Down
    });
  }
}

TEST_CASE("the call's monitor exists during the call and is gone after it, however the call ended") {
  for (unsigned schedulers : kSchedulerCounts) {
    CAPTURE(schedulers);
    myrmex::Node node(config(schedulers));
    node.run([] {
      Pid me = myrmex::self();
      // During the call the server sees the caller among its watchers, and the caller monitors it.
      std::vector<Pid> watchers, watched;
      Pid server = myrmex::spawn([&] {
        for (;;)
          myrmex::receive(
              [&](Request<GetTotal>& r) {
                watchers = monitored_by(myrmex::self());
                watched = monitors_of(r.from);
                myrmex::reply(r, 1L);
              },
              [](Request<Add>&) {},  // never answered: the caller times out
              [](Stop) { myrmex::exit(Term::atom("normal")); });
      });
      REQUIRE(myrmex::call(server, GetTotal{}).has_value());
      CHECK(myrmex::test::to_string(watchers) == myrmex::test::to_string({me}));
      CHECK(myrmex::test::to_string(watched) == myrmex::test::to_string({server}));
      // After a reply.
      CHECK(monitored_by(server).empty());
      CHECK(monitors_of(me).empty());
      // After a time-out.
      CHECK(myrmex::call(server, Add{1}, 10ms).error() == CallError::timeout);
      CHECK(monitored_by(server).empty());
      CHECK(monitors_of(me).empty());
      CHECK(nothing_left());
      // Many calls leave no monitors behind.
      for (int i = 0; i < 1000; ++i) REQUIRE(myrmex::call(server, GetTotal{}).has_value());
      CHECK(monitored_by(server).empty());
      CHECK(monitors_of(me).empty());
      CHECK(nothing_left());
      myrmex::send(server, Stop{});
    });
  }
}

TEST_CASE("a caller killed in the middle of a call leaves nothing behind on the server") {
  for (unsigned schedulers : kSchedulerCounts) {
    CAPTURE(schedulers);
    myrmex::Node node(config(schedulers));
    node.run([] {
      Pid me = myrmex::self();
      // The server keeps each request and reports it.
      std::vector<Request<GetTotal>> held;
      Pid server = myrmex::spawn([&held, me] {
        for (;;)
          myrmex::receive(
              [&](Request<GetTotal>& r) {
                held.push_back(std::move(r));
                myrmex::send(me, Go{});
              },
              [&](Stop) {
                // Answer them all now: each caller is gone, so each reply is dropped.
                long dropped = 0;
                for (auto& r : held) dropped += myrmex::reply(r, 0L) == myrmex::SendResult::noproc;
                myrmex::send(me, dropped);
              });
      });
      const int callers = 20;
      for (int i = 0; i < callers; ++i) {
        auto [caller, ref] = myrmex::spawn_monitor([server] { (void)myrmex::call(server, GetTotal{}, 1h); });
        myrmex::receive([](Go) {});  // it waits in call() now
        CHECK(monitored_by(server).size() == 1);
        myrmex::exit(caller, Term::atom("kill"));
        CHECK(myrmex::test::down_reason(ref) == "killed");
        REQUIRE(wait_gone(caller));
        CHECK(monitored_by(server).empty());
      }
      myrmex::send(server, Stop{});
      CHECK(myrmex::receive([](long n) { return n; }) == callers);
      myrmex::exit(server, Term::atom("kill"));
    });
  }
}

TEST_CASE(
    "a call racing the server's exit on the other scheduler gets a reply, exited or noproc, never a "
    "time-out") {
  const long rounds = myrmex::test::scaled(20000);
  for (unsigned schedulers : kSchedulerCounts) {
    CAPTURE(schedulers);
    myrmex::Node node(config(schedulers));
    long replies = 0, exited = 0, noproc = 0, other = 0, wrong = 0, slow = 0, left = 0, real = 0;
    node.run([&] {
      // The server answers one request if it comes in time, and ends after a few yields anyway.
      const auto server = [](long r, int) {
        for (long k = 0; k < r % 8; ++k) {
          if (myrmex::receive(
                  [](Request<GetTotal>& q) {
                    myrmex::reply(q, 1L);
                    return true;
                  },
                  myrmex::after(0ms, [] { return false; })))
            break;
          myrmex::yield();
        }
        myrmex::exit(myrmex::test::crash("server", r));
      };
      const auto caller = [&](long r, const std::vector<Pid>& servers) {
        for (long k = 0; k < (r / 8) % 12; ++k) myrmex::yield();
        const int at = myrmex::test::scheduler_index();
        const auto t0 = std::chrono::steady_clock::now();
        auto result = myrmex::call(servers[0], GetTotal{}, 60s);
        slow += elapsed_s(t0) >= 30;
        if (result) {
          ++replies;
        } else if (result.error() == CallError::exited) {
          ++exited;
          wrong += !(result.error().reason == myrmex::test::crash("server", r));
        } else if (result.error() == CallError::noproc) {
          ++noproc;
        } else {
          ++other;
        }
        wait_gone(servers[0]);
        left += !nothing_left();
        return at;
      };
      real = myrmex::test::race_apart(schedulers, rounds, 1, server, caller);
    });
    MESSAGE(schedulers, " scheduler(s): ", replies, " replies, ", exited, " exited, ", noproc, " noproc; ",
            real, " on two schedulers");
    CHECK(other == 0);
    CHECK(wrong == 0);
    CHECK(slow == 0);
    CHECK(left == 0);
    CHECK(replies + exited + noproc == rounds);
    if (schedulers > 1) CHECK(real > 0);
  }
}
