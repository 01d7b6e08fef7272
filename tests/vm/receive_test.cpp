// Selective receive, time-outs, and call/reply with the receive marker.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "tests/test_node.h"

using namespace std::chrono_literals;
using myrmex::Pid;
using myrmex::Term;
using myrmex::test::config;

TEST_CASE("selective receive takes the first matching message and leaves the others in order") {
  myrmex::Node node(config(1));
  node.run([] {
    Pid me = myrmex::self();
    myrmex::send(me, 1);
    myrmex::send(me, std::string("a"));
    myrmex::send(me, 2);
    myrmex::send(me, std::string("b"));
    CHECK(myrmex::receive([](std::string& s) { return s; }) == "a");
    CHECK(myrmex::receive([](int n) { return n; }) == 1);
    // What is left, in arrival order, through a clause that accepts anything.
    std::vector<std::string> rest;
    for (int i = 0; i < 2; ++i)
      myrmex::receive([&](myrmex::Message& m) {
        if (auto* n = m.get<int>()) rest.push_back(std::to_string(*n));
        if (auto* s = m.get<std::string>()) rest.push_back(*s);
      });
    CHECK(rest == std::vector<std::string>{"2", "b"});
  });
}

TEST_CASE("clauses are tried in order for each message; guards filter") {
  myrmex::Node node(config(1));
  node.run([] {
    Pid me = myrmex::self();
    for (int i = 1; i <= 4; ++i) myrmex::send(me, i);
    int big = myrmex::receive(myrmex::when([](const int& n) { return n > 2; }, [](int n) { return n; }));
    CHECK(big == 3);
    // Two clauses match 1: the first one listed wins.
    std::string which = myrmex::receive([](int) { return std::string("first"); },
                                        [](const int&) { return std::string("second"); });
    CHECK(which == "first");
    CHECK(myrmex::receive([](int n) { return n; }) == 2);
    CHECK(myrmex::receive([](int n) { return n; }) == 4);
  });
}

TEST_CASE("after() runs when nothing matches in time; the unmatched messages stay") {
  myrmex::Node node(config(1));
  node.run([] {
    Pid me = myrmex::self();
    myrmex::send(me, std::string("not an int"));
    bool timed_out = myrmex::receive([](int) { return false; }, myrmex::after(30ms, [] { return true; }));
    CHECK(timed_out);
    bool polled = myrmex::receive([](int) { return false; }, myrmex::after(0ms, [] { return true; }));
    CHECK(polled);
    CHECK(myrmex::receive([](std::string& s) { return s; }) == "not an int");
  });
}

TEST_CASE("a message arriving before the time-out wins; a later time-out never fires into the next receive") {
  myrmex::Node node(config(2));
  node.run([] {
    Pid me = myrmex::self();
    myrmex::spawn([me] {
      myrmex::sleep_for(10ms);
      myrmex::send(me, 9);
    });
    CHECK(myrmex::receive([](int n) { return n; }, myrmex::after(10s, [] { return -1; })) == 9);
    // The cancelled 10 s timer must not disturb a fresh receive.
    CHECK(myrmex::receive([](int n) { return n; }, myrmex::after(20ms, [] { return -2; })) == -2);
  });
}

TEST_CASE("call() scans only messages newer than its reference: O(1) with 100k unread messages") {
  myrmex::Node node(config(1));
  node.run([] {
    Pid server = myrmex::spawn([] {
      for (;;) myrmex::receive([](myrmex::Request<int, int>& r) { myrmex::reply(r, r.value * 2); });
    });
    Pid me = myrmex::self();
    for (int i = 0; i < 100000; ++i) myrmex::send(me, std::string("unread"));
    auto before = myrmex::process_info(me)->reductions;
    auto answer = myrmex::call<int>(server, 21);
    auto cost = myrmex::process_info(me)->reductions - before;
    REQUIRE(answer.has_value());
    CHECK(*answer == 42);
    CHECK(cost < 100);  // a scan of the mailbox would charge >= 100000
    CHECK(myrmex::process_info(me)->message_queue_len == 100000);
  });
}

TEST_CASE("call() reports noproc for a dead server and timeout for a silent one") {
  myrmex::Node node(config(1));
  node.run([] {
    Pid dead = myrmex::spawn([] {});
    while (myrmex::alive(dead)) myrmex::yield();
    auto r1 = myrmex::call<int>(dead, 1);
    REQUIRE_FALSE(r1.has_value());
    CHECK(r1.error() == myrmex::CallError::noproc);
    Pid silent = myrmex::spawn([] { myrmex::sleep_for(1h); });
    auto r2 = myrmex::call<int>(silent, 1, 20ms);
    REQUIRE_FALSE(r2.has_value());
    CHECK(r2.error() == myrmex::CallError::timeout);
  });
}

TEST_CASE("messages are moved, never copied") {
  struct MoveOnly {
    std::unique_ptr<int> value;
  };
  myrmex::Node node(config(1));
  node.run([] {
    auto v = std::make_unique<int>(5);
    int* address = v.get();
    myrmex::send(myrmex::self(), MoveOnly{std::move(v)});
    myrmex::receive([&](MoveOnly& m) { CHECK(m.value.get() == address); });
  });
}
